import { refundNeedsAttention } from '../refunds/refund-policy';
import type { Refund } from '../refunds/refund.entity';
import type { PaymentOrder } from './payment-order.entity';
import type { PaymentUpdatedPayload } from '@trektribe/notifications';
import type { Payment } from './payment.entity';

/** The one `payment.updated` payload (to the payer), whichever change sent it. */
export function toPaymentUpdated(p: Payment): PaymentUpdatedPayload {
  return {
    paymentId: p.id,
    bookingId: p.bookingId,
    subscriptionId: p.subscriptionId,
    method: p.method,
    status: p.status,
    amount: p.amount,
    amountRefunded: p.amountRefunded,
    currency: p.currency,
  };
}

/** What checkout.js needs: the gateway order id, our amount (never the client's), and the public key id. */
export interface CheckoutOrderView {
  orderId: string;
  amount: number;
  currency: string;
  keyId: string;
  bookingId: string;
}

export function toCheckoutOrderView(o: PaymentOrder, keyId: string): CheckoutOrderView {
  return {
    orderId: o.gatewayOrderId,
    amount: o.amount,
    currency: o.currency,
    keyId,
    bookingId: o.bookingId ?? '',
  };
}

export function toPaymentView(p: Payment, gatewayOrderId: string | null = null) {
  return {
    id: p.id,
    bookingId: p.bookingId,
    subscriptionId: p.subscriptionId,
    payerId: p.payerId,
    method: p.method,
    status: p.status,
    amount: p.amount,
    amountRefunded: p.amountRefunded,
    currency: p.currency,
    gatewayPaymentId: p.gatewayPaymentId,
    gatewayOrderId,
    gatewayMethod: p.gatewayMethod,
    errorCode: p.errorCode,
    errorDescription: p.errorDescription,
    capturedAt: p.capturedAt,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}
export type PaymentView = ReturnType<typeof toPaymentView>;

export function toRefundView(r: Refund) {
  return {
    id: r.id,
    paymentId: r.paymentId,
    bookingId: r.bookingId,
    amount: r.amount,
    currency: r.currency,
    status: r.status,
    reason: r.reason,
    gatewayRefundId: r.gatewayRefundId,
    attempts: r.attempts,
    nextAttemptAt: r.nextAttemptAt,
    lastError: r.lastError,
    processedAt: r.processedAt,
    requestedBy: r.requestedBy,
    /** Money still owed that needs a person: a manual payout, a refund given up on, or one stuck past its attempts. */
    needsAttention: refundNeedsAttention(r),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
export type RefundView = ReturnType<typeof toRefundView>;
