import { BookingLifecycleJobs } from '@trektribe/booking';
import { RefundsService } from '@trektribe/billing';
import { OutboxDispatcher } from '@trektribe/notifications';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff, register, SignedIn } from './support/app';
import { BillingTestApp, startBillingApp } from './support/billing';
import { book, createTrip, daysFromNow, markPaid } from './support/fixtures';

/**
 * The dashboards of API.md (issue 14) and the organizer's stats and earnings, driven over HTTP with
 * known data, every figure checked exactly. Months and weeks are IST; money is paise.
 */

const D = '/api/v1/dashboard';
const DAY = 86_400_000;
const IST_MONTH = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Kolkata',
  year: 'numeric',
  month: '2-digit',
});

/** `YYYY-MM` of an instant in IST (Intl, independent of the SQL under test). */
const istMonth = (at: Date) => IST_MONTH.format(at).slice(0, 7);

/** The `count` IST months up to and including `last` (`YYYY-MM`), oldest first. */
function monthsUpTo(last: string, count = 12): string[] {
  const [y, m] = last.split('-').map(Number);
  return Array.from({ length: count }, (_, i) => {
    const d = new Date(Date.UTC(y, m - 1 - (count - 1 - i), 1));
    return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  });
}

/** Two days into the IST month after the one holding `at`. */
function nextIstMonth(at: Date): Date {
  const [y, m] = istMonth(at).split('-').map(Number);
  return new Date(Date.UTC(y, m, 1) - 5.5 * 3600_000 + 2 * DAY);
}

async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await read();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

const png = () =>
  Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(64)]);

describe('dashboards: traveler, organizer, stats and earnings', () => {
  let t: BillingTestApp;
  let organizer: SignedIn;
  let traveler: SignedIn;
  let second: SignedIn;
  let collector: SignedIn;
  let admin: SignedIn;
  let T0: Date;
  let T1: Date;
  const trips = {} as Record<'A' | 'B' | 'C' | 'D' | 'E', Awaited<ReturnType<typeof createTrip>>>;
  const b: Record<string, { id: string }> = {};

  beforeAll(async () => {
    t = await startBillingApp();
    organizer = await register(t, 'organizer');
    traveler = await register(t, 'traveler');
    second = await register(t, 'traveler');
    collector = await register(t, 'traveler');
    admin = await createStaff(t, 'admin');
  });
  afterAll(async () => {
    t?.clock.reset();
    await t?.app.get(RefundsService).processPendingRefunds();
    await t?.app.get(OutboxDispatcher).dispatchPending();
    await t?.close();
  });

  const get = (who: SignedIn, path: string) => t.http.get(`${D}/${path}`).set(who.auth);

  /** Order → emulator checkout → verify: a captured payment at the clock's now. */
  async function payOnline(who: SignedIn, bookingId: string): Promise<void> {
    const order = (
      await t.http.post(`/api/v1/bookings/${bookingId}/payments/order`).set(who.auth).expect(200)
    ).body.data;
    const paid = t.rzp.payOrder(order.orderId);
    await t.http.post(`/api/v1/bookings/${bookingId}/payments/verify`).set(who.auth).send(paid).expect(200);
  }

  async function refundOf(bookingId: string) {
    await t.app.get(RefundsService).processPendingRefunds();
    return eventually(
      async () => (await t.db.query(`SELECT * FROM refunds WHERE booking_id = $1`, [bookingId]))[0],
      (r) => r?.status === 'processed',
      `refund of ${bookingId} processed`,
    );
  }

  it('builds a known history in two IST months (T0 now, T1 in the next month)', async () => {
    T0 = new Date();
    t.clock.set(T0);
    trips.A = await createTrip(t, organizer, {
      startDate: daysFromNow(t, 90),
      endDate: daysFromNow(t, 92),
      price: 100_000,
      capacity: 10,
    });
    trips.B = await createTrip(t, organizer, {
      startDate: daysFromNow(t, 120),
      endDate: daysFromNow(t, 121),
      price: 80_000,
      capacity: 10,
    });
    trips.C = await createTrip(t, organizer, {
      startDate: daysFromNow(t, 100),
      endDate: daysFromNow(t, 101),
      price: 50_000,
      capacity: 8,
    });
    trips.D = await createTrip(t, organizer, {
      startDate: daysFromNow(t, 2),
      endDate: daysFromNow(t, 3),
      price: 60_000,
      capacity: 6,
    });
    trips.E = await createTrip(t, organizer, {
      startDate: daysFromNow(t, 150),
      endDate: daysFromNow(t, 151),
      price: 70_000,
      capacity: 4,
    });
    await t.http
      .patch(`/api/v1/trips/${trips.C.id}`)
      .set(organizer.auth)
      .send({ status: 'inactive' })
      .expect(200);
    await t.http
      .delete(`/api/v1/trips/${trips.E.id}`)
      .set(organizer.auth)
      .send({ reason: 'Permit refused' })
      .expect(200);

    // T0: paid b1 (A, 2 seats), b3 (D) and the second traveler's D; b6 on A is left unpaid.
    b.b1 = await book(t, traveler, trips.A.id, 2);
    await payOnline(traveler, b.b1.id);
    b.b3 = await book(t, traveler, trips.D.id, 1);
    await payOnline(traveler, b.b3.id);
    b.s1 = await book(t, second, trips.D.id, 1);
    await payOnline(second, b.s1.id);
    b.b6 = await book(t, traveler, trips.A.id, 1);
    // Six confirmed bookings of one traveler (marked paid the way other specs do, no payment row).
    for (const trip of [trips.A, trips.A, trips.A, trips.B, trips.B, trips.B]) {
      const x = await book(t, collector, trip.id, 1);
      await markPaid(t, x.id);
      b[`c${Object.keys(b).length}`] = x;
    }

    // T1, in the next IST month: b1 cancelled (≥ 7 days out: refunded in full), D done, b6's hold lapsed.
    T1 = nextIstMonth(T0);
    t.clock.set(T1);
    expect(istMonth(T1)).not.toBe(istMonth(T0));
    const cancelled = await t.http
      .post(`/api/v1/bookings/${b.b1.id}/cancel`)
      .set(traveler.auth)
      .send({ reason: 'Change of plans' })
      .expect(200);
    expect(cancelled.body.data).toMatchObject({ refundAmount: 200_000 });
    expect(await refundOf(b.b1.id)).toMatchObject({ amount: 200_000 });
    await t.app.get(BookingLifecycleJobs).completeFinishedTrips();
    await t.app.get(BookingLifecycleJobs).expireHolds();
    b.b5 = await book(t, second, trips.B.id, 1);
    await payOnline(second, b.b5.id);
    b.b2 = await book(t, traveler, trips.B.id, 1);
    b.b4 = await book(t, traveler, trips.B.id, 1, 'screenshot');
    await t.http
      .post(`/api/v1/bookings/${b.b4.id}/payment-proof`)
      .set(traveler.auth)
      .attach('file', png(), { filename: 'upi.png', contentType: 'image/png' })
      .expect(201);
    await t.http
      .post(`/api/v1/trips/${trips.D.id}/reviews`)
      .set(second.auth)
      .send({ rating: 5, comment: 'Clear summit day.' })
      .expect(201);
  }, 120_000);

  it('traveler: next trips with their statuses, bookings by status, spent net of refunds, payments and reviews due', async () => {
    const res = await get(traveler, 'traveler').expect(200);
    expect(res.body.data).toEqual({
      travelerId: traveler.id,
      asOf: T1.toISOString(),
      currency: 'INR',
      // b1 cancelled, b3 completed, b6 expired: what is left holds seats on B (start, then booking order)
      upcomingTrips: [
        expect.objectContaining({
          bookingId: b.b2.id,
          tripId: trips.B.id,
          seats: 1,
          totalAmount: 80_000,
          status: 'pending',
          paymentStatus: 'unpaid',
          startDate: trips.B.startDate,
        }),
        expect.objectContaining({
          bookingId: b.b4.id,
          tripId: trips.B.id,
          status: 'pending',
          paymentStatus: 'awaiting_verification',
          holdExpiresAt: null,
        }),
      ],
      bookingsByStatus: { pending: 2, confirmed: 0, completed: 1, cancelled: 1, expired: 1 },
      // b1: 200,000 paid and refunded; b3: 60,000
      totalSpent: 60_000,
      pendingPayments: 1,
      pendingPaymentsAmount: 80_000,
      awaitingVerification: 1,
      reviewsDue: 1,
    });
    expect(Object.keys(res.body.data.upcomingTrips[0]).sort()).toEqual(
      [
        'bookingId',
        'currency',
        'destination',
        'endDate',
        'holdExpiresAt',
        'paymentStatus',
        'seats',
        'startDate',
        'status',
        'timezone',
        'title',
        'totalAmount',
        'tripId',
      ].sort(),
    );

    // The review is written: nothing due. The unpaid hold lapses: nothing payable, nothing upcoming from it.
    await t.http
      .post(`/api/v1/trips/${trips.D.id}/reviews`)
      .set(traveler.auth)
      .send({ rating: 4, comment: 'Good food, steep last day.' })
      .expect(201);
    t.clock.set(new Date(T1.getTime() + 16 * 60_000));
    try {
      const later = (await get(traveler, 'traveler').expect(200)).body.data;
      expect(later).toMatchObject({
        reviewsDue: 0,
        pendingPayments: 0,
        pendingPaymentsAmount: 0,
        awaitingVerification: 1,
      });
      expect(later.upcomingTrips.map((x: { bookingId: string }) => x.bookingId)).toEqual([b.b4.id]);
      expect(later.bookingsByStatus).toEqual({
        pending: 2,
        confirmed: 0,
        completed: 1,
        cancelled: 1,
        expired: 1,
      });
    } finally {
      t.clock.set(T1);
    }

    // Five at most: the next ones by start date, then booking order.
    const six = (await get(collector, 'traveler').expect(200)).body.data;
    const collected = Object.entries(b)
      .filter(([k]) => k.startsWith('c'))
      .map(([, v]) => v.id);
    expect(six.upcomingTrips.map((x: { bookingId: string }) => x.bookingId)).toEqual(collected.slice(0, 5));
    expect(six.bookingsByStatus).toEqual({
      pending: 0,
      confirmed: 6,
      completed: 0,
      cancelled: 0,
      expired: 0,
    });
    expect(six.totalSpent).toBe(0);
  });

  it('organizer: trips by status, next trips with occupancy, bookings and money by IST month, proofs, rating, plan', async () => {
    const res = await get(organizer, 'organizer').expect(200);
    const me = (await t.http.get('/api/v1/auth/me').set(organizer.auth).expect(200)).body.data;
    const trialEnds = new Date(new Date(me.createdAt).getTime() + 60 * DAY).toISOString();
    const months = monthsUpTo(istMonth(T1));
    const zero = { bookings: 0, revenue: 0, refunds: 0, net: 0 };
    expect(res.body.data).toEqual({
      organizerId: organizer.id,
      asOf: T1.toISOString(),
      currency: 'INR',
      tripsByStatus: { active: 2, inactive: 1, cancelled: 1, completed: 1 },
      upcoming: [
        expect.objectContaining({
          tripId: trips.A.id,
          capacity: 10,
          seatsBooked: 3,
          occupancy: 0.3,
          status: 'active',
        }),
        expect.objectContaining({
          tripId: trips.C.id,
          capacity: 8,
          seatsBooked: 0,
          occupancy: 0,
          status: 'inactive',
        }),
        // b2 (held), b4 (awaiting verification), b5 paid, three of the collector's: 6 of 10
        expect.objectContaining({
          tripId: trips.B.id,
          capacity: 10,
          seatsBooked: 6,
          occupancy: 0.6,
          status: 'active',
        }),
      ],
      bookingsByStatus: { pending: 2, confirmed: 7, completed: 2, cancelled: 1, expired: 1 },
      bookingsByMonth: months.map((month) =>
        month === istMonth(T0)
          ? // b1, b3, the second traveler's D, the collector's six; paid: 200,000 + 60,000 + 60,000
            { month, bookings: 9, revenue: 320_000, refunds: 0, net: 320_000 }
          : month === istMonth(T1)
            ? // b5 paid; b1 refunded in full
              { month, bookings: 1, revenue: 80_000, refunds: 200_000, net: -120_000 }
            : { month, ...zero },
      ),
      pendingVerifications: 1,
      rating: 4.5,
      reviewCount: 2,
      subscription: { status: 'trial', trialEndsAt: trialEnds, nextChargeAt: trialEnds },
    });
    expect(res.body.data.upcoming[0]).toEqual({
      tripId: trips.A.id,
      title: 'Kedarkantha Winter Trek',
      startDate: trips.A.startDate,
      endDate: trips.A.endDate,
      status: 'active',
      capacity: 10,
      seatsBooked: 3,
      occupancy: 0.3,
    });

    // The plan as GET /auto-pay/status tells it (which creates the row the dashboard counted ahead).
    const plan = (await t.http.get('/api/v1/auto-pay/status').set(organizer.auth).expect(200)).body.data;
    const after = (await get(organizer, 'organizer').expect(200)).body.data;
    expect(after.subscription).toEqual({
      status: plan.status,
      trialEndsAt: plan.trialEndsAt,
      nextChargeAt: plan.nextChargeAt,
    });
  });

  it('GET /organizer/stats and /organizer/earnings tell the same figures as the dashboard, by trip and by IST month', async () => {
    const dash = (await get(organizer, 'organizer').expect(200)).body.data;
    const stats = (await t.http.get('/api/v1/organizer/stats').set(organizer.auth).expect(200)).body.data;
    const earnings = (await t.http.get('/api/v1/organizer/earnings').set(organizer.auth).expect(200)).body
      .data;

    // seats: A 3, B 6, C 0, D 2 (completed keeps them), E 0 (cancelled releases them)
    expect(stats).toEqual({
      trips: { total: 5, active: 2, seatsBooked: 11, capacity: 38 },
      tripsByStatus: dash.tripsByStatus,
      bookings: dash.bookingsByStatus,
      occupancyPercent: 29,
      earnings: {
        currency: 'INR',
        payments: 4,
        gross: 400_000,
        refunded: 200_000,
        refundsPending: 0,
        net: 200_000,
      },
      pendingVerifications: dash.pendingVerifications,
      rating: dash.rating,
      reviewCount: dash.reviewCount,
    });

    const row = (id: string) => earnings.trips.find((x: { tripId: string }) => x.tripId === id);
    expect(earnings.trips.map((x: { tripId: string }) => x.tripId)).toEqual(
      [trips.E, trips.B, trips.C, trips.A, trips.D].map((x) => x.id),
    );
    expect(row(trips.A.id)).toMatchObject({
      payments: 1,
      gross: 200_000,
      refunded: 200_000,
      refundsPending: 0,
      net: 0,
    });
    expect(row(trips.B.id)).toMatchObject({
      payments: 1,
      gross: 80_000,
      refunded: 0,
      net: 80_000,
      status: 'active',
    });
    expect(row(trips.D.id)).toMatchObject({ payments: 2, gross: 120_000, net: 120_000, status: 'completed' });
    expect(row(trips.E.id)).toMatchObject({ payments: 0, gross: 0, net: 0, status: 'cancelled' });
    expect(earnings.total).toEqual(
      (({ currency: _c, ...rest }) => rest)(stats.earnings as { currency: string } & Record<string, number>),
    );
    // one source per figure: the dashboard's months are the earnings' months
    expect(earnings.byMonth).toEqual(
      dash.bookingsByMonth.map(
        (m: { month: string; bookings: number; revenue: number; refunds: number }) => ({
          month: m.month,
          bookings: m.bookings,
          payments: m.month === istMonth(T0) ? 3 : m.month === istMonth(T1) ? 1 : 0,
          gross: m.revenue,
          refunded: m.refunds,
          net: m.revenue - m.refunds,
        }),
      ),
    );
    // all of it happened within the 12 months: the months add up to the total
    const sum = (k: 'gross' | 'refunded') =>
      earnings.byMonth.reduce((a: number, m: Record<string, number>) => a + m[k], 0);
    expect([sum('gross'), sum('refunded')]).toEqual([earnings.total.gross, earnings.total.refunded]);

    // a refund owed (the gateway refused it) counts as pending, not refunded
    t.rzp.failNextRefunds(1);
    await t.http
      .post(`/api/v1/bookings/${b.b5.id}/cancel`)
      .set(second.auth)
      .send({ reason: 'Ill' })
      .expect(200);
    await t.app.get(RefundsService).processPendingRefunds();
    const owed = (await t.http.get('/api/v1/organizer/earnings').set(organizer.auth).expect(200)).body.data;
    expect(owed.total).toMatchObject({
      gross: 400_000,
      refunded: 200_000,
      refundsPending: 80_000,
      net: 120_000,
    });
    expect(owed.byMonth.at(-1)).toMatchObject({ gross: 80_000, refunded: 200_000 });

    const stranger = await register(t, 'organizer');
    expect((await t.http.get('/api/v1/organizer/earnings').set(stranger.auth).expect(200)).body.data).toEqual(
      {
        currency: 'INR',
        trips: [],
        total: { payments: 0, gross: 0, refunded: 0, refundsPending: 0, net: 0 },
        byMonth: monthsUpTo(istMonth(T1)).map((month) => ({
          month,
          bookings: 0,
          payments: 0,
          gross: 0,
          refunded: 0,
          net: 0,
        })),
      },
    );
    await t.http.get('/api/v1/organizer/stats').query({ from: '2026-01-01' }).set(organizer.auth).expect(400);
  });

  it('agent: open, mine, unassigned, overdue, and the median first response over 30 days', async () => {
    t.clock.reset();
    const [agent, other] = [await createStaff(t, 'agent'), await createStaff(t, 'agent')];
    const open = async (who: SignedIn, subject: string) =>
      (
        await t.http
          .post('/api/v1/support/tickets')
          .set(who.auth)
          .send({ subject, message: 'Please help.', category: 'other' })
          .expect(201)
      ).body.data.id as string;
    const ids = {
      t1: await open(traveler, 'Assigned, not answered'),
      t2: await open(second, 'Nobody on it'),
      t3: await open(traveler, 'Waiting on the customer'),
      t4: await open(second, 'Solved'),
      t5: await open(organizer, 'Closed by the customer'),
      t6: await open(organizer, 'Answered, still open'),
      t7: await open(traveler, 'Old one'),
    };
    await t.http.post(`/api/v1/support/tickets/${ids.t5}/close`).set(organizer.auth).expect(200);
    // The agents' routes are being built next to this (libs/support): their effects, written as they will write them.
    const setTicket = (
      id: string,
      status: string,
      assignee: string | null,
      minutes: number | null,
      ageDays = 0,
    ) =>
      t.db.query(
        `UPDATE support_tickets SET status = $2, assignee_id = $3, created_at = created_at - make_interval(days => $5),
                first_response_at = CASE WHEN $4::int IS NULL THEN NULL
                                         ELSE created_at - make_interval(days => $5) + make_interval(mins => $4::int) END
          WHERE id = $1`,
        [id, status, assignee, minutes, ageDays],
      );
    await setTicket(ids.t1, 'open', agent.id, null);
    await setTicket(ids.t3, 'pending', agent.id, 30);
    await setTicket(ids.t4, 'resolved', other.id, 10);
    await setTicket(ids.t5, 'closed', null, 50);
    await setTicket(ids.t6, 'open', other.id, 20);
    await setTicket(ids.t7, 'closed', agent.id, 5, 40);

    const mine = (await get(agent, 'agent').expect(200)).body.data;
    // median of 10, 20, 30, 50 (t7 is 40 days old): 25
    expect(mine).toEqual({
      agentId: agent.id,
      asOf: expect.any(String),
      open: 3,
      assignedToMe: 2,
      unassigned: 1,
      overdue: 0,
      medianFirstResponseMinutes: 25,
    });
    expect((await get(other, 'agent').expect(200)).body.data).toMatchObject({
      assignedToMe: 1,
      unassigned: 1,
    });
    // an admin reads it too, as themselves
    expect((await get(admin, 'agent').expect(200)).body.data).toMatchObject({
      agentId: admin.id,
      open: 3,
      assignedToMe: 0,
    });

    // five hours on (due after 4): the two open tickets nobody answered are overdue
    t.clock.set(new Date(Date.now() + 5 * 3600_000));
    try {
      expect((await get(agent, 'agent').expect(200)).body.data).toMatchObject({ overdue: 2, open: 3 });
      // 31 days on: none of them was opened in the last 30 days
      t.clock.set(new Date(Date.now() + 31 * DAY));
      expect((await get(agent, 'agent').expect(200)).body.data).toMatchObject({
        medianFirstResponseMinutes: null,
      });
    } finally {
      t.clock.reset();
    }
  });

  it('who reads which: own role only, admins any (a traveler or organizer by ?userId=), bad queries 400', async () => {
    t.clock.reset();
    const agent = await createStaff(t, 'agent');
    for (const [who, allowed] of [
      [traveler, ['traveler']],
      [organizer, ['organizer']],
      [agent, ['agent']],
      [admin, ['agent', 'admin']],
    ] as const) {
      for (const path of ['traveler', 'organizer', 'agent', 'admin']) {
        const res = await get(who, path);
        if ((allowed as readonly string[]).includes(path))
          expect(res.status, `${who.role} ${path}`).toBe(200);
        else if (who.role === 'admin')
          expect(res.status, `admin ${path}`).toBe(400); // names nobody
        else {
          expect(res.status, `${who.role} ${path}`).toBe(403);
          expect(res.body.error.code).toBe('FORBIDDEN');
        }
      }
    }
    await t.http.get(`${D}/traveler`).expect(401);

    // an admin names whose: the same figures the traveler sees
    const own = (await get(traveler, 'traveler').expect(200)).body.data;
    const seen = (await get(admin, 'traveler').query({ userId: traveler.id }).expect(200)).body.data;
    expect({ ...seen, asOf: null }).toEqual({ ...own, asOf: null });
    const org = (await get(admin, 'organizer').query({ userId: organizer.id }).expect(200)).body.data;
    expect(org).toMatchObject({ organizerId: organizer.id, tripsByStatus: { active: 2 } });

    const missing = await get(admin, 'traveler')
      .query({ userId: '00000000-0000-4000-8000-000000000000' })
      .expect(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    // a real user of another role is no traveler: 404 just the same
    await get(admin, 'traveler').query({ userId: organizer.id }).expect(404);
    await get(admin, 'organizer').query({ userId: traveler.id }).expect(404);
    const bad = await get(admin, 'traveler').query({ userId: 'not-a-uuid' }).expect(400);
    expect(bad.body.error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: [expect.objectContaining({ field: 'userId' })],
    });
    const none = await get(admin, 'organizer').expect(400);
    expect(none.body.error.details).toEqual([expect.objectContaining({ field: 'userId' })]);

    // only admins name someone; naming yourself is fine
    await get(traveler, 'traveler').query({ userId: second.id }).expect(403);
    await get(traveler, 'traveler').query({ userId: traveler.id }).expect(200);
    // unknown parameters, on every dashboard
    for (const [who, path] of [
      [traveler, 'traveler'],
      [organizer, 'organizer'],
      [agent, 'agent'],
      [admin, 'admin'],
    ] as const) {
      const res = await get(who, path).query({ from: '2026-01-01' }).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    await get(admin, 'agent').query({ userId: agent.id }).expect(400);
    await get(admin, 'admin').query({ userId: admin.id }).expect(400);
  });
});
