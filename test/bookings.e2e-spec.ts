import { BookingLifecycleJobs } from '@trektribe/booking';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff, register, SignedIn, startTestApp, TestApp } from './support/app';
import {
  auditRows,
  book,
  bookingBody,
  bookingRow,
  createTrip,
  daysFromNow,
  markPaid,
  seatsBooked,
  tripStartsAt,
} from './support/fixtures';

const BOOKINGS = '/api/v1/bookings';
const TRIPS = '/api/v1/trips';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NIL_ID = '00000000-0000-4000-8000-000000000000';

async function outbox(
  t: TestApp,
  recipient: string,
  topic: string,
): Promise<{ subject: string; body: string }[]> {
  return t.db.query(
    `SELECT subject, body FROM notification_outbox WHERE channel = 'email' AND recipient = $1 AND topic = $2`,
    [recipient, topic],
  );
}

describe('bookings: who sees what', () => {
  let t: TestApp;
  let orgA: SignedIn;
  let orgB: SignedIn;
  let t1: SignedIn;
  let t2: SignedIn;
  let agent: SignedIn;
  let admin: SignedIn;
  let tripA: { id: string };
  let tripB: { id: string };
  let b1: { id: string };
  let b2: { id: string };

  beforeAll(async () => {
    t = await startTestApp();
    [orgA, orgB, t1, t2] = [
      await register(t, 'organizer'),
      await register(t, 'organizer'),
      await register(t, 'traveler'),
      await register(t, 'traveler'),
    ];
    agent = await createStaff(t, 'agent');
    admin = await createStaff(t, 'admin');
    tripA = await createTrip(t, orgA, { title: 'Valley of Flowers' });
    tripB = await createTrip(t, orgB, { title: 'Chadar Frozen River' });
    b1 = await book(t, t1, tripA.id, 2);
    b2 = await book(t, t2, tripB.id, 1);
  });
  afterAll(async () => t?.close());

  const listIds = async (who: SignedIn, query: Record<string, string> = {}) => {
    const res = await t.http.get(BOOKINGS).query(query).set(who.auth).expect(200);
    return {
      ids: res.body.data.map((b: { id: string }) => b.id).sort(),
      meta: res.body.meta,
      data: res.body.data,
    };
  };

  it('GET /bookings: a traveler sees own, an organizer those on own trips, agents and admins all', async () => {
    const mine = await listIds(t1);
    expect(mine.ids).toEqual([b1.id]);
    expect(mine.meta).toEqual({ page: 1, limit: 20, total: 1 });
    expect(mine.data[0]).toMatchObject({
      tripId: tripA.id,
      seats: 2,
      status: 'pending',
      trip: { title: 'Valley of Flowers' },
    });
    expect((await listIds(t2)).ids).toEqual([b2.id]);
    expect((await listIds(orgA)).ids).toEqual([b1.id]);
    expect((await listIds(orgB)).ids).toEqual([b2.id]);
    expect((await listIds(agent)).ids).toEqual([b1.id, b2.id].sort());
    expect((await listIds(admin)).ids).toEqual([b1.id, b2.id].sort());
    // filters never widen the scope
    expect((await listIds(orgA, { tripId: tripB.id })).ids).toEqual([]);
    expect((await listIds(t1, { tripId: tripB.id })).meta.total).toBe(0);
    expect((await listIds(admin, { tripId: tripB.id })).ids).toEqual([b2.id]);
    expect((await listIds(admin, { status: 'confirmed' })).ids).toEqual([]);
    await t.http.get(BOOKINGS).expect(401);
    await t.http.get(BOOKINGS).query({ limit: 101 }).set(admin.auth).expect(400);
  });

  it('GET /bookings/:id: owner, trip organizer, agent and admin 200 with participants; anyone else 404', async () => {
    for (const who of [t1, orgA, agent, admin]) {
      const res = await t.http.get(`${BOOKINGS}/${b1.id}`).set(who.auth).expect(200);
      expect(res.body.data).toMatchObject({
        id: b1.id,
        travelerId: t1.id,
        organizerId: orgA.id,
        seats: 2,
        totalAmount: 2 * 1_299_900,
      });
      expect(res.body.data.participants.map((p: { name: string }) => p.name)).toEqual([
        'Trekker 1',
        'Trekker 2',
      ]);
    }
    for (const who of [t2, orgB]) {
      const res = await t.http.get(`${BOOKINGS}/${b1.id}`).set(who.auth).expect(404);
      expect(res.body.error).toMatchObject({ code: 'NOT_FOUND', message: 'Booking not found' });
    }
    // exactly the answer for an id that does not exist
    const absent = await t.http.get(`${BOOKINGS}/${NIL_ID}`).set(t2.auth).expect(404);
    expect(absent.body.error.message).toBe('Booking not found');
    await t.http.get(`${BOOKINGS}/${b1.id}`).expect(401);
  });
});

describe('IDOR: every id-taking booking and trip route answers 404 (or 403 for a role that may not call it) and changes nothing', () => {
  let t: TestApp;
  let owner: SignedIn;
  let rival: SignedIn;
  let traveler: SignedIn;
  let stranger: SignedIn;
  let agent: SignedIn;
  let trip: { id: string; startDate: string };
  let rivalTrip: { id: string };
  let liveTrip: { id: string };
  let hidden: { id: string };
  let booking: { id: string };
  let paidBooking: { id: string };
  let reviewId: string;

  async function snapshot() {
    const bookings = await t.db.query(
      `SELECT id, status, payment_status, seats_released_at, cancelled_at, cancel_reason, refund_amount, updated_at FROM bookings ORDER BY id`,
    );
    const trips = await t.db.query(
      `SELECT id, title, capacity, seats_booked, status, cancelled_at, updated_at FROM trips ORDER BY id`,
    );
    const reviews = await t.db.query(
      `SELECT id, organizer_reply, replied_at, updated_at FROM reviews ORDER BY id`,
    );
    const [{ audits }] = await t.db.query(`SELECT count(*)::int AS audits FROM audit_logs`);
    const [{ mails }] = await t.db.query(`SELECT count(*)::int AS mails FROM notification_outbox`);
    return { bookings, trips, reviews, audits, mails };
  }

  beforeAll(async () => {
    t = await startTestApp();
    [owner, rival, traveler, stranger] = [
      await register(t, 'organizer'),
      await register(t, 'organizer'),
      await register(t, 'traveler'),
      await register(t, 'traveler'),
    ];
    agent = await createStaff(t, 'agent');
    // A finished trip with a review (for the reply route), plus a live trip with a pending and a paid booking.
    const past = await createTrip(t, owner, {
      title: 'Brahmatal',
      startDate: daysFromNow(t, 2),
      endDate: daysFromNow(t, 3),
    });
    const done = await book(t, traveler, past.id, 1);
    await markPaid(t, done.id);
    t.clock.advance(6 * DAY);
    try {
      await t.app.get(BookingLifecycleJobs).completeFinishedTrips();
    } finally {
      t.clock.reset();
    }
    const review = await t.http
      .post(`${TRIPS}/${past.id}/reviews`)
      .set(traveler.auth)
      .send({ rating: 4, comment: 'Lovely campsites' })
      .expect(201);
    reviewId = review.body.data.id;
    trip = past;

    liveTrip = await createTrip(t, owner, { title: 'Pangarchulla', capacity: 10 });
    booking = await book(t, traveler, liveTrip.id, 2);
    paidBooking = await book(t, traveler, liveTrip.id, 1);
    await markPaid(t, paidBooking.id);
    rivalTrip = await createTrip(t, rival, { title: 'Rival Trek' });
    hidden = await createTrip(t, owner, { title: 'Hidden Departure' });
    await t.http.patch(`${TRIPS}/${hidden.id}`).set(owner.auth).send({ status: 'inactive' }).expect(200);
  });
  afterAll(async () => t?.close());

  it('booking routes: GET, POST cancel, DELETE with another traveler or organizer → 404; agent cancel → 403', async () => {
    const before = await snapshot();
    for (const id of [booking.id, paidBooking.id]) {
      for (const who of [stranger, rival]) {
        const get = await t.http.get(`${BOOKINGS}/${id}`).set(who.auth);
        const cancel = await t.http
          .post(`${BOOKINGS}/${id}/cancel`)
          .set(who.auth)
          .send({ reason: 'not mine' });
        const del = await t.http.delete(`${BOOKINGS}/${id}`).set(who.auth).send({});
        expect([get.status, cancel.status, del.status]).toEqual([404, 404, 404]);
        expect([get, cancel, del].map((r) => r.body.error.code)).toEqual([
          'NOT_FOUND',
          'NOT_FOUND',
          'NOT_FOUND',
        ]);
      }
      const agentCancel = await t.http.post(`${BOOKINGS}/${id}/cancel`).set(agent.auth).send({});
      const agentDelete = await t.http.delete(`${BOOKINGS}/${id}`).set(agent.auth).send({});
      expect([agentCancel.status, agentDelete.status]).toEqual([403, 403]);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('trip routes: PATCH, DELETE, participants with another organizer → 404; with a traveler or agent → 403', async () => {
    const before = await snapshot();
    for (const id of [liveTrip.id, hidden.id]) {
      const patch = await t.http
        .patch(`${TRIPS}/${id}`)
        .set(rival.auth)
        .send({ title: 'Hijacked', capacity: 1 });
      const del = await t.http.delete(`${TRIPS}/${id}`).set(rival.auth).send({ reason: 'hijack' });
      const participants = await t.http.get(`${TRIPS}/${id}/participants`).set(rival.auth);
      expect([patch.status, del.status, participants.status]).toEqual([404, 404, 404]);
      expect(patch.body.error.message).toBe('Trip not found');
      for (const who of [traveler, agent]) {
        const p = await t.http.patch(`${TRIPS}/${id}`).set(who.auth).send({ title: 'Hijacked' });
        const d = await t.http.delete(`${TRIPS}/${id}`).set(who.auth).send({});
        const l = await t.http.get(`${TRIPS}/${id}/participants`).set(who.auth);
        expect([p.status, d.status, l.status]).toEqual([403, 403, 403]);
      }
    }
    // the same answer as for a trip that does not exist
    expect(
      (await t.http.patch(`${TRIPS}/${NIL_ID}`).set(rival.auth).send({ title: 'x y z' }).expect(404)).body
        .error.message,
    ).toBe('Trip not found');
    expect(await snapshot()).toEqual(before);
  });

  it('review reply: another organizer → 404 (also through their own trip id); a traveler → 403', async () => {
    const before = await snapshot();
    const other = await t.http
      .post(`${TRIPS}/${trip.id}/reviews/${reviewId}/reply`)
      .set(rival.auth)
      .send({ reply: 'Not my trip' });
    expect(other.status).toBe(404);
    const crossed = await t.http
      .post(`${TRIPS}/${rivalTrip.id}/reviews/${reviewId}/reply`)
      .set(rival.auth)
      .send({ reply: 'Sneaky' });
    expect(crossed.status).toBe(404);
    const byTraveler = await t.http
      .post(`${TRIPS}/${trip.id}/reviews/${reviewId}/reply`)
      .set(traveler.auth)
      .send({ reply: 'Me too' });
    expect(byTraveler.status).toBe(403);
    expect(await snapshot()).toEqual(before);
    // control: the owner can
    await t.http
      .post(`${TRIPS}/${trip.id}/reviews/${reviewId}/reply`)
      .set(owner.auth)
      .send({ reply: 'Thank you!' })
      .expect(200);
  });

  it("an inactive trip's GET /trips/:id (and its reviews) → 404 for the public, travelers and other organizers", async () => {
    const before = await snapshot();
    for (const who of [undefined, traveler, rival, agent]) {
      const req = t.http.get(`${TRIPS}/${hidden.id}`);
      const res = who ? await req.set(who.auth) : await req;
      expect(res.status).toBe(404);
      expect(res.body.error.message).toBe('Trip not found');
    }
    await t.http.get(`${TRIPS}/${hidden.id}/reviews`).expect(404);
    await t.http.post(`${TRIPS}/${hidden.id}/waitlist`).set(stranger.auth).send({ seats: 1 }).expect(404);
    await t.http.post(BOOKINGS).set(stranger.auth).send(bookingBody(hidden.id, 1)).expect(404);
    await t.http.get(`${TRIPS}/${hidden.id}`).set(owner.auth).expect(200);
    expect(await snapshot()).toEqual(before);
  });
});

describe('cancellation by the traveler: tiers by the injected clock', () => {
  let t: TestApp;
  let organizer: SignedIn;
  let traveler: SignedIn;
  let admin: SignedIn;

  beforeAll(async () => {
    t = await startTestApp();
    organizer = await register(t, 'organizer');
    traveler = await register(t, 'traveler');
    admin = await createStaff(t, 'admin');
  });
  afterAll(async () => t?.close());

  /** A trip 30 days out and a PAID 2-seat booking on it (total 2 × ₹12,999). */
  async function paidBooking(overrides: Record<string, unknown> = {}) {
    const trip = await createTrip(t, organizer, { capacity: 10, ...overrides });
    const b = await book(t, traveler, trip.id, 2);
    await markPaid(t, b.id);
    return { trip, booking: b, startsAt: tripStartsAt(trip) };
  }

  async function cancelAt(
    at: Date,
    who: SignedIn,
    bookingId: string,
    reason?: string,
    via: 'post' | 'delete' = 'post',
  ) {
    t.clock.set(at);
    try {
      const req =
        via === 'post'
          ? t.http.post(`${BOOKINGS}/${bookingId}/cancel`)
          : t.http.delete(`${BOOKINGS}/${bookingId}`);
      return await req.set(who.auth).send(reason ? { reason } : {});
    } finally {
      t.clock.reset();
    }
  }

  it('8 days before the start: 100 % refund, seats back, who/when/why recorded, audited, traveler mailed', async () => {
    const { trip, booking, startsAt } = await paidBooking();
    expect(await seatsBooked(t, trip.id)).toBe(2);
    const at = new Date(startsAt.getTime() - 8 * DAY);
    const res = await cancelAt(at, traveler, booking.id, 'Change of plans');
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      status: 'cancelled',
      paymentStatus: 'refund_pending',
      refundAmount: 2_599_800,
      cancelReason: 'Change of plans',
      cancelledByRole: 'traveler',
      cancelledAt: at.toISOString(),
    });
    const row = await bookingRow(t, booking.id);
    expect(row).toMatchObject({
      status: 'cancelled',
      refund_amount: 2_599_800,
      cancelled_by: traveler.id,
      cancelled_by_role: 'traveler',
      cancel_reason: 'Change of plans',
    });
    expect(row.cancelled_at.toISOString()).toBe(at.toISOString());
    expect(row.seats_released_at.toISOString()).toBe(at.toISOString());
    expect(await seatsBooked(t, trip.id)).toBe(0);
    const audits = await auditRows(t, booking.id, 'booking.cancelled');
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      actor_id: traveler.id,
      actor_role: 'traveler',
      entity_type: 'booking',
    });
    expect(audits[0].before).toMatchObject({ status: 'confirmed', paymentStatus: 'paid', refundAmount: 0 });
    expect(audits[0].after).toMatchObject({
      status: 'cancelled',
      refundAmount: 2_599_800,
      cancelReason: 'Change of plans',
      cancelledBy: 'traveler',
    });
    const mails = await outbox(t, traveler.email, 'booking.cancelled');
    expect(mails.filter((m) => m.body.includes('₹25,998'))).toHaveLength(1);
  });

  it('3 days before the start: 50 % refund', async () => {
    const { trip, booking, startsAt } = await paidBooking();
    const res = await cancelAt(new Date(startsAt.getTime() - 3 * DAY), traveler, booking.id);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      status: 'cancelled',
      refundAmount: 1_299_900,
      paymentStatus: 'refund_pending',
      cancelReason: null,
    });
    expect((await bookingRow(t, booking.id)).refund_amount).toBe(1_299_900);
    expect(await seatsBooked(t, trip.id)).toBe(0);
  });

  it('12 hours before the start: 422 CANCELLATION_WINDOW_CLOSED and nothing changes', async () => {
    const { trip, booking, startsAt } = await paidBooking();
    const before = await bookingRow(t, booking.id);
    const res = await cancelAt(new Date(startsAt.getTime() - 12 * HOUR), traveler, booking.id, 'Too late?');
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('CANCELLATION_WINDOW_CLOSED');
    expect(await bookingRow(t, booking.id)).toEqual(before);
    expect(await seatsBooked(t, trip.id)).toBe(2);
    expect(await auditRows(t, booking.id, 'booking.cancelled')).toHaveLength(0);
  });

  it('tier edges: exactly 7 days → 100 %, a minute less → 50 %, exactly 24 h → 50 %, a minute less → 422', async () => {
    const cases: [number, number | 'closed'][] = [
      [7 * DAY, 2_599_800],
      [7 * DAY - 60_000, 1_299_900],
      [DAY, 1_299_900],
      [DAY - 60_000, 'closed'],
    ];
    for (const [before, expected] of cases) {
      const { booking, startsAt } = await paidBooking();
      const res = await cancelAt(
        new Date(startsAt.getTime() - before),
        traveler,
        booking.id,
        undefined,
        'delete',
      );
      if (expected === 'closed') expect(res.body.error?.code).toBe('CANCELLATION_WINDOW_CLOSED');
      else
        expect({ status: res.status, refund: res.body.data?.refundAmount }).toEqual({
          status: 200,
          refund: expected,
        });
    }
  });

  it('tiers count from local midnight of the start date in the trip timezone', async () => {
    // 1 hour inside 7 days of midnight in Kolkata is 50 %, though it is still 7 days and 4.5 hours before midnight UTC
    const { booking, startsAt } = await paidBooking();
    expect(startsAt.toISOString()).toMatch(/T18:30:00\.000Z$/);
    const res = await cancelAt(new Date(startsAt.getTime() - 7 * DAY + HOUR), traveler, booking.id);
    expect(res.body.data.refundAmount).toBe(1_299_900);
  });

  it('uses the policy snapshotted on the booking, not the current one', async () => {
    const { booking, startsAt } = await paidBooking();
    const view = await t.http.get(`${BOOKINGS}/${booking.id}`).set(traveler.auth).expect(200);
    expect(view.body.data.cancellationPolicy).toEqual({
      tiers: [
        { minHoursBefore: 168, refundPercent: 100 },
        { minHoursBefore: 24, refundPercent: 50 },
      ],
    });
    // a booking made under an older, more generous policy keeps it
    await t.db.query(`UPDATE bookings SET cancellation_policy = $2 WHERE id = $1`, [
      booking.id,
      JSON.stringify({ tiers: [{ minHoursBefore: 48, refundPercent: 100 }] }),
    ]);
    const res = await cancelAt(new Date(startsAt.getTime() - 3 * DAY), traveler, booking.id);
    expect(res.body.data.refundAmount).toBe(2_599_800);
  });

  it('the organizer cancels 12 hours before the start: 100 %; an admin likewise', async () => {
    const one = await paidBooking();
    const res = await cancelAt(
      new Date(one.startsAt.getTime() - 12 * HOUR),
      organizer,
      one.booking.id,
      'Guide fell ill',
    );
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      status: 'cancelled',
      refundAmount: 2_599_800,
      cancelledByRole: 'organizer',
      cancelReason: 'Guide fell ill',
    });
    expect(await bookingRow(t, one.booking.id)).toMatchObject({
      cancelled_by: organizer.id,
      cancelled_by_role: 'organizer',
      payment_status: 'refund_pending',
    });
    expect(await seatsBooked(t, one.trip.id)).toBe(0);
    expect((await auditRows(t, one.booking.id, 'booking.cancelled'))[0]).toMatchObject({
      actor_id: organizer.id,
      actor_role: 'organizer',
    });

    const two = await paidBooking();
    const byAdmin = await cancelAt(
      new Date(two.startsAt.getTime() - 2 * HOUR),
      admin,
      two.booking.id,
      'Safety incident',
      'delete',
    );
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.data).toMatchObject({ refundAmount: 2_599_800, cancelledByRole: 'admin' });
    expect((await bookingRow(t, two.booking.id)).cancelled_by).toBe(admin.id);
  });

  it('an unpaid hold cancels with nothing to refund; cancelling twice → 409 and the seats return once', async () => {
    const trip = await createTrip(t, organizer, { capacity: 5 });
    const b = await book(t, traveler, trip.id, 3);
    const other = await register(t, 'traveler');
    await book(t, other, trip.id, 1);
    expect(await seatsBooked(t, trip.id)).toBe(4);
    const res = await t.http.post(`${BOOKINGS}/${b.id}/cancel`).set(traveler.auth).send({}).expect(200);
    expect(res.body.data).toMatchObject({
      status: 'cancelled',
      refundAmount: 0,
      paymentStatus: 'unpaid',
      holdExpiresAt: null,
    });
    expect(await seatsBooked(t, trip.id)).toBe(1);
    const again = await t.http.post(`${BOOKINGS}/${b.id}/cancel`).set(traveler.auth).send({}).expect(409);
    expect(again.body.error.code).toBe('BOOKING_NOT_CANCELLABLE');
    await t.http.delete(`${BOOKINGS}/${b.id}`).set(organizer.auth).send({}).expect(409);
    expect(await seatsBooked(t, trip.id)).toBe(1);
    // and the expiry job, later, does not give them back a second time
    t.clock.advance(HOUR);
    try {
      expect(await t.app.get(BookingLifecycleJobs).expireHolds()).toBe(1); // only the other traveler's hold
    } finally {
      t.clock.reset();
    }
    expect(await seatsBooked(t, trip.id)).toBe(0);
    expect(await auditRows(t, b.id, 'booking.cancelled')).toHaveLength(1);
    expect(await auditRows(t, b.id, 'booking.expired')).toHaveLength(0);
  });

  it('an expired booking cannot be cancelled (409) and its seats stay released once', async () => {
    const trip = await createTrip(t, organizer, { capacity: 5 });
    const b = await book(t, traveler, trip.id, 2);
    t.clock.advance(20 * 60_000);
    try {
      await t.app.get(BookingLifecycleJobs).expireHolds();
    } finally {
      t.clock.reset();
    }
    expect(await seatsBooked(t, trip.id)).toBe(0);
    const res = await t.http.post(`${BOOKINGS}/${b.id}/cancel`).set(traveler.auth).send({}).expect(409);
    expect(res.body.error.code).toBe('BOOKING_NOT_CANCELLABLE');
    expect(await seatsBooked(t, trip.id)).toBe(0);
  });

  it('rejects unknown fields on cancel (no refundAmount from the client)', async () => {
    const { trip, booking } = await paidBooking();
    const res = await t.http
      .post(`${BOOKINGS}/${booking.id}/cancel`)
      .set(traveler.auth)
      .send({ reason: 'x', refundAmount: 2_599_800 })
      .expect(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(['refundAmount']);
    expect((await bookingRow(t, booking.id)).status).toBe('confirmed');
    expect(await seatsBooked(t, trip.id)).toBe(2);
  });
});

describe('cancelling a whole trip', () => {
  let t: TestApp;
  let organizer: SignedIn;
  let admin: SignedIn;
  let travelers: SignedIn[];

  beforeAll(async () => {
    t = await startTestApp();
    organizer = await register(t, 'organizer');
    admin = await createStaff(t, 'admin');
    travelers = [];
    for (let i = 0; i < 4; i++) travelers.push(await register(t, 'traveler'));
  });
  afterAll(async () => t?.close());

  it('cancels every live booking with a full refund, returns each seat exactly once, audits and mails each', async () => {
    const [p, q, r, s] = travelers;
    const trip = await createTrip(t, organizer, { capacity: 10 });
    const expiring = await book(t, s, trip.id, 1);
    t.clock.advance(20 * 60_000);
    try {
      expect(await t.app.get(BookingLifecycleJobs).expireHolds()).toBe(1);
    } finally {
      t.clock.reset();
    }
    const paid = await book(t, p, trip.id, 2);
    await markPaid(t, paid.id);
    const held = await book(t, q, trip.id, 1);
    const withdrawn = await book(t, r, trip.id, 1);
    await t.http
      .post(`${BOOKINGS}/${withdrawn.id}/cancel`)
      .set(r.auth)
      .send({ reason: 'Found another trek' })
      .expect(200);
    const withdrawnBefore = await bookingRow(t, withdrawn.id);
    const expiredBefore = await bookingRow(t, expiring.id);
    expect(await seatsBooked(t, trip.id)).toBe(3);

    const at = new Date(tripStartsAt(trip).getTime() - 12 * HOUR); // inside the traveler window: the trip cancel still refunds in full
    t.clock.set(at);
    let res;
    try {
      res = await t.http
        .delete(`${TRIPS}/${trip.id}`)
        .set(organizer.auth)
        .send({ reason: 'Landslide on the approach road' });
    } finally {
      t.clock.reset();
    }
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ status: 'cancelled', seatsBooked: 0, seatsAvailable: 10 });
    expect(await seatsBooked(t, trip.id)).toBe(0);

    expect(await bookingRow(t, paid.id)).toMatchObject({
      status: 'cancelled',
      payment_status: 'refund_pending',
      refund_amount: 2_599_800,
      cancelled_by: organizer.id,
      cancel_reason: 'Landslide on the approach road',
    });
    expect((await bookingRow(t, paid.id)).cancelled_at.toISOString()).toBe(at.toISOString());
    expect(await bookingRow(t, held.id)).toMatchObject({
      status: 'cancelled',
      payment_status: 'unpaid',
      refund_amount: 0,
      cancelled_by: organizer.id,
    });
    // already-finished bookings are left as they were
    expect(await bookingRow(t, withdrawn.id)).toEqual(withdrawnBefore);
    expect(await bookingRow(t, expiring.id)).toEqual(expiredBefore);

    for (const id of [paid.id, held.id]) {
      const audits = await auditRows(t, id, 'booking.cancelled');
      expect(audits).toHaveLength(1);
      expect(audits[0]).toMatchObject({ actor_id: organizer.id, actor_role: 'organizer' });
      expect(audits[0].after).toMatchObject({ cancelledBy: 'trip_cancelled' });
    }
    expect(await auditRows(t, withdrawn.id, 'booking.cancelled')).toHaveLength(1); // its own, from before
    expect(await auditRows(t, trip.id, 'trip.cancelled')).toHaveLength(1);
    expect((await outbox(t, p.email, 'booking.cancelled')).map((m) => m.body)).toEqual([
      expect.stringContaining('₹25,998'),
    ]);
    expect(await outbox(t, q.email, 'booking.cancelled')).toHaveLength(1);

    // travelers see it
    const seen = await t.http.get(`${BOOKINGS}/${paid.id}`).set(p.auth).expect(200);
    expect(seen.body.data).toMatchObject({
      status: 'cancelled',
      refundAmount: 2_599_800,
      cancelReason: 'Landslide on the approach road',
    });

    // cancelling again changes nothing; neither does a later expiry run
    await t.http.delete(`${TRIPS}/${trip.id}`).set(organizer.auth).send({}).expect(200);
    t.clock.advance(2 * HOUR);
    try {
      expect(await t.app.get(BookingLifecycleJobs).expireHolds()).toBe(0);
    } finally {
      t.clock.reset();
    }
    expect(await seatsBooked(t, trip.id)).toBe(0);
    expect(await auditRows(t, trip.id, 'trip.cancelled')).toHaveLength(1);
    expect(await auditRows(t, held.id, 'booking.cancelled')).toHaveLength(1);

    // and the trip takes no more bookings
    const late = await t.http.post(BOOKINGS).set(q.auth).send(bookingBody(trip.id, 1)).expect(422);
    expect(late.body.error.code).toBe('TRIP_NOT_BOOKABLE');
  });

  it('a trip cancel racing traveler cancels and the expiry job: no errors, each booking ends once, seats return once', async () => {
    // On the PostgreSQL server these run on parallel connections; booking-then-trip lock order used to deadlock here (500s).
    for (let round = 0; round < 4; round++) {
      const trip = await createTrip(t, organizer, { capacity: 20 });
      const held: { id: string; who: SignedIn }[] = [];
      for (const who of travelers)
        for (let k = 0; k < 2; k++) held.push({ id: (await book(t, who, trip.id, 1)).id, who });
      t.clock.advance(20 * 60_000); // every hold is due, so the expiry job competes for the same bookings
      let results;
      try {
        results = await Promise.all([
          t.http.delete(`${TRIPS}/${trip.id}`).set(organizer.auth).send({ reason: 'Storm warning' }),
          t.app.get(BookingLifecycleJobs).expireHolds(),
          ...held.map((b) =>
            t.http.post(`${BOOKINGS}/${b.id}/cancel`).set(b.who.auth).send({ reason: 'Leaving' }),
          ),
        ]);
      } finally {
        t.clock.reset();
      }
      const [tripRes, expiredCount, ...cancels] = results;
      expect(tripRes.status).toBe(200);
      const statuses = cancels.map((r) => r.status);
      expect(statuses.filter((s) => s !== 200 && s !== 409)).toEqual([]);
      expect(
        cancels.filter((r) => r.status === 409).every((r) => r.body.error.code === 'BOOKING_NOT_CANCELLABLE'),
      ).toBe(true);
      expect(await seatsBooked(t, trip.id)).toBe(0);
      const rows: { id: string; status: string }[] = await t.db.query(
        `SELECT id, status FROM bookings WHERE trip_id = $1`,
        [trip.id],
      );
      expect(rows.filter((r) => r.status !== 'cancelled' && r.status !== 'expired')).toEqual([]);
      expect(rows.filter((r) => r.status === 'expired')).toHaveLength(expiredCount);
      const ends: { entity_id: string; n: number }[] = await t.db.query(
        `SELECT entity_id, count(*)::int AS n FROM audit_logs WHERE entity_id = ANY($1) AND action IN ('booking.cancelled', 'booking.expired') GROUP BY entity_id`,
        [rows.map((r) => r.id)],
      );
      expect(ends).toHaveLength(held.length);
      expect(ends.every((e) => e.n === 1)).toBe(true);
      expect(await auditRows(t, trip.id, 'trip.cancelled')).toHaveLength(1);
    }
  });

  it('an admin may cancel any trip; the bookings record the admin', async () => {
    const trip = await createTrip(t, organizer, { capacity: 4 });
    const b = await book(t, travelers[0], trip.id, 2);
    await markPaid(t, b.id);
    await t.http
      .delete(`${TRIPS}/${trip.id}`)
      .set(admin.auth)
      .send({ reason: 'Operator licence suspended' })
      .expect(200);
    expect(await bookingRow(t, b.id)).toMatchObject({
      status: 'cancelled',
      refund_amount: 2_599_800,
      cancelled_by: admin.id,
      cancelled_by_role: 'admin',
    });
    expect((await auditRows(t, trip.id, 'trip.cancelled'))[0]).toMatchObject({
      actor_id: admin.id,
      actor_role: 'admin',
    });
    expect(await seatsBooked(t, trip.id)).toBe(0);
  });
});

describe('Idempotency-Key on POST /bookings', () => {
  let t: TestApp;
  let organizer: SignedIn;
  let traveler: SignedIn;
  let other: SignedIn;

  beforeAll(async () => {
    t = await startTestApp();
    organizer = await register(t, 'organizer');
    traveler = await register(t, 'traveler');
    other = await register(t, 'traveler');
  });
  afterAll(async () => t?.close());

  const bookingsOn = async (tripId: string) =>
    (await t.db.query(`SELECT count(*)::int AS n FROM bookings WHERE trip_id = $1`, [tripId]))[0].n as number;

  it('the same key and body return the first booking and hold no second seat', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10 });
    const first = await t.http
      .post(BOOKINGS)
      .set(traveler.auth)
      .set('Idempotency-Key', 'order-2026-0001')
      .send(bookingBody(trip.id, 2))
      .expect(201);
    const again = await t.http
      .post(BOOKINGS)
      .set(traveler.auth)
      .set('Idempotency-Key', 'order-2026-0001')
      .send(bookingBody(trip.id, 2))
      .expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await bookingsOn(trip.id)).toBe(1);
    expect(await seatsBooked(t, trip.id)).toBe(2);
    expect(await auditRows(t, first.body.data.id, 'booking.created')).toHaveLength(1);
  });

  it('the same key with another body → 422 IDEMPOTENCY_KEY_REUSED, nothing booked', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10 });
    await t.http
      .post(BOOKINGS)
      .set(traveler.auth)
      .set('Idempotency-Key', 'order-2026-0002')
      .send(bookingBody(trip.id, 1))
      .expect(201);
    const res = await t.http
      .post(BOOKINGS)
      .set(traveler.auth)
      .set('Idempotency-Key', 'order-2026-0002')
      .send(bookingBody(trip.id, 3))
      .expect(422);
    expect(res.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await bookingsOn(trip.id)).toBe(1);
    expect(await seatsBooked(t, trip.id)).toBe(1);
  });

  it('keys are per user: another traveler with the same key gets their own booking', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10 });
    const a = await t.http
      .post(BOOKINGS)
      .set(traveler.auth)
      .set('Idempotency-Key', 'shared-key-0003')
      .send(bookingBody(trip.id, 1))
      .expect(201);
    const b = await t.http
      .post(BOOKINGS)
      .set(other.auth)
      .set('Idempotency-Key', 'shared-key-0003')
      .send(bookingBody(trip.id, 1))
      .expect(201);
    expect(b.body.data.id).not.toBe(a.body.data.id);
    expect(b.body.data.travelerId).toBe(other.id);
    expect(await seatsBooked(t, trip.id)).toBe(2);
  });

  it('while the first request with the key is still running → 409 IDEMPOTENCY_IN_PROGRESS, nothing booked', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10 });
    // A finished claim tells us the scope and hash this request gets; an in-progress twin under another key stands in for the running first attempt.
    await t.http
      .post(BOOKINGS)
      .set(traveler.auth)
      .set('Idempotency-Key', 'probe-key-0004')
      .send(bookingBody(trip.id, 1))
      .expect(201);
    await t.db.query(
      `INSERT INTO idempotency_keys (user_id, key, scope, request_hash, status)
       SELECT user_id, 'running-key-0004', scope, request_hash, 'in_progress' FROM idempotency_keys WHERE user_id = $1 AND key = 'probe-key-0004'`,
      [traveler.id],
    );
    const res = await t.http
      .post(BOOKINGS)
      .set(traveler.auth)
      .set('Idempotency-Key', 'running-key-0004')
      .send(bookingBody(trip.id, 1))
      .expect(409);
    expect(res.body.error.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    expect(await bookingsOn(trip.id)).toBe(1);
    expect(await seatsBooked(t, trip.id)).toBe(1);
  });

  it('a failed first attempt (trip full) frees the key for a retry', async () => {
    const trip = await createTrip(t, organizer, { capacity: 1 });
    await book(t, other, trip.id, 1);
    const full = await t.http
      .post(BOOKINGS)
      .set(traveler.auth)
      .set('Idempotency-Key', 'retry-key-0005')
      .send(bookingBody(trip.id, 1))
      .expect(409);
    expect(full.body.error.code).toBe('TRIP_FULL');
    await t.http.patch(`${TRIPS}/${trip.id}`).set(organizer.auth).send({ capacity: 2 }).expect(200);
    const ok = await t.http
      .post(BOOKINGS)
      .set(traveler.auth)
      .set('Idempotency-Key', 'retry-key-0005')
      .send(bookingBody(trip.id, 1))
      .expect(201);
    expect(ok.body.data.travelerId).toBe(traveler.id);
    expect(await seatsBooked(t, trip.id)).toBe(2);
  });

  it('concurrent repeats of one key create exactly one booking', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10 });
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        t.http
          .post(BOOKINGS)
          .set(traveler.auth)
          .set('Idempotency-Key', 'burst-key-0006')
          .send(bookingBody(trip.id, 1)),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const ids = new Set(results.filter((r) => r.status === 201).map((r) => r.body.data.id));
    expect(ids.size).toBe(1);
    expect(await bookingsOn(trip.id)).toBe(1);
    expect(await seatsBooked(t, trip.id)).toBe(1);
  });

  it('a malformed key → 400', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10 });
    const res = await t.http
      .post(BOOKINGS)
      .set(traveler.auth)
      .set('Idempotency-Key', 'short')
      .send(bookingBody(trip.id, 1))
      .expect(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(await bookingsOn(trip.id)).toBe(0);
  });
});
