import { Injectable } from '@nestjs/common';
import { UserDirectory, type Actor } from '@trektribe/auth';
import { AuditService, Clock, DomainError, returnedRows } from '@trektribe/common';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { GatewayToken, RazorpayGateway } from '../gateway/razorpay.gateway';
import { LedgerRecords } from '../ledger/ledger-records';
import { PaymentOrder } from '../ledger/payment-order.entity';
import {
  AUTHORIZATION_AMOUNT,
  authorizationReceipt,
  AutoPayStatus,
  MANDATE_MAX_AMOUNT_FACTOR,
  MANDATE_YEARS,
  MandateMethod,
  toAutoPayStatus,
} from './subscription-plan';
import { Subscription } from './subscription.entity';
import { SubscriptionStore } from './subscription-store';
import { Mandates } from './mandates';
import { subscriptionMove } from './subscription-state';

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

/** The organizer's auto-pay routes (API.md): status, setup of the mandate, checkout's verify, cancel. */
@Injectable()
export class AutoPayService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly gateway: RazorpayGateway,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly users: UserDirectory,
    private readonly store: SubscriptionStore,
    private readonly mandates: Mandates,
    private readonly records: LedgerRecords,
  ) {}

  async status(actor: Actor): Promise<AutoPayStatus> {
    const sub = await this.dataSource.transaction((m) => this.requireFor(m, actor));
    return toAutoPayStatus(sub);
  }

  /**
   * Creates the gateway customer once, then an authorisation order carrying the recurring-token
   * request; the organizer pays it in checkout and comes back to `verify`.
   */
  async setup(actor: Actor, method: MandateMethod = 'upi'): Promise<AutoPaySetup> {
    if (!this.gateway.configured)
      throw new DomainError('PAYMENTS_NOT_CONFIGURED', 'Online payments are not configured on this server');
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
      token: {
        max_amount: sub.amount * MANDATE_MAX_AMOUNT_FACTOR,
        expire_at: Math.floor(expireAt.getTime() / 1000),
        frequency: 'as_presented',
      },
      notes: {
        purpose: 'subscription_authorization',
        subscription_id: sub.id,
        organizer_id: sub.organizerId,
      },
    });
    await this.dataSource.transaction(async (m) => {
      await this.records.openAuthorizationOrder(m, {
        subscriptionId: sub.id,
        cycleId: null,
        payerId: sub.organizerId,
        amount,
        currency: sub.currency,
        receipt,
        gatewayOrderId: order.id,
      });
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
      where: {
        gatewayOrderId: dto.razorpay_order_id,
        purpose: 'subscription_authorization',
        payerId: actor.id,
      },
    });
    if (!order?.subscriptionId) throw DomainError.notFound('Authorisation order');
    if (
      !this.gateway.verifyCheckoutSignature(
        order.gatewayOrderId,
        dto.razorpay_payment_id,
        dto.razorpay_signature,
      )
    ) {
      throw new DomainError('INVALID_SIGNATURE', 'The payment signature does not match this order');
    }
    const sub = await this.dataSource
      .getRepository(Subscription)
      .findOneOrFail({ where: { id: order.subscriptionId } });
    if (!sub.gatewayCustomerId)
      throw new DomainError('AUTO_PAY_NOT_STARTED', 'Auto-pay setup was not started');
    const payment = await this.gateway.fetchPayment(dto.razorpay_payment_id);
    if (payment.order_id !== order.gatewayOrderId)
      throw new DomainError('INVALID_SIGNATURE', 'The payment does not belong to this order');
    const tokens = await this.gateway.fetchTokens(sub.gatewayCustomerId);
    const token = pickToken(tokens.items, payment.token_id ?? null);

    // The authorisation payment itself is booked by the payments side (webhook or reconciliation),
    // which hands it back here through onOrderPaid; verify only saves the mandate.
    const result = await this.dataSource.transaction(async (m) => {
      const locked = (await this.store.lock(m, sub.id))!;
      if (token)
        await this.mandates.storeToken(
          m,
          locked,
          token.id,
          actor,
          'verify',
          token.recurring_details?.status === 'confirmed',
        );
      return toAutoPayStatus(locked);
    });
    return result;
  }

  /**
   * Stops renewal. A paid (or trial) period runs out first: `cancel_at_period_end`, and the charge run
   * turns it `cancelled` at the period end without charging. With nothing paid to run out (past_due,
   * suspended) it is cancelled at once.
   */
  async cancel(actor: Actor): Promise<AutoPayStatus> {
    const result = await this.dataSource.transaction(async (m) => {
      const sub = (await this.store.lock(m, (await this.requireFor(m, actor)).id))!;
      if (sub.status === 'cancelled' || sub.cancelAtPeriodEnd) return toAutoPayStatus(sub);
      const before = toAutoPayStatus(sub);
      sub.cancelAtPeriodEnd = true;
      if (sub.status === 'trial' || sub.status === 'active') {
        await this.store.persistSub(m, sub);
        await this.store.recordChange(m, sub, before, 'subscription.cancel_requested', actor);
        await this.store.mail(m, sub.organizerId, 'subscription.cancel_requested', {
          periodEnd: sub.currentPeriodEnd.toISOString(),
        });
      } else {
        sub.status = subscriptionMove(sub.status, 'cancelled');
        sub.nextChargeAt = null;
        await this.store.persistSub(m, sub);
        await this.store.recordChange(m, sub, before, 'subscription.cancelled', actor);
        await this.store.mail(m, sub.organizerId, 'subscription.cancelled', undefined);
      }
      return toAutoPayStatus(sub);
    });
    return result;
  }

  private async requireFor(m: EntityManager, actor: Actor): Promise<Subscription> {
    const sub = await this.store.ensureFor(m, actor.id, actor);
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
        await m.query(
          `UPDATE subscriptions SET gateway_customer_id = $2, updated_at = now() WHERE id = $1 AND gateway_customer_id IS NULL RETURNING id`,
          [sub.id, customer.id],
        ),
      );
      const fresh = (await this.store.lock(m, sub.id))!;
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
}

/** The mandate's token: the one the payment names if it is usable, else the newest usable one. */
function pickToken(tokens: GatewayToken[], preferred: string | null): GatewayToken | null {
  const usable = tokens.filter(
    (t) =>
      t.recurring !== false &&
      !['rejected', 'cancelled', 'paused'].includes(t.recurring_details?.status ?? ''),
  );
  return usable.find((t) => t.id === preferred) ?? usable[0] ?? null; // Razorpay lists newest first
}
