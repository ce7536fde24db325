import { Injectable, OnModuleInit } from '@nestjs/common';
import { Clock, DomainError, UnitOfWork } from '@trektribe/common';
import { EntityManager } from 'typeorm';
import { GatewayPayment, GatewayToken } from '../gateway/razorpay.gateway';
import { PaymentOrder } from '../ledger/payment-order.entity';
import { isCaptured } from './subscription-plan';
import { Subscription } from './subscription.entity';
import { SubscriptionStore } from './subscription-store';
import { Mandates } from './mandates';
import { SubscriptionLifecycle } from './subscription-lifecycle';
import { SubscriptionPaymentHandler, SubscriptionPayments } from '../ledger/subscription-payments';

/**
 * The organizer subscription as other code sees it: the handler of booking's `trip.listing` event (a
 * suspended or lapsed organizer may not list trips) and the payments side's SubscriptionPaymentHandler (subscription
 * payments and confirmed tokens handed over inside the webhook's transaction). The work is done by
 * SubscriptionStore (rows, locks, audit, emails), SubscriptionLifecycle (what a charge outcome
 * does), Mandates (the auto-pay token and the authorisation refund) and AutoPayService (the routes).
 *
 * Every state change happens with the subscription row locked (always locked before its cycle row),
 * is audited, and emits `subscription.updated` to `user:<organizerId>` through the outbox. Outcomes
 * are idempotent and order-independent: a paid cycle ignores later failures, a failure is counted once
 * per gateway payment (subscription_charge_failures is the dedupe record), a repeated payment changes nothing.
 */
@Injectable()
export class SubscriptionsService implements SubscriptionPaymentHandler, OnModuleInit {
  constructor(
    private readonly clock: Clock,
    private readonly store: SubscriptionStore,
    private readonly mandates: Mandates,
    private readonly lifecycle: SubscriptionLifecycle,
    private readonly uow: UnitOfWork,
    private readonly payments: SubscriptionPayments,
  ) {}

  onModuleInit(): void {
    this.uow.on('trip.listing', (tx, e) => this.assertMayList(tx.manager, e.organizerId));
    this.payments.attach(this);
  }

  /** Suspended, or cancelled and past the paid period: no new or re-activated trips. */
  async assertMayList(m: EntityManager, organizerId: string): Promise<void> {
    const sub = await this.store.ensureFor(m, organizerId);
    if (!sub) return;
    if (sub.status === 'suspended') {
      throw new DomainError(
        'SUBSCRIPTION_INACTIVE',
        'Your organizer plan is suspended after failed payments: set up auto-pay again to list trips',
      );
    }
    if (sub.status === 'cancelled' && sub.currentPeriodEnd.getTime() <= this.clock.now().getTime()) {
      throw new DomainError(
        'SUBSCRIPTION_INACTIVE',
        'Your organizer plan has ended: set up auto-pay again to list trips',
      );
    }
  }

  async onOrderPaid(m: EntityManager, order: PaymentOrder, payment: GatewayPayment): Promise<string> {
    if (!order.subscriptionId) return 'ignored: not a subscription order';
    if (!isCaptured(payment)) return `ignored: payment ${payment.status}`;
    if (order.purpose === 'subscription_authorization')
      return this.mandates.authorizationPaid(m, order, payment);
    if (order.purpose !== 'subscription') return 'ignored: not a subscription order';
    const sub = await this.store.lock(m, order.subscriptionId);
    const cycle = sub ? await this.store.lockCycleOf(m, order) : null;
    if (!sub || !cycle) return 'ignored: unknown subscription cycle';
    return this.lifecycle.applyPaid(m, sub, cycle, order, payment, 'webhook');
  }

  async onPaymentFailed(m: EntityManager, order: PaymentOrder, payment: GatewayPayment): Promise<string> {
    if (!order.subscriptionId) return 'ignored: not a subscription order';
    if (isCaptured(payment)) return 'ignored: payment captured';
    if (order.purpose === 'subscription_authorization')
      return 'subscription authorisation payment failed: nothing to do';
    if (order.purpose !== 'subscription') return 'ignored: not a subscription order';
    const sub = await this.store.lock(m, order.subscriptionId);
    const cycle = sub ? await this.store.lockCycleOf(m, order) : null;
    if (!sub || !cycle) return 'ignored: unknown subscription cycle';
    const result = await this.lifecycle.applyFailure(
      m,
      sub,
      cycle,
      payment.id,
      failureReason(payment),
      payment.id,
    );
    return `subscription cycle ${cycle.cycle} failure ${result}`;
  }

  async onTokenConfirmed(
    m: EntityManager,
    token: GatewayToken & { customer_id?: string | null },
  ): Promise<string> {
    const status = token.recurring_details?.status;
    if (status && status !== 'confirmed') return `ignored: token ${status}`;
    const where = token.customer_id ? { gatewayCustomerId: token.customer_id } : { gatewayTokenId: token.id };
    const found = await m.findOne(Subscription, { where });
    if (!found) return 'ignored: token of an unknown customer';
    const sub = (await this.store.lock(m, found.id))!;
    return `subscription token ${await this.mandates.storeToken(m, sub, token.id, null, 'token.confirmed', true)}`;
  }
}

function failureReason(p: GatewayPayment): string {
  return (p.error_description ?? p.error_code ?? 'payment failed').slice(0, 500);
}
