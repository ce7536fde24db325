import { BookingsService } from '@trektribe/booking';
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
    for (let round = 0; round < 8; round++) {
      const traveler = await register(t, 'traveler');
      const trip = await createTrip(t, organizer, { capacity: 3 });
      const b = await book(t, traveler, trip.id, 2);
      await t.db.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 minute' WHERE id = $1`, [b.id]);
      await svc.expireHolds();
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
      const [offer] = await t.db.query(`SELECT offer_booking_id FROM waitlist_entries WHERE trip_id = $1 AND status = 'offered'`, [trip.id]);
      const [paid, leave] = await Promise.all([
        t.db.transaction((m) => svc.confirmPaid(m, offer.offer_booking_id, null)),
        t.http.delete(`/api/v1/trips/${trip.id}/waitlist`).set(waiting.auth),
      ]);
      expect(paid).toBe('confirmed');
      expect([204, 404]).toContain(leave.status); // left before the payment closed the offer, or after
      expect(await seatsBooked(t, trip.id)).toBe(1);
    }
  });
});
