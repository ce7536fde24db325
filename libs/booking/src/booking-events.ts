import { Injectable } from '@nestjs/common';
import { OutboxService } from '@trektribe/notifications';
import type { EntityManager } from 'typeorm';
import type { Booking } from './bookings/booking.entity';

/**
 * The live events of API.md, recorded in the caller's transaction and delivered after commit,
 * so a rolled-back change never reaches a client.
 */
@Injectable()
export class BookingEvents {
  constructor(private readonly outbox: OutboxService) {}

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
