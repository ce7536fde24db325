import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import {
  APP_CONFIG,
  AppConfig,
  AuditService,
  Clock,
  DomainError,
  isUniqueViolation,
  returnedRows,
} from '@trektribe/common';
import { Notifier } from '@trektribe/notifications';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor } from './actor';
import './auth.errors';
import {
  ChangePasswordDto,
  CompleteProfileDto,
  ForgotPasswordDto,
  LoginDto,
  RegisterDto,
  ResetPasswordDto,
  UpdateMeDto,
  VerifyEmailDto,
} from './auth.dto';
import { LoginAttemptsService } from './login-attempts.service';
import { OneTimeTokens } from './tokens/one-time-tokens';
import { AccessClaims, TokenPair, TokenService } from './tokens/token.service';
import { UserTokenPurpose } from './tokens/user-token.entity';
import { PasswordService } from './users/password.service';
import { toUserView, User, UserView } from './users/user.entity';

export interface AuthResult extends TokenPair {
  user: UserView;
}

@Injectable()
export class AuthService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly passwords: PasswordService,
    private readonly tokens: TokenService,
    private readonly oneTimeTokens: OneTimeTokens,
    private readonly attempts: LoginAttemptsService,
    private readonly audit: AuditService,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The first admin comes from ADMIN_EMAIL/ADMIN_PASSWORD, created once; safe with several instances. */
  async onApplicationBootstrap(): Promise<void> {
    const { email, password } = this.config.admin;
    if (!email || !password) return;
    const normalized = email.toLowerCase();
    const hash = await this.passwords.hash(password);
    const inserted = returnedRows<{ id: string }>(
      await this.dataSource.query(
        `INSERT INTO users (name, email, password_hash, role, email_verified_at)
         VALUES ('Administrator', $1, $2, 'admin', now()) ON CONFLICT (email) DO NOTHING RETURNING id`,
        [normalized, hash],
      ),
    );
    if (inserted.length) this.logger.log({ email: normalized }, 'bootstrap admin created');
  }

  async register(dto: RegisterDto): Promise<AuthResult> {
    const passwordHash = await this.passwords.hash(dto.password);
    try {
      const result = await this.dataSource.transaction(async (m) => {
        const user = m.create(User, {
          name: dto.name,
          email: dto.email,
          phone: dto.phone,
          passwordHash,
          role: dto.role ?? 'traveler',
        });
        await m.save(user);
        await this.audit.record(m, {
          actor: { id: user.id, role: user.role },
          action: 'user.registered',
          entityType: 'user',
          entityId: user.id,
          after: toUserView(user),
        });
        await this.sendOneTimeToken(m, user, 'verify_email');
        const pair = await this.tokens.issue(m, user);
        return { user: toUserView(user), ...pair };
      });
      return result;
    } catch (err) {
      if (isUniqueViolation(err, 'uq_users_email')) {
        throw new DomainError('EMAIL_TAKEN', 'An account with this email already exists', [
          { field: 'email', message: 'email is already registered' },
        ]);
      }
      throw err;
    }
  }

  async login(dto: LoginDto, ip: string): Promise<AuthResult> {
    await this.attempts.assertAllowed(ip, dto.email);
    const user = await this.dataSource
      .getRepository(User)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.email = :email', { email: dto.email })
      .getOne();
    const ok = await this.passwords.verify(user?.passwordHash, dto.password);
    if (!user || !ok) {
      await this.attempts.recordFailure(ip, dto.email);
      throw new DomainError('INVALID_CREDENTIALS', 'Email or password is incorrect');
    }
    if (!user.isActive) throw new DomainError('ACCOUNT_DISABLED', 'This account has been deactivated');
    await this.attempts.reset(ip, dto.email);
    return this.dataSource.transaction(async (m) => {
      await m.update(User, { id: user.id }, { lastLoginAt: this.clock.now() });
      const pair = await this.tokens.issue(m, user);
      return { user: toUserView(user), ...pair };
    });
  }

  async refresh(refreshToken: string | undefined): Promise<AuthResult> {
    if (!refreshToken) throw new DomainError('INVALID_REFRESH_TOKEN', 'A refresh token is required');
    // One transaction for the rotation and its successor. A refusal is returned rather than thrown
    // so that a replay's family revocation commits even though we then answer 401.
    const outcome = await this.dataSource.transaction(async (m) => {
      const rotated = await this.tokens
        .rotate(m, refreshToken, async (userId) => {
          const user = await m.findOne(User, { where: { id: userId } });
          return user?.isActive ? user : null;
        })
        .catch((e: unknown) => {
          if (e instanceof DomainError) return e; // a refusal: commit what it revoked
          throw e; // anything else rolls the whole rotation back
        });
      if (rotated instanceof DomainError) return rotated;
      return { user: toUserView(rotated.user), ...rotated.pair };
    });
    if (outcome instanceof DomainError) throw outcome;
    return outcome;
  }

  async logout(actor: Actor, refreshToken: string | undefined): Promise<void> {
    if (!refreshToken) return;
    await this.dataSource.transaction((m) => this.tokens.revokeByToken(m, refreshToken, actor.id));
  }

  /**
   * Signs out everywhere: every refresh token is revoked and the token version moves, so every
   * access token stops at once, and (user.sessions_revoked) the user's open sockets are cut off.
   */
  async logoutAll(actor: Actor): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await m.query(`UPDATE users SET token_version = token_version + 1, updated_at = now() WHERE id = $1`, [
        actor.id,
      ]);
      await this.tokens.revokeAllForUser(m, actor.id);
      await this.audit.record(m, {
        actor,
        action: 'user.logged_out_everywhere',
        entityType: 'user',
        entityId: actor.id,
      });
    });
  }

  /** Used by the auth guard on every request: a deactivated user or a stale token stops at once. */
  async authenticate(claims: AccessClaims): Promise<Actor> {
    const user = await this.dataSource.getRepository(User).findOne({ where: { id: claims.sub } });
    if (!user || !user.isActive || user.tokenVersion !== claims.tv) {
      throw new DomainError('UNAUTHORIZED', 'Authentication required');
    }
    return { id: user.id, role: user.role, email: user.email, name: user.name };
  }

  async me(actor: Actor): Promise<UserView> {
    const user = await this.dataSource.getRepository(User).findOneOrFail({ where: { id: actor.id } });
    return toUserView(user);
  }

  async updateMe(actor: Actor, dto: UpdateMeDto): Promise<UserView> {
    return this.dataSource.transaction(async (m) => {
      const user = await m.findOneOrFail(User, {
        where: { id: actor.id },
        lock: { mode: 'pessimistic_write' },
      });
      const before = toUserView(user);
      // A new number must be verified again before texts go to it.
      if (dto.phone !== undefined && dto.phone !== user.phone) user.phoneVerifiedAt = null;
      Object.assign(user, dto);
      await m.save(user);
      await this.audit.record(m, {
        actor,
        action: 'user.updated',
        entityType: 'user',
        entityId: user.id,
        before,
        after: toUserView(user),
      });
      return toUserView(user);
    });
  }

  /**
   * `POST /auth/complete-profile`: an account without a phone (made by Google sign-in) adds one and
   * may choose its role, once, while it has no bookings and no trips. New tokens carry the role.
   */
  async completeProfile(actor: Actor, dto: CompleteProfileDto): Promise<AuthResult> {
    return this.dataSource.transaction(async (m) => {
      const user = await m.findOneOrFail(User, {
        where: { id: actor.id },
        lock: { mode: 'pessimistic_write' },
      });
      if (user.phone !== null || user.profileCompletedAt !== null) {
        throw new DomainError('PROFILE_ALREADY_COMPLETE', 'This account already has its phone and role');
      }
      const before = toUserView(user);
      if (dto.role && dto.role !== user.role) {
        if (user.role !== 'traveler' && user.role !== 'organizer') {
          throw new DomainError('FORBIDDEN', 'Staff accounts cannot choose another role', [
            { field: 'role', message: 'staff roles are set by an admin' },
          ]);
        }
        // Bookings and trips belong to the booking lib: read, never written, from here.
        const [{ busy }] = (await m.query(
          `SELECT EXISTS (SELECT 1 FROM bookings WHERE traveler_id = $1)
               OR EXISTS (SELECT 1 FROM trips WHERE organizer_id = $1) AS busy`,
          [user.id],
        )) as { busy: boolean }[];
        if (busy) {
          throw new DomainError(
            'ROLE_LOCKED',
            'The role cannot change once the account has bookings or trips',
            [{ field: 'role', message: 'the account already has bookings or trips' }],
          );
        }
        user.role = dto.role;
      }
      user.phone = dto.phone;
      user.phoneVerifiedAt = null;
      user.profileCompletedAt = this.clock.now();
      await m.save(user);
      await this.audit.record(m, {
        actor,
        action: 'user.profile_completed',
        entityType: 'user',
        entityId: user.id,
        before,
        after: toUserView(user),
      });
      const pair = await this.tokens.issue(m, user);
      return { user: toUserView(user), ...pair };
    });
  }

  /** Signs out every other session: the token version moves and all refresh families are revoked. */
  async changePassword(actor: Actor, dto: ChangePasswordDto): Promise<AuthResult> {
    const user = await this.dataSource
      .getRepository(User)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.id = :id', { id: actor.id })
      .getOneOrFail();
    if (!(await this.passwords.verify(user.passwordHash, dto.currentPassword))) {
      throw new DomainError('INVALID_CREDENTIALS', 'Current password is incorrect', [
        { field: 'currentPassword', message: 'current password is incorrect' },
      ]);
    }
    const passwordHash = await this.passwords.hash(dto.newPassword);
    return this.dataSource.transaction(async (m) => {
      await this.setPassword(m, user.id, passwordHash);
      await this.audit.record(m, {
        actor,
        action: 'user.password_changed',
        entityType: 'user',
        entityId: user.id,
      });
      const fresh = await m.findOneOrFail(User, { where: { id: user.id } });
      const pair = await this.tokens.issue(m, fresh);
      return { user: toUserView(fresh), ...pair };
    });
  }

  /** Always succeeds, whatever the email: no account enumeration. */
  async forgotPassword(dto: ForgotPasswordDto): Promise<void> {
    const user = await this.dataSource.getRepository(User).findOne({ where: { email: dto.email } });
    if (!user || !user.isActive) return;
    await this.dataSource.transaction((m) => this.sendOneTimeToken(m, user, 'reset_password'));
  }

  /**
   * Sets a password from a mailed token: a reset, or an invitation (an account an admin created),
   * which also proves the email is the user's.
   */
  async resetPassword(dto: ResetPasswordDto): Promise<void> {
    const passwordHash = await this.passwords.hash(dto.password);
    await this.dataSource.transaction(async (m) => {
      const { userId, purpose } = await this.oneTimeTokens.consume(m, dto.token, [
        'reset_password',
        'invite',
      ]);
      await this.setPassword(m, userId, passwordHash);
      if (purpose === 'invite')
        await m.query(`UPDATE users SET email_verified_at = coalesce(email_verified_at, $2) WHERE id = $1`, [
          userId,
          this.clock.now(),
        ]);
      await this.audit.record(m, {
        actor: null,
        action: purpose === 'invite' ? 'user.invitation_accepted' : 'user.password_reset',
        entityType: 'user',
        entityId: userId,
      });
    });
  }

  async verifyEmail(dto: VerifyEmailDto): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const { userId } = await this.oneTimeTokens.consume(m, dto.token, ['verify_email']);
      await m.update(User, { id: userId }, { emailVerifiedAt: this.clock.now() });
      await this.audit.record(m, {
        actor: null,
        action: 'user.email_verified',
        entityType: 'user',
        entityId: userId,
      });
    });
  }

  private async setPassword(m: EntityManager, userId: string, passwordHash: string): Promise<void> {
    await m.query(
      `UPDATE users SET password_hash = $2, token_version = token_version + 1, updated_at = now() WHERE id = $1`,
      [userId, passwordHash],
    );
    await this.tokens.revokeAllForUser(m, userId);
    // Whatever set it, older reset and invitation links must not set it again.
    await this.oneTimeTokens.voidAll(m, userId, ['reset_password', 'invite']);
  }

  private async sendOneTimeToken(m: EntityManager, user: User, purpose: UserTokenPurpose): Promise<void> {
    const token = await this.oneTimeTokens.issue(m, user.id, purpose);
    await this.notifier.notify(m, {
      type: purpose === 'verify_email' ? 'auth.verify_email' : 'auth.password_reset',
      userId: user.id,
      data: { code: token },
    });
  }
}
