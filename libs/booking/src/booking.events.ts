import type { Actor } from '@trektribe/auth';

/**
 * A booking was cancelled with money owed back under its cancellation policy. Emitted inside the
 * cancellation's transaction (the booking row is locked). Billing's handler records the refund
 * there (a gateway refund for an online payment, a manual payout for a screenshot payment) and
 * sends it after commit. Required: without a handler the app does not boot.
 */
export interface BookingCancelled {
  bookingId: string;
  refundDue: {
    /** Paise owed back; > 0. */
    amount: number;
    reason: string;
    /** Stable per cancellation, so a retried request never refunds twice. */
    idempotencyKey: string;
  };
  actor: Actor | null;
}

/**
 * An organizer is about to list a trip: creating it active, or setting an inactive trip active by
 * hand. A handler refuses by throwing a DomainError, which rolls the change back (billing: a
 * suspended or lapsed subscription, 409 SUBSCRIPTION_INACTIVE). Required.
 */
export interface TripListing {
  organizerId: string;
  /** Absent while the trip is being created. */
  tripId?: string;
}

declare module '@trektribe/common' {
  interface DomainEvents {
    'booking.cancelled': BookingCancelled;
    'trip.listing': TripListing;
  }
}

/** The events booking cannot do without a handler for, checked when the app boots. */
export const REQUIRED_BOOKING_HANDLERS = {
  'booking.cancelled': 'a cancellation that owes money back would record no refund',
  'trip.listing': 'a suspended organizer could list trips',
} as const;
