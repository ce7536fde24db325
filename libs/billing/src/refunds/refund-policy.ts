import type { Refund } from './refund.entity';

/**
 * Gateway requests after which a refund the gateway keeps refusing (or reporting failed) is left
 * `failed` for an admin. A gateway that cannot be reached is not a refusal: those refunds keep
 * retrying on the capped backoff and are flagged for attention once past this many attempts.
 */
export const MAX_REFUND_ATTEMPTS = 6;

/** 5 min, 10, 20, 40 … capped at 6 h. */
export function refundBackoffMs(attempts: number): number {
  return Math.min(6 * 3_600_000, 5 * 60_000 * 2 ** Math.max(0, attempts - 1));
}

/** Money still owed that needs a person: a manual payout, a refund given up on, or one stuck past its attempts. */
export function refundNeedsAttention(r: Pick<Refund, 'status' | 'nextAttemptAt' | 'attempts'>): boolean {
  if (r.status === 'manual_due') return true;
  if (r.status === 'failed' && r.nextAttemptAt === null) return true;
  return (r.status === 'pending' || r.status === 'failed') && r.attempts >= MAX_REFUND_ATTEMPTS;
}

/** The same rule in SQL, for the admin list (`alias` is the refunds table alias). */
export function refundNeedsAttentionSql(alias: string): string {
  return `(${alias}.status = 'manual_due' OR (${alias}.status = 'failed' AND ${alias}.next_attempt_at IS NULL)
    OR (${alias}.status IN ('pending', 'failed') AND ${alias}.attempts >= ${MAX_REFUND_ATTEMPTS}))`;
}
