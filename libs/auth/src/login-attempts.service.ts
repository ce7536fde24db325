import { Inject, Injectable, Optional } from '@nestjs/common';
import { Clock, DomainError, REDIS_CLIENT } from '@trektribe/common';
import type { Redis } from 'ioredis';

const MAX_FAILURES = 5;
const WINDOW_MS = 15 * 60_000;

/**
 * Failed logins per (IP, email): 5 per 15 minutes, then 429 until the window ends. Counted in Redis when
 * configured (shared by every instance), otherwise in memory.
 */
@Injectable()
export class LoginAttemptsService {
  private readonly local = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly clock: Clock,
    @Optional() @Inject(REDIS_CLIENT) private readonly redis?: Redis | null,
  ) {}

  private key(ip: string, email: string): string {
    return `login-fail:${ip}:${email}`;
  }

  async assertAllowed(ip: string, email: string): Promise<void> {
    const key = this.key(ip, email);
    let count = 0;
    let retryMs = 0;
    if (this.redis) {
      const [c, ttl] = await Promise.all([this.redis.get(key), this.redis.pttl(key)]);
      count = Number(c ?? 0);
      retryMs = ttl;
    } else {
      const entry = this.local.get(key);
      if (entry && entry.resetAt > this.clock.now().getTime()) {
        count = entry.count;
        retryMs = entry.resetAt - this.clock.now().getTime();
      }
    }
    if (count >= MAX_FAILURES) {
      const retryAfter = String(Math.max(1, Math.ceil(retryMs / 1000)));
      throw new DomainError(
        'TOO_MANY_LOGIN_ATTEMPTS',
        'Too many failed sign-in attempts; try again later',
        undefined,
        {
          'Retry-After': retryAfter,
        },
      );
    }
  }

  async recordFailure(ip: string, email: string): Promise<void> {
    const key = this.key(ip, email);
    if (this.redis) {
      await this.redis.multi().incr(key).pexpire(key, WINDOW_MS, 'NX').exec();
      return;
    }
    const now = this.clock.now().getTime();
    const entry = this.local.get(key);
    if (!entry || entry.resetAt <= now) this.local.set(key, { count: 1, resetAt: now + WINDOW_MS });
    else entry.count++;
    if (this.local.size > 100_000) this.prune(now);
  }

  async reset(ip: string, email: string): Promise<void> {
    const key = this.key(ip, email);
    if (this.redis) await this.redis.del(key);
    else this.local.delete(key);
  }

  private prune(now: number): void {
    for (const [k, v] of this.local) if (v.resetAt <= now) this.local.delete(k);
  }
}
