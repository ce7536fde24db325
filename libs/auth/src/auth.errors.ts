import { registerErrorCodes } from '@trektribe/common';

/** Auth's own refusals. */
export const AUTH_ERRORS = registerErrorCodes({
  /** Phone verification needs SMS, and no SMS provider (TWILIO_*) is configured. */
  SMS_NOT_CONFIGURED: 503,
  /** Google sign-in needs GOOGLE_CLIENT_ID, which is not set. */
  GOOGLE_NOT_CONFIGURED: 503,
  /** Google's signing keys could not be fetched. */
  GOOGLE_UNAVAILABLE: 503,
  /** The Google ID token failed verification (signature, audience, issuer, expiry, verified email). */
  INVALID_GOOGLE_TOKEN: 401,
  /** The account with this email is already linked to a different Google account. */
  GOOGLE_ACCOUNT_CONFLICT: 409,
  /** `POST /auth/complete-profile` on an account that already has a phone or completed it once. */
  PROFILE_ALREADY_COMPLETE: 409,
  /** The role can no longer change: the account already has bookings or trips. */
  ROLE_LOCKED: 409,
} as const);

declare module '@trektribe/common' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging adds this lib's codes
  interface LibErrorCodes extends Record<keyof typeof AUTH_ERRORS, number> {}
}
