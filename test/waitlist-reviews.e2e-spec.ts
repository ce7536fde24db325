import { BookingLifecycleJobs } from '@trektribe/booking';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff, register, SignedIn, startTestApp, TestApp } from './support/app';
import {
  auditRows,
  book,
  bookingBody,
  bookingRow,
  confirmPaid,
  createTrip,
  daysFromNow,
  markPaid,
  seatsBooked,
  tripStartsAt,
} from './support/fixtures';

const TRIPS = '/api/v1/trips';
const BOOKINGS = '/api/v1/bookings';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('waitlist', () => {
  let t: TestApp;
  let organizer: SignedIn;
  let people: SignedIn[];

  beforeAll(async () => {
    t = await startTestApp();
    organizer = await register(t, 'organizer');
    people = [];
    for (let i = 0; i < 6; i++) people.push(await register(t, 'traveler', { name: `Waiter ${i}` }));
  });
  afterAll(async () => t?.close());

  const wl = (tripId: string) => `${TRIPS}/${tripId}/waitlist`;
  const expire = () => t.app.get(BookingLifecycleJobs).expireHolds();
  async function entryRows(
    tripId: string,
  ): Promise<{ traveler_id: string; status: string; offer_booking_id: string | null }[]> {
    return t.db.query(
      `SELECT traveler_id, status, offer_booking_id FROM waitlist_entries WHERE trip_id = $1 ORDER BY created_at, id`,
      [tripId],
    );
  }

  /** A trip with `capacity` seats, all taken by a paid booking (so clock moves expire nothing else). */
  async function fullTrip(capacity: number, holder: SignedIn) {
    const trip = await createTrip(t, organizer, { capacity });
    const b = await book(t, holder, trip.id, capacity);
    await markPaid(t, b.id);
    return { trip, holding: b };
  }

  it('a cancelled trip closes its waitlist, and a trip that took place closes its own; each traveler is told once', async () => {
    const [holder, waiter, other] = [people[3], people[4], people[5]];
    const { trip } = await fullTrip(1, holder);
    await t.http.post(wl(trip.id)).set(waiter.auth).send({ seats: 1 }).expect(201);
    await t.http
      .delete(`${TRIPS}/${trip.id}`)
      .set(organizer.auth)
      .send({ reason: 'Landslide on the route' })
      .expect(200);
    expect((await entryRows(trip.id)).map((e) => e.status)).toEqual(['cancelled']);
    const told = await t.db.query(
      `SELECT type, data FROM notifications WHERE user_id = $1 AND type = 'waitlist.closed'`,
      [waiter.id],
    );
    expect(told).toEqual([
      { type: 'waitlist.closed', data: expect.objectContaining({ why: 'trip_cancelled' }) },
    ]);

    const { trip: past } = await fullTrip(1, holder);
    await t.http.post(wl(past.id)).set(other.auth).send({ seats: 1 }).expect(201);
    t.clock.set(new Date(tripStartsAt(past).getTime() + 10 * DAY));
    try {
      const jobs = t.app.get(BookingLifecycleJobs);
      await jobs.completeFinishedTrips();
      await jobs.completeFinishedTrips();
    } finally {
      t.clock.reset();
    }
    expect((await entryRows(past.id)).map((e) => e.status)).toEqual(['cancelled']);
    const closed = await t.db.query(
      `SELECT data FROM notifications WHERE user_id = $1 AND type = 'waitlist.closed'`,
      [other.id],
    );
    expect(closed).toEqual([
      { data: expect.objectContaining({ why: 'trip_finished', tripTitle: 'Kedarkantha Winter Trek' }) },
    ]);
  });

  it('join a full trip, get an offer when seats free up; an unused offer expires and passes to the next in line', async () => {
    const [t0, t1, w1, w2, late] = people;
    const trip = await createTrip(t, organizer, { capacity: 2 });
    await markPaid(t, (await book(t, t0, trip.id, 1)).id);
    const leaving = await book(t, t1, trip.id, 1);

    const j1 = await t.http.post(wl(trip.id)).set(w1.auth).send({ seats: 1 }).expect(201);
    expect(j1.body.data).toMatchObject({
      tripId: trip.id,
      seats: 1,
      status: 'waiting',
      position: 1,
      offerBookingId: null,
    });
    const j2 = await t.http.post(wl(trip.id)).set(w2.auth).send({ seats: 1 }).expect(201);
    expect(j2.body.data.position).toBe(2);
    expect((await t.http.get(wl(trip.id)).set(w1.auth).expect(200)).body.data.position).toBe(1);
    expect((await t.http.get(wl(trip.id)).set(w2.auth).expect(200)).body.data.position).toBe(2);
    expect((await t.http.post(wl(trip.id)).set(w1.auth).send({ seats: 1 }).expect(409)).body.error.code).toBe(
      'ALREADY_WAITLISTED',
    );
    expect(await auditRows(t, j1.body.data.id, 'waitlist.joined')).toHaveLength(1);

    // a seat frees up: the head of the line gets a 12-hour hold on it
    const cancelledAt = t.clock.now().getTime();
    await t.http.post(`${BOOKINGS}/${leaving.id}/cancel`).set(t1.auth).send({}).expect(200);
    expect(await seatsBooked(t, trip.id)).toBe(2);
    const offer1 = (await t.http.get(wl(trip.id)).set(w1.auth).expect(200)).body.data;
    expect(offer1).toMatchObject({ status: 'offered', position: null });
    const expiresAt = new Date(offer1.offerExpiresAt).getTime();
    expect(expiresAt - cancelledAt).toBeGreaterThanOrEqual(12 * HOUR);
    expect(expiresAt - cancelledAt).toBeLessThan(12 * HOUR + 5 * MINUTE);
    const held = await t.http.get(`${BOOKINGS}/${offer1.offerBookingId}`).set(w1.auth).expect(200);
    expect(held.body.data).toMatchObject({
      tripId: trip.id,
      travelerId: w1.id,
      seats: 1,
      status: 'pending',
      paymentStatus: 'unpaid',
      totalAmount: 1_299_900,
    });
    expect(new Date(held.body.data.holdExpiresAt).getTime()).toBe(expiresAt);
    expect(held.body.data.participants).toEqual([expect.objectContaining({ name: 'Waiter 2' })]);
    expect((await t.http.get(wl(trip.id)).set(w2.auth).expect(200)).body.data).toMatchObject({
      status: 'waiting',
      position: 1,
    });
    const [mail] = await t.db.query(
      `SELECT subject FROM notification_outbox WHERE recipient = $1 AND topic = 'waitlist.offer'`,
      [w1.email],
    );
    expect(mail.subject).toContain('Seats opened up');
    // the offer is a booking state change like any other: audited on the booking and on the entry
    expect(await auditRows(t, offer1.offerBookingId, 'booking.created')).toEqual([
      expect.objectContaining({ actor_id: null, entity_type: 'booking' }),
    ]);
    expect(await auditRows(t, j1.body.data.id, 'waitlist.offered')).toHaveLength(1);

    // nobody else can take the held seat
    expect(
      (await t.http.post(BOOKINGS).set(late.auth).send(bookingBody(trip.id, 1)).expect(409)).body.error.code,
    ).toBe('TRIP_FULL');

    try {
      t.clock.set(new Date(expiresAt - HOUR));
      expect(await expire()).toBe(0); // still within the offer
      t.clock.set(new Date(expiresAt + MINUTE));
      expect(await expire()).toBe(1); // the offer lapses…
      expect(await bookingRow(t, offer1.offerBookingId)).toMatchObject({ status: 'expired' });
      expect(await auditRows(t, offer1.offerBookingId, 'booking.expired')).toHaveLength(1);
      await t.http.get(wl(trip.id)).set(w1.auth).expect(404);
      const offer2 = (await t.http.get(wl(trip.id)).set(w2.auth).expect(200)).body.data; // …and passes to the next
      expect(offer2).toMatchObject({ status: 'offered' });
      expect(offer2.offerBookingId).not.toBe(offer1.offerBookingId);
      expect(new Date(offer2.offerExpiresAt).getTime()).toBe(expiresAt + MINUTE + 12 * HOUR);
      expect(await seatsBooked(t, trip.id)).toBe(2);
      expect((await entryRows(trip.id)).map((e) => [e.traveler_id, e.status])).toEqual([
        [w1.id, 'expired'],
        [w2.id, 'offered'],
      ]);

      // w2 pays: the offer is accepted, the seat stays taken, later expiry runs leave it alone
      expect(await confirmPaid(t, offer2.offerBookingId)).toBe('confirmed');
      expect((await entryRows(trip.id))[1].status).toBe('accepted');
      expect((await auditRows(t, offer2.offerBookingId)).map((a) => a.action)).toEqual([
        'booking.created',
        'booking.confirmed',
      ]);
      t.clock.advance(13 * HOUR);
      expect(await expire()).toBe(0);
      expect(await seatsBooked(t, trip.id)).toBe(2);
      expect(await bookingRow(t, offer2.offerBookingId)).toMatchObject({
        status: 'confirmed',
        payment_status: 'paid',
        seats_released_at: null,
      });
    } finally {
      t.clock.reset();
    }
  });

  it('first come, first served for N seats: nobody jumps a head of line that needs more than is free', async () => {
    const [holder, big, small] = people;
    const { trip } = await fullTrip(3, holder);
    await t.http.post(wl(trip.id)).set(big.auth).send({ seats: 2 }).expect(201);
    await t.http.post(wl(trip.id)).set(small.auth).send({ seats: 1 }).expect(201);

    const one = await t.http
      .patch(`${TRIPS}/${trip.id}`)
      .set(organizer.auth)
      .send({ capacity: 4 })
      .expect(200);
    expect(one.body.data).toMatchObject({ capacity: 4, seatsAvailable: 1 });
    expect((await entryRows(trip.id)).map((e) => e.status)).toEqual(['waiting', 'waiting']);

    const two = await t.http
      .patch(`${TRIPS}/${trip.id}`)
      .set(organizer.auth)
      .send({ capacity: 5 })
      .expect(200);
    expect(two.body.data).toMatchObject({ capacity: 5, seatsBooked: 5, seatsAvailable: 0 }); // the offer holds 2
    const rows = await entryRows(trip.id);
    expect(rows.map((e) => e.status)).toEqual(['offered', 'waiting']);
    expect(await bookingRow(t, rows[0].offer_booking_id!)).toMatchObject({
      traveler_id: big.id,
      seats: 2,
      status: 'pending',
    });
    expect(await seatsBooked(t, trip.id)).toBe(5);
    expect((await t.http.get(wl(trip.id)).set(small.auth).expect(200)).body.data.position).toBe(1);
  });

  it('leaving: a waiting place goes at once; an open offer is given up and passes on at the next expiry run', async () => {
    const [holder, a, b, c] = people;
    const { trip, holding } = await fullTrip(1, holder);
    await t.http.post(wl(trip.id)).set(a.auth).send({ seats: 1 }).expect(201);
    await t.http.post(wl(trip.id)).set(b.auth).send({ seats: 1 }).expect(201);
    await t.http.post(wl(trip.id)).set(c.auth).send({ seats: 1 }).expect(201);

    await t.http.delete(wl(trip.id)).set(b.auth).expect(204);
    await t.http.get(wl(trip.id)).set(b.auth).expect(404);
    await t.http.delete(wl(trip.id)).set(b.auth).expect(404);
    expect((await t.http.get(wl(trip.id)).set(c.auth).expect(200)).body.data.position).toBe(2);

    await t.http
      .post(`${BOOKINGS}/${holding.id}/cancel`)
      .set(organizer.auth)
      .send({ reason: 'Medical' })
      .expect(200);
    const offer = (await t.http.get(wl(trip.id)).set(a.auth).expect(200)).body.data;
    expect(offer.status).toBe('offered');
    await t.http.delete(wl(trip.id)).set(a.auth).expect(204);
    t.clock.advance(MINUTE);
    try {
      expect(await expire()).toBe(1);
    } finally {
      t.clock.reset();
    }
    expect((await bookingRow(t, offer.offerBookingId)).status).toBe('expired');
    expect((await t.http.get(wl(trip.id)).set(c.auth).expect(200)).body.data.status).toBe('offered');
    expect(await seatsBooked(t, trip.id)).toBe(1);
    // having left, b may queue again
    expect(
      (await t.http.post(wl(trip.id)).set(b.auth).send({ seats: 1 }).expect(201)).body.data.position,
    ).toBe(1);
  });

  it('refuses a line where there is none: free seats → 422, unknown trip → 404, bad seat counts → 400, non-travelers → 403', async () => {
    const [holder, w] = people;
    const open = await createTrip(t, organizer, { capacity: 5 });
    expect((await t.http.post(wl(open.id)).set(w.auth).send({ seats: 2 }).expect(422)).body.error.code).toBe(
      'BUSINESS_RULE',
    );
    await t.http.post(wl('00000000-0000-4000-8000-000000000000')).set(w.auth).send({ seats: 1 }).expect(404);
    const { trip } = await fullTrip(2, holder);
    await t.http.post(wl(trip.id)).set(w.auth).send({ seats: 0 }).expect(400);
    await t.http.post(wl(trip.id)).set(w.auth).send({ seats: 11 }).expect(400);
    await t.http.post(wl(trip.id)).set(w.auth).send({ seats: 1, position: 1 }).expect(400);
    await t.http.post(wl(trip.id)).set(organizer.auth).send({ seats: 1 }).expect(403);
    await t.http.post(wl(trip.id)).send({ seats: 1 }).expect(401);
    expect(await entryRows(trip.id)).toEqual([]);
  });

  it('refuses to queue for a trip already under way (it would never get an offer)', async () => {
    const [holder, w] = people;
    const { trip } = await fullTrip(2, holder);
    t.clock.set(new Date(tripStartsAt(trip).getTime() + HOUR));
    try {
      const res = await t.http.post(wl(trip.id)).set(w.auth).send({ seats: 1 }).expect(422);
      expect(res.body.error.code).toBe('TRIP_NOT_BOOKABLE');
    } finally {
      t.clock.reset();
    }
    expect(await entryRows(trip.id)).toEqual([]);
  });

  it('cancelling the trip closes its waitlist, open offers included', async () => {
    const [holder, a, b] = people;
    const { trip, holding } = await fullTrip(1, holder);
    await t.http.post(wl(trip.id)).set(a.auth).send({ seats: 1 }).expect(201);
    await t.http.post(wl(trip.id)).set(b.auth).send({ seats: 1 }).expect(201);
    await t.http.post(`${BOOKINGS}/${holding.id}/cancel`).set(organizer.auth).send({}).expect(200);
    const offer = (await t.http.get(wl(trip.id)).set(a.auth).expect(200)).body.data;
    await t.http
      .delete(`${TRIPS}/${trip.id}`)
      .set(organizer.auth)
      .send({ reason: 'Road closed' })
      .expect(200);
    expect((await entryRows(trip.id)).map((e) => e.status)).toEqual(['cancelled', 'cancelled']);
    expect(await bookingRow(t, offer.offerBookingId)).toMatchObject({
      status: 'cancelled',
      refund_amount: 0,
    });
    expect(await seatsBooked(t, trip.id)).toBe(0);
    await t.http.get(wl(trip.id)).set(a.auth).expect(404);
    expect((await t.http.post(wl(trip.id)).set(b.auth).send({ seats: 1 }).expect(422)).body.error.code).toBe(
      'TRIP_NOT_BOOKABLE',
    );
  });
});

describe('reviews', () => {
  let t: TestApp;
  let organizer: SignedIn;
  let rival: SignedIn;
  let admin: SignedIn;
  let travelers: SignedIn[];
  let trip: { id: string; startDate: string; endDate: string };
  let bookings: { id: string }[];

  beforeAll(async () => {
    t = await startTestApp();
    organizer = await register(t, 'organizer');
    rival = await register(t, 'organizer');
    admin = await createStaff(t, 'admin');
    travelers = [];
    for (let i = 0; i < 6; i++) travelers.push(await register(t, 'traveler', { name: `Reviewer ${i}` }));
    trip = await createTrip(t, organizer, {
      capacity: 12,
      startDate: daysFromNow(t, 3),
      endDate: daysFromNow(t, 5),
    });
    bookings = [];
    for (const [i, seats] of [
      [0, 1],
      [1, 2],
      [2, 1],
      [3, 1],
    ] as const) {
      const b = await book(t, travelers[i], trip.id, seats);
      if (i !== 2) await markPaid(t, b.id); // traveler 2 never pays: the hold lapses
      bookings.push(b);
    }
  });
  afterAll(async () => t?.close());

  const review = (who: SignedIn, body: Record<string, unknown>) =>
    t.http.post(`${TRIPS}/${trip.id}/reviews`).set(who.auth).send(body);

  it('nobody reviews before the trip is completed (422 REVIEW_NOT_ALLOWED)', async () => {
    const res = await review(travelers[0], { rating: 5, comment: 'Cannot wait!' }).expect(422);
    expect(res.body.error.code).toBe('REVIEW_NOT_ALLOWED');
  });

  it('the nightly job completes the trip and its confirmed bookings once the end date has passed, audited', async () => {
    const jobs = t.app.get(BookingLifecycleJobs);
    try {
      t.clock.set(new Date(tripStartsAt({ startDate: trip.endDate }).getTime() + 23 * HOUR)); // the last day: not yet
      expect(await jobs.completeFinishedTrips()).toEqual({ trips: 0, bookings: 0 });
      t.clock.set(new Date(tripStartsAt({ startDate: trip.endDate }).getTime() + DAY + 30 * MINUTE)); // 00:30 IST the day after
      await jobs.expireHolds();
      expect(await jobs.completeFinishedTrips()).toEqual({ trips: 1, bookings: 3 });
      expect(await jobs.completeFinishedTrips()).toEqual({ trips: 0, bookings: 0 });
    } finally {
      t.clock.reset();
    }
    expect((await t.http.get(`${TRIPS}/${trip.id}`).expect(200)).body.data.status).toBe('completed');
    const mine = await t.http.get(`${BOOKINGS}/${bookings[0].id}`).set(travelers[0].auth).expect(200);
    expect(mine.body.data.status).toBe('completed');
    expect(mine.body.data.completedAt).toEqual(expect.any(String));
    expect((await bookingRow(t, bookings[2].id)).status).toBe('expired');
    expect(await auditRows(t, trip.id, 'trip.completed')).toHaveLength(1);
    for (const i of [0, 1, 3]) {
      const audits = await auditRows(t, bookings[i].id, 'booking.completed');
      expect(audits).toHaveLength(1);
      expect(audits[0]).toMatchObject({ actor_id: null, entity_type: 'booking' });
      expect(audits[0].before).toMatchObject({ status: 'confirmed' });
      expect(audits[0].after).toMatchObject({ status: 'completed' });
    }
  });

  it('a traveler with a completed booking reviews once; trip rating and count follow', async () => {
    const first = await review(travelers[0], {
      rating: 5,
      comment: 'Superb guides and a clear summit day.',
    }).expect(201);
    expect(first.body.data).toMatchObject({
      tripId: trip.id,
      bookingId: bookings[0].id,
      rating: 5,
      travelerName: 'Reviewer 0',
      organizerReply: null,
    });
    expect((await t.http.get(`${TRIPS}/${trip.id}`).expect(200)).body.data).toMatchObject({
      rating: 5,
      reviewCount: 1,
    });

    await review(travelers[1], { rating: 4, comment: 'Great, if cold at night.' }).expect(201);
    expect((await t.http.get(`${TRIPS}/${trip.id}`).expect(200)).body.data).toMatchObject({
      rating: 4.5,
      reviewCount: 2,
    });

    const twice = await review(travelers[0], { rating: 1, comment: 'Changing my mind' }).expect(409);
    expect(twice.body.error.code).toBe('ALREADY_REVIEWED');
    const [row] = await t.db.query(`SELECT rating_avg::text AS avg, review_count FROM trips WHERE id = $1`, [
      trip.id,
    ]);
    expect(row).toEqual({ avg: '4.50', review_count: 2 });
    const audits = await auditRows(t, first.body.data.id, 'review.created');
    expect(audits[0]).toMatchObject({ actor_id: travelers[0].id, actor_role: 'traveler' });
  });

  it('a review racing itself is stored once; the average includes it once', async () => {
    const results = await Promise.all([
      review(travelers[3], { rating: 4, comment: 'Tap one' }),
      review(travelers[3], { rating: 4, comment: 'Tap two' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const [row] = await t.db.query(`SELECT rating_avg::text AS avg, review_count FROM trips WHERE id = $1`, [
      trip.id,
    ]);
    expect(row).toEqual({ avg: '4.33', review_count: 3 });
  });

  it('no completed booking → 422: an expired hold, no booking at all; organizers → 403; bad input → 400', async () => {
    expect(
      (await review(travelers[2], { rating: 3, comment: 'I never went' }).expect(422)).body.error.code,
    ).toBe('REVIEW_NOT_ALLOWED');
    expect(
      (await review(travelers[4], { rating: 1, comment: 'Drive-by review' }).expect(422)).body.error.code,
    ).toBe('REVIEW_NOT_ALLOWED');
    await review(organizer, { rating: 5, comment: 'We are the best' }).expect(403);
    await t.http.post(`${TRIPS}/${trip.id}/reviews`).send({ rating: 5, comment: 'anon' }).expect(401);
    for (const body of [
      { rating: 0, comment: 'zero stars' },
      { rating: 6, comment: 'six stars' },
      { rating: 4.5, comment: 'half star' },
      { rating: 5 },
      { rating: 5, comment: 'ok', travelerId: travelers[0].id },
    ]) {
      const res = await review(travelers[5], body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    await t.http
      .post(`${TRIPS}/00000000-0000-4000-8000-000000000000/reviews`)
      .set(travelers[0].auth)
      .send({ rating: 5, comment: 'Nowhere trip' })
      .expect(404);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM reviews WHERE trip_id = $1`, [trip.id]);
    expect(n).toBe(3);
  });

  it('anyone lists the reviews, newest first, with paging', async () => {
    const res = await t.http.get(`${TRIPS}/${trip.id}/reviews`).expect(200);
    expect(res.body.meta).toEqual({ page: 1, limit: 20, total: 3 });
    expect(res.body.data.map((r: { travelerName: string }) => r.travelerName)).toEqual([
      'Reviewer 3',
      'Reviewer 1',
      'Reviewer 0',
    ]);
    const page2 = await t.http.get(`${TRIPS}/${trip.id}/reviews`).query({ limit: 2, page: 2 }).expect(200);
    expect(page2.body.data.map((r: { travelerName: string }) => r.travelerName)).toEqual(['Reviewer 0']);
  });

  it("the trip's organizer replies (a second reply replaces the first); admins may; other organizers 404, travelers 403", async () => {
    const list = await t.http.get(`${TRIPS}/${trip.id}/reviews`).expect(200);
    const target = list.body.data.find((r: { travelerName: string }) => r.travelerName === 'Reviewer 0');
    const url = `${TRIPS}/${trip.id}/reviews/${target.id}/reply`;
    const res = await t.http
      .post(url)
      .set(organizer.auth)
      .send({ reply: 'Thank you for trekking with us!' })
      .expect(200);
    expect(res.body.data).toMatchObject({ id: target.id, organizerReply: 'Thank you for trekking with us!' });
    expect(res.body.data.repliedAt).toEqual(expect.any(String));
    await t.http.post(url).set(rival.auth).send({ reply: 'Try our trips instead' }).expect(404);
    await t.http.post(url).set(travelers[0].auth).send({ reply: 'Replying to myself' }).expect(403);
    await t.http.post(url).set(organizer.auth).send({ reply: '' }).expect(400);
    await t.http.post(url).set(admin.auth).send({ reply: 'Thanks from the TrekTribe team' }).expect(200);
    const after = await t.http.get(`${TRIPS}/${trip.id}/reviews`).expect(200);
    expect(after.body.data.find((r: { id: string }) => r.id === target.id).organizerReply).toBe(
      'Thanks from the TrekTribe team',
    );
    const audits = await auditRows(t, target.id, 'review.replied');
    expect(audits.map((a) => a.actor_id)).toEqual([organizer.id, admin.id]);
  });
});
