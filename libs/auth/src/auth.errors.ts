import { registerErrorCodes } from '@trektribe/common';

/** Auth's own refusals. */
export const AUTH_ERRORS = registerErrorCodes({
  /** Phone verification needs SMS, and no SMS provider (TWILIO_*) is configured. */
  SMS_NOT_CONFIGURED: 503,
} as const);

declare module '@trektribe/common' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging adds this lib's codes
  interface LibErrorCodes extends Record<keyof typeof AUTH_ERRORS, number> {}
}
