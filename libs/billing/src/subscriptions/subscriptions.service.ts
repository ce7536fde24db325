import { Injectable, Logger } from '@nestjs/common';
import { UserDirectory, type Actor } from '@trektribe/auth';
import { ListingPolicy, TripListings } from '@trektribe/booking';
import { AuditActor, AuditService, Clock, DomainError, returnedRows } from '@trektribe/common';
import { OutboxDispatcher, OutboxService } from '@trektribe/notifications';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager, In } from 'typeorm';
import { GatewayPayment, GatewayToken, RazorpayGateway } from '../gateway/razorpay.gateway';
import { PaymentOrder } from '../payments/payment-order.entity';
import { Payment } from '../payments/payment.entity';
import { RefundsService } from '../refunds/refunds.service';
import { SubscriptionPaymentHandler } from '../ports';
import { SubscriptionCycle } from './subscription-cycle.entity';
import { SubscriptionEmail, subscriptionEmails } from './subscription-emails';
import {
  addDays,
  AUTHORIZATION_AMOUNT,
  authorizationReceipt,
  AutoPayStatus,
  isCaptured,
  MANDATE_MAX_AMOUNT_FACTOR,
  MANDATE_YEARS,
  MandateMethod,
  PLAN,
  toAutoPayStatus,
} from './subscription-plan';
import { Subscription } from './subscription.entity';

export interface OrganizerContact {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  isActive: boolean;
}

export interface AutoPaySetup {
  orderId: string;
  /** The authorisation payment, in paise (0 for e-mandates). */
  amount: number;
  currency: string;
  keyId: string | undefined;
  customerId: string;
  method: MandateMethod;
  recurring: true;
  /** What happens to the authorisation payment: refunded in full, automatically, once the bank confirms the mandate. */
  authorizationRefund: { amount: number; when: 'mandate_confirmed' } | null;
}

export interface CheckoutFields {
  razorpay_order_id: string;
  razorpay_payment_id: string;
  razorpay_signature: string;
}

/** What a charge outcome did to the cycle, for the caller's bookkeeping. */
export type FailureResult = 'applied' | 'duplicate' | 'ignored';

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
 * The organizer subscription: lifecycle (trial → active ⇄ past_due → suspended, cancelled), the
 * auto-pay mandate (setup/verify/token.confirmed), the outcome of each charge (the webhook side hands
 * payments over through SubscriptionPaymentHandler) and whether an organizer may list trips.
 *
 * Every state change happens with the subscription row locked (always locked before its cycle row),
 * is audited, and emits `subscription.updated` to `user:<organizerId>` through the outbox. Outcomes
 * are idempotent and order-independent: a paid cycle ignores later failures, a failure is counted once
 * per gateway payment (subscription_charge_failures is the dedupe record), a repeated payment changes nothing.
 */
@Injectable()
export class SubscriptionsService implements SubscriptionPaymentHandler, ListingPolicy {
  private readonly logger = new Logger(SubscriptionsService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly gateway: RazorpayGateway,
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
    private readonly dispatcher: OutboxDispatcher,
    private readonly clock: Clock,
    private readonly refunds: RefundsService,
    private readonly listings: TripListings,
    private readonly users: UserDirectory,
  ) {}

  // ------------------------------------------------------------------------------------------------
  // Rows
  // ------------------------------------------------------------------------------------------------

  /** The organizer's subscription, created (INSERT … ON CONFLICT DO NOTHING) if absent; null for non-organizers. */
  async ensureFor(m: EntityManager, organizerId: string, actor: AuditActor | null = null): Promise<Subscription | null> {
    const inserted = returnedRows<{ id: string }>(await m.query(INSERT_ONE, [organizerId, TRIAL_DAYS, PLAN.amount, PLAN.currency]));
    const sub = await m.findOne(Subscription, { where: { organizerId } });
    if (sub && inserted.length > 0) await this.recordChange(m, sub, null, 'subscription.created', actor);
    return sub;
  }

  /** Creates the rows of every organizer who has none yet (the scheduler's pass); returns how many. */
  async ensureAll(): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      const ids = returnedRows<{ id: string }>(await m.query(INSERT_ALL, [TRIAL_DAYS, PLAN.amount, PLAN.currency])).map((r) => r.id);
      const created = ids.length ? await m.find(Subscription, { where: { id: In(ids) } }) : [];
      await this.audit.recordMany(
        m,
        created.map((sub) => ({ actor: null, action: 'subscription.created', entityType: 'subscription', entityId: sub.id, after: toAutoPayStatus(sub) })),
      );
      return created.length;
    });
  }

  async lock(m: EntityManager, id: string): Promise<Subscription | null> {
    return m.findOne(Subscription, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  contact(m: EntityManager, organizerId: string): Promise<OrganizerContact | undefined> {
    return this.users.contactOf(m, organizerId);
  }

  // ------------------------------------------------------------------------------------------------
  // HTTP: status, setup, verify, cancel
  // ------------------------------------------------------------------------------------------------

  async status(actor: Actor): Promise<AutoPayStatus> {
    const sub = await this.dataSource.transaction((m) => this.requireFor(m, actor));
    this.dispatcher.kick();
    return toAutoPayStatus(sub);
  }

  /**
   * Creates the gateway customer once, then an authorisation order carrying the recurring-token
   * request; the organizer pays it in checkout and comes back to `verify`.
   */
  async setup(actor: Actor, method: MandateMethod = 'upi'): Promise<AutoPaySetup> {
    if (!this.gateway.configured) throw new DomainError('PAYMENTS_NOT_CONFIGURED', 'Online payments are not configured on this server');
    const sub = await this.dataSource.transaction((m) => this.requireFor(m, actor));
    const customerId = sub.gatewayCustomerId ?? (await this.createCustomer(actor, sub));

    const amount = AUTHORIZATION_AMOUNT[method];
    const now = this.clock.now();
    const expireAt = new Date(now.getTime());
    expireAt.setUTCFullYear(expireAt.getUTCFullYear() + MANDATE_YEARS);
    const receipt = authorizationReceipt(sub.id, randomBytes(3).toString('hex'));
    const order = await this.gateway.createOrder({
      amount,
      currency: sub.currency,
      receipt,
      customer_id: customerId,
      method,
      token: { max_amount: sub.amount * MANDATE_MAX_AMOUNT_FACTOR, expire_at: Math.floor(expireAt.getTime() / 1000), frequency: 'as_presented' },
      notes: { purpose: 'subscription_authorization', subscription_id: sub.id, organizer_id: sub.organizerId },
    });
    await this.dataSource.transaction(async (m) => {
      await m.insert(
        PaymentOrder,
        m.create(PaymentOrder, {
          purpose: 'subscription_authorization',
          bookingId: null,
          subscriptionId: sub.id,
          cycleId: null,
          payerId: sub.organizerId,
          amount,
          currency: sub.currency,
          receipt,
          gatewayOrderId: order.id,
          status: 'created',
        }),
      );
      await this.audit.record(m, {
        actor,
        action: 'subscription.authorization_created',
        entityType: 'subscription',
        entityId: sub.id,
        after: { gatewayOrderId: order.id, receipt, method, amount, gatewayCustomerId: customerId },
      });
    });
    return {
      orderId: order.id,
      amount,
      currency: sub.currency,
      keyId: this.gateway.keyId,
      customerId,
      method,
      recurring: true,
      authorizationRefund: amount > 0 ? { amount, when: 'mandate_confirmed' } : null,
    };
  }

  /**
   * Checkout's answer for the authorisation order: the signature is checked in constant time against
   * the order WE stored for this organizer, then the customer's tokens are fetched and the mandate's
   * token saved. `token.confirmed` (onTokenConfirmed) saves it too, whichever comes first.
   */
  async verify(actor: Actor, dto: CheckoutFields): Promise<AutoPayStatus> {
    const order = await this.dataSource.getRepository(PaymentOrder).findOne({
      where: { gatewayOrderId: dto.razorpay_order_id, purpose: 'subscription_authorization', payerId: actor.id },
    });
    if (!order?.subscriptionId) throw DomainError.notFound('Authorisation order');
    if (!this.gateway.verifyCheckoutSignature(order.gatewayOrderId, dto.razorpay_payment_id, dto.razorpay_signature)) {
      throw new DomainError('INVALID_SIGNATURE', 'The payment signature does not match this order');
    }
    const sub = await this.dataSource.getRepository(Subscription).findOneOrFail({ where: { id: order.subscriptionId } });
    if (!sub.gatewayCustomerId) throw new DomainError('INVALID_STATE', 'Auto-pay setup was not started');
    const payment = await this.gateway.fetchPayment(dto.razorpay_payment_id);
    if (payment.order_id !== order.gatewayOrderId) throw new DomainError('INVALID_SIGNATURE', 'The payment does not belong to this order');
    const tokens = await this.gateway.fetchTokens(sub.gatewayCustomerId);
    const token = pickToken(tokens.items, payment.token_id ?? null);

    // The authorisation payment itself is booked by the payments side (webhook or reconciliation),
    // which hands it back here through onOrderPaid; verify only saves the mandate.
    const result = await this.dataSource.transaction(async (m) => {
      const locked = (await this.lock(m, sub.id))!;
      if (token) await this.storeToken(m, locked, token.id, actor, 'verify', token.recurring_details?.status === 'confirmed');
      return toAutoPayStatus(locked);
    });
    this.dispatcher.kick();
    return result;
  }

  /**
   * Stops renewal. A paid (or trial) period runs out first: `cancel_at_period_end`, and the charge run
   * turns it `cancelled` at the period end without charging. With nothing paid to run out (past_due,
   * suspended) it is cancelled at once.
   */
  async cancel(actor: Actor): Promise<AutoPayStatus> {
    const result = await this.dataSource.transaction(async (m) => {
      const sub = (await this.lock(m, (await this.requireFor(m, actor)).id))!;
      if (sub.status === 'cancelled' || sub.cancelAtPeriodEnd) return toAutoPayStatus(sub);
      const before = toAutoPayStatus(sub);
      sub.cancelAtPeriodEnd = true;
      if (sub.status === 'trial' || sub.status === 'active') {
        await this.persistSub(m, sub);
        await this.recordChange(m, sub, before, 'subscription.cancel_requested', actor);
        await this.mail(m, sub.organizerId, (name) => subscriptionEmails.cancelRequested(name, sub.currentPeriodEnd));
      } else {
        sub.status = 'cancelled';
        sub.nextChargeAt = null;
        await this.persistSub(m, sub);
        await this.recordChange(m, sub, before, 'subscription.cancelled', actor);
        await this.mail(m, sub.organizerId, (name) => subscriptionEmails.cancelled(name));
      }
      return toAutoPayStatus(sub);
    });
    this.dispatcher.kick();
    return result;
  }

  // ------------------------------------------------------------------------------------------------
  // ListingPolicy
  // ------------------------------------------------------------------------------------------------

  /** Suspended, or cancelled and past the paid period: no new or re-activated trips. */
  async assertMayList(m: EntityManager, organizerId: string): Promise<void> {
    const sub = await this.ensureFor(m, organizerId);
    if (!sub) return;
    if (sub.status === 'suspended') {
      throw new DomainError('SUBSCRIPTION_INACTIVE', 'Your organizer plan is suspended after failed payments: set up auto-pay again to list trips');
    }
    if (sub.status === 'cancelled' && sub.currentPeriodEnd.getTime() <= this.clock.now().getTime()) {
      throw new DomainError('SUBSCRIPTION_INACTIVE', 'Your organizer plan has ended: set up auto-pay again to list trips');
    }
  }

  // ------------------------------------------------------------------------------------------------
  // SubscriptionPaymentHandler (called inside the webhook's transaction)
  // ------------------------------------------------------------------------------------------------

  async onOrderPaid(m: EntityManager, order: PaymentOrder, payment: GatewayPayment): Promise<string> {
    if (!order.subscriptionId) return 'ignored: not a subscription order';
    if (!isCaptured(payment)) return `ignored: payment ${payment.status}`;
    if (order.purpose === 'subscription_authorization') return this.authorizationPaid(m, order, payment);
    if (order.purpose !== 'subscription') return 'ignored: not a subscription order';
    const sub = await this.lock(m, order.subscriptionId);
    const cycle = sub ? await this.lockCycleOf(m, order) : null;
    if (!sub || !cycle) return 'ignored: unknown subscription cycle';
    return this.applyPaid(m, sub, cycle, order, payment, 'webhook');
  }

  async onPaymentFailed(m: EntityManager, order: PaymentOrder, payment: GatewayPayment): Promise<string> {
    if (!order.subscriptionId) return 'ignored: not a subscription order';
    if (isCaptured(payment)) return 'ignored: payment captured';
    if (order.purpose === 'subscription_authorization') return 'subscription authorisation payment failed: nothing to do';
    if (order.purpose !== 'subscription') return 'ignored: not a subscription order';
    const sub = await this.lock(m, order.subscriptionId);
    const cycle = sub ? await this.lockCycleOf(m, order) : null;
    if (!sub || !cycle) return 'ignored: unknown subscription cycle';
    const result = await this.applyFailure(m, sub, cycle, payment.id, failureReason(payment), payment.id);
    return `subscription cycle ${cycle.cycle} failure ${result}`;
  }

  async onTokenConfirmed(m: EntityManager, token: GatewayToken & { customer_id?: string | null }): Promise<string> {
    const status = token.recurring_details?.status;
    if (status && status !== 'confirmed') return `ignored: token ${status}`;
    const where = token.customer_id ? { gatewayCustomerId: token.customer_id } : { gatewayTokenId: token.id };
    const found = await m.findOne(Subscription, { where });
    if (!found) return 'ignored: token of an unknown customer';
    const sub = (await this.lock(m, found.id))!;
    return `subscription token ${await this.storeToken(m, sub, token.id, null, 'token.confirmed', true)}`;
  }

  // ------------------------------------------------------------------------------------------------
  // State changes (caller's transaction, subscription row locked)
  // ------------------------------------------------------------------------------------------------

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
    if (!ledgerRecorded) await this.recordPayment(m, order, payment, 'recurring');
    if (cycle.status === 'paid') {
      if (cycle.gatewayPaymentId !== payment.id) {
        this.logger.error({ subscriptionId: sub.id, cycle: cycle.cycle, paid: cycle.gatewayPaymentId, other: payment.id }, 'a second captured payment on a paid cycle');
      }
      return `subscription cycle ${cycle.cycle} already paid`;
    }
    const now = this.clock.now();
    const before = toAutoPayStatus(sub);
    const previous = sub.status;
    const start = previous === 'suspended' ? now : new Date(Math.max(cycle.periodStart.getTime(), sub.currentPeriodEnd.getTime()));
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
    await this.persistCycle(m, cycle);
    if (!ledgerRecorded) await this.markOrderPaid(m, order.id);

    sub.status = 'active';
    sub.currentPeriodEnd = end;
    sub.nextChargeAt = end;
    sub.failedAttempts = 0;
    sub.suspendedAt = null;
    if (previous === 'cancelled') sub.cancelAtPeriodEnd = true; // paid after cancelling: honour it, then stop
    await this.persistSub(m, sub);
    const restored = previous === 'suspended' ? await this.restoreTrips(m, sub) : null;
    await this.recordChange(m, sub, before, previous === 'suspended' ? 'subscription.reactivated' : 'subscription.renewed', null, {
      cycle: cycle.cycle,
      gatewayPaymentId: payment.id,
      source,
      ...(restored ? { restoredTripIds: restored } : {}),
    });
    await this.mail(m, sub.organizerId, (name) => subscriptionEmails.paid(name, cycle.amount, end, restored ? restored.length : null), `sub-paid:${cycle.id}`);
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
    await this.persistCycle(m, cycle);
    if (sub.status === 'cancelled') return 'applied';

    const before = toAutoPayStatus(sub);
    sub.failedAttempts += 1;
    const attempt = sub.failedAttempts;
    if (sub.status === 'suspended') {
      // A charge after a new mandate failed: stays suspended until a payment goes through.
      sub.nextChargeAt = null;
      await this.persistSub(m, sub);
      await this.recordChange(m, sub, before, 'subscription.charge_failed', null, { cycle: cycle.cycle, reason });
      await this.mail(m, sub.organizerId, (name) => subscriptionEmails.paymentFailed(name, cycle.amount, attempt, reason, false), `sub-failed:${key}`);
    } else if (attempt >= PLAN.maxFailedAttempts) {
      await this.suspend(m, sub, before, reason);
    } else {
      sub.status = 'past_due';
      sub.nextChargeAt = new Date(now.getTime() + PLAN.retryAfterMs);
      await this.persistSub(m, sub);
      await this.recordChange(m, sub, before, 'subscription.past_due', null, { cycle: cycle.cycle, reason });
      await this.mail(m, sub.organizerId, (name) => subscriptionEmails.paymentFailed(name, cycle.amount, attempt, reason, true), `sub-failed:${key}`);
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
      if (sub.status !== 'suspended') sub.status = 'past_due';
      sub.nextChargeAt = sub.status === 'suspended' ? null : new Date(now.getTime() + PLAN.retryAfterMs);
      await this.persistSub(m, sub);
      await this.recordChange(m, sub, before, 'subscription.payment_method_missing', null);
    }
    await this.mail(
      m,
      sub.organizerId,
      (name) => subscriptionEmails.noPaymentMethod(name, attempt, sub.amount),
      `sub-no-method:${sub.id}:${sub.currentPeriodEnd.toISOString()}:${attempt}`,
    );
  }

  /** The period of a subscription that asked to cancel has ended. */
  async endCancelled(m: EntityManager, sub: Subscription): Promise<void> {
    const before = toAutoPayStatus(sub);
    sub.status = 'cancelled';
    sub.nextChargeAt = null;
    await this.persistSub(m, sub);
    await this.recordChange(m, sub, before, 'subscription.cancelled', null);
    await this.mail(m, sub.organizerId, (name) => subscriptionEmails.cancelled(name), `sub-cancelled:${sub.id}:${sub.currentPeriodEnd.toISOString()}`);
  }

  /** Enqueues an email unless one with this dedupe key exists; true when it was enqueued now. */
  async mailOnce(m: EntityManager, organizerId: string, build: (name: string) => SubscriptionEmail, dedupeKey: string): Promise<boolean> {
    const exists = (await m.query(`SELECT 1 FROM notification_outbox WHERE dedupe_key = $1`, [dedupeKey])) as unknown[];
    if (exists.length > 0) return false;
    return this.mail(m, organizerId, build, dedupeKey);
  }

  // ------------------------------------------------------------------------------------------------
  // Internals
  // ------------------------------------------------------------------------------------------------

  private async requireFor(m: EntityManager, actor: Actor): Promise<Subscription> {
    const sub = await this.ensureFor(m, actor.id, actor);
    if (!sub) throw DomainError.notFound('Subscription');
    return sub;
  }

  /** Once per organizer; two setups racing meet on the gateway (fail_existing=0) and on the conditional update. */
  private async createCustomer(actor: Actor, sub: Subscription): Promise<string> {
    const user = await this.users.contactOf(this.dataSource.manager, sub.organizerId);
    if (!user) throw DomainError.notFound('Organizer');
    const customer = await this.gateway.createCustomer({
      name: user.name.slice(0, 50),
      email: user.email,
      ...(user.phone ? { contact: user.phone } : {}),
      fail_existing: '0',
    });
    return this.dataSource.transaction(async (m) => {
      const updated = returnedRows<{ id: string }>(
        await m.query(`UPDATE subscriptions SET gateway_customer_id = $2, updated_at = now() WHERE id = $1 AND gateway_customer_id IS NULL RETURNING id`, [
          sub.id,
          customer.id,
        ]),
      );
      const fresh = (await this.lock(m, sub.id))!;
      if (updated.length > 0) {
        await this.audit.record(m, {
          actor,
          action: 'subscription.customer_created',
          entityType: 'subscription',
          entityId: sub.id,
          after: { gatewayCustomerId: customer.id },
        });
      }
      return fresh.gatewayCustomerId!;
    });
  }

  /**
   * A paid authorisation order (through the ledger, which has written the payment and the paid
   * order): the payment carries the mandate's token.
   */
  private async authorizationPaid(m: EntityManager, order: PaymentOrder, payment: GatewayPayment): Promise<string> {
    const sub = await this.lock(m, order.subscriptionId!);
    if (!sub) return 'ignored: unknown subscription';
    const token = payment.token_id ? await this.storeToken(m, sub, payment.token_id, null, 'authorization_paid', false) : 'pending';
    // The mandate may have been confirmed before this capture was recorded: its refund is due now.
    const refunded = sub.tokenConfirmedAt ? await this.refundAuthorizations(m, sub) : 0;
    return `subscription authorisation paid; token ${token}${refunded ? '; authorisation refund started' : ''}`;
  }

  /**
   * Saves the mandate's token. A new mandate means the organizer wants to continue: a pending
   * cancellation is withdrawn, and a past-due, suspended or cancelled subscription is charged at the
   * next run (a cancelled one starts a fresh period then).
   */
  private async storeToken(
    m: EntityManager,
    sub: Subscription,
    tokenId: string,
    actor: AuditActor | null,
    source: string,
    confirmed: boolean,
  ): Promise<'saved' | 'unchanged' | 'unchanged, mandate confirmed'> {
    const now = this.clock.now();
    if (sub.gatewayTokenId === tokenId) {
      if (!confirmed || sub.tokenConfirmedAt) return 'unchanged';
      sub.tokenConfirmedAt = now;
      await this.persistSub(m, sub);
      await this.refundAuthorizations(m, sub);
      return 'unchanged, mandate confirmed';
    }
    const before = toAutoPayStatus(sub);
    sub.gatewayTokenId = tokenId;
    sub.tokenConfirmedAt = confirmed ? now : null;
    sub.cancelAtPeriodEnd = false;
    if (sub.status === 'cancelled') {
      sub.status = 'past_due';
      sub.failedAttempts = 0;
      sub.currentPeriodEnd = now;
      sub.nextChargeAt = now;
    } else if (sub.status === 'suspended' || sub.status === 'past_due') {
      sub.nextChargeAt = now;
    }
    await this.persistSub(m, sub);
    await this.recordChange(m, sub, before, 'subscription.payment_method_saved', actor, { source });
    if (confirmed) await this.refundAuthorizations(m, sub);
    return 'saved';
  }

  /**
   * The authorisation payments of a subscription whose mandate is confirmed go back in full, through
   * the normal refund path (one refund per payment, by key; shown with the payment in `/payments`),
   * and the organizer is told once per payment. Called with the subscription row locked. Returns how
   * many refunds were started (0 when every one already was).
   */
  private async refundAuthorizations(m: EntityManager, sub: Subscription): Promise<number> {
    const payments = await m
      .getRepository(Payment)
      .createQueryBuilder('p')
      .innerJoin(PaymentOrder, 'o', 'o.id = p.order_id')
      .where(`o.subscription_id = :id AND o.purpose = 'subscription_authorization' AND p.status = 'captured'`, { id: sub.id })
      .orderBy('p.created_at', 'ASC')
      .addOrderBy('p.id', 'ASC')
      .getMany();
    let started = 0;
    for (const payment of payments) {
      // Nothing to give back: an e-mandate's authorisation is free, or another refund covers it already.
      const amount = await this.refunds.refundableLeft(m, payment);
      if (amount <= 0) continue;
      const refundId = await this.refunds.createRefund(m, {
        payment,
        bookingId: null,
        amount,
        currency: payment.currency,
        reason: 'Automatic refund of the auto-pay authorisation payment: the mandate is confirmed',
        idempotencyKey: `autopay_auth_${payment.gatewayPaymentId ?? payment.id}`,
        actor: null,
      });
      if (!refundId) continue;
      started++;
      await this.mail(m, sub.organizerId, (name) => subscriptionEmails.mandateConfirmed(name, payment.amount), `sub-auth-refund:${payment.id}`);
    }
    return started;
  }

  private async suspend(m: EntityManager, sub: Subscription, before: AutoPayStatus, reason: string): Promise<void> {
    const now = this.clock.now();
    sub.status = 'suspended';
    sub.suspendedAt = now;
    sub.nextChargeAt = null;
    await this.persistSub(m, sub);
    const tripIds = await this.listings.suspendForOrganizer(m, sub.organizerId, sub.id);
    await this.recordChange(m, sub, before, 'subscription.suspended', null, { reason, deactivatedTripIds: tripIds });
    await this.mail(m, sub.organizerId, (name) => subscriptionEmails.suspended(name, sub.amount, tripIds.length), `sub-suspended:${sub.id}:${now.toISOString()}`);
  }

  /** Lists again the trips the suspension hid and that are still inactive (not cancelled or changed since). */
  private restoreTrips(m: EntityManager, sub: Subscription): Promise<string[]> {
    return this.listings.restoreForSubscription(m, sub.organizerId, sub.id);
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
  private async persistSub(m: EntityManager, s: Subscription): Promise<void> {
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

  private async persistCycle(m: EntityManager, c: SubscriptionCycle): Promise<void> {
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

  private async lockCycleOf(m: EntityManager, order: PaymentOrder): Promise<SubscriptionCycle | null> {
    const where = order.cycleId ? { id: order.cycleId } : { subscriptionId: order.subscriptionId!, gatewayOrderId: order.gatewayOrderId };
    return m.findOne(SubscriptionCycle, { where, lock: { mode: 'pessimistic_write' } });
  }

  private async markOrderPaid(m: EntityManager, orderId: string): Promise<void> {
    await m.query(`UPDATE payment_orders SET status = 'paid', paid_at = COALESCE(paid_at, $2), updated_at = now() WHERE id = $1 AND status <> 'paid'`, [
      orderId,
      this.clock.now(),
    ]);
  }

  /**
   * The payment in the platform's bills (`payments`), once per gateway payment id; only moves forward
   * (failed/authorized → captured). Safe alongside the webhook code recording the same payment.
   */
  private async recordPayment(m: EntityManager, order: PaymentOrder, payment: GatewayPayment, method: 'online' | 'recurring'): Promise<void> {
    const captured = isCaptured(payment);
    const status = captured ? 'captured' : payment.status === 'authorized' ? 'authorized' : 'failed';
    await m.query(
      `INSERT INTO payments (order_id, subscription_id, payer_id, method, gateway_payment_id, amount, currency, status, gateway_method,
                             error_code, error_description, captured_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (gateway_payment_id) WHERE gateway_payment_id IS NOT NULL DO UPDATE
          SET status = EXCLUDED.status, captured_at = EXCLUDED.captured_at, error_code = NULL, error_description = NULL, updated_at = now()
        WHERE payments.status IN ('authorized', 'failed') AND EXCLUDED.status = 'captured'`,
      [
        order.id,
        order.subscriptionId,
        order.payerId,
        method,
        payment.id,
        payment.amount,
        payment.currency,
        status,
        payment.method?.slice(0, 30) ?? null,
        captured ? null : (payment.error_code?.slice(0, 100) ?? null),
        captured ? null : (payment.error_description?.slice(0, 500) ?? null),
        captured ? this.clock.now() : null,
      ],
    );
  }

  private async recordChange(
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

  private async mail(m: EntityManager, organizerId: string, build: (name: string) => SubscriptionEmail, dedupeKey?: string): Promise<boolean> {
    const user = await this.contact(m, organizerId);
    if (!user) return false;
    await this.outbox.enqueueEmail(m, { to: user.email, ...build(user.name), ...(dedupeKey ? { dedupeKey } : {}) });
    return true;
  }
}

/** The mandate's token: the one the payment names if it is usable, else the newest usable one. */
function pickToken(tokens: GatewayToken[], preferred: string | null): GatewayToken | null {
  const usable = tokens.filter((t) => t.recurring !== false && !['rejected', 'cancelled', 'paused'].includes(t.recurring_details?.status ?? ''));
  return usable.find((t) => t.id === preferred) ?? usable[0] ?? null; // Razorpay lists newest first
}

function failureReason(p: GatewayPayment): string {
  return (p.error_description ?? p.error_code ?? 'payment failed').slice(0, 500);
}
