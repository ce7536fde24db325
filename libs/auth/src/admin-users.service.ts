import { Injectable } from '@nestjs/common';
import { AuditLog, AuditService, DomainError, isUniqueViolation, offsetOf, Page } from '@trektribe/common';
import { Notifier } from '@trektribe/notifications';
import { DataSource } from 'typeorm';
import type { Actor } from './actor';
import { adminAuditQuery, adminUsersQuery } from './admin-lists';
import { AdminAuditQuery, AdminCreateUserDto, AdminUpdateUserDto, AdminUsersQuery } from './auth.dto';
import { ONE_TIME_TOKEN_TTL_MS, OneTimeTokens } from './tokens/one-time-tokens';
import { TokenService } from './tokens/token.service';
import { toUserView, User, UserView } from './users/user.entity';

@Injectable()
export class AdminUsersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly tokens: TokenService,
    private readonly oneTimeTokens: OneTimeTokens,
    private readonly notifier: Notifier,
  ) {}

  /**
   * An agent or admin account without a password: the new colleague chooses one through the
   * emailed single-use link (`auth.invite`, 72 h; `POST /auth/reset-password` with its token), which
   * also verifies the email. 409 EMAIL_TAKEN when the email has an account.
   */
  async create(actor: Actor, dto: AdminCreateUserDto): Promise<UserView> {
    try {
      return await this.dataSource.transaction(async (m) => {
        const user = m.create(User, {
          name: dto.name,
          email: dto.email,
          phone: dto.phone,
          role: dto.role,
          passwordHash: null,
        });
        await m.save(user);
        await this.audit.record(m, {
          actor,
          action: 'admin.user_created',
          entityType: 'user',
          entityId: user.id,
          after: toUserView(user),
        });
        const [admin] = (await m.query(`SELECT name FROM users WHERE id = $1`, [actor.id])) as {
          name: string;
        }[];
        const code = await this.oneTimeTokens.issue(m, user.id, 'invite');
        await this.notifier.notify(m, {
          type: 'auth.invite',
          userId: user.id,
          data: {
            code,
            role: dto.role,
            invitedBy: admin?.name ?? 'A TrekTribe admin',
            hours: ONE_TIME_TOKEN_TTL_MS.invite / 3600_000,
          },
        });
        return toUserView(user);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'uq_users_email')) {
        throw new DomainError('EMAIL_TAKEN', 'An account with this email already exists', [
          { field: 'email', message: 'email is already registered' },
        ]);
      }
      throw err;
    }
  }

  async list(q: AdminUsersQuery): Promise<Page<UserView>> {
    const qb = adminUsersQuery(this.dataSource, q);
    qb.orderBy('u.createdAt', 'DESC').addOrderBy('u.id', 'ASC').skip(offsetOf(q)).take(q.limit);
    const [rows, total] = await qb.getManyAndCount();
    return Page.of(rows.map(toUserView), total, q);
  }

  async get(id: string): Promise<UserView> {
    const user = await this.dataSource.getRepository(User).findOne({ where: { id } });
    if (!user) throw DomainError.notFound('User');
    return toUserView(user);
  }

  /** Deactivation and role changes bump the token version, so they take effect on the next request. */
  async update(actor: Actor, id: string, dto: AdminUpdateUserDto): Promise<UserView> {
    if (id === actor.id && (dto.isActive === false || (dto.role && dto.role !== 'admin'))) {
      throw new DomainError('BUSINESS_RULE', 'Admins cannot deactivate or demote themselves');
    }
    return this.dataSource.transaction(async (m) => {
      const user = await m.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw DomainError.notFound('User');
      const before = toUserView(user);
      const changesAccess =
        (dto.isActive !== undefined && dto.isActive !== user.isActive) ||
        (dto.role && dto.role !== user.role);
      Object.assign(user, dto);
      if (changesAccess) user.tokenVersion += 1;
      await m.save(user);
      if (changesAccess) await this.tokens.revokeAllForUser(m, user.id);
      if (dto.isActive === false) await this.oneTimeTokens.voidAll(m, user.id, ['reset_password', 'invite']);
      await this.audit.record(m, {
        actor,
        action: 'admin.user_updated',
        entityType: 'user',
        entityId: id,
        before,
        after: toUserView(user),
      });
      return toUserView(user);
    });
  }

  async deactivate(actor: Actor, id: string): Promise<void> {
    await this.update(actor, id, { isActive: false });
  }

  async auditLogs(q: AdminAuditQuery): Promise<Page<AuditLog>> {
    const qb = adminAuditQuery(this.dataSource, q);
    qb.orderBy('a.createdAt', 'DESC').addOrderBy('a.id', 'DESC').skip(offsetOf(q)).take(q.limit);
    const [rows, total] = await qb.getManyAndCount();
    return Page.of(rows, total, q);
  }
}
