import { loadConfig } from '@trektribe/common';
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { bootSummary } from './boot-summary';
import { AppLogger } from './logger';
import { observeRequests, routeOf } from './request-log';
import type { MetricsService } from './metrics.service';

/** A pino logger writing JSON lines into an array. */
function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level, base: undefined }, sink), lines };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('AppLogger (Nest → pino)', () => {
  it("keeps Nest's start-up chatter at debug, and the code base's calling conventions", async () => {
    const { logger, lines } = capture();
    const log = new AppLogger(logger);
    log.log('Mapped {/api/v1/trips, GET} route', 'RouterExplorer');
    log.log('AuthModule dependencies initialized', 'InstanceLoader');
    log.log('listening', 'main');
    log.error({ job: 'expire-holds', err: new Error('boom') }, 'job failed', 'JobLock');
    log.warn('careful');
    log.error('Unhandled', 'Error: x\n    at y (z.js:1:1)', 'ExceptionsHandler');
    await flush();
    expect(lines.map((l) => [l.level, l.context, l.msg])).toEqual([
      [30, 'main', 'listening'],
      [50, 'JobLock', 'job failed'],
      [40, undefined, 'careful'],
      [50, 'ExceptionsHandler', 'Unhandled'],
    ]);
    expect(lines[1]).toMatchObject({ job: 'expire-holds', err: { message: 'boom' } });
    expect((lines[3].err as { stack: string }).stack).toContain('at y (z.js:1:1)');
  });

  it('shows the start-up chatter at LOG_LEVEL=debug', async () => {
    const { logger, lines } = capture('debug');
    new AppLogger(logger).log('AuthModule dependencies initialized', 'InstanceLoader');
    await flush();
    expect(lines).toMatchObject([{ level: 20, context: 'InstanceLoader' }]);
  });
});

describe('the request line', () => {
  function fakeRequest(url: string, extra: Record<string, unknown> = {}) {
    const res = Object.assign(new EventEmitter(), { statusCode: 200 });
    const req = {
      method: 'GET',
      originalUrl: url,
      path: url.split('?')[0],
      baseUrl: '',
      id: 'req-1',
      headers: { authorization: 'Bearer secret', cookie: 'access_token=secret' },
      ...extra,
    };
    return { req, res };
  }
  const observed: unknown[][] = [];
  const metrics = { observeRequest: (...a: unknown[]) => observed.push(a) } as unknown as MetricsService;

  it('is one compact line: method, route template, status, ms, user id, request id; no headers', async () => {
    const { logger, lines } = capture();
    const { req, res } = fakeRequest('/api/v1/bookings/0c4a9f3e-5d59-4fd0-9a4e-1c5b6a1e3f00?x=1', {
      route: { path: '/api/v1/bookings/:id' },
      user: { id: 'u-1' },
    });
    observeRequests(logger, metrics)(req as never, res as never, () => undefined);
    res.emit('finish');
    await flush();
    expect(lines).toHaveLength(1);
    const { time: _time, ms, ...line } = lines[0];
    expect(line).toEqual({
      level: 30,
      method: 'GET',
      route: '/api/v1/bookings/:id',
      status: 200,
      userId: 'u-1',
      reqId: 'req-1',
      msg: `GET /api/v1/bookings/:id 200 ${String(ms)}ms`,
    });
    expect(JSON.stringify(lines[0])).not.toMatch(/secret|0c4a9f3e|x=1/);
    expect(observed.at(-1)?.slice(0, 3)).toEqual(['GET', '/api/v1/bookings/:id', 200]);
  });

  it('puts health probes and scrapes at debug, server errors at error', async () => {
    const { logger, lines } = capture();
    for (const url of ['/api/v1/health', '/api/v1/health/live', '/api/v1/health/ready', '/metrics']) {
      const { req, res } = fakeRequest(url, { route: { path: url } });
      observeRequests(logger, metrics)(req as never, res as never, () => undefined);
      res.emit('finish');
    }
    const { req, res } = fakeRequest('/api/v1/trips', { route: { path: '/api/v1/trips' } });
    res.statusCode = 500;
    observeRequests(logger, metrics)(req as never, res as never, () => undefined);
    res.emit('finish');
    await flush();
    expect(lines.map((l) => [l.level, l.route])).toEqual([[50, '/api/v1/trips']]);
  });

  it('labels unmatched paths as such (no raw path becomes a metric label)', () => {
    expect(routeOf({ path: '/wp-login.php', baseUrl: '' } as never)).toBe('unmatched');
    expect(routeOf({ path: '/x', baseUrl: '/api', route: { path: '/v1/:id' } } as never)).toBe('/api/v1/:id');
  });
});

describe('bootSummary', () => {
  const dataDir = () => mkdtempSync(join(tmpdir(), 'tt-boot-'));

  it('says where the API listens, the database mode and what is configured, and never a secret', () => {
    const dev = bootSummary(loadConfig({ DATA_DIR: dataDir() }), 1234);
    expect(dev).toMatch(
      /^TrekTribe API \(development\) ready in 1234 ms on http:\/\/localhost:3000\/api\/v1/,
    );
    expect(dev).toContain('database: embedded PGlite in');
    expect(dev).toContain('SMTP: off (mail at /api/v1/dev/mailbox)');
    expect(dev).toContain('Twilio: off');
    expect(dev).toContain('Razorpay: off');
    expect(dev).toContain('Redis: off');

    const server = bootSummary(
      loadConfig({
        DATA_DIR: dataDir(),
        DATABASE_URL: 'postgres://app:pg-password@db.internal:5432/trektribe',
        REDIS_URL: 'redis://:redis-password@cache:6379',
        SMTP_URL: 'smtp://mailer:smtp-password@mail:1025',
        RAZORPAY_KEY_ID: 'rzp_live_abc',
        RAZORPAY_KEY_SECRET: 'razorpay-key-secret',
        RAZORPAY_WEBHOOK_SECRET: 'razorpay-webhook-secret',
        TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
        TWILIO_AUTH_TOKEN: 'twilio-token',
        TWILIO_SMS_FROM: '+14155550100',
        METRICS_TOKEN: 'metrics-token-0123456789',
      }),
      10,
    );
    expect(server).toContain('database: PostgreSQL server db.internal:5432/trektribe');
    expect(server).toContain('SMTP: mail:1025');
    expect(server).toContain('Twilio: SMS');
    expect(server).toContain('Razorpay: live key, webhooks on');
    expect(server).toContain('Redis: cache:6379');
    expect(server).toContain('metrics: /metrics (token)');
    expect(server).not.toMatch(/password|secret|twilio-token|metrics-token/);
  });
});
