import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig, Clock, DomainError } from '@trektribe/common';
import { errors as joseErrors, jwtVerify } from 'jose';
import { GoogleKeys } from './google-keys';

/** What a verified Google ID token tells us about its person. */
export interface GoogleIdentity {
  /** Google's stable account id (`sub`). */
  sub: string;
  /** Lower-cased; Google has verified it (`email_verified`). */
  email: string;
  name: string | undefined;
}

const ISSUERS = ['accounts.google.com', 'https://accounts.google.com'];
/** Google signs ID tokens with RS256 only; `none`, HS256 and everything else are refused up front. */
const ALGORITHMS = ['RS256'];

/**
 * Verifies a Google ID token the way Google documents it: signature by one of Google's keys,
 * `aud` = GOOGLE_CLIENT_ID, `iss` = accounts.google.com, not expired (by the app clock, 30 s of skew),
 * and a verified email. Every failure is 401 INVALID_GOOGLE_TOKEN with the reason in details.
 */
@Injectable()
export class GoogleIdTokens {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: GoogleKeys,
    private readonly clock: Clock,
  ) {}

  async verify(credential: string): Promise<GoogleIdentity> {
    const clientId = this.config.google.clientId;
    if (!clientId) {
      throw new DomainError('GOOGLE_NOT_CONFIGURED', 'Google sign-in is not configured on this server');
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(credential, this.keys.resolver, {
        algorithms: ALGORITHMS,
        issuer: ISSUERS,
        audience: clientId,
        currentDate: this.clock.now(),
        clockTolerance: 30,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (err) {
      if (err instanceof DomainError) throw err; // the key set could not be fetched
      throw invalid(reasonOf(err));
    }
    const { sub, email, email_verified: emailVerified, name } = payload;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255) throw invalid('sub is missing');
    if (typeof email !== 'string' || !email.includes('@') || email.length > 254) {
      throw invalid('the token carries no email');
    }
    // Google sends a boolean; older tokens carried the string "true".
    if (emailVerified !== true && emailVerified !== 'true') throw invalid('the Google email is not verified');
    return {
      sub,
      email: email.trim().toLowerCase(),
      name: typeof name === 'string' && name.trim() ? name.trim().slice(0, 120) : undefined,
    };
  }
}

function invalid(reason: string): DomainError {
  return new DomainError('INVALID_GOOGLE_TOKEN', 'The Google credential is not valid', [
    { field: 'credential', message: reason },
  ]);
}

function reasonOf(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim ${err.claim} is not accepted`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the token is not signed with RS256';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return "the token is not signed by one of Google's keys";
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  return 'the token is malformed';
}
