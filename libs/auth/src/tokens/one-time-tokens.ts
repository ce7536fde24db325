import { Injectable } from '@nestjs/common';
import { Clock, DomainError, returnedRows } from '@trektribe/common';
import { EntityManager } from 'typeorm';
import { hashToken, newOpaqueToken } from './secrets';
import { UserToken, UserTokenPurpose } from './user-token.entity';

/** How long each kind of mailed token works. An invitation waits for a new colleague's first day. */
export const ONE_TIME_TOKEN_TTL_MS: Record<UserTokenPurpose, number> = {
  verify_email: 48 * 3600_000,
  reset_password: 30 * 60_000,
  invite: 72 * 3600_000,
};

/**
 * Single-use tokens mailed to users (email verification, password reset, invitation): only the
 * SHA-256 of each is stored, and each works once, before it expires.
 */
@Injectable()
export class OneTimeTokens {
  constructor(private readonly clock: Clock) {}

  /** Stores a new token for the user in the caller's transaction; returns it (to mail, never to log). */
  async issue(m: EntityManager, userId: string, purpose: UserTokenPurpose): Promise<string> {
    const token = newOpaqueToken();
    await m.insert(UserToken, {
      userId,
      purpose,
      tokenHash: hashToken(token),
      expiresAt: new Date(this.clock.now().getTime() + ONE_TIME_TOKEN_TTL_MS[purpose]),
    });
    return token;
  }

  /**
   * Uses the token once, by a conditional update (two concurrent uses cannot both win), if it is of
   * one of `purposes` and its user is active. 400 INVALID_TOKEN when unknown, expired, used, voided
   * or the account is deactivated.
   */
  async consume(
    m: EntityManager,
    token: string,
    purposes: UserTokenPurpose[],
  ): Promise<{ userId: string; purpose: UserTokenPurpose }> {
    const rows = returnedRows<{ user_id: string; purpose: UserTokenPurpose }>(
      await m.query(
        `UPDATE user_tokens SET used_at = $3
          WHERE token_hash = $1 AND purpose = ANY($2::varchar[]) AND used_at IS NULL AND expires_at > $3
            AND EXISTS (SELECT 1 FROM users u WHERE u.id = user_tokens.user_id AND u.is_active)
          RETURNING user_id, purpose`,
        [hashToken(token), purposes, this.clock.now()],
      ),
    );
    if (rows.length !== 1)
      throw new DomainError('INVALID_TOKEN', 'This code is invalid, expired or already used');
    return { userId: rows[0].user_id, purpose: rows[0].purpose };
  }

  /**
   * Voids the user's unused tokens of these purposes (marked used): a password that was just set
   * makes every pending reset or invitation link dead, and so does deactivation.
   */
  async voidAll(m: EntityManager, userId: string, purposes: UserTokenPurpose[]): Promise<void> {
    await m.query(
      `UPDATE user_tokens SET used_at = $3 WHERE user_id = $1 AND purpose = ANY($2::varchar[]) AND used_at IS NULL`,
      [userId, purposes, this.clock.now()],
    );
  }
}
