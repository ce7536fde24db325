import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Every setting of API.md, read from the environment exactly once at boot.
 * Nothing else in the code base reads process.env: it asks for AppConfig.
 */
export interface AppConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  databaseUrl: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  /** Namespaces every Redis key, so several apps (or test runs) can share one server. */
  redisKeyPrefix: string;
  jwt: {
    accessSecret: string;
    /** Key id (`kid` header) of the tokens signed with accessSecret. */
    accessKid: string;
    /**
     * A second access-token key, accepted (never used to sign) while its tokens may still be alive:
     * the previous secret during a rotation (docs/OPERATIONS.md). Found by its key id.
     */
    previousAccess?: { secret: string; kid: string };
    refreshSecret: string;
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
  };
  razorpay: {
    keyId?: string;
    keySecret?: string;
    webhookSecret?: string;
    /** Also accepted on webhook signatures while Razorpay's side is switched over (a rotation). */
    webhookSecretPrevious?: string;
    apiUrl: string;
    timeoutMs: number;
  };
  mail: { smtpUrl?: string; from: string };
  /**
   * SMS and WhatsApp through Twilio's Messages API (API.md, Notifications). Unset account or sender:
   * that channel is off and its messages are recorded `skipped`.
   */
  twilio: {
    accountSid?: string;
    authToken?: string;
    smsFrom?: string;
    whatsappFrom?: string;
    apiUrl: string;
    timeoutMs: number;
  };
  /**
   * Google sign-in (API.md, Accounts): the OAuth client id ID tokens must be issued to (unset: the
   * route answers 503 GOOGLE_NOT_CONFIGURED) and where Google's signing keys are fetched from.
   */
  google: { clientId?: string; jwksUrl: string };
  /** Support desk: hours until a ticket's first response is due (SUPPORT_FIRST_RESPONSE_HOURS). */
  support: { firstResponseHours: number };
  /** Where links in messages point (the web app), without a trailing slash. */
  publicAppUrl: string;
  admin: { email?: string; password?: string };
  throttle: { limit: number; ttlSeconds: number; authLimit: number };
  holds: { onlineMinutes: number; screenshotHours: number; waitlistOfferHours: number };
  corsOrigins: string[];
  /**
   * Which peers may tell us the client's address in `X-Forwarded-For` (Express's `trust proxy`):
   * `false` trusts nobody (the socket's peer is the client), a number trusts that many proxy hops,
   * a list trusts those addresses, subnets and names (`loopback`, `linklocal`, `uniquelocal`).
   * The client address keys rate limits, failed-login limits and audit rows.
   */
  trustProxy: false | number | string[];
  /** How long a public search answer may be served from memory (0 turns the cache off). */
  searchCacheTtlMs: number;
  /**
   * A webhook is answered after its effect while fewer events than this wait to be applied in this
   * process, and as soon as it is stored otherwise (0: always as soon as it is stored).
   */
  webhookInlineBacklog: number;
  /** Stored webhook events this process applies at once (each holds a pooled connection while it runs). */
  webhookApplyConcurrency: number;
  logLevel: string;
  /** `pretty` (one readable line per entry) or `json` (one JSON object per line, for collectors). */
  logFormat: 'pretty' | 'json';
  /** When set, `GET /metrics` requires `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** True when the API runs cron jobs in this process (off in tests, which drive jobs directly). */
  schedulerEnabled: boolean;
}

export const APP_CONFIG = Symbol('APP_CONFIG');

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

const DURATION = /^(\d+)\s*(s|m|h|d)?$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

export function parseDuration(name: string, raw: string): number {
  const m = DURATION.exec(raw.trim());
  if (!m) throw new ConfigError(`${name} must be a duration like 15m, 30d or 900 (seconds); got "${raw}"`);
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2] ?? 's'];
  if (seconds <= 0) throw new ConfigError(`${name} must be positive; got "${raw}"`);
  return seconds;
}

function int(env: Env, name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number; got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}; got ${n}`);
  return n;
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** TRUST_PROXY: unset or `false` (trust nobody), a hop count, or a list of addresses, subnets and names. */
export function parseTrustProxy(raw: string | undefined): false | number | string[] {
  const v = raw?.trim() ?? '';
  if (v === '' || v === 'false' || v === '0') return false;
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops > 10)
      throw new ConfigError(`TRUST_PROXY must be a hop count from 0 to 10, or addresses; got ${hops}`);
    return hops;
  }
  if (v === 'true') {
    throw new ConfigError(
      'TRUST_PROXY=true would let any client choose its own address: give the number of proxies in front of the app, or their addresses',
    );
  }
  const entries = v
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (PROXY_NAMES.includes(entry)) continue;
    const [address, prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    const maxPrefix = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix);
    if (!family || rest.length || !prefixOk) {
      throw new ConfigError(
        `TRUST_PROXY entry "${entry}" must be an IP address, a subnet like 10.0.0.0/8, or one of ${PROXY_NAMES.join(', ')}`,
      );
    }
  }
  return entries;
}

function twilioConfig(env: Env): AppConfig['twilio'] {
  const accountSid = env.TWILIO_ACCOUNT_SID?.trim() || undefined;
  const authToken = env.TWILIO_AUTH_TOKEN?.trim() || undefined;
  if (Boolean(accountSid) !== Boolean(authToken)) {
    throw new ConfigError('TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN go together: set both or neither');
  }
  if (accountSid && !/^AC[0-9a-fA-F]{32}$/.test(accountSid))
    throw new ConfigError('TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits');
  const smsFrom = env.TWILIO_SMS_FROM?.trim() || undefined;
  if (smsFrom && !E164.test(smsFrom))
    throw new ConfigError('TWILIO_SMS_FROM must be an E.164 number like +14155550100');
  const whatsappFrom = env.TWILIO_WHATSAPP_FROM?.trim() || undefined;
  if (whatsappFrom && !/^whatsapp:\+[1-9]\d{6,14}$/.test(whatsappFrom)) {
    throw new ConfigError('TWILIO_WHATSAPP_FROM must look like whatsapp:+14155550100');
  }
  return {
    accountSid,
    authToken,
    smsFrom,
    whatsappFrom,
    apiUrl: (url(env, 'TWILIO_API_URL', ['http:', 'https:']) ?? 'https://api.twilio.com').replace(/\/+$/, ''),
    timeoutMs: int(env, 'TWILIO_TIMEOUT_MS', 10_000, 100, 120_000),
  };
}

/** A phone number in E.164 form: +, country code, up to 15 digits. */
export const E164 = /^\+[1-9]\d{6,14}$/;

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.map((p) => p + '//').join(' or ')}`);
  }
  return raw;
}

const KID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * A key id for the `kid` header: JWT_ACCESS_KID (or _PREVIOUS) when set, otherwise derived from the
 * secret (a hash, so a new secret gets a new id by itself and the id says nothing of the secret).
 */
function kid(env: Env, name: string, secret: string): string {
  const set = env[name]?.trim();
  if (set) {
    if (!KID.test(set)) throw new ConfigError(`${name} must be 1-64 letters, digits, '.', '_' or '-'`);
    return set;
  }
  return createHash('sha256').update(`trektribe-kid:${secret}`).digest('base64url').slice(0, 12);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(raw: string | undefined, nodeEnv: AppConfig['nodeEnv']): string {
  const level = raw?.trim() || (nodeEnv === 'test' ? 'silent' : 'info');
  if (!LOG_LEVELS.includes(level))
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${level}"`);
  return level;
}

/** Dev-only secrets: generated once per data dir so tokens survive a restart. */
function devSecret(dataDir: string, name: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, `.${name}`);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

export function loadConfig(env: Env = process.env): AppConfig {
  const nodeEnvRaw = env.NODE_ENV ?? 'development';
  if (!['development', 'production', 'test'].includes(nodeEnvRaw)) {
    throw new ConfigError(`NODE_ENV must be development, production or test; got "${nodeEnvRaw}"`);
  }
  const nodeEnv = nodeEnvRaw as AppConfig['nodeEnv'];
  const dataDir = resolve(env.DATA_DIR?.trim() || './.data');

  const secret = (name: string, file: string): string => {
    const v = env[name]?.trim();
    if (v) {
      if (v.length < 32) throw new ConfigError(`${name} must be at least 32 characters`);
      return v;
    }
    if (nodeEnv === 'production') throw new ConfigError(`${name} is required when NODE_ENV=production`);
    return devSecret(dataDir, file);
  };
  const accessSecret = secret('JWT_ACCESS_SECRET', 'jwt-access-secret');
  const refreshSecret = secret('JWT_REFRESH_SECRET', 'jwt-refresh-secret');
  if (accessSecret === refreshSecret)
    throw new ConfigError('JWT_ACCESS_SECRET and JWT_REFRESH_SECRET must differ');
  const accessKid = kid(env, 'JWT_ACCESS_KID', accessSecret);
  const previousSecret = env.JWT_ACCESS_SECRET_PREVIOUS?.trim() || undefined;
  let previousAccess: AppConfig['jwt']['previousAccess'];
  if (previousSecret) {
    if (previousSecret.length < 32)
      throw new ConfigError('JWT_ACCESS_SECRET_PREVIOUS must be at least 32 characters');
    if (previousSecret === accessSecret)
      throw new ConfigError('JWT_ACCESS_SECRET_PREVIOUS must differ from JWT_ACCESS_SECRET');
    previousAccess = { secret: previousSecret, kid: kid(env, 'JWT_ACCESS_KID_PREVIOUS', previousSecret) };
    if (previousAccess.kid === accessKid)
      throw new ConfigError('JWT_ACCESS_KID_PREVIOUS must differ from JWT_ACCESS_KID');
  } else if (env.JWT_ACCESS_KID_PREVIOUS?.trim()) {
    throw new ConfigError('JWT_ACCESS_KID_PREVIOUS is set without JWT_ACCESS_SECRET_PREVIOUS');
  }

  const logFormat = env.LOG_FORMAT?.trim() || (nodeEnv === 'development' ? 'pretty' : 'json');
  if (logFormat !== 'pretty' && logFormat !== 'json')
    throw new ConfigError(`LOG_FORMAT must be pretty or json; got "${logFormat}"`);
  const metricsToken = env.METRICS_TOKEN?.trim() || undefined;
  if (metricsToken && metricsToken.length < 16)
    throw new ConfigError('METRICS_TOKEN must be at least 16 characters');

  const keyId = env.RAZORPAY_KEY_ID?.trim() || undefined;
  const keySecret = env.RAZORPAY_KEY_SECRET?.trim() || undefined;
  if (Boolean(keyId) !== Boolean(keySecret)) {
    throw new ConfigError('RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET must be set together');
  }

  const adminEmail = env.ADMIN_EMAIL?.trim() || undefined;
  const adminPassword = env.ADMIN_PASSWORD || undefined;
  if (Boolean(adminEmail) !== Boolean(adminPassword)) {
    throw new ConfigError('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
  }

  const corsOrigins = (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(`CORS_ORIGINS entry "${origin}" must be an origin like https://app.example.com`);
    }
  }

  return {
    nodeEnv,
    port: int(env, 'PORT', 3000, 0, 65535),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir,
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisKeyPrefix: env.REDIS_KEY_PREFIX?.trim() || 'tt:',
    jwt: {
      accessSecret,
      accessKid,
      previousAccess,
      refreshSecret,
      accessTtlSeconds: parseDuration('ACCESS_TOKEN_TTL', env.ACCESS_TOKEN_TTL || '15m'),
      refreshTtlSeconds: parseDuration('REFRESH_TOKEN_TTL', env.REFRESH_TOKEN_TTL || '30d'),
    },
    razorpay: {
      keyId,
      keySecret,
      webhookSecret: env.RAZORPAY_WEBHOOK_SECRET?.trim() || undefined,
      webhookSecretPrevious: env.RAZORPAY_WEBHOOK_SECRET_PREVIOUS?.trim() || undefined,
      apiUrl: url(env, 'RAZORPAY_API_URL', ['http:', 'https:']) ?? 'https://api.razorpay.com',
      timeoutMs: int(env, 'RAZORPAY_TIMEOUT_MS', 10_000, 100, 120_000),
    },
    mail: {
      smtpUrl: url(env, 'SMTP_URL', ['smtp:', 'smtps:']),
      from: env.MAIL_FROM?.trim() || 'TrekTribe <no-reply@trektribe.local>',
    },
    twilio: twilioConfig(env),
    google: {
      clientId: env.GOOGLE_CLIENT_ID?.trim() || undefined,
      jwksUrl:
        url(env, 'GOOGLE_JWKS_URL', ['http:', 'https:']) ?? 'https://www.googleapis.com/oauth2/v3/certs',
    },
    support: { firstResponseHours: int(env, 'SUPPORT_FIRST_RESPONSE_HOURS', 4, 1, 24 * 14) },
    publicAppUrl: (
      url(env, 'PUBLIC_APP_URL', ['http:', 'https:']) ??
      `http://localhost:${int(env, 'PORT', 3000, 0, 65535)}`
    ).replace(/\/+$/, ''),
    admin: { email: adminEmail, password: adminPassword },
    throttle: {
      limit: int(env, 'THROTTLE_LIMIT', 300),
      ttlSeconds: int(env, 'THROTTLE_TTL', 60),
      authLimit: int(env, 'AUTH_THROTTLE_LIMIT', 50),
    },
    holds: {
      onlineMinutes: int(env, 'ONLINE_HOLD_MINUTES', 15, 1, 24 * 60),
      screenshotHours: int(env, 'SCREENSHOT_HOLD_HOURS', 48, 1, 24 * 14),
      waitlistOfferHours: int(env, 'WAITLIST_OFFER_HOURS', 12, 1, 24 * 7),
    },
    corsOrigins,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    searchCacheTtlMs: int(env, 'SEARCH_CACHE_TTL_MS', 2000, 0, 60_000),
    webhookInlineBacklog: int(env, 'WEBHOOK_INLINE_BACKLOG', 16, 0, 100_000),
    webhookApplyConcurrency: int(env, 'WEBHOOK_APPLY_CONCURRENCY', 4, 1, 64),
    logLevel: logLevel(env.LOG_LEVEL, nodeEnv),
    logFormat,
    metricsToken,
    schedulerEnabled: (env.SCHEDULER_ENABLED ?? (nodeEnv === 'test' ? 'false' : 'true')) !== 'false',
  };
}
