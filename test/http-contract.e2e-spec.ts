import { RequestMethod } from '@nestjs/common';
import { PATH_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { IS_PUBLIC_KEY, ROLES_KEY } from '@trektribe/common';
import { getMetadataStorage } from 'class-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorsFilter } from '../apps/api/src/http/errors.filter';
import { createStaff, register, startTestApp, TestApp } from './support/app';

describe('the HTTP contract', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ CORS_ORIGINS: 'https://app.trektribe.test' });
  });
  afterAll(async () => t?.close());

  it('answers an unknown route with a 404 envelope', async () => {
    const res = await t.http.get('/api/v1/no-such-thing').expect(404);
    expect(res.body).toEqual({
      success: false,
      error: {
        code: 'ROUTE_NOT_FOUND',
        message: expect.any(String),
        statusCode: 404,
        requestId: res.headers['x-request-id'],
      },
    });
  });

  it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
    const res = await t.http
      .post('/api/v1/auth/login')
      .set('Content-Type', 'application/json')
      .send('{"email": ')
      .expect(400);
    expect(res.body.error).toMatchObject({ code: 'MALFORMED_JSON', statusCode: 400 });
    expect(res.body.error.requestId).toBe(res.headers['x-request-id']);
  });

  it('answers NUL characters (which PostgreSQL refuses in text) with 400 wherever they come, and changes nothing', async () => {
    const search = await t.http.get('/api/v1/trips').query({ q: 'snow\u0000trek' }).expect(400);
    expect(search.body.error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: [{ field: 'q', message: expect.stringMatching(/NUL/) }],
    });
    const email = 'nul-name@example.test';
    const signUp = await t.http
      .post('/api/v1/auth/register')
      .send({ name: 'Asha\u0000Rao', email, password: 'Trekking2026', role: 'traveler' })
      .expect(400);
    expect(signUp.body.error.details).toEqual([{ field: 'name', message: expect.stringMatching(/NUL/) }]);
    expect(await t.db.query(`SELECT 1 FROM users WHERE email = $1`, [email])).toHaveLength(0);
    const param = await t.http.get('/api/v1/trips/%00').expect(400);
    expect(param.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('answers a body over 1 MB with 413', async () => {
    const res = await t.http
      .post('/api/v1/auth/login')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(1_100_000) }))
      .expect(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('echoes a sane incoming x-request-id and replaces a hostile one', async () => {
    const ok = await t.http.get('/api/v1/health').set('x-request-id', 'trace-abc_123').expect(200);
    expect(ok.headers['x-request-id']).toBe('trace-abc_123');
    const bad = await t.http
      .get('/api/v1/health')
      .set('x-request-id', '<script>' + 'x'.repeat(300))
      .expect(200);
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sets helmet headers and no x-powered-by', async () => {
    const res = await t.http.get('/api/v1/health').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('allows CORS only for CORS_ORIGINS', async () => {
    const allowed = await t.http
      .options('/api/v1/health')
      .set('Origin', 'https://app.trektribe.test')
      .set('Access-Control-Request-Method', 'GET');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.trektribe.test');
    const denied = await t.http
      .options('/api/v1/health')
      .set('Origin', 'https://evil.test')
      .set('Access-Control-Request-Method', 'GET');
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('returns 403 FORBIDDEN for a signed-in user without the role, and 401 without a token', async () => {
    const user = await register(t);
    const res = await t.http.get('/api/v1/admin/users').set(user.auth).expect(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
    await t.http.get('/api/v1/admin/users').expect(401);
    const admin = await createStaff(t, 'admin');
    const list = await t.http.get('/api/v1/admin/users?limit=1').set(admin.auth).expect(200);
    expect(list.body.meta).toMatchObject({ page: 1, limit: 1, total: expect.any(Number) });
  });

  it('caps limit at 100 and rejects bad paging', async () => {
    const admin = await createStaff(t, 'admin');
    const res = await t.http.get('/api/v1/admin/users?limit=101').set(admin.auth).expect(400);
    expect(res.body.error.details[0].field).toBe('limit');
    await t.http.get('/api/v1/admin/users?page=0').set(admin.auth).expect(400);
    await t.http.get('/api/v1/admin/users?limit=abc').set(admin.auth).expect(400);
  });

  it('lets an admin deactivate a user, whose token stops working at once; the change is audited', async () => {
    const admin = await createStaff(t, 'admin');
    const user = await register(t);
    await t.http.delete(`/api/v1/admin/users/${user.id}`).set(admin.auth).expect(204);
    await t.http.get('/api/v1/auth/me').set(user.auth).expect(401);
    const logs = await t.http
      .get(`/api/v1/admin/audit-logs?entityId=${user.id}&action=admin.user_updated`)
      .set(admin.auth)
      .expect(200);
    expect(logs.body.data[0]).toMatchObject({
      actorId: admin.id,
      before: { isActive: true },
      after: { isActive: false },
    });
    await t.http.get('/api/v1/admin/users/not-a-uuid').set(admin.auth).expect(400);
    await t.http.get('/api/v1/admin/users/00000000-0000-4000-8000-000000000000').set(admin.auth).expect(404);
  });

  it('serves Swagger UI and the OpenAPI JSON with bearer auth and DTO examples', async () => {
    await t.http.get('/api/docs').expect(200);
    const doc = (await t.http.get('/api/docs-json').expect(200)).body;
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas.RegisterDto.properties.email.example).toBe('asha@example.com');
    // Every error code a client may meet, the shared ones and each lib's own, with its status.
    const codes: string[] = doc.components.schemas.ErrorEnvelope.properties.error.properties.code.enum;
    expect(codes).toEqual(
      expect.arrayContaining([
        'VALIDATION_ERROR',
        'TRIP_FULL',
        'BOOKING_NOT_CANCELLABLE',
        'REFUND_NOT_RETRYABLE',
        'HOLD_EXPIRED',
      ]),
    );
  });

  it('names every schema once: each route shows its own body (the checkout verify route, the Razorpay fields)', async () => {
    const doc = (await t.http.get('/api/docs-json').expect(200)).body;
    const bodyOf = (path: string) => {
      const ref: string = doc.paths[path].post.requestBody.content['application/json'].schema.$ref;
      return doc.components.schemas[ref.split('/').pop()!].properties;
    };
    expect(Object.keys(bodyOf('/api/v1/bookings/{id}/payments/verify'))).toEqual([
      'razorpay_order_id',
      'razorpay_payment_id',
      'razorpay_signature',
    ]);
    expect(Object.keys(bodyOf('/api/v1/bookings/{id}/verify-payment'))).toEqual(['approve', 'note']);
    // Two DTO classes with one name collide in the document: the second silently replaces the first.
    const names = new Map<string, number>();
    const storage = getMetadataStorage() as unknown as {
      validationMetadatas: Map<{ name: string }, unknown[]>;
    };
    for (const target of storage.validationMetadatas.keys())
      names.set(target.name, (names.get(target.name) ?? 0) + 1);
    expect([...names].filter(([, n]) => n > 1).map(([name]) => name)).toEqual([]);
  });

  it('never leaks internals in a 500', () => {
    const filter = new ErrorsFilter();
    const leaked = new Error(
      'duplicate key value violates constraint "users_pkey" password=hunter2 at /srv/app.js:10',
    );
    const { status, body } = filter.toEnvelope(leaked, {
      id: 'req-1',
      method: 'GET',
      originalUrl: '/x',
    } as never);
    expect(status).toBe(500);
    expect(body.error).toEqual({
      code: 'INTERNAL_ERROR',
      message: 'Something went wrong on our side',
      statusCode: 500,
      requestId: 'req-1',
    });
    expect(JSON.stringify(body)).not.toMatch(/constraint|hunter2|app\.js/);
  });

  it('requires every route to declare @Public() or @Roles(...)', () => {
    const discovery = t.app.get(DiscoveryService);
    const scanner = t.app.get(MetadataScanner);
    const reflector = t.app.get(Reflector);
    const undeclared: string[] = [];
    let routes = 0;
    for (const wrapper of discovery.getControllers()) {
      const instance = wrapper.instance as object | undefined;
      if (!instance) continue;
      const proto = Object.getPrototypeOf(instance) as object;
      for (const name of scanner.getAllMethodNames(proto)) {
        const handler = (proto as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        routes++;
        const isPublic = reflector.getAllAndOverride(IS_PUBLIC_KEY, [
          handler,
          wrapper.metatype as () => unknown,
        ]);
        const roles = reflector.getAllAndOverride<string[]>(ROLES_KEY, [
          handler,
          wrapper.metatype as () => unknown,
        ]);
        if (!isPublic && !(roles && roles.length)) {
          const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
          undeclared.push(`${wrapper.name}.${name} (${method})`);
        }
      }
    }
    expect(routes).toBeGreaterThan(10);
    expect(undeclared).toEqual([]);
  });

  it('refuses every route a role is not declared for with 403 before reading its input (every controller, enumerated)', async () => {
    const discovery = t.app.get(DiscoveryService);
    const scanner = t.app.get(MetadataScanner);
    const reflector = t.app.get(Reflector);
    const users = {
      traveler: await register(t, 'traveler'),
      organizer: await register(t, 'organizer'),
      agent: await createStaff(t, 'agent'),
    };
    const id = '00000000-0000-4000-8000-000000000000';
    const checked: string[] = [];
    const wrong: string[] = [];
    for (const wrapper of discovery.getControllers()) {
      const instance = wrapper.instance as object | undefined;
      if (!instance) continue;
      const proto = Object.getPrototypeOf(instance) as object;
      const base = ([] as string[]).concat(
        Reflect.getMetadata(PATH_METADATA, wrapper.metatype as object) ?? '',
      )[0];
      for (const name of scanner.getAllMethodNames(proto)) {
        const handler = (proto as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
        const sub = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (sub === undefined) continue;
        const roles = reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [
          handler,
          wrapper.metatype as () => unknown,
        ]);
        if (!roles?.length) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number].toLowerCase();
        const path = ['/api/v1', base, ([] as string[]).concat(sub)[0]]
          .filter(Boolean)
          .join('/')
          .replace(/\/+/g, '/')
          .replace(/:[A-Za-z]+/g, id);
        for (const [role, user] of Object.entries(users)) {
          if (roles.includes(role)) continue;
          const req = (t.http as unknown as Record<string, (p: string) => import('supertest').Test>)[method](
            path,
          );
          const res = await req.set(user.auth).send({});
          checked.push(`${role} ${method.toUpperCase()} ${path}`);
          if (res.status !== 403) wrong.push(`${role} ${method.toUpperCase()} ${path} → ${res.status}`);
        }
      }
    }
    // every /agent route, among the others
    expect(checked).toEqual(
      expect.arrayContaining([
        'traveler GET /api/v1/agent/tickets',
        'organizer GET /api/v1/agent/stats',
        `traveler GET /api/v1/agent/customers/${id}`,
        'agent POST /api/v1/admin/users',
      ]),
    );
    expect(wrong).toEqual([]);
  });
});

describe('general rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ THROTTLE_LIMIT: '5', THROTTLE_TTL: '60' });
  });
  afterAll(async () => t?.close());

  it('answers 429 RATE_LIMITED with Retry-After past THROTTLE_LIMIT per client', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 7; i++) {
      last = await t.http.get('/api/v1/trips'); // not /health: probes are exempt (observability spec)
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(last!.body.error.code).toBe('RATE_LIMITED');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('auth rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ AUTH_THROTTLE_LIMIT: '3' });
  });
  afterAll(async () => t?.close());

  it('limits sign-up, login and reset requests per IP to AUTH_THROTTLE_LIMIT', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await t.http.post('/api/v1/auth/forgot-password').send({ email: `x${i}@example.com` });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    // other routes are not counted against it
    await t.http.get('/api/v1/health').expect(200);
  });
});
