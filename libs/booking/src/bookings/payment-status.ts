import type { PaymentStatus } from './booking.entity';

/**
 * The moves billing may ask of a booking's payment status (API.md: unpaid | awaiting_verification |
 * paid | failed | refund_pending | refunded | partially_refunded). Anything else is a bug in the
 * caller and changes nothing. Booking's own rules (a confirmed payment, a proof submitted or
 * rejected, a cancellation) keep their own guards in BookingsService.
 */
export const PAYMENT_MOVES: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  // A failed online attempt; money owed back (a payment that cannot be kept, a cancelled hold's proof).
  unpaid: ['failed', 'refund_pending'],
  failed: ['refund_pending'],
  awaiting_verification: ['refund_pending'],
  // A cancellation's refund is requested by booking itself; billing may still flag money owed back.
  paid: ['refund_pending'],
  // Every refund of the booking settled.
  refund_pending: ['refunded', 'partially_refunded'],
  refunded: [],
  partially_refunded: [],
};

export function canMovePayment(from: PaymentStatus, to: PaymentStatus): boolean {
  return PAYMENT_MOVES[from].includes(to);
}
