import { Injectable } from '@nestjs/common';
import { DomainError, returnedRows } from '@trektribe/common';
import { EntityManager } from 'typeorm';
import { Trip } from './trip.entity';
import { startOfLocalDate } from './trip-time';

/**
 * The only code that moves `trips.seats_booked`. Taking is one conditional UPDATE that cannot pass
 * capacity (it also row-locks the trip until the caller commits); CHECK (seats_booked <= capacity)
 * backs it in the schema.
 */
/** The trip as a new booking needs it, read by the same UPDATE that took the seats. */
export type TakenSeats = Pick<Trip, 'id' | 'organizerId' | 'price' | 'currency' | 'title' | 'destination' | 'startDate' | 'endDate'> & {
  seatsAvailable: number;
};

@Injectable()
export class SeatInventory {
  async take(m: EntityManager, tripId: string, seats: number, now: Date): Promise<TakenSeats> {
    // RETURNING instead of reading the trip again: every booking on a hot trip waits on this row lock
    // until commit, so each statement after it is paid by all of them.
    const [taken] = returnedRows<TakenSeats>(
      await m.query(
        `UPDATE trips SET seats_booked = seats_booked + $2, updated_at = now()
          WHERE id = $1 AND status = 'active' AND seats_booked + $2 <= capacity
            AND start_date > (($3::timestamptz) AT TIME ZONE timezone)::date
          RETURNING id, organizer_id AS "organizerId", price, currency, title, destination,
                    to_char(start_date, 'YYYY-MM-DD') AS "startDate", to_char(end_date, 'YYYY-MM-DD') AS "endDate",
                    capacity - seats_booked AS "seatsAvailable"`,
        [tripId, seats, now],
      ),
    );
    if (taken) return taken;
    const trip = await m.findOne(Trip, { where: { id: tripId } });
    if (!trip || trip.status === 'inactive') throw DomainError.notFound('Trip');
    if (trip.status !== 'active' || startOfLocalDate(trip.startDate, trip.timezone) <= now) {
      throw new DomainError('TRIP_NOT_BOOKABLE', `This trip is ${trip.status === 'active' ? 'already under way' : trip.status} and takes no bookings`);
    }
    const left = trip.capacity - trip.seatsBooked;
    throw new DomainError('TRIP_FULL', left > 0 ? `Only ${left} seat(s) left on this trip` : 'This trip is full', [
      { field: 'seats', message: `${left} seat(s) available` },
    ]);
  }

  async release(m: EntityManager, tripId: string, seats: number): Promise<void> {
    await m.query(`UPDATE trips SET seats_booked = seats_booked - $2, updated_at = now() WHERE id = $1`, [tripId, seats]);
  }

  async available(m: EntityManager, tripId: string): Promise<number> {
    const [row] = (await m.query(`SELECT capacity - seats_booked AS n FROM trips WHERE id = $1`, [tripId])) as { n: number }[];
    return row ? Number(row.n) : 0;
  }
}
