import { registerErrorCodes } from '@trektribe/common';

/**
 * Booking's own refusals (409: the request is fine, the trip or booking is not in a state that
 * allows it). Each names the situation, so a client can react without reading the message.
 */
export const BOOKING_ERRORS = registerErrorCodes({
  /** A cancelled or completed trip cannot be changed or cancelled again. */
  TRIP_NOT_EDITABLE: 409,
  /** Only a pending or confirmed booking can be cancelled. */
  BOOKING_NOT_CANCELLABLE: 409,
  /** The booking is paid the other way (online vs screenshot). */
  WRONG_PAYMENT_METHOD: 409,
  /** The booking takes no payment now: not pending, or already paid. */
  BOOKING_NOT_PAYABLE: 409,
  /** The seat hold ran out: the seats are gone; book again. */
  HOLD_EXPIRED: 409,
  /** There is no payment proof waiting for the organizer's decision. */
  NO_PENDING_PROOF: 409,
} as const);

declare module '@trektribe/common' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging adds this lib's codes
  interface LibErrorCodes extends Record<keyof typeof BOOKING_ERRORS, number> {}
}
