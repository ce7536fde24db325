import type { ThrottlerStorage } from '@nestjs/throttler';

interface Window {
  hits: number;
  expiresAt: number;
  blockedUntil: number;
}

/** The library's record type (not re-exported from its index). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * In-memory rate-limit counters for a single instance (Redis takes over when REDIS_URL is set):
 * a fixed window per key, O(1) per request, the same rule as the Redis store's script.
 * @nestjs/throttler's own memory store keeps one timestamp per hit and filters them all on every
 * request, so one busy client (or a shared NAT address) made each request cost O(hits in the
 * window): search CPU per request rose ~40 % within a minute of load (bench/README.md).
 */
export class FixedWindowThrottlerStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, Window>();
  /** Expired windows are dropped in passing, at most once a minute (no timer to leak). */
  private nextSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const now = this.now();
    if (now >= this.nextSweep) {
      this.nextSweep = now + 60_000;
      this.evictExpired(now);
    }
    const id = `${throttlerName}:${key}`;
    let w = this.windows.get(id);
    if (!w || (w.expiresAt <= now && w.blockedUntil <= now)) {
      w = { hits: 0, expiresAt: now + ttl, blockedUntil: 0 };
      this.windows.set(id, w);
    } else if (w.expiresAt <= now) {
      w.hits = 0;
      w.expiresAt = now + ttl;
    }
    w.hits += 1;
    if (w.blockedUntil <= now && w.hits > limit)
      w.blockedUntil = now + (blockDuration > 0 ? blockDuration : w.expiresAt - now);
    const blocked = w.blockedUntil > now;
    return {
      totalHits: w.hits,
      timeToExpire: Math.ceil((w.expiresAt - now) / 1000),
      isBlocked: blocked,
      timeToBlockExpire: blocked ? Math.ceil((w.blockedUntil - now) / 1000) : 0,
    };
  }

  private evictExpired(now: number): void {
    for (const [id, w] of this.windows)
      if (w.expiresAt <= now && w.blockedUntil <= now) this.windows.delete(id);
  }
}
