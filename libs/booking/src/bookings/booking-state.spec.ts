import { describe, expect, it } from 'vitest';
import { BOOKING_STATUSES } from './booking.entity';
import { BOOKING_MOVES, BOOKING_START, bookingStatusesMovingTo, canMoveBooking } from './booking-state';

describe('the booking status moves', () => {
  it('names every status of the entity, and only moves between them', () => {
    expect(Object.keys(BOOKING_MOVES).sort()).toEqual([...BOOKING_STATUSES].sort());
    for (const targets of Object.values(BOOKING_MOVES))
      for (const to of targets) expect(BOOKING_STATUSES).toContain(to);
  });

  it('starts every booking pending, the only status a booking is never moved into', () => {
    expect(BOOKING_START).toBe('pending');
    expect(bookingStatusesMovingTo('pending')).toEqual([]);
  });

  it('never moves a completed or cancelled booking again', () => {
    expect(BOOKING_MOVES.completed).toEqual([]);
    expect(BOOKING_MOVES.cancelled).toEqual([]);
    for (const to of BOOKING_STATUSES) {
      expect(canMoveBooking('completed', to)).toBe(false);
      expect(canMoveBooking('cancelled', to)).toBe(false);
    }
  });

  it('cancels only a pending or confirmed booking (else BOOKING_NOT_CANCELLABLE)', () => {
    expect(bookingStatusesMovingTo('cancelled')).toEqual(['pending', 'confirmed']);
    expect(canMoveBooking('expired', 'cancelled')).toBe(false);
  });

  it('confirms a pending hold, or an expired one a late payment revives', () => {
    expect(bookingStatusesMovingTo('confirmed')).toEqual(['pending', 'expired']);
    expect(canMoveBooking('expired', 'pending')).toBe(false);
  });

  it('expires only a pending hold, and completes only a confirmed booking', () => {
    expect(bookingStatusesMovingTo('expired')).toEqual(['pending']);
    expect(bookingStatusesMovingTo('completed')).toEqual(['confirmed']);
    expect(canMoveBooking('pending', 'completed')).toBe(false);
    expect(canMoveBooking('confirmed', 'expired')).toBe(false);
  });

  it('does not count staying put as a move', () => {
    for (const s of BOOKING_STATUSES) expect(canMoveBooking(s, s)).toBe(false);
  });
});
