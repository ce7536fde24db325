import type { EntityManager } from 'typeorm';
import type { GatewayPayment, GatewayToken } from './gateway/razorpay.gateway';
import type { PaymentOrder } from './payments/payment-order.entity';

/**
 * How the payments side (webhooks, verify, reconciliation) hands subscription money to the
 * subscriptions side. Called by PaymentLedger inside the transaction that records the webhook event,
 * after it has locked `order` and written the payment row and the order's new status; returns a
 * short outcome for the webhook_events row.
 */
export abstract class SubscriptionPaymentHandler {
  /** A payment on a subscription or authorisation order was captured (order paid). */
  abstract onOrderPaid(m: EntityManager, order: PaymentOrder, payment: GatewayPayment): Promise<string>;
  /** A payment on a subscription or authorisation order failed. */
  abstract onPaymentFailed(m: EntityManager, order: PaymentOrder, payment: GatewayPayment): Promise<string>;
  /** `token.confirmed`: the organizer's recurring mandate is ready. */
  abstract onTokenConfirmed(m: EntityManager, token: GatewayToken & { customer_id?: string | null }): Promise<string>;
}
