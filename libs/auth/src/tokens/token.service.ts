import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { APP_CONFIG, AppConfig, Clock, DomainError, returnedRows } from '@trektribe/common';
import { randomUUID } from 'node:crypto';
import { EntityManager, IsNull } from 'typeorm';
import { User } from '../users/user.entity';
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
    private readonly jwt: JwtService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Starts a new refresh family (a sign-in) or continues one (a rotation). */
  async issue(manager: EntityManager, user: Pick<User, 'id' | 'role' | 'tokenVersion'>, familyId: string = randomUUID()): Promise<TokenPair> {
    const { accessTtlSeconds, refreshTtlSeconds } = this.config.jwt;
    const claims: AccessClaims = { sub: user.id, role: user.role, tv: user.tokenVersion };
    const nowSec = Math.floor(this.clock.now().getTime() / 1000);
    const accessToken = await this.jwt.signAsync(
      { ...claims, iat: nowSec, exp: nowSec + accessTtlSeconds },
      { secret: this.config.jwt.accessSecret, algorithm: 'HS256' },
    );
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
   * Rotates a refresh token. The conditional update makes rotation single-winner under races; a token
   * that was already rotated is a replay, so its whole family is revoked (theft detection).
   */
  async rotate(manager: EntityManager, presented: string): Promise<{ userId: string; familyId: string }> {
    const now = this.clock.now();
    const hash = hashToken(presented);
    const rotated: unknown = await manager.query(
      `UPDATE refresh_tokens SET rotated_at = $2
        WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $2
        RETURNING user_id, family_id`,
      [hash, now],
    );
    const rows = returnedRows<{ user_id: string; family_id: string }>(rotated);
    if (rows.length === 1) return { userId: rows[0].user_id, familyId: rows[0].family_id };

    const known = await manager.findOne(RefreshToken, { where: { tokenHash: hash } });
    if (known?.rotatedAt) await this.revokeFamily(manager, known.familyId);
    throw new DomainError('INVALID_REFRESH_TOKEN', 'Refresh token is invalid, expired or revoked');
  }

  async revokeFamily(manager: EntityManager, familyId: string): Promise<void> {
    await manager.update(RefreshToken, { familyId, revokedAt: IsNull() }, { revokedAt: this.clock.now() });
  }

  async revokeByToken(manager: EntityManager, presented: string, userId: string): Promise<void> {
    const known = await manager.findOne(RefreshToken, { where: { tokenHash: hashToken(presented), userId } });
    if (known) await this.revokeFamily(manager, known.familyId);
  }

  async revokeAllForUser(manager: EntityManager, userId: string): Promise<void> {
    await manager.update(RefreshToken, { userId, revokedAt: IsNull() }, { revokedAt: this.clock.now() });
  }
}
