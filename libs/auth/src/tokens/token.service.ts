import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig, Clock, DomainError, returnedRows, UnitOfWork } from '@trektribe/common';
import '../auth.events';
import { randomUUID } from 'node:crypto';
import { EntityManager, IsNull } from 'typeorm';
import { User } from '../users/user.entity';
import { AccessTokenKeys } from './access-keys';
import { RefreshToken } from './refresh-token.entity';
import { hashToken, newOpaqueToken } from './secrets';

export interface AccessClaims {
  sub: string;
  role: string;
  tv: number;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** Access token lifetime in seconds. */
  expiresIn: number;
  refreshExpiresIn: number;
}

@Injectable()
export class TokenService {
  constructor(
    private readonly keys: AccessTokenKeys,
    private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Starts a new refresh family (a sign-in) or continues one (a rotation). */
  async issue(
    manager: EntityManager,
    user: Pick<User, 'id' | 'role' | 'tokenVersion'>,
    familyId: string = randomUUID(),
  ): Promise<TokenPair> {
    const { accessTtlSeconds, refreshTtlSeconds } = this.config.jwt;
    const claims: AccessClaims = { sub: user.id, role: user.role, tv: user.tokenVersion };
    const nowSec = Math.floor(this.clock.now().getTime() / 1000);
    const accessToken = await this.keys.sign({ ...claims, iat: nowSec, exp: nowSec + accessTtlSeconds });
    const refreshToken = newOpaqueToken();
    await manager.insert(RefreshToken, {
      userId: user.id,
      familyId,
      tokenHash: hashToken(refreshToken),
      expiresAt: new Date(this.clock.now().getTime() + refreshTtlSeconds * 1000),
    });
    return { accessToken, refreshToken, expiresIn: accessTtlSeconds, refreshExpiresIn: refreshTtlSeconds };
  }

  /**
   * Rotates a refresh token and mints its successor in the caller's transaction, holding the owner's
   * session lock until commit. The conditional update makes rotation single-winner under races; a
   * token that was already rotated is a replay, so its whole family is revoked (theft detection).
   * Because a replay waits for the lock, it runs after the winner has committed and its revocation
   * sees (and revokes) the winner's successor: the same outcome whatever the timing (issue 10).
   */
  async rotate<U extends Pick<User, 'id' | 'role' | 'tokenVersion'>>(
    manager: EntityManager,
    presented: string,
    /** The owner, if they may still sign in (null: the family is revoked and the refresh refused). */
    owner: (userId: string) => Promise<U | null>,
  ): Promise<{ user: U; pair: TokenPair }> {
    const hash = hashToken(presented);
    const known = await manager.findOne(RefreshToken, { where: { tokenHash: hash } });
    if (!known) throw invalidRefreshToken();
    await this.lockSessions(manager, known.userId);
    const now = this.clock.now();
    const rotated: unknown = await manager.query(
      `UPDATE refresh_tokens SET rotated_at = $2
        WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $2
        RETURNING user_id, family_id`,
      [hash, now],
    );
    const rows = returnedRows<{ user_id: string; family_id: string }>(rotated);
    if (rows.length !== 1) {
      const current = await manager.findOne(RefreshToken, { where: { id: known.id } });
      if (current?.rotatedAt) await this.revokeFamily(manager, known.userId, known.familyId);
      throw invalidRefreshToken();
    }
    const user = await owner(known.userId);
    if (!user) {
      await this.revokeFamily(manager, known.userId, known.familyId);
      throw invalidRefreshToken();
    }
    return { user, pair: await this.issue(manager, user, known.familyId) };
  }

  async revokeFamily(manager: EntityManager, userId: string, familyId: string): Promise<void> {
    await this.lockSessions(manager, userId);
    await manager.update(RefreshToken, { familyId, revokedAt: IsNull() }, { revokedAt: this.clock.now() });
  }

  async revokeByToken(manager: EntityManager, presented: string, userId: string): Promise<void> {
    const known = await manager.findOne(RefreshToken, { where: { tokenHash: hashToken(presented), userId } });
    if (known) await this.revokeFamily(manager, userId, known.familyId);
  }

  /** Ends every session: the refresh tokens now, and (event) the user's open sockets after commit. */
  async revokeAllForUser(manager: EntityManager, userId: string): Promise<void> {
    await this.lockSessions(manager, userId);
    await manager.update(RefreshToken, { userId, revokedAt: IsNull() }, { revokedAt: this.clock.now() });
    await this.uow.of(manager).emit({ type: 'user.sessions_revoked', userId });
  }

  /**
   * Every change to one user's refresh tokens (rotation with its successor, revocations) holds this
   * row lock until commit, so a revocation can never miss a successor minted concurrently. FOR NO KEY
   * UPDATE leaves foreign-key checks on the user (new bookings, tokens) unblocked.
   */
  private async lockSessions(manager: EntityManager, userId: string): Promise<void> {
    await manager.query(`SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, [userId]);
  }
}

function invalidRefreshToken(): DomainError {
  return new DomainError('INVALID_REFRESH_TOKEN', 'Refresh token is invalid, expired or revoked');
}
