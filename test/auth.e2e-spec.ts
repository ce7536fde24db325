import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgeJwt } from './support/jwt';
import { PASSWORD, register, startTestApp, TestApp, uniqueEmail } from './support/app';

const REG = '/api/v1/auth/register';
const LOGIN = '/api/v1/auth/login';

async function outboxToken(t: TestApp, email: string, topic: string): Promise<string> {
  const rows: { body: string }[] = await t.db.query(
    `SELECT body FROM notification_outbox WHERE recipient = $1 AND topic = $2 ORDER BY created_at DESC LIMIT 1`,
    [email, topic],
  );
  const match = /\n\n([A-Za-z0-9_-]{20,})\n\n/.exec(rows[0]?.body ?? '');
  if (!match) throw new Error(`no ${topic} mail for ${email}`);
  return match[1];
}

describe('auth', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ADMIN_EMAIL: 'Root@TrekTribe.test', ADMIN_PASSWORD: 'Admin2026!x' });
  });
  afterAll(async () => t?.close());

  describe('registration', () => {
    it('creates a traveler by default and returns tokens', async () => {
      const email = uniqueEmail();
      const res = await t.http
        .post(REG)
        .send({ name: 'Asha', email, password: PASSWORD, phone: '+919812345678' })
        .expect(201);
      expect(res.body.success).toBe(true);
      expect(res.body.data.user).toMatchObject({ email, role: 'traveler', emailVerified: false });
      expect(res.body.data.user).not.toHaveProperty('passwordHash');
      expect(res.body.data).toMatchObject({ expiresIn: 900 });
      expect(typeof res.body.data.accessToken).toBe('string');
      expect(typeof res.body.data.refreshToken).toBe('string');
      const [row] = await t.db.query(`SELECT password_hash FROM users WHERE email = $1`, [email]);
      expect(row.password_hash).toMatch(/^\$argon2id\$/);
    });

    it('rejects the same email in another case with 409 EMAIL_TAKEN', async () => {
      const email = uniqueEmail();
      await t.http
        .post(REG)
        .send({ name: 'A', email, password: PASSWORD, phone: '+919812345678' })
        .expect(201);
      const res = await t.http
        .post(REG)
        .send({ name: 'B', email: email.toUpperCase(), password: PASSWORD, phone: '+919812345678' })
        .expect(409);
      expect(res.body.error).toMatchObject({ code: 'EMAIL_TAKEN', statusCode: 409 });
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM users WHERE email = $1`, [email]);
      expect(n).toBe(1);
    });

    it.each([
      ['role admin', { role: 'admin' }, 'role'],
      ['role agent', { role: 'agent' }, 'role'],
      ['an unknown field', { isActive: false }, 'isActive'],
      ['a mass-assigned id', { id: '00000000-0000-0000-0000-000000000000' }, 'id'],
      ['a weak password', { password: 'alllowercase1' }, 'password'],
      ['a short password', { password: 'Ab1' }, 'password'],
      ['a bad email', { email: 'not-an-email' }, 'email'],
      ['a bad phone', { phone: '12' }, 'phone'],
    ])('rejects %s with 400 and field details, creating nothing', async (_label, patch, field) => {
      const email = uniqueEmail();
      const res = await t.http
        .post(REG)
        .send({ name: 'X', email, password: PASSWORD, phone: '+919812345678', ...patch })
        .expect(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM users WHERE email = $1`, [
        email.toLowerCase(),
      ]);
      expect(n).toBe(0);
    });

    it('writes an audit row for the registration in the same transaction', async () => {
      const user = await register(t);
      const rows = await t.db.query(
        `SELECT action, actor_id, request_id FROM audit_logs WHERE entity_id = $1`,
        [user.id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ action: 'user.registered', actor_id: user.id });
      expect(rows[0].request_id).toBeTruthy();
    });

    it('makes the audit log append-only in the database', async () => {
      await register(t);
      await expect(t.db.query(`UPDATE audit_logs SET action = 'tampered'`)).rejects.toThrow(/append-only/);
      await expect(t.db.query(`DELETE FROM audit_logs`)).rejects.toThrow(/append-only/);
    });
  });

  describe('login', () => {
    it('answers the same 401 INVALID_CREDENTIALS for a wrong password and an unknown email', async () => {
      const user = await register(t);
      const wrong = await t.http.post(LOGIN).send({ email: user.email, password: 'Wrong2026!x' }).expect(401);
      const unknown = await t.http.post(LOGIN).send({ email: uniqueEmail(), password: PASSWORD }).expect(401);
      expect(wrong.body.error.code).toBe('INVALID_CREDENTIALS');
      expect(unknown.body.error.code).toBe('INVALID_CREDENTIALS');
      expect(wrong.body.error.message).toBe(unknown.body.error.message);
    });

    it('signs in case-insensitively', async () => {
      const user = await register(t);
      await t.http.post(LOGIN).send({ email: user.email.toUpperCase(), password: PASSWORD }).expect(200);
    });

    it('blocks the 6th failed login per (IP, email) in 15 minutes with 429 and Retry-After, even with the right password', async () => {
      const user = await register(t);
      for (let i = 0; i < 5; i++) {
        await t.http.post(LOGIN).send({ email: user.email, password: 'Wrong2026!x' }).expect(401);
      }
      const res = await t.http.post(LOGIN).send({ email: user.email, password: PASSWORD }).expect(429);
      expect(res.body.error.code).toBe('TOO_MANY_LOGIN_ATTEMPTS');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      // another account from the same IP is unaffected
      const other = await register(t);
      await t.http.post(LOGIN).send({ email: other.email, password: PASSWORD }).expect(200);
    });

    it('creates the bootstrap admin once from ADMIN_EMAIL/ADMIN_PASSWORD', async () => {
      const res = await t.http
        .post(LOGIN)
        .send({ email: 'root@trektribe.test', password: 'Admin2026!x' })
        .expect(200);
      expect(res.body.data.user.role).toBe('admin');
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM users WHERE role = 'admin'`);
      expect(n).toBe(1);
    });
  });

  describe('access tokens', () => {
    it('accepts a valid bearer token and the HTTP-only cookie', async () => {
      const user = await register(t);
      await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
      const login = await t.http.post(LOGIN).send({ email: user.email, password: PASSWORD }).expect(200);
      const cookies = ([] as string[]).concat(login.headers['set-cookie'] ?? []);
      const access = cookies.find((c) => c.startsWith('access_token='));
      expect(access).toMatch(/HttpOnly/i);
      expect(access).toMatch(/SameSite=Strict/i);
      const me = await t.http.get('/api/v1/auth/me').set('Cookie', access!.split(';')[0]).expect(200);
      expect(me.body.data.email).toBe(user.email);
    });

    it.each([
      ['no token', () => undefined],
      ['garbage', () => 'Bearer not.a.jwt'],
      [
        'alg none',
        (id: string) =>
          `Bearer ${forgeJwt({ sub: id, role: 'admin', tv: 0, exp: 9999999999 }, { alg: 'none' })}`,
      ],
      [
        'another secret',
        (id: string) => `Bearer ${forgeJwt({ sub: id, role: 'admin', tv: 0, exp: 9999999999 })}`,
      ],
      [
        'HS512 with another secret',
        (id: string) =>
          `Bearer ${forgeJwt({ sub: id, role: 'admin', tv: 0, exp: 9999999999 }, { alg: 'HS512' })}`,
      ],
    ])('rejects %s with 401', async (_label, header) => {
      const user = await register(t);
      const h = header(user.id);
      const req = t.http.get('/api/v1/auth/me');
      if (h) req.set('Authorization', h);
      const res = await req.expect(401);
      expect(res.body.error.code).toBe('UNAUTHORIZED');
    });

    it('rejects an expired token', async () => {
      const email = uniqueEmail();
      await t.http
        .post(REG)
        .send({ name: 'Old', email, password: PASSWORD, phone: '+919812345678' })
        .expect(201);
      t.clock.set(new Date(Date.now() - 60 * 60_000)); // issued an hour ago: expired 45 minutes ago
      const login = await t.http.post(LOGIN).send({ email, password: PASSWORD }).expect(200);
      t.clock.reset();
      await t.http
        .get('/api/v1/auth/me')
        .set('Authorization', `Bearer ${login.body.data.accessToken}`)
        .expect(401);
    });

    it('stops a deactivated user at once, on the next request', async () => {
      const user = await register(t);
      await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
      await t.db.query(`UPDATE users SET is_active = false WHERE id = $1`, [user.id]);
      await t.http.get('/api/v1/auth/me').set(user.auth).expect(401);
      await t.http.post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
      const login = await t.http.post(LOGIN).send({ email: user.email, password: PASSWORD }).expect(403);
      expect(login.body.error.code).toBe('ACCOUNT_DISABLED');
    });
  });

  describe('refresh tokens', () => {
    it('rotates on every use, and re-use of a rotated token revokes the whole family', async () => {
      const user = await register(t);
      const first = await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: user.refreshToken })
        .expect(200);
      const second = first.body.data.refreshToken;
      expect(second).not.toBe(user.refreshToken);
      // the thief replays the old token: 401, and the legitimate new token dies with the family
      const replay = await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: user.refreshToken })
        .expect(401);
      expect(replay.body.error.code).toBe('INVALID_REFRESH_TOKEN');
      await t.http.post('/api/v1/auth/refresh').send({ refreshToken: second }).expect(401);
    });

    it('lets exactly one of two concurrent refreshes with the same token win', async () => {
      const user = await register(t);
      const results = await Promise.all(
        [0, 1].map(() => t.http.post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    });

    it('logout revokes the token family', async () => {
      const user = await register(t);
      await t.http
        .post('/api/v1/auth/logout')
        .set(user.auth)
        .send({ refreshToken: user.refreshToken })
        .expect(204);
      await t.http.post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
    });

    it('a rotated family from another login keeps working after one family is revoked', async () => {
      const user = await register(t);
      const other = await t.http.post(LOGIN).send({ email: user.email, password: PASSWORD }).expect(200);
      await t.http
        .post('/api/v1/auth/logout')
        .set(user.auth)
        .send({ refreshToken: user.refreshToken })
        .expect(204);
      await t.http
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: other.body.data.refreshToken })
        .expect(200);
    });
  });

  describe('profile and passwords', () => {
    it('PATCH /me updates allowed fields and refuses role', async () => {
      const user = await register(t);
      const ok = await t.http
        .patch('/api/v1/auth/me')
        .set(user.auth)
        .send({ name: 'Renamed', bio: 'Hills', location: 'Pune' })
        .expect(200);
      expect(ok.body.data).toMatchObject({
        name: 'Renamed',
        bio: 'Hills',
        location: 'Pune',
        role: 'traveler',
      });
      await t.http.patch('/api/v1/auth/me').set(user.auth).send({ role: 'admin' }).expect(400);
      const me = await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
      expect(me.body.data.role).toBe('traveler');
    });

    it('change-password needs the current password and signs out other sessions', async () => {
      const user = await register(t);
      await t.http
        .post('/api/v1/auth/change-password')
        .set(user.auth)
        .send({ currentPassword: 'Wrong2026!x', newPassword: 'Fresh2026!x' })
        .expect(401);
      const res = await t.http
        .post('/api/v1/auth/change-password')
        .set(user.auth)
        .send({ currentPassword: PASSWORD, newPassword: 'Fresh2026!x' })
        .expect(200);
      await t.http.get('/api/v1/auth/me').set(user.auth).expect(401);
      await t.http.post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
      await t.http
        .get('/api/v1/auth/me')
        .set('Authorization', `Bearer ${res.body.data.accessToken}`)
        .expect(200);
      await t.http.post(LOGIN).send({ email: user.email, password: 'Fresh2026!x' }).expect(200);
    });

    it('forgot-password answers the same for unknown emails and mails a single-use code', async () => {
      const user = await register(t);
      const unknown = await t.http
        .post('/api/v1/auth/forgot-password')
        .send({ email: uniqueEmail() })
        .expect(200);
      const known = await t.http.post('/api/v1/auth/forgot-password').send({ email: user.email }).expect(200);
      expect(known.body).toEqual(unknown.body);
      const token = await outboxToken(t, user.email, 'auth.password_reset');
      const [row] = await t.db.query(
        `SELECT token_hash FROM user_tokens WHERE user_id = $1 AND purpose = 'reset_password'`,
        [user.id],
      );
      expect(row.token_hash).not.toContain(token); // stored hashed
      await t.http.post('/api/v1/auth/reset-password').send({ token, password: 'Reset2026!x' }).expect(200);
      const again = await t.http
        .post('/api/v1/auth/reset-password')
        .send({ token, password: 'Other2026!x' })
        .expect(400);
      expect(again.body.error.code).toBe('INVALID_TOKEN');
      await t.http.get('/api/v1/auth/me').set(user.auth).expect(401);
      await t.http.post(LOGIN).send({ email: user.email, password: 'Reset2026!x' }).expect(200);
    });

    it('reset codes expire', async () => {
      const user = await register(t);
      await t.http.post('/api/v1/auth/forgot-password').send({ email: user.email }).expect(200);
      const token = await outboxToken(t, user.email, 'auth.password_reset');
      t.clock.advance(31 * 60_000);
      try {
        await t.http.post('/api/v1/auth/reset-password').send({ token, password: 'Reset2026!x' }).expect(400);
      } finally {
        t.clock.reset();
      }
    });

    it('verifies the email with the mailed code, once', async () => {
      const user = await register(t);
      const token = await outboxToken(t, user.email, 'auth.verify_email');
      await t.http.post('/api/v1/auth/verify-email').send({ token }).expect(200);
      const me = await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
      expect(me.body.data.emailVerified).toBe(true);
      await t.http.post('/api/v1/auth/verify-email').send({ token }).expect(400);
    });
  });
});
