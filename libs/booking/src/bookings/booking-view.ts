import type { Trip } from '../trips/trip.entity';
import type { Booking } from './booking.entity';

/** A booking as the API shows it (API.md, Bookings); with its trip's headline when given. */
export function toBookingView(
  b: Booking,
  trip?: Pick<Trip, 'title' | 'startDate' | 'endDate' | 'destination'>,
) {
  return {
    id: b.id,
    tripId: b.tripId,
    travelerId: b.travelerId,
    organizerId: b.organizerId,
    seats: b.seats,
    unitPrice: b.unitPrice,
    totalAmount: b.totalAmount,
    currency: b.currency,
    status: b.status,
    paymentStatus: b.paymentStatus,
    paymentMethod: b.paymentMethod,
    holdExpiresAt: b.holdExpiresAt,
    specialRequests: b.specialRequests,
    cancellationPolicy: b.cancellationPolicy,
    refundAmount: b.refundAmount,
    cancelledAt: b.cancelledAt,
    cancelReason: b.cancelReason,
    cancelledByRole: b.cancelledByRole,
    confirmedAt: b.confirmedAt,
    completedAt: b.completedAt,
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
    ...(b.participants
      ? {
          participants: b.participants.map((p) => ({
            name: p.name,
            phone: p.phone,
            age: p.age,
            dietaryRestrictions: p.dietaryRestrictions,
          })),
        }
      : {}),
    ...(trip
      ? {
          trip: {
            title: trip.title,
            destination: trip.destination,
            startDate: trip.startDate,
            endDate: trip.endDate,
          },
        }
      : {}),
  };
}
export type BookingView = ReturnType<typeof toBookingView>;
