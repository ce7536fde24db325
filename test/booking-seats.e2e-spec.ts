import { BookingLifecycleJobs } from '@trektribe/booking';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, SignedIn, startTestApp, TestApp } from './support/app';
import { book, bookingBody, createTrip, seatsBooked } from './support/fixtures';

describe('seat holds never oversell', () => {
  let t: TestApp;
  let organizer: SignedIn;
  let travelers: SignedIn[];

  beforeAll(async () => {
    t = await startTestApp();
    organizer = await register(t, 'organizer');
    travelers = [];
    for (let i = 0; i < 50; i++) travelers.push(await register(t, 'traveler'));
  }, 120_000);
  afterAll(async () => t?.close());

  async function race(capacity: number, seatsEach: number, preBooked = 0) {
    const trip = await createTrip(t, organizer, { capacity });
    if (preBooked) await t.db.query(`UPDATE trips SET seats_booked = $2 WHERE id = $1`, [trip.id, preBooked]);
    const results = await Promise.all(
      travelers.map((tr) =>
        t.http.post('/api/v1/bookings').set(tr.auth).send(bookingBody(trip.id, seatsEach)),
      ),
    );
    return { trip, statuses: results.map((r) => r.status), bodies: results.map((r) => r.body) };
  }

  it('50 travelers racing for the last 10 seats: exactly 10 × 201, 40 × 409 TRIP_FULL', async () => {
    const { trip, statuses, bodies } = await race(100, 1, 90);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 409)).toHaveLength(40);
    expect(bodies.filter((b) => b.error).every((b) => b.error.code === 'TRIP_FULL')).toBe(true);
    expect(await seatsBooked(t, trip.id)).toBe(100);
    const [{ held }] = await t.db.query(
      `SELECT coalesce(sum(seats), 0)::int AS held FROM bookings WHERE trip_id = $1 AND status = 'pending'`,
      [trip.id],
    );
    expect(held).toBe(10);
  });

  it('2-seat requests on an odd capacity (11): exactly 5 succeed and one seat stays free', async () => {
    const { trip, statuses } = await race(11, 2);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 409)).toHaveLength(45);
    expect(await seatsBooked(t, trip.id)).toBe(10);
  });

  it('control: without the conditional update, the same race oversells (so the test can fail)', async () => {
    // The unguarded read-then-write a naive implementation would do, raced the same way on real connections.
    const trip = await createTrip(t, organizer, { capacity: 10 });
    const naive = async () => {
      const [row] = await t.db.query(`SELECT seats_booked, capacity FROM trips WHERE id = $1`, [trip.id]);
      await new Promise((r) => setTimeout(r, 5));
      if (row.seats_booked + 1 > row.capacity) return false;
      await t.db.query(`UPDATE trips SET seats_booked = $2 WHERE id = $1`, [trip.id, row.seats_booked + 1]);
      return true;
    };
    const wins = (await Promise.all(Array.from({ length: 30 }, naive))).filter(Boolean).length;
    expect(wins).toBeGreaterThan(10); // 30 "sold" for 10 seats: an oversell the CHECK cannot even see
    // and the schema still refuses the blatant form of the bug
    await expect(
      t.db.query(`UPDATE trips SET seats_booked = capacity + 1 WHERE id = $1`, [trip.id]),
    ).rejects.toThrow(/chk_trips_seats/);
  });

  it('caps a booking at 10 seats and a traveler at 2 unpaid holds per trip', async () => {
    const trip = await createTrip(t, organizer, { capacity: 50 });
    const tr = travelers[0];
    const tooMany = await t.http
      .post('/api/v1/bookings')
      .set(tr.auth)
      .send(bookingBody(trip.id, 11))
      .expect(400);
    expect(tooMany.body.error.code).toBe('VALIDATION_ERROR');
    const mismatch = await t.http
      .post('/api/v1/bookings')
      .set(tr.auth)
      .send({ ...bookingBody(trip.id, 2), participants: [{ name: 'Solo' }] })
      .expect(400);
    expect(mismatch.body.error.details[0].field).toBe('participants');
    await book(t, tr, trip.id, 1);
    await book(t, tr, trip.id, 1);
    const third = await t.http
      .post('/api/v1/bookings')
      .set(tr.auth)
      .send(bookingBody(trip.id, 1))
      .expect(422);
    expect(third.body.error.code).toBe('HOLD_LIMIT_REACHED');
    expect(await seatsBooked(t, trip.id)).toBe(2);
  });

  it('the hold cap holds when one traveler sends six bookings at once: 2 × 201, 4 × 422', async () => {
    const trip = await createTrip(t, organizer, { capacity: 50 });
    const tr = travelers[2];
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        t.http.post('/api/v1/bookings').set(tr.auth).send(bookingBody(trip.id, 1)),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 422, 422, 422, 422]);
    expect(
      answers.filter((a) => a.status === 422).every((a) => a.body.error.code === 'HOLD_LIMIT_REACHED'),
    ).toBe(true);
    expect(await seatsBooked(t, trip.id)).toBe(2);
  });

  it('rejects unknown fields (no mass assignment of status or amount) and changes nothing', async () => {
    const trip = await createTrip(t, organizer, { capacity: 5 });
    const res = await t.http
      .post('/api/v1/bookings')
      .set(travelers[1].auth)
      .send({ ...bookingBody(trip.id, 1), status: 'confirmed', totalAmount: 1 })
      .expect(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'status',
      'totalAmount',
    ]);
    expect(await seatsBooked(t, trip.id)).toBe(0);
  });

  it('only travelers book; organizers get 403', async () => {
    const trip = await createTrip(t, organizer, { capacity: 5 });
    await t.http.post('/api/v1/bookings').set(organizer.auth).send(bookingBody(trip.id, 1)).expect(403);
  });
});

describe('hold expiry', () => {
  let t: TestApp;
  let organizer: SignedIn;
  let traveler: SignedIn;
  beforeAll(async () => {
    t = await startTestApp({ ONLINE_HOLD_MINUTES: '15', SCREENSHOT_HOLD_HOURS: '48' });
    organizer = await register(t, 'organizer');
    traveler = await register(t, 'traveler');
  });
  afterAll(async () => t?.close());

  it('holds online bookings for 15 minutes and screenshot bookings for 48 hours', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10 });
    const now = Date.now();
    const online = await book(t, traveler, trip.id, 1, 'online');
    const shot = await book(t, traveler, trip.id, 1, 'screenshot');
    expect(new Date(online.holdExpiresAt).getTime() - now).toBeGreaterThan(14 * 60_000);
    expect(new Date(online.holdExpiresAt).getTime() - now).toBeLessThanOrEqual(15 * 60_000 + 5_000);
    expect(new Date(shot.holdExpiresAt).getTime() - now).toBeGreaterThan(47 * 3_600_000);
  });

  it('releases seats exactly once when the clock passes holdExpiresAt, even with overlapping runs', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10 });
    const a = await book(t, traveler, trip.id, 3);
    const other = await register(t, 'traveler');
    await book(t, other, trip.id, 2);
    expect(await seatsBooked(t, trip.id)).toBe(5);
    const jobs = t.app.get(BookingLifecycleJobs);
    expect(await jobs.expireHolds()).toBe(0); // not yet due
    t.clock.advance(16 * 60_000);
    try {
      const runs = await Promise.all([jobs.expireHolds(), jobs.expireHolds(), jobs.expireHolds()]);
      expect(runs.reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(2);
      expect(await seatsBooked(t, trip.id)).toBe(0);
      expect(await jobs.expireHolds()).toBe(0);
      expect(await seatsBooked(t, trip.id)).toBe(0);
    } finally {
      t.clock.reset();
    }
    const res = await t.http.get(`/api/v1/bookings/${a.id}`).set(traveler.auth).expect(200);
    expect(res.body.data.status).toBe('expired');
    const audits = await t.db.query(
      `SELECT count(*)::int AS n FROM audit_logs WHERE entity_id = $1 AND action = 'booking.expired'`,
      [a.id],
    );
    expect(audits[0].n).toBe(1);
  });

  it('counts each expired booking once across concurrent runs', async () => {
    const trip = await createTrip(t, organizer, { capacity: 30 });
    const people = await Promise.all(Array.from({ length: 6 }, () => register(t, 'traveler')));
    for (const p of people) await book(t, p, trip.id, 2);
    const jobs = t.app.get(BookingLifecycleJobs);
    t.clock.advance(20 * 60_000);
    try {
      const runs = await Promise.all([jobs.expireHolds(), jobs.expireHolds()]);
      const [{ n }] = await t.db.query(
        `SELECT count(*)::int AS n FROM bookings WHERE trip_id = $1 AND status = 'expired'`,
        [trip.id],
      );
      expect(n).toBe(6);
      expect(runs[0] + runs[1]).toBe(6 + 0 * runs[0]); // each booking counted by exactly one run
      expect(await seatsBooked(t, trip.id)).toBe(0);
    } finally {
      t.clock.reset();
    }
  });
});
