import type { Subscription } from './subscription.entity';

export const DAY_MS = 86_400_000;

/** The organizer plan of API.md: 60-day trial from registration, then ₹1,499 every 60 days. */
export const PLAN = {
  amount: 149_900,
  currency: 'INR',
  trialDays: 60,
  periodDays: 60,
  /** A failed charge is retried daily; the third failure suspends. */
  maxFailedAttempts: 3,
  retryAfterMs: DAY_MS,
} as const;

/** Checkout authorisation amounts (RAZORPAY.md: e-mandate authorisation orders are for 0 paise). */
export const AUTHORIZATION_AMOUNT = { card: 100, upi: 100, emandate: 0 } as const;
export type MandateMethod = keyof typeof AUTHORIZATION_AMOUNT;
export const MANDATE_METHODS = Object.keys(AUTHORIZATION_AMOUNT) as MandateMethod[];
/** The mandate may debit up to twice the plan amount, for 10 years. */
export const MANDATE_MAX_AMOUNT_FACTOR = 2;
export const MANDATE_YEARS = 10;

/**
 * How long a runner's claim on a cycle ("charging") stands before another run may look at the
 * gateway and take over: covers a crash between the claim and recording the charge. Far longer than
 * any gateway call (RAZORPAY_TIMEOUT_MS), far shorter than the daily retry.
 */
export const CHARGE_LEASE_MS = 15 * 60_000;

/** Reminder emails go out this many days before a charge. */
export const REMINDER_DAYS = [7, 3] as const;
export type ReminderDay = (typeof REMINDER_DAYS)[number];
/** Trial-ending notices go out when the trial ends within this many days. */
export const TRIAL_NOTICE_DAYS = 7;

/**
 * Razorpay receipts are at most 40 characters and a UUID alone is 36, so receipts carry the first 24
 * hex digits of the subscription id (96 bits, of which 92 random in a v4 UUID): a collision between
 * two subscriptions is not a practical concern, and the code checks the row it reads back anyway.
 *   cycle order:         `sub:<24 hex>:<cycle>`          (≤ 40 for any cycle below 10^11)
 *   authorisation order: `subauth:<24 hex>:<6 hex nonce>` (39)
 */
export function shortId(id: string): string {
  return id.replace(/-/g, '').slice(0, 24).toLowerCase();
}

export function cycleReceipt(subscriptionId: string, cycle: number): string {
  return `sub:${shortId(subscriptionId)}:${cycle}`;
}

export function authorizationReceipt(subscriptionId: string, nonce: string): string {
  return `subauth:${shortId(subscriptionId)}:${nonce}`;
}

export function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * DAY_MS);
}

/**
 * Which reminder is due for a charge at `chargeAt` seen at `now`: the 7-day one while the charge is 4–7
 * days away, the 3-day one while it is 0–3 days away (whole days, rounded, so a daily job at 10:00
 * sends each once whatever the hour of the charge), nothing otherwise.
 */
export function reminderDue(chargeAt: Date, now: Date): ReminderDay | null {
  const ms = chargeAt.getTime() - now.getTime();
  if (ms <= 0) return null;
  const days = Math.round(ms / DAY_MS);
  if (days <= 3) return 3;
  if (days <= 7) return 7;
  return null;
}

/** What `GET /auto-pay/status` answers and `subscription.updated` carries. */
export function toAutoPayStatus(s: Subscription) {
  return {
    subscriptionId: s.id,
    status: s.status,
    trialEndsAt: s.trialEndsAt,
    currentPeriodEnd: s.currentPeriodEnd,
    /** Null when no charge is coming: cancelling, cancelled, or suspended without a new mandate. */
    nextChargeAt: s.cancelAtPeriodEnd || s.status === 'cancelled' ? null : s.nextChargeAt,
    amount: s.amount,
    currency: s.currency,
    failedAttempts: s.failedAttempts,
    hasPaymentMethod: s.gatewayTokenId !== null,
    cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    suspendedAt: s.suspendedAt,
  };
}
export type AutoPayStatus = ReturnType<typeof toAutoPayStatus>;

/** Razorpay sample payloads are not always typed consistently (`captured: "1"`). */
export function isCaptured(p: { status: string; captured: boolean | string | number }): boolean {
  return (
    p.status === 'captured' ||
    p.status === 'refunded' ||
    p.captured === true ||
    p.captured === 1 ||
    p.captured === '1' ||
    p.captured === 'true'
  );
}
