import { OutboxDispatcher, OutboxService, RealtimePublisher } from '@trektribe/notifications';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WATCHED_TRIPS } from '../apps/api/src/realtime/realtime.gateway';
import { forgeJwt } from './support/jwt';
import { createStaff, PASSWORD, register, startTestApp, TestApp } from './support/app';
import { ack, nextEvent, SocketPool } from './support/sockets';

/** How long "nothing arrives" is watched for: past a local emit and a Redis round trip. */
const QUIET_MS = 300;

describe('real time over socket.io', () => {
  let t: TestApp;
  let publisher: RealtimePublisher;

  beforeAll(async () => {
    t = await startTestApp();
    publisher = t.app.get(RealtimePublisher);
  });
  afterEach(() => {
    sockets.closeAll();
  });
  afterAll(async () => {
    await t?.close();
  });

  const sockets = new SocketPool();
  const connect = (opts: { token?: string; headers?: Record<string, string> } = {}): Socket =>
    sockets.connect(t.baseUrl, opts);
  const connectReady = (token: string): Promise<Socket> => sockets.connectReady(t.baseUrl, token);

  /** Resolves with what arrived for `event` during QUIET_MS; the tests expect none. */
  async function collect(socket: Socket, event: string): Promise<unknown[]> {
    const got: unknown[] = [];
    const listener = (p: unknown) => got.push(p);
    socket.on(event, listener);
    await new Promise((r) => setTimeout(r, QUIET_MS));
    socket.off(event, listener);
    return got;
  }

  /** Refused in the handshake itself: `connect_error` with the code, and never a connection. */
  async function expectRefused(socket: Socket): Promise<void> {
    let connected = false;
    socket.on('connect', () => (connected = true));
    const err = await nextEvent<Error & { data?: unknown }>(socket, 'connect_error');
    expect(err.data).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String) });
    expect(connected).toBe(false);
    expect(socket.connected).toBe(false);
  }

  describe('handshake', () => {
    it('refuses a connection without a token', async () => {
      await expectRefused(connect());
    });

    it('refuses a garbage token, and a token signed with another secret', async () => {
      await expectRefused(connect({ token: 'not-a-jwt' }));
      const user = await register(t);
      const forged = forgeJwt({
        sub: user.id,
        role: 'admin',
        tv: 0,
        exp: Math.floor(Date.now() / 1000) + 600,
      });
      await expectRefused(connect({ token: forged }));
    });

    it('refuses a deactivated user', async () => {
      const user = await register(t);
      await t.db.query(`UPDATE users SET is_active = false WHERE id = $1`, [user.id]);
      await expectRefused(connect({ token: user.accessToken }));
    });

    it('cuts off an open socket when its user changes password, signs out everywhere or is deactivated', async () => {
      const user = await register(t);
      const socket = await connectReady(user.accessToken);
      const cut = nextEvent<string>(socket, 'disconnect');
      await t.http
        .post('/api/v1/auth/change-password')
        .set(user.auth)
        .send({ currentPassword: PASSWORD, newPassword: 'Trek2026!new' })
        .expect(200);
      expect(await cut).toBe('io server disconnect');

      // Signing out everywhere: the socket is cut off and the access token stops working.
      const leaver = await register(t);
      const leaving = await connectReady(leaver.accessToken);
      const cutLeaving = nextEvent<string>(leaving, 'disconnect');
      await t.http.post('/api/v1/auth/logout-all').set(leaver.auth).expect(204);
      expect(await cutLeaving).toBe('io server disconnect');
      await t.http.get('/api/v1/auth/me').set(leaver.auth).expect(401);
      await t.http.post('/api/v1/auth/refresh').send({ refreshToken: leaver.refreshToken }).expect(401);

      const other = await register(t);
      const admin = await createStaff(t, 'admin');
      const second = await connectReady(other.accessToken);
      const bystander = await connectReady((await register(t)).accessToken);
      const cutSecond = nextEvent<string>(second, 'disconnect');
      await t.http
        .patch(`/api/v1/admin/users/${other.id}`)
        .set(admin.auth)
        .send({ isActive: false })
        .expect(200);
      expect(await cutSecond).toBe('io server disconnect');
      expect(bystander.connected).toBe(true); // only that user's sockets
      await expectRefused(connect({ token: other.accessToken }));
    });

    it('accepts the token from an Authorization header', async () => {
      const user = await register(t);
      const socket = connect({ headers: user.auth });
      await expect(ack(socket, 'trip.unwatch', { tripId: randomUUID() })).resolves.toEqual({ ok: true });
      expect(socket.connected).toBe(true);
    });
  });

  describe('rooms', () => {
    it('delivers a user-room event to that user only, and role rooms by role', async () => {
      const [traveler, organizer] = await Promise.all([register(t, 'traveler'), register(t, 'organizer')]);
      const a = await connectReady(traveler.accessToken);
      const b = await connectReady(organizer.accessToken);

      const payload = {
        id: randomUUID(),
        type: 'booking.confirmed',
        title: 'Booked',
        body: 'See you there',
        createdAt: new Date().toISOString(),
      };
      const received = nextEvent(a, 'notification');
      const elsewhere = collect(b, 'notification');
      publisher.publish([`user:${traveler.id}`], 'notification', payload);
      await expect(received).resolves.toEqual(payload);
      await expect(elsewhere).resolves.toEqual([]);

      const toOrganizers = nextEvent(b, 'subscription.updated');
      const notTraveler = collect(a, 'subscription.updated');
      publisher.publish(['role:organizer'], 'subscription.updated', { status: 'active' });
      await expect(toOrganizers).resolves.toEqual({ status: 'active' });
      await expect(notTraveler).resolves.toEqual([]);
    });

    it('never broadcasts to everyone on an empty room list', async () => {
      const user = await register(t);
      const socket = await connectReady(user.accessToken);
      const got = collect(socket, 'notification');
      publisher.publish([], 'notification', { id: 'x' });
      publisher.publish([''], 'notification', { id: 'y' });
      await expect(got).resolves.toEqual([]);
    });
  });

  describe('trip watching', () => {
    it('rejects a trip id that is not a UUID', async () => {
      const user = await register(t);
      const socket = await connectReady(user.accessToken);
      for (const body of [{ tripId: 'nope' }, { tripId: 42 }, {}, null, 'x']) {
        const res = await ack(socket, 'trip.watch', body);
        expect(res).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
      }
    });

    it('receives trip.seats while watching, and nothing after unwatching', async () => {
      const user = await register(t);
      const socket = await connectReady(user.accessToken);
      const tripId = randomUUID();

      await expect(ack(socket, 'trip.watch', { tripId: tripId.toUpperCase() })).resolves.toEqual({
        ok: true,
      });
      const seats = nextEvent(socket, 'trip.seats');
      publisher.publish([`trip:${tripId}`], 'trip.seats', { tripId, seatsLeft: 7 });
      await expect(seats).resolves.toEqual({ tripId, seatsLeft: 7 });

      await expect(ack(socket, 'trip.unwatch', { tripId })).resolves.toEqual({ ok: true });
      const after = collect(socket, 'trip.seats');
      publisher.publish([`trip:${tripId}`], 'trip.seats', { tripId, seatsLeft: 6 });
      await expect(after).resolves.toEqual([]);
    });

    it(`caps a connection at ${MAX_WATCHED_TRIPS} watched trips`, async () => {
      const user = await register(t);
      const socket = await connectReady(user.accessToken);
      const ids = Array.from({ length: MAX_WATCHED_TRIPS }, () => randomUUID());
      const acks = await Promise.all(ids.map((tripId) => ack(socket, 'trip.watch', { tripId })));
      expect(acks.every((a) => a.ok)).toBe(true);

      await expect(ack(socket, 'trip.watch', { tripId: randomUUID() })).resolves.toMatchObject({
        ok: false,
        error: { code: 'BUSINESS_RULE' },
      });
      await expect(ack(socket, 'trip.watch', { tripId: ids[0] })).resolves.toEqual({ ok: true }); // already watched
      await expect(ack(socket, 'trip.unwatch', { tripId: ids[0] })).resolves.toEqual({ ok: true });
      await expect(ack(socket, 'trip.watch', { tripId: randomUUID() })).resolves.toEqual({ ok: true });
    });
  });

  it('delivers a realtime outbox row once its transaction has committed', async () => {
    const user = await register(t);
    const socket = await connectReady(user.accessToken);
    const payload = {
      bookingId: randomUUID(),
      tripId: randomUUID(),
      status: 'confirmed',
      paymentStatus: 'paid',
      seats: 1,
    };
    const outbox = t.app.get(OutboxService);
    await t.db.transaction((m) =>
      outbox.enqueueRealtime(m, { rooms: [`user:${user.id}`], event: 'booking.updated', payload }),
    );

    const received = nextEvent(socket, 'booking.updated');
    await t.app.get(OutboxDispatcher).dispatchPending();
    await expect(received).resolves.toEqual(payload);
    const [row] = await t.db.query(
      `SELECT status FROM notification_outbox WHERE channel = 'realtime' AND topic = 'booking.updated' AND recipient = $1`,
      [`user:${user.id}`],
    );
    expect(row).toMatchObject({ status: 'sent' });
  });
});
