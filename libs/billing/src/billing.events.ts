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

/**
 * A screenshot payment the organizer has left unverified for `hours` (the hourly proof escalation,
 * once per proof). Support opens one ticket per booking in the traveler's name. Required.
 */
export interface PaymentProofStale {
  proofId: string;
  bookingId: string;
  travelerId: string;
  organizerId: string;
  tripTitle: string;
  /** Paise: the booking's total. */
  amount: number;
  /** ISO instant of the upload. */
  uploadedAt: string;
  hours: number;
}

declare module '@trektribe/common' {
  interface DomainEvents {
    'refund.processed': RefundProcessed;
    'payment_proof.stale': PaymentProofStale;
  }
}
