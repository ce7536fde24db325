import { registerErrorCodes } from '@trektribe/common';

/** Billing's own refusals (409: the refund, event or subscription is not in a state that allows it). */
export const BILLING_ERRORS = registerErrorCodes({
  /** Only a failed refund can be sent again. */
  REFUND_NOT_RETRYABLE: 409,
  /** Only a refund due by hand (or given up on) can be marked as paid by hand. */
  REFUND_NOT_MANUAL: 409,
  /** The webhook event was already applied; its outcome stands. */
  WEBHOOK_EVENT_PROCESSED: 409,
  /** The webhook event is being applied by another worker right now. */
  WEBHOOK_EVENT_BUSY: 409,
  /** Auto-pay verify before setup: there is no gateway customer yet. */
  AUTO_PAY_NOT_STARTED: 409,
  /** The subscription's status cannot move that way (SUBSCRIPTION_MOVES); nothing changed. */
  SUBSCRIPTION_STATE_CONFLICT: 409,
} as const);

declare module '@trektribe/common' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging adds this lib's codes
  interface LibErrorCodes extends Record<keyof typeof BILLING_ERRORS, number> {}
}
