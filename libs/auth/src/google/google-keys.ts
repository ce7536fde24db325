import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig, Clock, DomainError } from '@trektribe/common';
import { createLocalJWKSet, type CryptoKey, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';

/** Without a usable Cache-Control max-age, keys are kept this long. */
const DEFAULT_MAX_AGE_S = 300;
/** However long Google says, keys are fetched again at least daily. */
const MAX_AGE_CAP_S = 86_400;
/** An unknown `kid` fetches the set again at most this often, so forged kids cannot flood Google. */
export const UNKNOWN_KID_COOLDOWN_MS = 30_000;
const FETCH_TIMEOUT_MS = 5_000;

interface CachedSet {
  resolve: ReturnType<typeof createLocalJWKSet>;
  kids: Set<string>;
  fetchedAt: number;
  expiresAt: number;
}

/**
 * Google's signing keys (GOOGLE_JWKS_URL), cached for their HTTP cache lifetime (Cache-Control
 * max-age less Age) and fetched again before that when a token names a key we do not hold (Google
 * rotates keys), at most once per UNKNOWN_KID_COOLDOWN_MS. Times come from the app Clock.
 * jose does the key selection and the cryptography; this class only decides when to fetch.
 */
@Injectable()
export class GoogleKeys {
  private readonly logger = new Logger(GoogleKeys.name);
  private cached: CachedSet | undefined;
  private inFlight: Promise<CachedSet> | undefined;
  /** How many times the key set was fetched (for the logs and the tests' reasoning). */
  fetches = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** A jose key resolver: `jwtVerify(token, keys.resolver)`. */
  readonly resolver = async (header: JWSHeaderParameters): Promise<CryptoKey> => {
    const now = this.clock.now().getTime();
    let set = this.cached;
    if (!set || now >= set.expiresAt) set = await this.refresh();
    else if (header.kid && !set.kids.has(header.kid) && now - set.fetchedAt >= UNKNOWN_KID_COOLDOWN_MS) {
      set = await this.refresh();
    }
    // Throws JWKSNoMatchingKey for a kid still unknown: the caller answers 401.
    return set.resolve(header);
  };

  private refresh(): Promise<CachedSet> {
    this.inFlight ??= this.fetchSet().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async fetchSet(): Promise<CachedSet> {
    const url = this.config.google.jwksUrl;
    let body: unknown;
    let cacheControl: string | null;
    let age: string | null;
    try {
      this.fetches++;
      const res = await fetch(url, {
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        headers: { accept: 'application/json' },
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = await res.json();
      cacheControl = res.headers.get('cache-control');
      age = res.headers.get('age');
    } catch (err) {
      this.logger.warn({ url, err: (err as Error).message }, 'could not fetch the Google signing keys');
      throw new DomainError(
        'GOOGLE_UNAVAILABLE',
        'Google sign-in is unavailable right now; try again shortly',
      );
    }
    const keys = (body as JSONWebKeySet | undefined)?.keys;
    if (!Array.isArray(keys)) {
      this.logger.warn({ url }, 'the Google key set has no keys array');
      throw new DomainError(
        'GOOGLE_UNAVAILABLE',
        'Google sign-in is unavailable right now; try again shortly',
      );
    }
    const jwks = body as JSONWebKeySet;
    const now = this.clock.now().getTime();
    const set: CachedSet = {
      resolve: createLocalJWKSet(jwks),
      kids: new Set(keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string')),
      fetchedAt: now,
      expiresAt: now + cacheLifetimeSeconds(cacheControl, age) * 1000,
    };
    this.cached = set;
    return set;
  }
}

/** Seconds a response may be reused: max-age (s-maxage ignored: we are not a shared cache) less Age. */
export function cacheLifetimeSeconds(cacheControl: string | null, age: string | null): number {
  const cc = (cacheControl ?? '').toLowerCase();
  if (/(^|,)\s*(no-store|no-cache)\b/.test(cc)) return 0;
  const m = /(^|,)\s*max-age\s*=\s*"?(\d+)"?/.exec(cc);
  if (!m) return DEFAULT_MAX_AGE_S;
  const ageS = age && /^\d+$/.test(age.trim()) ? Number(age.trim()) : 0;
  return Math.min(Math.max(Number(m[2]) - ageS, 0), MAX_AGE_CAP_S);
}
