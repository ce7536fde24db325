import { Injectable, Logger } from '@nestjs/common';
import { TripListings } from '@trektribe/booking';
import { AuditService, Clock, returnedRows } from '@trektribe/common';
import { EntityManager } from 'typeorm';
import { GatewayPayment } from '../gateway/razorpay.gateway';
import { LedgerRecords } from '../ledger/ledger-records';
import { PaymentOrder } from '../ledger/payment-order.entity';
import { SubscriptionCycle } from './subscription-cycle.entity';
import { addDays, AutoPayStatus, PLAN, toAutoPayStatus } from './subscription-plan';
import { Subscription } from './subscription.entity';
import { SubscriptionStore } from './subscription-store';
import { canMoveSubscription, subscriptionMove } from './subscription-state';

/** What a charge outcome did to the cycle, for the caller's bookkeeping. */
export type FailureResult = 'applied' | 'duplicate' | 'ignored';

/**
 * What a charge outcome does to a subscription (API.md, Auto-pay): paid → active for the next 60
 * days (a suspension's hidden trips listed again); failed → past due, retried daily, suspended at the
 * third failure with the organizer's trips hidden; no mandate → dunned the same way. Called with the
 * subscription row locked; each outcome counts once.
 */
@Injectable()
export class SubscriptionLifecycle {
  private readonly logger = new Logger(SubscriptionLifecycle.name);

  constructor(
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly listings: TripListings,
    private readonly store: SubscriptionStore,
    private readonly records: LedgerRecords,
  ) {}

  /**
   * A cycle's payment was captured: the cycle is paid, the subscription active for the next period
   * (from the cycle's start; from now when it had been suspended, since the organizer was off the
   * platform meanwhile), failures reset, and a suspension's deactivated trips listed again.
   */
  async applyPaid(
    m: EntityManager,
    sub: Subscription,
    cycle: SubscriptionCycle,
    order: PaymentOrder,
    payment: GatewayPayment,
    source: 'webhook' | 'reconciliation',
  ): Promise<string> {
    // Through the ledger (webhooks, verify) the payment row and the paid order are written already.
    const ledgerRecorded = source === 'webhook';
    if (!ledgerRecorded) await this.records.recordRecurringPayment(m, order, payment);
    if (cycle.status === 'paid') {
      if (cycle.gatewayPaymentId !== payment.id) {
        this.logger.error(
          { subscriptionId: sub.id, cycle: cycle.cycle, paid: cycle.gatewayPaymentId, other: payment.id },
          'a second captured payment on a paid cycle',
        );
      }
      return `subscription cycle ${cycle.cycle} already paid`;
    }
    const now = this.clock.now();
    const before = toAutoPayStatus(sub);
    const previous = sub.status;
    const start =
      previous === 'suspended'
        ? now
        : new Date(Math.max(cycle.periodStart.getTime(), sub.currentPeriodEnd.getTime()));
    const end = addDays(start, PLAN.periodDays);

    Object.assign(cycle, {
      status: 'paid',
      paidAt: now,
      gatewayPaymentId: payment.id,
      gatewayOrderId: order.gatewayOrderId,
      periodStart: start,
      periodEnd: end,
      nextRetryAt: null,
      lastError: null,
    });
    await this.store.persistCycle(m, cycle);
    if (!ledgerRecorded) await this.records.markOrderPaid(m, order.id);

    sub.status = subscriptionMove(previous, 'active');
    sub.currentPeriodEnd = end;
    sub.nextChargeAt = end;
    sub.failedAttempts = 0;
    sub.suspendedAt = null;
    if (previous === 'cancelled') sub.cancelAtPeriodEnd = true; // paid after cancelling: honour it, then stop
    await this.store.persistSub(m, sub);
    const restored = previous === 'suspended' ? await this.restoreTrips(m, sub) : null;
    await this.store.recordChange(
      m,
      sub,
      before,
      previous === 'suspended' ? 'subscription.reactivated' : 'subscription.renewed',
      null,
      {
        cycle: cycle.cycle,
        gatewayPaymentId: payment.id,
        source,
        ...(restored ? { restoredTripIds: restored } : {}),
      },
    );
    await this.store.mail(
      m,
      sub.organizerId,
      'subscription.paid',
      {
        amount: cycle.amount,
        periodDays: PLAN.periodDays,
        periodEnd: end.toISOString(),
        restored: restored ? restored.length : null,
      },
      `sub-paid:${cycle.id}`,
    );
    return `subscription cycle ${cycle.cycle} paid`;
  }

  /**
   * A charge attempt failed (`key`: the gateway payment id, or a synthetic id for an attempt the
   * gateway refused outright). Counted once per key; ignored once the cycle is paid. Past due with a
   * retry tomorrow; the third failure suspends and hides the organizer's active trips.
   */
  async applyFailure(
    m: EntityManager,
    sub: Subscription,
    cycle: SubscriptionCycle,
    key: string,
    reason: string,
    gatewayPaymentId: string | null = null,
  ): Promise<FailureResult> {
    if (cycle.status === 'paid') return 'ignored';
    const counted = returnedRows<{ key: string }>(
      await m.query(
        `INSERT INTO subscription_charge_failures (key, subscription_id, cycle_id, gateway_payment_id, reason)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING RETURNING key`,
        [key.slice(0, 120), sub.id, cycle.id, gatewayPaymentId, reason.slice(0, 500)],
      ),
    );
    if (counted.length === 0) return 'duplicate';
    const now = this.clock.now();
    await this.audit.record(m, {
      actor: null,
      action: 'subscription.charge_failed',
      entityType: 'subscription_charge',
      entityId: key,
      after: { subscriptionId: sub.id, cycle: cycle.cycle, cycleId: cycle.id, gatewayPaymentId, reason },
    });
    cycle.status = 'failed';
    cycle.lastError = reason.slice(0, 500);
    cycle.nextRetryAt = new Date(now.getTime() + PLAN.retryAfterMs);
    if (gatewayPaymentId) cycle.gatewayPaymentId = gatewayPaymentId;
    await this.store.persistCycle(m, cycle);
    // A cancelled plan leaves only by a payment or a new mandate (SUBSCRIPTION_MOVES): a failure changes nothing.
    if (sub.status === 'cancelled') return 'applied';

    const before = toAutoPayStatus(sub);
    sub.failedAttempts += 1;
    const attempt = sub.failedAttempts;
    const chargeFailedNotice = (willRetry: boolean) =>
      this.store.mail(
        m,
        sub.organizerId,
        'subscription.charge_failed',
        {
          amount: cycle.amount,
          periodDays: PLAN.periodDays,
          attempt,
          maxAttempts: PLAN.maxFailedAttempts,
          reason,
          willRetry,
        },
        `sub-failed:${key}`,
      );
    if (sub.status === 'suspended') {
      // A charge after a new mandate failed: stays suspended until a payment (SUBSCRIPTION_MOVES).
      sub.nextChargeAt = null;
      await this.store.persistSub(m, sub);
      await this.store.recordChange(m, sub, before, 'subscription.charge_failed', null, {
        cycle: cycle.cycle,
        reason,
      });
      await chargeFailedNotice(false);
    } else if (attempt >= PLAN.maxFailedAttempts) {
      await this.suspend(m, sub, before, reason);
    } else {
      sub.status = subscriptionMove(sub.status, 'past_due');
      sub.nextChargeAt = new Date(now.getTime() + PLAN.retryAfterMs);
      await this.store.persistSub(m, sub);
      await this.store.recordChange(m, sub, before, 'subscription.past_due', null, {
        cycle: cycle.cycle,
        reason,
      });
      await chargeFailedNotice(true);
    }
    return 'applied';
  }

  /** Due without a mandate: nothing to charge. Dunned like a failed charge (past due, daily, suspended at the third). */
  async recordMissingPaymentMethod(m: EntityManager, sub: Subscription): Promise<void> {
    const now = this.clock.now();
    const before = toAutoPayStatus(sub);
    sub.failedAttempts += 1;
    const attempt = sub.failedAttempts;
    if (attempt >= PLAN.maxFailedAttempts && sub.status !== 'suspended') {
      await this.suspend(m, sub, before, 'no payment method');
    } else {
      // Past due where SUBSCRIPTION_MOVES allows it: a suspended plan stays suspended (a past-due one already is).
      if (canMoveSubscription(sub.status, 'past_due')) sub.status = 'past_due';
      sub.nextChargeAt = sub.status === 'suspended' ? null : new Date(now.getTime() + PLAN.retryAfterMs);
      await this.store.persistSub(m, sub);
      await this.store.recordChange(m, sub, before, 'subscription.payment_method_missing', null);
    }
    await this.store.mail(
      m,
      sub.organizerId,
      'subscription.payment_method_missing',
      { amount: sub.amount, periodDays: PLAN.periodDays, attemptsLeft: PLAN.maxFailedAttempts - attempt },
      `sub-no-method:${sub.id}:${sub.currentPeriodEnd.toISOString()}:${attempt}`,
    );
  }

  /** The period of a subscription that asked to cancel has ended. */
  async endCancelled(m: EntityManager, sub: Subscription): Promise<void> {
    const before = toAutoPayStatus(sub);
    sub.status = subscriptionMove(sub.status, 'cancelled');
    sub.nextChargeAt = null;
    await this.store.persistSub(m, sub);
    await this.store.recordChange(m, sub, before, 'subscription.cancelled', null);
    await this.store.mail(
      m,
      sub.organizerId,
      'subscription.cancelled',
      undefined,
      `sub-cancelled:${sub.id}:${sub.currentPeriodEnd.toISOString()}`,
    );
  }

  private async suspend(
    m: EntityManager,
    sub: Subscription,
    before: AutoPayStatus,
    reason: string,
  ): Promise<void> {
    const now = this.clock.now();
    sub.status = subscriptionMove(sub.status, 'suspended');
    sub.suspendedAt = now;
    sub.nextChargeAt = null;
    await this.store.persistSub(m, sub);
    const tripIds = await this.listings.suspendForOrganizer(m, sub.organizerId, sub.id);
    await this.store.recordChange(m, sub, before, 'subscription.suspended', null, {
      reason,
      deactivatedTripIds: tripIds,
    });
    await this.store.mail(
      m,
      sub.organizerId,
      'subscription.suspended',
      {
        amount: sub.amount,
        periodDays: PLAN.periodDays,
        maxAttempts: PLAN.maxFailedAttempts,
        tripsHidden: tripIds.length,
      },
      `sub-suspended:${sub.id}:${now.toISOString()}`,
    );
  }

  /** Lists again the trips the suspension hid and that are still inactive (not cancelled or changed since). */
  private restoreTrips(m: EntityManager, sub: Subscription): Promise<string[]> {
    return this.listings.restoreForSubscription(m, sub.organizerId, sub.id);
  }
}
