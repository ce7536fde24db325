import { Injectable } from '@nestjs/common';
import { AuditService, Clock, DomainError, isUniqueViolation } from '@trektribe/common';
import { DataSource, EntityManager } from 'typeorm';
import '../auth.errors';
import type { AuthResult } from '../auth.service';
import { TokenService } from '../tokens/token.service';
import { toUserView, User } from '../users/user.entity';
import { GoogleIdentity, GoogleIdTokens } from './google-id-token';

export interface GoogleSignInResult extends AuthResult {
  /** `created` a new traveler, `linked` an existing account by its email, or `signed_in`. */
  outcome: 'created' | 'linked' | 'signed_in';
  /** False until the account has a phone: finish with `POST /auth/complete-profile`. */
  profileComplete: boolean;
}

/**
 * `POST /auth/google` (API.md, Accounts): a verified Google ID token signs in the account linked to
 * that Google account, links the account with the same (Google-verified) email, or creates a
 * traveler without password or phone.
 */
@Injectable()
export class GoogleSignInService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly idTokens: GoogleIdTokens,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async signIn(credential: string): Promise<GoogleSignInResult> {
    const identity = await this.idTokens.verify(credential);
    try {
      return await this.dataSource.transaction((m) => this.signInVerified(m, identity));
    } catch (err) {
      // Two first sign-ins of one person at once: the loser finds what the winner wrote.
      if (isUniqueViolation(err, 'uq_users_google_sub') || isUniqueViolation(err, 'uq_users_email')) {
        return this.dataSource.transaction((m) => this.signInVerified(m, identity));
      }
      throw err;
    }
  }

  private async signInVerified(m: EntityManager, identity: GoogleIdentity): Promise<GoogleSignInResult> {
    const now = this.clock.now();
    const bySub = await m
      .createQueryBuilder(User, 'u')
      .setLock('pessimistic_write')
      .where('u.google_sub = :sub', { sub: identity.sub })
      .getOne();
    if (bySub) return this.finish(m, bySub, 'signed_in');

    const byEmail = await m
      .createQueryBuilder(User, 'u')
      .addSelect('u.googleSub')
      .setLock('pessimistic_write')
      .where('u.email = :email', { email: identity.email })
      .getOne();
    if (byEmail) {
      if (byEmail.googleSub && byEmail.googleSub !== identity.sub) {
        throw new DomainError(
          'GOOGLE_ACCOUNT_CONFLICT',
          'The account with this email is already linked to a different Google account',
        );
      }
      if (!byEmail.isActive) throw new DomainError('ACCOUNT_DISABLED', 'This account has been deactivated');
      // The email was never proven by whoever registered it: a password they chose must not keep
      // working once the mailbox's owner signs in with Google (account pre-hijacking), nor sessions.
      const unproven = byEmail.emailVerifiedAt === null;
      if (unproven) {
        await m.query(
          `UPDATE users SET password_hash = NULL, token_version = token_version + 1 WHERE id = $1`,
          [byEmail.id],
        );
        await this.tokens.revokeAllForUser(m, byEmail.id);
        byEmail.tokenVersion += 1;
      }
      await m.update(
        User,
        { id: byEmail.id },
        { googleSub: identity.sub, emailVerifiedAt: byEmail.emailVerifiedAt ?? now },
      );
      byEmail.emailVerifiedAt ??= now;
      await this.audit.record(m, {
        actor: { id: byEmail.id, role: byEmail.role },
        action: 'user.google_linked',
        entityType: 'user',
        entityId: byEmail.id,
        after: { googleSub: identity.sub, emailVerified: true, signInsReset: unproven },
      });
      return this.finish(m, byEmail, 'linked');
    }

    const user = m.create(User, {
      name: identity.name ?? identity.email.split('@')[0].slice(0, 120),
      email: identity.email,
      phone: null,
      passwordHash: null,
      googleSub: identity.sub,
      role: 'traveler',
      emailVerifiedAt: now,
    });
    await m.save(user);
    await this.audit.record(m, {
      actor: { id: user.id, role: user.role },
      action: 'user.registered',
      entityType: 'user',
      entityId: user.id,
      after: { ...toUserView(user), via: 'google' },
    });
    return this.finish(m, user, 'created');
  }

  private async finish(
    m: EntityManager,
    user: User,
    outcome: GoogleSignInResult['outcome'],
  ): Promise<GoogleSignInResult> {
    if (!user.isActive) throw new DomainError('ACCOUNT_DISABLED', 'This account has been deactivated');
    const now = this.clock.now();
    await m.update(User, { id: user.id }, { lastLoginAt: now });
    const pair = await this.tokens.issue(m, user);
    return { user: toUserView(user), ...pair, outcome, profileComplete: user.phone !== null };
  }
}
