import { BookingLifecycleJobs, BookingsService } from '@trektribe/booking';
import { SeatInventory, TripPriceChanged } from '../libs/booking/src/trips/seat-inventory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, SignedIn, startTestApp, TestApp } from './support/app';
import { book, createTrip, seatsBooked } from './support/fixtures';

/**
 * Paths that lock the same rows must lock them in one order (trip → booking → waitlist entry), or
 * PostgreSQL kills one side with a deadlock and the client gets a 500. These races run on real
 * parallel connections in the server run.
 */
describe('lock order under races', () => {
  let t: TestApp;
  let organizer: SignedIn;
  beforeAll(async () => {
    t = await startTestApp();
    organizer = await register(t, 'organizer');
  });
  afterAll(async () => t?.close());

  it('a late payment for an expired hold racing the traveler’s cancel: no 500, seats consistent', async () => {
    const svc = t.app.get(BookingsService);
    const jobs = t.app.get(BookingLifecycleJobs);
    for (let round = 0; round < 8; round++) {
      const traveler = await register(t, 'traveler');
      const trip = await createTrip(t, organizer, { capacity: 3 });
      const b = await book(t, traveler, trip.id, 2);
      await t.db.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 minute' WHERE id = $1`, [
        b.id,
      ]);
      await jobs.expireHolds();
      const [paid, cancel] = await Promise.all([
        t.db.transaction((m) => svc.confirmPaid(m, b.id, null)),
        t.http.post(`/api/v1/bookings/${b.id}/cancel`).set(traveler.auth).send({}),
      ]);
      expect(paid).toBe('confirmed');
      expect([200, 409]).toContain(cancel.status); // cancelled after the payment, or refused while still expired
      const [row] = await t.db.query(`SELECT status FROM bookings WHERE id = $1`, [b.id]);
      expect(await seatsBooked(t, trip.id)).toBe(row.status === 'confirmed' ? 2 : 0);
    }
  });

  it('leaving the waitlist while its offer is being paid: no 500, the offer ends one way', async () => {
    const svc = t.app.get(BookingsService);
    for (let round = 0; round < 8; round++) {
      const trip = await createTrip(t, organizer, { capacity: 1 });
      const holder = await register(t, 'traveler');
      const waiting = await register(t, 'traveler');
      const held = await book(t, holder, trip.id, 1);
      await t.http.post(`/api/v1/trips/${trip.id}/waitlist`).set(waiting.auth).send({ seats: 1 }).expect(201);
      await t.http.post(`/api/v1/bookings/${held.id}/cancel`).set(holder.auth).send({}).expect(200);
      const [offer] = await t.db.query(
        `SELECT offer_booking_id FROM waitlist_entries WHERE trip_id = $1 AND status = 'offered'`,
        [trip.id],
      );
      const [paid, leave] = await Promise.all([
        t.db.transaction((m) => svc.confirmPaid(m, offer.offer_booking_id, null)),
        t.http.delete(`/api/v1/trips/${trip.id}/waitlist`).set(waiting.auth),
      ]);
      expect(paid).toBe('confirmed');
      expect([204, 404]).toContain(leave.status); // left before the payment closed the offer, or after
      expect(await seatsBooked(t, trip.id)).toBe(1);
    }
  });

  it('new bookings (their rows written before the seats are taken) racing cancellations and expiries on one trip: no 500, seats consistent', async () => {
    const jobs = t.app.get(BookingLifecycleJobs);
    const trip = await createTrip(t, organizer, { capacity: 12 });
    const travelers = await Promise.all(Array.from({ length: 6 }, () => register(t, 'traveler')));
    for (let round = 0; round < 4; round++) {
      const held = await Promise.all(travelers.slice(0, 3).map((tr) => book(t, tr, trip.id, 1)));
      await t.db.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 minute' WHERE id = $1`, [
        held[2].id,
      ]);
      const answers = await Promise.all([
        ...travelers.slice(3).map((tr) =>
          t.http
            .post('/api/v1/bookings')
            .set(tr.auth)
            .send({ tripId: trip.id, seats: 1, participants: [{ name: 'Ravi' }], paymentMethod: 'online' }),
        ),
        t.http.post(`/api/v1/bookings/${held[0].id}/cancel`).set(travelers[0].auth).send({}),
        t.http.post(`/api/v1/bookings/${held[1].id}/cancel`).set(travelers[1].auth).send({}),
        jobs.expireHolds().then(() => ({ status: 200 })),
      ]);
      expect(answers.map((a) => a.status).filter((s) => s >= 500)).toEqual([]);
      const [row] = await t.db.query(
        `SELECT t.seats_booked, (SELECT coalesce(sum(seats), 0)::int FROM bookings b WHERE b.trip_id = t.id AND b.status IN ('pending', 'confirmed') AND b.seats_released_at IS NULL) AS live
           FROM trips t WHERE t.id = $1`,
        [trip.id],
      );
      expect(row.seats_booked).toBe(row.live);
      // Make room for the next round: the new holds are cancelled.
      const mine = await t.db.query(
        `SELECT id, traveler_id FROM bookings WHERE trip_id = $1 AND status = 'pending'`,
        [trip.id],
      );
      for (const b of mine) {
        const who = travelers.find((tr) => tr.id === b.traveler_id)!;
        await t.http.post(`/api/v1/bookings/${b.id}/cancel`).set(who.auth).send({}).expect(200);
      }
    }
  });

  it('a booking whose trip changed price after its unlocked read takes no seats at the old price', async () => {
    const trip = await createTrip(t, organizer, { capacity: 5, price: 500_000 });
    const seats = t.app.get(SeatInventory);
    const now = t.clock.now();
    const seen = await t.db.transaction((m) => seats.bookable(m, trip.id, 1, now));
    expect(seen).toMatchObject({ price: 500_000, seatsAvailable: 5 });
    await t.http.patch(`/api/v1/trips/${trip.id}`).set(organizer.auth).send({ price: 550_000 }).expect(200);
    await expect(t.db.transaction((m) => seats.take(m, trip.id, 1, now, seen))).rejects.toBeInstanceOf(
      TripPriceChanged,
    );
    expect(await seatsBooked(t, trip.id)).toBe(0);
    // Booked again from the top, at the new price.
    const traveler = await register(t, 'traveler');
    expect((await book(t, traveler, trip.id, 1)).totalAmount).toBe(550_000);
  });
});
