export { BookingModule } from './booking.module';
export { Trip } from './trips/trip.entity';
export { Booking, BOOKING_STATUSES, PaymentStatus } from './bookings/booking.entity';
export { TRIP_STATUSES } from './trips/trip.entity';
export { BookingsService, ConfirmOutcome } from './bookings/bookings.service';
export { BookingView, toBookingView } from './bookings/booking-view';
export { BookingPayments } from './bookings/booking-payments';
export { BookingLifecycleJobs } from './bookings/booking-lifecycle-jobs';
export { TripListings } from './trips/trip-listings';
export type { BookingCancelled } from './booking.events';
export { startOfLocalDate } from './trips/trip-time';

import { BookingParticipant } from './bookings/booking-participant.entity';
import { Booking } from './bookings/booking.entity';
import { Review } from './reviews/review.entity';
import { Trip } from './trips/trip.entity';
import { WaitlistEntry } from './waitlist/waitlist-entry.entity';
export const BOOKING_ENTITIES = [Trip, Booking, BookingParticipant, WaitlistEntry, Review];
