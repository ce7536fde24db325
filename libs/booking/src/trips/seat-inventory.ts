import { Injectable } from '@nestjs/common';
import { DomainError, ResponseCache, returnedRows } from '@trektribe/common';
import { EntityManager } from 'typeorm';
import { Trip } from './trip.entity';
import { startOfLocalDate } from './trip-time';

/** The trip as a new booking needs it, read by the same UPDATE that took the seats. */
export type TakenSeats = Pick<
  Trip,
  'id' | 'organizerId' | 'price' | 'currency' | 'title' | 'destination' | 'startDate' | 'endDate'
> & {
  seatsAvailable: number;
};

/** The trip's price moved between a booking's unlocked read and its seat update: the caller starts over. */
export class TripPriceChanged extends Error {}

const TRIP_FIELDS = `id, organizer_id AS "organizerId", price, currency, title, destination,
                    to_char(start_date, 'YYYY-MM-DD') AS "startDate", to_char(end_date, 'YYYY-MM-DD') AS "endDate",
                    capacity - seats_booked AS "seatsAvailable"`;

/**
 * The only code that moves `trips.seats_booked`. Taking is one conditional UPDATE that cannot pass
 * capacity (it also row-locks the trip until the caller commits); CHECK (seats_booked <= capacity)
 * backs it in the schema.
 */
@Injectable()
export class SeatInventory {
  constructor(private readonly cache: ResponseCache) {}

  /**
   * The row lock every change to a trip's seats or status takes before touching its bookings (the
   * one lock order: trip, then bookings). FOR NO KEY UPDATE: a new booking's foreign-key check holds
   * KEY SHARE on the trip, which this does not wait for, so a booking that wrote its rows before
   * taking its seats cannot deadlock with a cancellation, an expiry or a payment.
   */
  async lockTrip(m: EntityManager, tripId: string): Promise<void> {
    await m.query(`SELECT 1 FROM trips WHERE id = $1 FOR NO KEY UPDATE`, [tripId]);
  }

  /**
   * An unlocked read for a new booking: the trip as the booking needs it, or the error a take would
   * end in (404, 422 not bookable, 409 full), so a full trip answers at once without queueing on its
   * row lock. The seats themselves are taken by `take`, last in the booking's transaction.
   */
  async bookable(m: EntityManager, tripId: string, seats: number, now: Date): Promise<TakenSeats> {
    const trip = await m.findOne(Trip, { where: { id: tripId } });
    const refused = refusal(trip, seats, now);
    if (refused) throw refused;
    const { id, organizerId, price, currency, title, destination, startDate, endDate } = trip!;
    return {
      id,
      organizerId,
      price,
      currency,
      title,
      destination,
      startDate,
      endDate,
      seatsAvailable: trip!.capacity - trip!.seatsBooked,
    };
  }

  /**
   * Takes seats in one conditional UPDATE that cannot pass capacity; the trip row stays locked until
   * the caller commits, so a booking calls it last. `expected`: the price the caller's booking rows
   * were written with; a different price now → TripPriceChanged (the caller retries).
   */
  async take(
    m: EntityManager,
    tripId: string,
    seats: number,
    now: Date,
    expected?: Pick<TakenSeats, 'price' | 'currency'>,
  ): Promise<TakenSeats> {
    // RETURNING instead of reading the trip again: every booking on a hot trip waits on this row lock
    // until commit, so each statement after it is paid by all of them.
    const [taken] = returnedRows<TakenSeats>(
      await m.query(
        `UPDATE trips SET seats_booked = seats_booked + $2, updated_at = now()
          WHERE id = $1 AND status = 'active' AND seats_booked + $2 <= capacity
            AND start_date > (($3::timestamptz) AT TIME ZONE timezone)::date
            AND ($4::int IS NULL OR (price = $4 AND currency = $5))
          RETURNING ${TRIP_FIELDS}`,
        [tripId, seats, now, expected?.price ?? null, expected?.currency ?? null],
      ),
    );
    if (taken) {
      this.cache.invalidateAfterCommit(m, 'trips'); // search shows seatsAvailable
      return taken;
    }
    // Why not: the same rule as the unlocked read, or the price moved under a booking's rows.
    const trip = await m.findOne(Trip, { where: { id: tripId } });
    const refused = refusal(trip, seats, now);
    if (refused) throw refused;
    if (expected && (trip!.price !== expected.price || trip!.currency !== expected.currency))
      throw new TripPriceChanged();
    throw tripFull(trip!.capacity - trip!.seatsBooked); // taken by someone else between the read and now
  }

  async release(m: EntityManager, tripId: string, seats: number): Promise<void> {
    await m.query(`UPDATE trips SET seats_booked = seats_booked - $2, updated_at = now() WHERE id = $1`, [
      tripId,
      seats,
    ]);
    this.cache.invalidateAfterCommit(m, 'trips');
  }

  async available(m: EntityManager, tripId: string): Promise<number> {
    const [row] = (await m.query(`SELECT capacity - seats_booked AS n FROM trips WHERE id = $1`, [
      tripId,
    ])) as { n: number }[];
    return row ? Number(row.n) : 0;
  }
}

/** Why a booking of `seats` cannot have this trip now: 404 (absent or hidden), 422 (not bookable), 409 (full); none when it can. */
function refusal(trip: Trip | null, seats: number, now: Date): DomainError | undefined {
  if (!trip || trip.status === 'inactive') return DomainError.notFound('Trip');
  if (trip.status !== 'active' || startOfLocalDate(trip.startDate, trip.timezone) <= now) {
    return new DomainError(
      'TRIP_NOT_BOOKABLE',
      `This trip is ${trip.status === 'active' ? 'already under way' : trip.status} and takes no bookings`,
    );
  }
  const left = trip.capacity - trip.seatsBooked;
  return left < seats ? tripFull(left) : undefined;
}

function tripFull(left: number): DomainError {
  return new DomainError(
    'TRIP_FULL',
    left > 0 ? `Only ${left} seat(s) left on this trip` : 'This trip is full',
    [{ field: 'seats', message: `${left} seat(s) available` }],
  );
}
