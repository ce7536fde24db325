import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, SignedIn, startTestApp, TestApp } from './support/app';
import { BillingTestApp, RZP, startBillingApp } from './support/billing';
import { forgeJwt } from './support/jwt';
import { nextEvent, SocketPool } from './support/sockets';

const OLD = 'old-access-secret-0123456789abcdefghijklmnop';
const NEW = 'new-access-secret-9876543210zyxwvutsrqponmlk';
const header = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as { kid?: string; alg: string };

/** An access token for `user` as the app would mint it, signed with `secret` under key id `kid`. */
function tokenFor(user: SignedIn, secret: string, kid: string | undefined, ttl = 600): string {
  const now = Math.floor(Date.now() / 1000);
  return forgeJwt({ sub: user.id, role: user.role, tv: 0, iat: now, exp: now + ttl }, { secret, kid });
}

const me = (t: TestApp, token: string) =>
  t.http.get('/api/v1/auth/me').set({ Authorization: `Bearer ${token}` });

async function socketAccepted(sockets: SocketPool, t: TestApp, token: string): Promise<boolean> {
  const socket = sockets.connect(t.baseUrl, { token });
  const outcome = await Promise.race([
    nextEvent(socket, 'connect').then(() => true),
    nextEvent<Error & { data?: { code?: string } }>(socket, 'connect_error').then((err) => {
      expect(err.data?.code).toBe('UNAUTHORIZED');
      return false;
    }),
  ]);
  socket.disconnect();
  return outcome;
}

// One app at a time: passport keeps one 'jwt' strategy per process (the last app booted), so apps
// with different keys must not be alive together in a test process.
describe('JWT access secret rotation by key id (kid)', () => {
  const sockets = new SocketPool();
  afterAll(() => sockets.closeAll());

  describe('during the window: JWT_ACCESS_SECRET=new (k2), JWT_ACCESS_SECRET_PREVIOUS=old (k1)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({
        JWT_ACCESS_SECRET: NEW,
        JWT_ACCESS_KID: 'k2',
        JWT_ACCESS_SECRET_PREVIOUS: OLD,
        JWT_ACCESS_KID_PREVIOUS: 'k1',
      });
    });
    afterAll(async () => t?.close());

    it('signs with the current key and names it in the kid header', async () => {
      const user = await register(t);
      expect(header(user.accessToken)).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'k2' });
      await me(t, user.accessToken).expect(200);
      const refreshed = await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: user.refreshToken })
        .expect(200);
      expect(header(refreshed.body.data.accessToken as string).kid).toBe('k2');
    });

    it('accepts a token signed with the previous key, over HTTP (header or cookie) and socket.io', async () => {
      const user = await register(t);
      const old = tokenFor(user, OLD, 'k1');
      const res = await me(t, old).expect(200);
      expect(res.body.data.id).toBe(user.id);
      await t.http.get('/api/v1/auth/me').set('Cookie', `access_token=${old}`).expect(200);
      expect(await socketAccepted(sockets, t, old)).toBe(true);
    });

    it('refuses an unknown kid, and a token whose kid names a key that did not sign it', async () => {
      const user = await register(t);
      for (const token of [
        tokenFor(user, NEW, 'k3'), // right secret, unknown key id
        tokenFor(user, OLD, 'k2'), // signed with the previous key, claiming the current one
        tokenFor(user, NEW, 'k1'), // signed with the current key, claiming the previous one
        tokenFor(user, 'some-other-secret-that-is-long-enough-123', 'k1'),
      ]) {
        const res = await me(t, token).expect(401);
        expect(res.body.error.code).toBe('UNAUTHORIZED');
        expect(await socketAccepted(sockets, t, token)).toBe(false);
      }
      await me(t, tokenFor(user, OLD, 'k1', -60)).expect(401); // expired stays expired
    });

    it('checks a token without kid (minted before key ids) against the current key only', async () => {
      const user = await register(t);
      await me(t, tokenFor(user, NEW, undefined)).expect(200);
      await me(t, tokenFor(user, OLD, undefined)).expect(401);
    });
  });

  describe('after the window: JWT_ACCESS_SECRET_PREVIOUS removed', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ JWT_ACCESS_SECRET: NEW, JWT_ACCESS_KID: 'k2' });
    });
    afterAll(async () => t?.close());

    it('refuses tokens of the previous key (401, and the socket is refused); current ones work', async () => {
      const user = await register(t);
      const old = tokenFor(user, OLD, 'k1');
      const res = await me(t, old).expect(401);
      expect(res.body.error.code).toBe('UNAUTHORIZED');
      expect(await socketAccepted(sockets, t, old)).toBe(false);
      await me(t, user.accessToken).expect(200);
      expect(await socketAccepted(sockets, t, user.accessToken)).toBe(true);
    });
  });

  describe('without JWT_ACCESS_KID: key ids derived from the secrets', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ JWT_ACCESS_SECRET: NEW, JWT_ACCESS_SECRET_PREVIOUS: OLD });
    });
    afterAll(async () => t?.close());

    it('names a stable id per secret, and finds the previous key by its derived id', async () => {
      const user = await register(t);
      const current = header(user.accessToken).kid!;
      expect(current).toMatch(/^[A-Za-z0-9_-]{12}$/);
      expect(t.config.jwt.accessKid).toBe(current);
      const previous = t.config.jwt.previousAccess!.kid;
      expect(previous).toMatch(/^[A-Za-z0-9_-]{12}$/);
      expect(previous).not.toBe(current);
      await me(t, tokenFor(user, OLD, previous)).expect(200);
    });
  });
});

describe('Razorpay webhook secret rotation', () => {
  const NEXT = 'next_webhook_secret_0123456789';
  let t: BillingTestApp;
  beforeAll(async () => {
    // The emulator still signs with RZP.webhookSecret: the app has the new one, and the old as previous.
    t = await startBillingApp({
      RAZORPAY_WEBHOOK_SECRET: NEXT,
      RAZORPAY_WEBHOOK_SECRET_PREVIOUS: RZP.webhookSecret,
    });
  });
  afterAll(async () => t?.close());

  const send = (raw: string, secret: string, eventId: string) =>
    t.http
      .post('/api/v1/webhooks/razorpay')
      .set({
        'content-type': 'application/json',
        'x-razorpay-event-id': eventId,
        'x-razorpay-signature': createHmac('sha256', secret).update(raw).digest('hex'),
      })
      .send(raw);

  it('accepts deliveries signed with either secret, and refuses any other', async () => {
    const raw = JSON.stringify(t.rzp.buildEvent('account.updated', {}));
    await send(raw, RZP.webhookSecret, 'evt_rotation_previous').expect(200);
    await send(raw, NEXT, 'evt_rotation_current').expect(200);
    const bad = await send(raw, 'a_third_secret_nobody_set_here', 'evt_rotation_other').expect(400);
    expect(bad.body.error.code).toBe('INVALID_SIGNATURE');
    const stored = (await t.db.query(
      `SELECT event_id FROM webhook_events WHERE event_id LIKE 'evt_rotation_%' ORDER BY event_id`,
    )) as { event_id: string }[];
    expect(stored.map((r) => r.event_id)).toEqual(['evt_rotation_current', 'evt_rotation_previous']);
  });
});
