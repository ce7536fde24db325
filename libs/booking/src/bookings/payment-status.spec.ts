import { describe, expect, it } from 'vitest';
import { PAYMENT_STATUSES } from './booking.entity';
import { canMovePayment, PAYMENT_MOVES } from './payment-status';

describe('the payment status moves billing may ask for', () => {
  it('names every status of API.md, and only moves between them', () => {
    expect(Object.keys(PAYMENT_MOVES).sort()).toEqual([...PAYMENT_STATUSES].sort());
    for (const targets of Object.values(PAYMENT_MOVES))
      for (const to of targets) expect(PAYMENT_STATUSES).toContain(to);
  });

  it('lets money owed back be recorded from any state that is not already refunding or refunded', () => {
    for (const from of ['unpaid', 'failed', 'awaiting_verification', 'paid'] as const)
      expect(canMovePayment(from, 'refund_pending')).toBe(true);
    for (const from of ['refund_pending', 'refunded', 'partially_refunded'] as const)
      expect(canMovePayment(from, 'refund_pending')).toBe(false);
  });

  it('settles refunds only from refund_pending, and never reopens a settled one', () => {
    expect(canMovePayment('refund_pending', 'refunded')).toBe(true);
    expect(canMovePayment('refund_pending', 'partially_refunded')).toBe(true);
    expect(canMovePayment('paid', 'refunded')).toBe(false);
    expect(canMovePayment('unpaid', 'partially_refunded')).toBe(false);
    expect(PAYMENT_MOVES.refunded).toEqual([]);
    expect(PAYMENT_MOVES.partially_refunded).toEqual([]);
  });

  it('marks a failure only on an unpaid booking: never over a payment that went through', () => {
    expect(canMovePayment('unpaid', 'failed')).toBe(true);
    for (const from of ['paid', 'awaiting_verification', 'refund_pending', 'refunded'] as const)
      expect(canMovePayment(from, 'failed')).toBe(false);
  });

  it('never lets billing mark a booking paid: only confirmPaid does, with the seats', () => {
    for (const from of PAYMENT_STATUSES) expect(canMovePayment(from, 'paid')).toBe(false);
  });
});
