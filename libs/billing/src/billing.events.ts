/**
 * A refund settled as processed (the gateway's answer, a `refund.processed` webhook, reconciliation
 * or a payout made by hand): the money is back with the payer. Emitted by RefundSettlement inside
 * the settling transaction; the ledger (the one writer of `payments`) credits the payment.
 * Required: without a handler the app does not boot.
 */
export interface RefundProcessed {
  refundId: string;
  paymentId: string;
  /** Paise refunded by this refund. */
  amount: number;
}

declare module '@trektribe/common' {
  interface DomainEvents {
    'refund.processed': RefundProcessed;
  }
}
