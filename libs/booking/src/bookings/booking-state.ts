import type { BookingStatus } from './booking.entity';

/** Every booking starts here (BookingHolds.write: a traveler's booking or a waitlist offer). */
export const BOOKING_START: BookingStatus = 'pending';

/**
 * The moves of a booking's status (API.md: pending | confirmed | completed | cancelled | expired).
 * Staying put is not a move. The payment status has its own table (payment-status.ts).
 */
export const BOOKING_MOVES: Readonly<Record<BookingStatus, readonly BookingStatus[]>> = {
  // Paid (BookingsService.confirmPaid); the hold ran out (BookingLifecycleJobs.expireHolds);
  // cancelled by the traveler, the organizer, an admin or the trip's cancellation (BookingsService.cancel*).
  pending: ['confirmed', 'expired', 'cancelled'],
  // The trip ended (BookingLifecycleJobs.completeFinishedTrips); cancelled, refunded by its cancellation policy.
  confirmed: ['completed', 'cancelled'],
  // A payment arrived after the hold ran out and the seats are still free (confirmPaid takes them again).
  expired: ['confirmed'],
  completed: [],
  cancelled: [],
};

export function canMoveBooking(from: BookingStatus, to: BookingStatus): boolean {
  return BOOKING_MOVES[from].includes(to);
}

/** The statuses a booking may be in to move to `to`, for a conditional `WHERE status = ANY(...)`. */
export function bookingStatusesMovingTo(to: BookingStatus): BookingStatus[] {
  return (Object.keys(BOOKING_MOVES) as BookingStatus[]).filter((from) => canMoveBooking(from, to));
}
