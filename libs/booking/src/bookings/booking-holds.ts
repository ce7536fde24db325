import { Injectable } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { AuditService } from '@trektribe/common';
import { EntityManager } from 'typeorm';
import { BookingEvents } from '../booking-events';
import { TakenSeats } from '../trips/seat-inventory';
import { BookingParticipant } from './booking-participant.entity';
import { Booking, PaymentMethod } from './booking.entity';
import { toBookingView } from './booking-view';
import { BOOKING_START } from './booking-state';
import { STANDARD_POLICY } from './cancellation-policy';

export interface NewHold {
  trip: Pick<TakenSeats, 'id' | 'organizerId' | 'price' | 'currency'>;
  travelerId: string;
  seats: number;
  participants: {
    name: string;
    phone?: string | null;
    age?: number | null;
    dietaryRestrictions?: string | null;
  }[];
  paymentMethod: PaymentMethod;
  holdExpiresAt: Date;
  specialRequests?: string | null;
  /** Set when the hold is a waitlist offer. */
  waitlistEntryId?: string | null;
  actor: Actor | null;
}

/**
 * The rows of a new pending booking, whoever makes it (a traveler's booking, a waitlist offer): the
 * booking at the trip's price, one participant per seat, its audit row and its booking.created
 * event. The seats themselves are the caller's to take (SeatInventory), in the same transaction.
 */
@Injectable()
export class BookingHolds {
  constructor(
    private readonly audit: AuditService,
    private readonly events: BookingEvents,
  ) {}

  async write(m: EntityManager, h: NewHold): Promise<Booking> {
    const booking = m.create(Booking, {
      tripId: h.trip.id,
      travelerId: h.travelerId,
      organizerId: h.trip.organizerId,
      seats: h.seats,
      unitPrice: h.trip.price,
      totalAmount: h.trip.price * h.seats,
      currency: h.trip.currency,
      status: BOOKING_START,
      paymentStatus: 'unpaid',
      paymentMethod: h.paymentMethod,
      holdExpiresAt: h.holdExpiresAt,
      specialRequests: h.specialRequests ?? null,
      cancellationPolicy: STANDARD_POLICY,
      waitlistEntryId: h.waitlistEntryId ?? null,
    });
    await m.save(booking);
    booking.participants = h.participants.map((p) =>
      m.create(BookingParticipant, {
        bookingId: booking.id,
        name: p.name,
        phone: p.phone ?? null,
        age: p.age ?? null,
        dietaryRestrictions: p.dietaryRestrictions ?? null,
      }),
    );
    await m.save(booking.participants);
    await this.audit.record(m, {
      actor: h.actor,
      action: 'booking.created',
      entityType: 'booking',
      entityId: booking.id,
      after: toBookingView(booking),
    });
    await this.events.bookingChanged(m, 'booking.created', booking);
    return booking;
  }
}
