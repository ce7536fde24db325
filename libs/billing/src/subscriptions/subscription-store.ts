import { Injectable } from '@nestjs/common';
import { AuditActor, AuditService, Clock, returnedRows } from '@trektribe/common';
import { NotificationData, NotificationType, Notifier, OutboxService } from '@trektribe/notifications';
import { DataSource, EntityManager, In } from 'typeorm';
import { PaymentOrder } from '../ledger/payment-order.entity';
import { SubscriptionCycle } from './subscription-cycle.entity';
import { AutoPayStatus, PLAN, toAutoPayStatus } from './subscription-plan';
import { Subscription } from './subscription.entity';

const TRIAL_DAYS = PLAN.trialDays;

/** One organizer's row, created on first use: trial from registration (which counts as first sign-in). */
const INSERT_ONE = `
  INSERT INTO subscriptions (organizer_id, status, trial_ends_at, current_period_end, next_charge_at, amount, currency)
  SELECT u.id, 'trial', e.ends, e.ends, e.ends, $3::int, $4
    FROM users u CROSS JOIN LATERAL (SELECT u.created_at + make_interval(days => $2::int) AS ends) e
   WHERE u.id = $1 AND u.role = 'organizer'
  ON CONFLICT (organizer_id) DO NOTHING
  RETURNING id`;

/** Every active organizer still without a row, in one statement (each creation audited by the caller). */
const INSERT_ALL = `
  INSERT INTO subscriptions (organizer_id, status, trial_ends_at, current_period_end, next_charge_at, amount, currency)
  SELECT u.id, 'trial', e.ends, e.ends, e.ends, $2::int, $3
    FROM users u CROSS JOIN LATERAL (SELECT u.created_at + make_interval(days => $1::int) AS ends) e
   WHERE u.role = 'organizer' AND u.is_active
     AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.organizer_id = u.id)
  ON CONFLICT (organizer_id) DO NOTHING
  RETURNING id`;

/**
 * The subscription rows and what every change to them carries: created once per organizer (trial
 * from registration), locked in one order (payment order → subscription → cycle), written back
 * without re-reading, audited with a `subscription.updated` event, and the organizer's emails.
 */
@Injectable()
export class SubscriptionStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
    private readonly clock: Clock,
    private readonly notifier: Notifier,
  ) {}

  /** The organizer's subscription, created (INSERT … ON CONFLICT DO NOTHING) if absent; null for non-organizers. */
  async ensureFor(
    m: EntityManager,
    organizerId: string,
    actor: AuditActor | null = null,
  ): Promise<Subscription | null> {
    const inserted = returnedRows<{ id: string }>(
      await m.query(INSERT_ONE, [organizerId, TRIAL_DAYS, PLAN.amount, PLAN.currency]),
    );
    const sub = await m.findOne(Subscription, { where: { organizerId } });
    if (sub && inserted.length > 0) await this.recordChange(m, sub, null, 'subscription.created', actor);
    return sub;
  }

  /** Creates the rows of every organizer who has none yet (the scheduler's pass); returns how many. */
  async ensureAll(): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      const ids = returnedRows<{ id: string }>(
        await m.query(INSERT_ALL, [TRIAL_DAYS, PLAN.amount, PLAN.currency]),
      ).map((r) => r.id);
      const created = ids.length ? await m.find(Subscription, { where: { id: In(ids) } }) : [];
      await this.audit.recordMany(
        m,
        created.map((sub) => ({
          actor: null,
          action: 'subscription.created',
          entityType: 'subscription',
          entityId: sub.id,
          after: toAutoPayStatus(sub),
        })),
      );
      return created.length;
    });
  }

  async lock(m: EntityManager, id: string): Promise<Subscription | null> {
    return m.findOne(Subscription, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  /**
   * Locks are always taken order → subscription → cycle (the payments side locks the order and its
   * payment row before calling in), so a webhook, a reconciliation and a charge run never deadlock.
   * Re-locking a row the caller already holds is free.
   */
  async lockOrder(m: EntityManager, order: PaymentOrder): Promise<void> {
    await m.query(`SELECT id FROM payment_orders WHERE id = $1 FOR UPDATE`, [order.id]);
  }

  /** Writes back the mutable columns of a row this transaction holds locked (no re-read, unlike save()). */
  async persistSub(m: EntityManager, s: Subscription): Promise<void> {
    await m.update(
      Subscription,
      { id: s.id },
      {
        status: s.status,
        currentPeriodEnd: s.currentPeriodEnd,
        nextChargeAt: s.nextChargeAt,
        gatewayTokenId: s.gatewayTokenId,
        tokenConfirmedAt: s.tokenConfirmedAt,
        failedAttempts: s.failedAttempts,
        cancelAtPeriodEnd: s.cancelAtPeriodEnd,
        suspendedAt: s.suspendedAt,
      },
    );
  }

  async persistCycle(m: EntityManager, c: SubscriptionCycle): Promise<void> {
    await m.update(
      SubscriptionCycle,
      { id: c.id },
      {
        status: c.status,
        gatewayOrderId: c.gatewayOrderId,
        gatewayPaymentId: c.gatewayPaymentId,
        periodStart: c.periodStart,
        periodEnd: c.periodEnd,
        nextRetryAt: c.nextRetryAt,
        lastError: c.lastError,
        paidAt: c.paidAt,
      },
    );
  }

  async lockCycleOf(m: EntityManager, order: PaymentOrder): Promise<SubscriptionCycle | null> {
    const where = order.cycleId
      ? { id: order.cycleId }
      : { subscriptionId: order.subscriptionId!, gatewayOrderId: order.gatewayOrderId };
    return m.findOne(SubscriptionCycle, { where, lock: { mode: 'pessimistic_write' } });
  }

  async recordChange(
    m: EntityManager,
    sub: Subscription,
    before: AutoPayStatus | null,
    action: string,
    actor: AuditActor | null,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const after = toAutoPayStatus(sub);
    await this.audit.record(m, {
      actor: actor ? { id: actor.id, role: actor.role } : null,
      action,
      entityType: 'subscription',
      entityId: sub.id,
      before,
      after: { ...after, ...extra },
    });
    await this.outbox.enqueueRealtime(m, {
      rooms: [`user:${sub.organizerId}`],
      event: 'subscription.updated',
      payload: { ...after, change: action.replace(/^subscription\./, '') },
    });
  }

  /** An organizer's notification (wording: the catalog in libs/notifications); false when its dedupe key was used. */
  mail<T extends NotificationType>(
    m: EntityManager,
    organizerId: string,
    type: T,
    data: NotificationData<T>,
    dedupeKey?: string,
  ): Promise<boolean> {
    return this.notifier.notify(m, { type, userId: organizerId, data, ...(dedupeKey ? { dedupeKey } : {}) });
  }
}
