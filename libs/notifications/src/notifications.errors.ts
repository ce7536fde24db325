import { registerErrorCodes } from '@trektribe/common';

/** Notifications' own refusals. */
export const NOTIFICATION_ERRORS = registerErrorCodes({
  /** Only a failed or skipped message can be sent again. */
  NOTIFICATION_NOT_RETRYABLE: 409,
  /** Security mail (`auth.*` email) cannot be turned off (API.md). */
  PREFERENCE_LOCKED: 422,
} as const);

declare module '@trektribe/common' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging adds this lib's codes
  interface LibErrorCodes extends Record<keyof typeof NOTIFICATION_ERRORS, number> {}
}
