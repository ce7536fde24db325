import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import { DomainError } from '@trektribe/common';

/** Per user when signed in (the auth guard has run), otherwise per IP; 429 in our envelope with Retry-After. */
@Injectable()
export class AppThrottlerGuard extends ThrottlerGuard {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the base class signature
  protected override getTracker(req: Record<string, any>): Promise<string> {
    const userId = (req.user as { id?: string } | undefined)?.id;
    return Promise.resolve(userId ? `user:${userId}` : `ip:${String(req.ip)}`);
  }

  protected override throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const retryAfter = String(Math.max(1, Math.ceil(detail.timeToBlockExpire || detail.timeToExpire)));
    throw new DomainError('RATE_LIMITED', 'Too many requests; slow down and try again shortly', undefined, {
      'Retry-After': retryAfter,
    });
  }
}
