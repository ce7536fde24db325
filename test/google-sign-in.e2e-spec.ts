import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, register, startTestApp, TestApp, uniqueEmail } from './support/app';
import { auditRows, book, createTrip } from './support/fixtures';

const CLIENT_ID = '1234567890-trektribe.apps.googleusercontent.com';
const GOOGLE = '/api/v1/auth/google';
const COMPLETE = '/api/v1/auth/complete-profile';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/** A local stand-in for https://www.googleapis.com/oauth2/v3/certs that counts its requests. */
async function startJwks(keys: JWK[]) {
  const state = { keys, requests: 0 };
  const server: Server = createServer((req, res) => {
    state.requests++;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' });
    res.end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/v3/certs`;
  return { state, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** base64url of a JSON object, for tokens jose refuses to make. */
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('Google sign-in (POST /auth/google) and POST /auth/complete-profile', () => {
  let t: TestApp;
  let jwks: Awaited<ReturnType<typeof startJwks>>;
  let keyA: SigningKey;
  let keyB: SigningKey;
  let stranger: SigningKey;
  let seq = 0;

  beforeAll(async () => {
    [keyA, keyB, stranger] = await Promise.all([
      signingKey('key-a'),
      signingKey('key-b'),
      signingKey('key-x'),
    ]);
    jwks = await startJwks([keyA.jwk]);
    t = await startTestApp({ GOOGLE_CLIENT_ID: CLIENT_ID, GOOGLE_JWKS_URL: jwks.url });
    // A still clock: the key cache's lifetime and the unknown-kid cooldown move only when we say.
    t.clock.set(new Date());
  });
  afterAll(async () => {
    await t?.close();
    await jwks?.close();
  });

  const nowS = () => Math.floor(t.clock.now().getTime() / 1000);
  const claimsFor = (over: Record<string, unknown> = {}) => ({
    sub: `1${String(++seq).padStart(20, '0')}`,
    email: uniqueEmail('google'),
    email_verified: true,
    name: 'Asha Google',
    ...over,
  });
  async function idToken(
    claims: Record<string, unknown>,
    opts: { key?: SigningKey; kid?: string; aud?: string; iss?: string; exp?: number } = {},
  ): Promise<string> {
    const key = opts.key ?? keyA;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? key.kid, typ: 'JWT' })
      .setIssuer(opts.iss ?? 'https://accounts.google.com')
      .setAudience(opts.aud ?? CLIENT_ID)
      .setIssuedAt(nowS() - 60)
      .setExpirationTime(opts.exp ?? nowS() + 3600)
      .sign(key.privateKey);
  }
  const signIn = (credential: unknown) => t.http.post(GOOGLE).send({ credential });

  it('creates a traveler without password or phone, then signs the same Google account into it again; the keys are fetched once', async () => {
    const claims = claimsFor();
    const res = await signIn(await idToken(claims)).expect(200);
    const d = res.body.data;
    expect(d).toMatchObject({
      outcome: 'created',
      profileComplete: false,
      user: { email: claims.email, name: 'Asha Google', role: 'traveler', phone: null, emailVerified: true },
    });
    expect(d.accessToken).toEqual(expect.any(String));
    expect(d.refreshToken).toEqual(expect.any(String));
    expect(String(res.headers['set-cookie'])).toContain('access_token=');
    const me = await t.http
      .get('/api/v1/auth/me')
      .set({ Authorization: `Bearer ${d.accessToken}` })
      .expect(200);
    expect(me.body.data.id).toBe(d.user.id);
    const [row] = await t.db.query(`SELECT google_sub, password_hash, phone FROM users WHERE id = $1`, [
      d.user.id,
    ]);
    expect(row).toEqual({ google_sub: claims.sub, password_hash: null, phone: null });
    expect(await auditRows(t, d.user.id, 'user.registered')).toMatchObject([{ after: { via: 'google' } }]);
    // No password: password login cannot get in.
    await t.http.post('/api/v1/auth/login').send({ email: claims.email, password: PASSWORD }).expect(401);

    // The issuer without https:// is Google's too; a changed email still finds the account by its sub.
    const again = await signIn(
      await idToken({ ...claims, email: uniqueEmail('renamed') }, { iss: 'accounts.google.com' }),
    ).expect(200);
    expect(again.body.data).toMatchObject({ outcome: 'signed_in', user: { id: d.user.id } });
    expect(jwks.state.requests).toBe(1);
  });

  it('signs two simultaneous first sign-ins of one Google account into one new account', async () => {
    const claims = claimsFor();
    const [a, b] = await Promise.all([signIn(await idToken(claims)), signIn(await idToken(claims))]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.data.user.id).toBe(b.body.data.user.id);
    expect([a.body.data.outcome, b.body.data.outcome].sort()).toEqual(['created', 'signed_in']);
    expect(
      await t.db.query(`SELECT count(*)::int AS n FROM users WHERE google_sub = $1`, [claims.sub]),
    ).toEqual([{ n: 1 }]);
  });

  it('links a password account with the same email, audited; an unproven email loses its password and sessions', async () => {
    // A proven email (verified by its mailed link): the password keeps working after the link.
    const proven = await register(t);
    await t.db.query(`UPDATE users SET email_verified_at = now() WHERE id = $1`, [proven.id]);
    const claims = claimsFor({ email: proven.email.toUpperCase() });
    const linked = await signIn(await idToken(claims)).expect(200);
    expect(linked.body.data).toMatchObject({
      outcome: 'linked',
      profileComplete: true,
      user: { id: proven.id, phone: '+919812345678' },
    });
    expect(await auditRows(t, proven.id, 'user.google_linked')).toMatchObject([
      { actor_id: proven.id, after: { googleSub: claims.sub, signInsReset: false } },
    ]);
    await t.http.post('/api/v1/auth/login').send({ email: proven.email, password: PASSWORD }).expect(200);
    await t.http.get('/api/v1/auth/me').set(proven.auth).expect(200);

    // Registered by someone who never proved the mailbox: once its owner signs in with Google, that
    // password and its sessions stop working, and the email counts as verified.
    const unproven = await register(t);
    const taken = await signIn(await idToken(claimsFor({ email: unproven.email }))).expect(200);
    expect(taken.body.data).toMatchObject({
      outcome: 'linked',
      user: { id: unproven.id, emailVerified: true },
    });
    expect(await auditRows(t, unproven.id, 'user.google_linked')).toMatchObject([
      { after: { signInsReset: true } },
    ]);
    await t.http.post('/api/v1/auth/login').send({ email: unproven.email, password: PASSWORD }).expect(401);
    await t.http.get('/api/v1/auth/me').set(unproven.auth).expect(401);
    await t.http.post('/api/v1/auth/refresh').send({ refreshToken: unproven.refreshToken }).expect(401);

    // That account is linked now: a different Google account with the same email is refused.
    const other = await signIn(await idToken(claimsFor({ email: proven.email }))).expect(409);
    expect(other.body.error.code).toBe('GOOGLE_ACCOUNT_CONFLICT');
    expect(jwks.state.requests).toBe(1);
  });

  it('refuses tokens that are not Google ID tokens for this app with 401 INVALID_GOOGLE_TOKEN', async () => {
    const refused = async (credential: string, reason: RegExp) => {
      const res = await signIn(credential).expect(401);
      expect(res.body.error).toMatchObject({
        code: 'INVALID_GOOGLE_TOKEN',
        details: [{ field: 'credential' }],
      });
      expect(res.body.error.details[0].message).toMatch(reason);
    };
    await refused(await idToken(claimsFor(), { aud: 'someone-else.apps.googleusercontent.com' }), /aud/);
    await refused(await idToken(claimsFor(), { iss: 'https://accounts.example.com' }), /iss/);
    await refused(await idToken(claimsFor(), { exp: nowS() - 120 }), /expired/);
    // Signed by a key Google never published, under a kid Google did publish.
    await refused(await idToken(claimsFor(), { key: stranger, kid: keyA.kid }), /signature/);
    await refused(await idToken(claimsFor({ email_verified: false })), /not verified/);
    await refused(await idToken(claimsFor({ email_verified: undefined })), /not verified/);
    const { email: _dropped, ...noEmail } = claimsFor();
    await refused(await idToken(noEmail), /no email/);

    const payload = b64({
      ...claimsFor(),
      iss: 'https://accounts.google.com',
      aud: CLIENT_ID,
      iat: nowS(),
      exp: nowS() + 3600,
    });
    await refused(`${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`, /RS256/);
    const hs = await new SignJWT(claimsFor())
      .setProtectedHeader({ alg: 'HS256', kid: keyA.kid })
      .setIssuer('https://accounts.google.com')
      .setAudience(CLIENT_ID)
      .setIssuedAt(nowS())
      .setExpirationTime(nowS() + 3600)
      .sign(new TextEncoder().encode('a shared secret anyone could have picked'));
    await refused(hs, /RS256/);
    await refused('not.a.jwt-at-all-just-words', /malformed/);
    expect(
      await t.db.query(`SELECT 1 FROM users WHERE email LIKE 'google.%' AND google_sub IS NULL`),
    ).toEqual([]);
  });

  it('answers 400 for a malformed body', async () => {
    for (const body of [{}, { credential: 42 }, { credential: 'short' }, { credential: 'a'.repeat(9000) }]) {
      const res = await t.http.post(GOOGLE).send(body).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    await t.http.post(GOOGLE).set('content-type', 'application/json').send('{"credential":').expect(400);
  });

  it('fetches the key set again for an unknown kid (at most every 30 s) and when its cache lifetime ends', async () => {
    const before = jwks.state.requests;
    // Google rotates: key B is published, and a token signed by it arrives within the cooldown.
    jwks.state.keys = [keyA.jwk, keyB.jwk];
    const claims = claimsFor();
    await signIn(await idToken(claims, { key: keyB })).expect(401);
    expect(jwks.state.requests).toBe(before);
    t.clock.advance(31_000);
    const ok = await signIn(await idToken(claims, { key: keyB })).expect(200);
    expect(ok.body.data.outcome).toBe('created');
    expect(jwks.state.requests).toBe(before + 1);
    await signIn(await idToken(claims, { key: keyB })).expect(200);
    await signIn(await idToken(claims)).expect(200);
    expect(jwks.state.requests).toBe(before + 1);
    // A made-up kid right after: refused, without asking Google again.
    await signIn(await idToken(claimsFor(), { key: stranger })).expect(401);
    expect(jwks.state.requests).toBe(before + 1);
    // After max-age=3600 the set is fetched again even for known kids.
    t.clock.advance(3_600_000);
    await signIn(await idToken(claims)).expect(200);
    expect(jwks.state.requests).toBe(before + 2);
  });

  it('completes a Google account with a phone and a role, once; refuses accounts that have a phone', async () => {
    const created = (await signIn(await idToken(claimsFor())).expect(200)).body.data;
    const auth = { Authorization: `Bearer ${created.accessToken}` };
    await t.http.post(COMPLETE).send({ phone: '+919800000001' }).expect(401);
    const bad = await t.http.post(COMPLETE).set(auth).send({ phone: 'call me', role: 'admin' }).expect(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['phone', 'role']);

    const done = await t.http
      .post(COMPLETE)
      .set(auth)
      .send({ phone: '+919800000001', role: 'organizer' })
      .expect(200);
    expect(done.body.data.user).toMatchObject({
      role: 'organizer',
      phone: '+919800000001',
      phoneVerified: false,
    });
    const organizerAuth = { Authorization: `Bearer ${done.body.data.accessToken}` };
    expect((await t.http.get('/api/v1/auth/me').set(organizerAuth).expect(200)).body.data.role).toBe(
      'organizer',
    );
    expect(await auditRows(t, created.user.id, 'user.profile_completed')).toMatchObject([
      { before: { role: 'traveler', phone: null }, after: { role: 'organizer', phone: '+919800000001' } },
    ]);
    const twice = await t.http
      .post(COMPLETE)
      .set(organizerAuth)
      .send({ phone: '+919800000002', role: 'traveler' });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('PROFILE_ALREADY_COMPLETE');
    // Clearing the phone afterwards does not reopen the role choice.
    await t.db.query(`UPDATE users SET phone = NULL WHERE id = $1`, [created.user.id]);
    await t.http
      .post(COMPLETE)
      .set(organizerAuth)
      .send({ phone: '+919800000002', role: 'traveler' })
      .expect(409);

    const withPhone = await register(t);
    const refused = await t.http
      .post(COMPLETE)
      .set(withPhone.auth)
      .send({ phone: '+919800000003' })
      .expect(409);
    expect(refused.body.error.code).toBe('PROFILE_ALREADY_COMPLETE');
  });

  it('keeps the role of an account that already booked (409 ROLE_LOCKED) but still takes its phone', async () => {
    const organizer = await register(t, 'organizer');
    const trip = await createTrip(t, organizer);
    const created = (await signIn(await idToken(claimsFor())).expect(200)).body.data;
    const auth = { Authorization: `Bearer ${created.accessToken}` };
    await book(
      t,
      {
        id: created.user.id,
        email: created.user.email,
        role: 'traveler',
        accessToken: created.accessToken,
        refreshToken: created.refreshToken,
        auth,
      },
      trip.id,
    );
    const locked = await t.http.post(COMPLETE).set(auth).send({ phone: '+919800000004', role: 'organizer' });
    expect(locked.status).toBe(409);
    expect(locked.body.error.code).toBe('ROLE_LOCKED');
    const ok = await t.http
      .post(COMPLETE)
      .set(auth)
      .send({ phone: '+919800000004', role: 'traveler' })
      .expect(200);
    expect(ok.body.data.user).toMatchObject({ role: 'traveler', phone: '+919800000004' });
  });
});

describe('Google sign-in without GOOGLE_CLIENT_ID, and its rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ AUTH_THROTTLE_LIMIT: '2' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 503 GOOGLE_NOT_CONFIGURED, and the auth rate limit applies like login', async () => {
    const credential = `${b64({ alg: 'RS256' })}.${b64({ sub: '1' })}.c2lnbmF0dXJl`;
    for (let i = 0; i < 2; i++) {
      const res = await t.http.post(GOOGLE).send({ credential }).expect(503);
      expect(res.body.error.code).toBe('GOOGLE_NOT_CONFIGURED');
    }
    const limited = await t.http.post(GOOGLE).send({ credential }).expect(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
  });
});
