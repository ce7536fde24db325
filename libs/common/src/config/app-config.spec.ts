import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from './app-config';

const dataDir = () => mkdtempSync(join(tmpdir(), 'tt-config-'));
const SECRETS = { JWT_ACCESS_SECRET: 'a'.repeat(40), JWT_REFRESH_SECRET: 'b'.repeat(40) };

describe('loadConfig', () => {
  it('has the defaults of API.md', () => {
    const c = loadConfig({ DATA_DIR: dataDir() });
    expect(c).toMatchObject({
      port: 3000,
      databaseUrl: undefined,
      redisUrl: undefined,
      jwt: { accessTtlSeconds: 900, refreshTtlSeconds: 30 * 86400 },
      razorpay: { apiUrl: 'https://api.razorpay.com', keyId: undefined },
      throttle: { limit: 300, ttlSeconds: 60, authLimit: 50 },
      holds: { onlineMinutes: 15, screenshotHours: 48 },
      corsOrigins: [],
      searchCacheTtlMs: 2000,
      google: { clientId: undefined, jwksUrl: 'https://www.googleapis.com/oauth2/v3/certs' },
    });
    expect(loadConfig({ DATA_DIR: dataDir(), SEARCH_CACHE_TTL_MS: '0' }).searchCacheTtlMs).toBe(0);
  });

  it('generates dev JWT secrets once per data dir and keeps them', () => {
    const dir = dataDir();
    const a = loadConfig({ DATA_DIR: dir });
    const b = loadConfig({ DATA_DIR: dir });
    expect(a.jwt.accessSecret).toBe(b.jwt.accessSecret);
    expect(a.jwt.accessSecret).not.toBe(a.jwt.refreshSecret);
    expect(a.jwt.accessSecret.length).toBeGreaterThanOrEqual(32);
  });

  it('refuses to start in production without JWT secrets', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir() })).toThrow(
      /JWT_ACCESS_SECRET is required/,
    );
    expect(loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir(), ...SECRETS }).nodeEnv).toBe(
      'production',
    );
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT must be a whole number/],
    [{ SEARCH_CACHE_TTL_MS: '120000' }, /SEARCH_CACHE_TTL_MS must be between 0 and 60000/],
    [{ PORT: '70000' }, /PORT must be between/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must start with postgres/],
    [{ REDIS_URL: 'not a url' }, /REDIS_URL is not a valid URL/],
    [{ ACCESS_TOKEN_TTL: '15 minutes' }, /ACCESS_TOKEN_TTL must be a duration/],
    [{ RAZORPAY_KEY_ID: 'rzp_test_x' }, /must be set together/],
    [{ ADMIN_EMAIL: 'a@b.c' }, /must be set together/],
    [{ CORS_ORIGINS: 'https://ok.test, *' }, /CORS_ORIGINS entry/],
    [{ NODE_ENV: 'staging' }, /NODE_ENV must be/],
    [{ JWT_ACCESS_SECRET: 'short', JWT_REFRESH_SECRET: 'b'.repeat(40) }, /at least 32 characters/],
    [{ THROTTLE_LIMIT: '0' }, /THROTTLE_LIMIT must be between/],
    [{ TRUST_PROXY: 'true' }, /TRUST_PROXY=true would let any client choose its own address/],
    [{ TRUST_PROXY: '11' }, /TRUST_PROXY must be a hop count from 0 to 10/],
    [{ TRUST_PROXY: '10.0.0.0/33' }, /TRUST_PROXY entry "10.0.0.0\/33"/],
    [{ TRUST_PROXY: 'loopback, proxy.internal' }, /TRUST_PROXY entry "proxy.internal"/],
    [{ ...SECRETS, JWT_ACCESS_SECRET_PREVIOUS: 'short' }, /JWT_ACCESS_SECRET_PREVIOUS must be at least 32/],
    [{ ...SECRETS, JWT_ACCESS_SECRET_PREVIOUS: 'a'.repeat(40) }, /must differ from JWT_ACCESS_SECRET/],
    [{ ...SECRETS, JWT_ACCESS_KID_PREVIOUS: 'k1' }, /JWT_ACCESS_KID_PREVIOUS is set without/],
    [{ ...SECRETS, JWT_ACCESS_KID: 'has space' }, /JWT_ACCESS_KID must be 1-64 letters/],
    [
      {
        ...SECRETS,
        JWT_ACCESS_KID: 'k1',
        JWT_ACCESS_SECRET_PREVIOUS: 'c'.repeat(40),
        JWT_ACCESS_KID_PREVIOUS: 'k1',
      },
      /JWT_ACCESS_KID_PREVIOUS must differ/,
    ],
    [{ LOG_FORMAT: 'xml' }, /LOG_FORMAT must be pretty or json/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ METRICS_TOKEN: 'short' }, /METRICS_TOKEN must be at least 16/],
  ])('rejects %o with a clear message', (env, message) => {
    expect(() => loadConfig({ DATA_DIR: dataDir(), ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ DATA_DIR: dataDir(), ...env })).toThrow(message);
  });

  it('reads Google sign-in settings and refuses a JWKS URL that is not http(s)', () => {
    const c = loadConfig({
      DATA_DIR: dataDir(),
      GOOGLE_CLIENT_ID: ' 123.apps.googleusercontent.com ',
      GOOGLE_JWKS_URL: 'http://127.0.0.1:9/certs',
    });
    expect(c.google).toEqual({
      clientId: '123.apps.googleusercontent.com',
      jwksUrl: 'http://127.0.0.1:9/certs',
    });
    expect(() => loadConfig({ DATA_DIR: dataDir(), GOOGLE_JWKS_URL: 'ftp://x/certs' })).toThrow(
      /GOOGLE_JWKS_URL must start with http:\/\/ or https:\/\//,
    );
  });

  it('parses durations', () => {
    expect(parseDuration('X', '15m')).toBe(900);
    expect(parseDuration('X', '30d')).toBe(2_592_000);
    expect(parseDuration('X', '45')).toBe(45);
  });

  it('splits CORS origins', () => {
    expect(
      loadConfig({ DATA_DIR: dataDir(), CORS_ORIGINS: 'https://a.test, http://localhost:5173' }).corsOrigins,
    ).toEqual(['https://a.test', 'http://localhost:5173']);
  });

  it('trusts no proxy unless TRUST_PROXY names them: a hop count, or addresses, subnets and names', () => {
    const trust = (v?: string) =>
      loadConfig({ DATA_DIR: dataDir(), ...(v === undefined ? {} : { TRUST_PROXY: v }) }).trustProxy;
    expect(trust()).toBe(false);
    expect(trust('')).toBe(false);
    expect(trust('false')).toBe(false);
    expect(trust('0')).toBe(false);
    expect(trust('1')).toBe(1);
    expect(trust('loopback, 10.0.0.0/8 ,fd00::/8,192.0.2.10')).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::/8',
      '192.0.2.10',
    ]);
  });

  it('derives a key id per access secret unless JWT_ACCESS_KID names one, and reads the previous key', () => {
    const a = loadConfig({ DATA_DIR: dataDir(), ...SECRETS });
    const b = loadConfig({ DATA_DIR: dataDir(), ...SECRETS });
    expect(a.jwt.accessKid).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(b.jwt.accessKid).toBe(a.jwt.accessKid);
    expect(a.jwt.previousAccess).toBeUndefined();
    const rotating = loadConfig({
      DATA_DIR: dataDir(),
      ...SECRETS,
      JWT_ACCESS_KID: '2026-11',
      JWT_ACCESS_SECRET_PREVIOUS: 'c'.repeat(40),
    });
    expect(rotating.jwt.accessKid).toBe('2026-11');
    expect(rotating.jwt.previousAccess).toEqual({
      secret: 'c'.repeat(40),
      kid: expect.stringMatching(/^.{12}$/),
    });
  });

  it('logs pretty in development and JSON elsewhere unless LOG_FORMAT says otherwise; reads METRICS_TOKEN', () => {
    expect(loadConfig({ DATA_DIR: dataDir() }).logFormat).toBe('pretty');
    expect(loadConfig({ DATA_DIR: dataDir(), NODE_ENV: 'test' }).logFormat).toBe('json');
    expect(loadConfig({ DATA_DIR: dataDir(), NODE_ENV: 'production', ...SECRETS }).logFormat).toBe('json');
    expect(loadConfig({ DATA_DIR: dataDir(), LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(loadConfig({ DATA_DIR: dataDir() }).metricsToken).toBeUndefined();
    expect(loadConfig({ DATA_DIR: dataDir(), METRICS_TOKEN: 'x'.repeat(20) }).metricsToken).toBe(
      'x'.repeat(20),
    );
    expect(
      loadConfig({
        DATA_DIR: dataDir(),
        RAZORPAY_WEBHOOK_SECRET: 'w1',
        RAZORPAY_WEBHOOK_SECRET_PREVIOUS: 'w0',
      }).razorpay,
    ).toMatchObject({ webhookSecret: 'w1', webhookSecretPrevious: 'w0' });
  });
});
