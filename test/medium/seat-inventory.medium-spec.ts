import type { Actor } from '@trektribe/auth';
import { TripsService, TripView } from '../../libs/booking/src/trips/trips.service';
import { DomainError } from '@trektribe/common';
import type { EntityManager } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BookingHolds } from '../../libs/booking/src/bookings/booking-holds';
import { SeatInventory, TripPriceChanged } from '../../libs/booking/src/trips/seat-inventory';
import { bootTestApp, ServiceApp } from '../support/app';
import { auditRows, bookingRow, seatsBooked, tripStartsAt } from '../support/fixtures';
import { newHold, newTrip, newUser } from '../support/services';

/**
 * SeatInventory, the only code that moves `trips.seats_booked`, and BookingHolds, which writes a
 * pending booking's rows but leaves the seats to its caller. Every count is read back from `trips`.
 */
describe('SeatInventory and BookingHolds (booking internals)', () => {
  let t: ServiceApp;
  let seats: SeatInventory;
  let organizer: Actor;
  let traveler: Actor;
  beforeAll(async () => {
    t = await bootTestApp();
    seats = t.app.get(SeatInventory);
    organizer = await newUser(t, 'organizer');
    traveler = await newUser(t, 'traveler');
  });
  afterAll(async () => t?.close());

  const run = <T>(fn: (m: EntityManager) => Promise<T>) => t.db.transaction(fn);
  const now = () => t.clock.now();

  /** The DomainError code a call fails with (anything else fails the test). */
  async function refusal(p: Promise<unknown>): Promise<string> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DomainError);
    return (err as DomainError).code;
  }

  it('a hold takes its seats: seats_booked, available() and bookable() agree with the row', async () => {
    const trip = await newTrip(t, organizer, { capacity: 6 });
    expect(await run((m) => seats.bookable(m, trip.id, 6, now()))).toMatchObject({
      id: trip.id,
      seatsAvailable: 6,
      price: trip.price,
    });

    const hold = await newHold(t, traveler, trip.id, 4);

    expect(await seatsBooked(t, trip.id)).toBe(4);
    expect(await run((m) => seats.available(m, trip.id))).toBe(2);
    expect((await run((m) => seats.bookable(m, trip.id, 2, now()))).seatsAvailable).toBe(2);
    expect(await bookingRow(t, hold.id)).toMatchObject({
      status: 'pending',
      seats: 4,
      total_amount: trip.price * 4,
    });
  });

  it('refuses what a booking cannot have, in the order of the rule, and writes nothing', async () => {
    const trips = t.app.get(TripsService);
    const full = await newTrip(t, organizer, { capacity: 2 });
    await newHold(t, traveler, full.id, 2);
    const hidden = await newTrip(t, organizer);
    await trips.update(organizer, hidden.id, { status: 'inactive' } as Parameters<TripsService['update']>[2]);
    const cancelled = await newTrip(t, organizer);
    await trips.cancel(organizer, cancelled.id);
    const open = await newTrip(t, organizer, { capacity: 3 });

    expect(await refusal(run((m) => seats.bookable(m, full.id, 1, now())))).toBe('TRIP_FULL');
    expect(await refusal(run((m) => seats.bookable(m, open.id, 4, now())))).toBe('TRIP_FULL');
    expect(await refusal(run((m) => seats.bookable(m, hidden.id, 1, now())))).toBe('NOT_FOUND');
    expect(
      await refusal(run((m) => seats.bookable(m, '00000000-0000-4000-8000-000000000000', 1, now()))),
    ).toBe('NOT_FOUND');
    expect(await refusal(run((m) => seats.bookable(m, cancelled.id, 1, now())))).toBe('TRIP_NOT_BOOKABLE');
    // From local midnight of its start date the trip is under way.
    expect(await refusal(run((m) => seats.bookable(m, open.id, 1, tripStartsAt(open))))).toBe(
      'TRIP_NOT_BOOKABLE',
    );
    expect(
      await run((m) => seats.bookable(m, open.id, 3, new Date(tripStartsAt(open).getTime() - 1))),
    ).toMatchObject({ seatsAvailable: 3 });

    expect(await seatsBooked(t, full.id)).toBe(2);
    expect(await seatsBooked(t, open.id)).toBe(0);
  });

  it('take never passes capacity nor takes at a stale price; a refused take leaves the count; release gives seats back', async () => {
    const trip: TripView = await newTrip(t, organizer, { capacity: 5 });

    expect((await run((m) => seats.take(m, trip.id, 3, now()))).seatsAvailable).toBe(2);
    expect(await refusal(run((m) => seats.take(m, trip.id, 3, now())))).toBe('TRIP_FULL');
    expect(await seatsBooked(t, trip.id)).toBe(3);
    expect((await run((m) => seats.take(m, trip.id, 2, now()))).seatsAvailable).toBe(0);
    expect(await seatsBooked(t, trip.id)).toBe(5);

    await run((m) => seats.release(m, trip.id, 4));
    expect(await seatsBooked(t, trip.id)).toBe(1);
    expect(await run((m) => seats.available(m, trip.id))).toBe(4);

    // A take for booking rows written at a price the trip no longer has takes nothing.
    await t.app
      .get(TripsService)
      .update(organizer, trip.id, { price: trip.price + 10_000 } as Parameters<TripsService['update']>[2]);
    await expect(
      run((m) => seats.take(m, trip.id, 1, now(), { price: trip.price, currency: 'INR' })),
    ).rejects.toBeInstanceOf(TripPriceChanged);
    expect(await seatsBooked(t, trip.id)).toBe(1);
  });

  it('lockTrip row-locks the trip for the caller’s transaction (the row carries that transaction as its locker)', async () => {
    const trip = await newTrip(t, organizer);
    const lockedBy = (m: EntityManager) =>
      m.query(`SELECT xmax::text AS xmax, pg_current_xact_id()::xid::text AS me FROM trips WHERE id = $1`, [
        trip.id,
      ]) as Promise<{ xmax: string; me: string }[]>;

    const [untouched] = await run((m) => lockedBy(m));
    expect(untouched.xmax).not.toBe(untouched.me);
    const [locked] = await run(async (m) => {
      await seats.lockTrip(m, trip.id);
      return lockedBy(m);
    });
    expect(locked.xmax).toBe(locked.me);
    // A lock is not a change: the trip row is as it was.
    expect(await seatsBooked(t, trip.id)).toBe(0);
  });

  it('BookingHolds writes the booking at the trip’s price, one participant per seat, and leaves the seats to its caller', async () => {
    const trip = await newTrip(t, organizer, { capacity: 4 });
    const holdExpiresAt = new Date(now().getTime() + 15 * 60_000);

    const booking = await run(async (m) => {
      const bookable = await seats.bookable(m, trip.id, 2, now());
      return t.app.get(BookingHolds).write(m, {
        trip: bookable,
        travelerId: traveler.id,
        seats: 2,
        participants: [{ name: 'Asha' }, { name: 'Ravi', age: 31 }],
        paymentMethod: 'screenshot',
        holdExpiresAt,
        actor: traveler,
      });
    });

    expect(await bookingRow(t, booking.id)).toMatchObject({
      trip_id: trip.id,
      traveler_id: traveler.id,
      organizer_id: organizer.id,
      status: 'pending',
      payment_status: 'unpaid',
      payment_method: 'screenshot',
      unit_price: trip.price,
      total_amount: trip.price * 2,
    });
    const people = await t.db.query(
      `SELECT name, age FROM booking_participants WHERE booking_id = $1 ORDER BY name`,
      [booking.id],
    );
    expect(people).toEqual([
      { name: 'Asha', age: null },
      { name: 'Ravi', age: 31 },
    ]);
    expect(await auditRows(t, booking.id, 'booking.created')).toHaveLength(1);
    expect(await seatsBooked(t, trip.id)).toBe(0);
  });
});
