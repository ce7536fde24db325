import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { register, SignedIn, startTestApp, TestApp } from './support/app';
import { BookingLifecycleJobs } from '@trektribe/booking';
import { book, createTrip, markPaid } from './support/fixtures';
import { ack, nextEvent, SocketPool } from './support/sockets';

describe('live booking events', () => {
  let t: TestApp;
  let organizer: SignedIn;
  let traveler: SignedIn;
  const sockets = new SocketPool();

  beforeAll(async () => {
    t = await startTestApp();
    organizer = await register(t, 'organizer');
    traveler = await register(t, 'traveler');
  });
  afterEach(() => sockets.closeAll());
  afterAll(async () => t?.close());

  it('tells the organizer and the traveler about a new booking, and trip watchers about the seats left', async () => {
    const trip = await createTrip(t, organizer, { capacity: 8 });
    const orgSocket = await sockets.connectReady(t.baseUrl, organizer.accessToken);
    const travelerSocket = await sockets.connectReady(t.baseUrl, traveler.accessToken);
    const watcher = await sockets.connectReady(t.baseUrl, (await register(t, 'traveler')).accessToken);
    expect(await ack(watcher, 'trip.watch', { tripId: trip.id })).toEqual({ ok: true });

    const orgGot = nextEvent<Record<string, unknown>>(orgSocket, 'booking.created');
    const travelerGot = nextEvent<Record<string, unknown>>(travelerSocket, 'booking.created');
    const seatsGot = nextEvent<Record<string, unknown>>(watcher, 'trip.seats');
    const booking = await book(t, traveler, trip.id, 3);

    const expected = {
      bookingId: booking.id,
      tripId: trip.id,
      status: 'pending',
      paymentStatus: 'unpaid',
      seats: 3,
    };
    expect(await orgGot).toEqual(expected);
    expect(await travelerGot).toEqual(expected);
    expect(await seatsGot).toEqual({ tripId: trip.id, seatsAvailable: 5 });
  });

  it('sends booking.updated and the freed seats when a booking is cancelled', async () => {
    const trip = await createTrip(t, organizer, { capacity: 4 });
    const booking = await book(t, traveler, trip.id, 2);
    const orgSocket = await sockets.connectReady(t.baseUrl, organizer.accessToken);
    const watcher = await sockets.connectReady(t.baseUrl, traveler.accessToken);
    expect(await ack(watcher, 'trip.watch', { tripId: trip.id })).toEqual({ ok: true });
    const updated = nextEvent<Record<string, unknown>>(orgSocket, 'booking.updated');
    const seats = nextEvent<Record<string, unknown>>(watcher, 'trip.seats');
    await t.http
      .post(`/api/v1/bookings/${booking.id}/cancel`)
      .set(traveler.auth)
      .send({ reason: 'plans changed' })
      .expect(200);
    expect(await updated).toMatchObject({ bookingId: booking.id, status: 'cancelled' });
    expect(await seats).toEqual({ tripId: trip.id, seatsAvailable: 4 });
  });

  it('never emits events for a booking that was refused (the transaction rolled back)', async () => {
    const trip = await createTrip(t, organizer, { capacity: 1 });
    await book(t, traveler, trip.id, 1);
    await t.http
      .post('/api/v1/bookings')
      .set((await register(t, 'traveler')).auth)
      .send({ tripId: trip.id, seats: 1, participants: [{ name: 'Late' }], paymentMethod: 'online' })
      .expect(409);
    const [{ n }] = await t.db.query(
      `SELECT count(*)::int AS n FROM notification_outbox WHERE channel = 'realtime' AND topic = 'booking.created' AND payload->>'tripId' = $1`,
      [trip.id],
    );
    expect(n).toBe(1);
  });
});

describe('trip reminders', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('mails confirmed travelers the evening before the start, once, and nobody else', async () => {
    const organizer = await register(t, 'organizer');
    const [confirmed, pending] = [await register(t, 'traveler'), await register(t, 'traveler')];
    const trip = await createTrip(t, organizer, { capacity: 5 });
    const paid = await book(t, confirmed, trip.id, 2);
    await markPaid(t, paid.id);
    await book(t, pending, trip.id, 1);
    const jobs = t.app.get(BookingLifecycleJobs);
    expect(await jobs.remindTripsStartingTomorrow()).toBe(0); // a month away
    // 18:00 IST on the day before the start
    const [y, m, d] = trip.startDate.split('-').map(Number);
    t.clock.set(new Date(Date.UTC(y, m - 1, d - 1, 12, 30)));
    try {
      expect(await jobs.remindTripsStartingTomorrow()).toBe(1);
      await jobs.remindTripsStartingTomorrow();
    } finally {
      t.clock.reset();
    }
    const mails = await t.db.query(
      `SELECT recipient, body FROM notification_outbox WHERE topic = 'trip.reminder'`,
    );
    expect(mails.map((r: { recipient: string }) => r.recipient)).toEqual([confirmed.email]);
    // The organizer gets the confirmed travelers, once.
    const lists = await t.db.query(
      `SELECT data FROM notifications WHERE user_id = $1 AND type = 'trip.participants'`,
      [organizer.id],
    );
    expect(lists).toEqual([
      {
        data: expect.objectContaining({
          tripId: trip.id,
          participants: [{ name: 'Test traveler', seats: 2 }],
        }),
      },
    ]);
    // The trip's own date, for people: "Tue, 29 Dec 2026".
    const month = new Date(Date.UTC(y, m - 1, d)).toLocaleString('en-IN', {
      month: 'short',
      timeZone: 'UTC',
    });
    expect(mails[0].body).toMatch(new RegExp(`starts tomorrow, [A-Z][a-z]{2}, ${d} ${month} ${y}\\.`));
  });
});
