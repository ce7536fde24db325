import { Injectable } from '@nestjs/common';
import { Notifier, OutboxService } from '@trektribe/notifications';
import type { EntityManager } from 'typeorm';
import type { Booking } from './bookings/booking.entity';
import type { Trip } from './trips/trip.entity';

/**
 * The live events of API.md, recorded in the caller's transaction and delivered after commit,
 * so a rolled-back change never reaches a client.
 */
@Injectable()
export class BookingEvents {
  constructor(
    private readonly outbox: OutboxService,
    private readonly notifier: Notifier,
  ) {}

  /** A booking was paid: the traveler's confirmation, and the organizer's new booking. */
  async confirmed(m: EntityManager, b: Booking, trip: Trip): Promise<void> {
    const base = {
      bookingId: b.id,
      tripTitle: trip.title,
      startDate: trip.startDate,
      seats: b.seats,
      amount: b.totalAmount,
    };
    await this.notifier.notify(m, {
      type: 'booking.confirmed',
      userId: b.travelerId,
      data: base,
      dedupeKey: `booking-confirmed:${b.id}`,
    });
    const [traveler] = (await m.query(`SELECT name FROM users WHERE id = $1`, [b.travelerId])) as {
      name: string;
    }[];
    await this.notifier.notify(m, {
      type: 'booking.new',
      userId: b.organizerId,
      data: { ...base, travelerName: traveler?.name ?? 'A traveler' },
      dedupeKey: `booking-new:${b.id}`,
    });
  }

  /** A booking was cancelled: the traveler is told, with the refund owed (paise). */
  async cancelled(
    m: EntityManager,
    b: Booking,
    trip: Trip,
    reason: string | null,
    refundAmount: number,
  ): Promise<void> {
    await this.notifier.notify(m, {
      type: 'booking.cancelled',
      userId: b.travelerId,
      data: { bookingId: b.id, tripTitle: trip.title, startDate: trip.startDate, reason, refundAmount },
      dedupeKey: `booking-cancelled:${b.id}`,
    });
  }

  async bookingChanged(
    m: EntityManager,
    event: 'booking.created' | 'booking.updated',
    b: Booking,
  ): Promise<void> {
    await this.outbox.enqueueRealtime(m, {
      rooms: [`user:${b.travelerId}`, `user:${b.organizerId}`],
      event,
      payload: {
        bookingId: b.id,
        tripId: b.tripId,
        status: b.status,
        paymentStatus: b.paymentStatus,
        seats: b.seats,
      },
    });
  }

  /**
   * Publishes the trip's current availability to its watchers: read inside the same transaction,
   * unless the caller already holds the count from the statement that changed it.
   */
  async tripSeats(m: EntityManager, tripId: string, seatsAvailable?: number): Promise<void> {
    if (seatsAvailable === undefined) {
      const [row] = (await m.query(`SELECT capacity - seats_booked AS available FROM trips WHERE id = $1`, [
        tripId,
      ])) as { available: number }[];
      if (!row) return;
      seatsAvailable = Number(row.available);
    }
    await this.outbox.enqueueRealtime(m, {
      rooms: [`trip:${tripId}`],
      event: 'trip.seats',
      payload: { tripId, seatsAvailable },
    });
  }
}
