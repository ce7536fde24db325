import { Injectable } from '@nestjs/common';
import { AuditLog, AuditService, DomainError, offsetOf, Page } from '@trektribe/common';
import { DataSource } from 'typeorm';
import type { Actor } from './actor';
import { adminAuditQuery, adminUsersQuery } from './admin-lists';
import { AdminAuditQuery, AdminUpdateUserDto, AdminUsersQuery } from './auth.dto';
import { TokenService } from './tokens/token.service';
import { toUserView, User, UserView } from './users/user.entity';

@Injectable()
export class AdminUsersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly tokens: TokenService,
  ) {}

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
