import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { GatewayPayment, GatewayToken } from '../gateway/razorpay.gateway';
import type { PaymentOrder } from './payment-order.entity';

/**
 * How the payments side (webhooks, verify, reconciliation) hands subscription money to the
 * subscriptions side. Called by PaymentLedger inside the transaction that records the webhook event,
 * after it has locked `order` and written the payment row and the order's new status; returns a
 * short outcome for the webhook_events row.
 */
export interface SubscriptionPaymentHandler {
  /** A payment on a subscription or authorisation order was captured (order paid). */
  onOrderPaid(m: EntityManager, order: PaymentOrder, payment: GatewayPayment): Promise<string>;
  /** A payment on a subscription or authorisation order failed. */
  onPaymentFailed(m: EntityManager, order: PaymentOrder, payment: GatewayPayment): Promise<string>;
  /** `token.confirmed`: the organizer's recurring mandate is ready. */
  onTokenConfirmed(m: EntityManager, token: GatewayToken & { customer_id?: string | null }): Promise<string>;
}

/**
 * Where LedgerModule finds the subscriptions side without importing it (SubscriptionsModule imports
 * LedgerModule): SubscriptionsService attaches itself when its module starts, and the app refuses
 * to boot without it, so subscription money is never left unapplied by a wiring mistake.
 */
@Injectable()
export class SubscriptionPayments implements SubscriptionPaymentHandler, OnApplicationBootstrap {
  private handler: SubscriptionPaymentHandler | undefined;

  attach(handler: SubscriptionPaymentHandler): void {
    this.handler = handler;
  }

  onApplicationBootstrap(): void {
    if (!this.handler)
      throw new Error('No SubscriptionPaymentHandler attached: subscription payments would go unapplied');
  }

  onOrderPaid(m: EntityManager, order: PaymentOrder, payment: GatewayPayment): Promise<string> {
    return this.attached().onOrderPaid(m, order, payment);
  }

  onPaymentFailed(m: EntityManager, order: PaymentOrder, payment: GatewayPayment): Promise<string> {
    return this.attached().onPaymentFailed(m, order, payment);
  }

  onTokenConfirmed(m: EntityManager, token: GatewayToken & { customer_id?: string | null }): Promise<string> {
    return this.attached().onTokenConfirmed(m, token);
  }

  private attached(): SubscriptionPaymentHandler {
    if (!this.handler) throw new Error('No SubscriptionPaymentHandler attached');
    return this.handler;
  }
}
