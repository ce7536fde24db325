import { Injectable } from '@nestjs/common';
import {
  AuditLog,
  CsvExport,
  CsvFile,
  csvQueryFrom,
  escapeLike,
  istDayEnd,
  istDayStart,
} from '@trektribe/common';
import { DataSource } from 'typeorm';
import { AdminAuditQuery, AdminUsersQuery } from './auth.dto';
import { User } from './users/user.entity';

/** The users an admin's filters select: the JSON page and the CSV export read the same rows. */
export function adminUsersQuery(dataSource: DataSource, q: AdminUsersQuery) {
  const qb = dataSource.getRepository(User).createQueryBuilder('u');
  if (q.role) qb.andWhere('u.role = :role', { role: q.role });
  if (q.q)
    qb.andWhere('(u.email ILIKE :q OR u.name ILIKE :q OR u.phone ILIKE :q)', { q: `%${escapeLike(q.q)}%` });
  if (q.isActive !== undefined) qb.andWhere('u.isActive = :a', { a: q.isActive === 'true' });
  if (q.status) qb.andWhere('u.isActive = :active', { active: q.status === 'active' });
  return qb;
}

/** The audit rows an admin's filters select (`from`/`to`: IST calendar days, both included). */
export function adminAuditQuery(dataSource: DataSource, q: AdminAuditQuery) {
  const qb = dataSource.getRepository(AuditLog).createQueryBuilder('a');
  if (q.entityType) qb.andWhere('a.entityType = :t', { t: q.entityType });
  if (q.entity) qb.andWhere('a.entityType = :entity', { entity: q.entity });
  if (q.entityId) qb.andWhere('a.entityId = :e', { e: q.entityId });
  if (q.actorId) qb.andWhere('a.actorId = :actor', { actor: q.actorId });
  if (q.action) qb.andWhere('a.action = :action', { action: q.action });
  if (q.from) qb.andWhere('a.createdAt >= :from', { from: istDayStart(q.from) });
  if (q.to) qb.andWhere('a.createdAt < :to', { to: istDayEnd(q.to) });
  return qb;
}

/** The CSV columns: the JSON view's fields that fit a cell (no password hash, no token version). */
const USER_CSV = {
  id: 'u.id',
  name: 'u.name',
  email: 'u.email',
  phone: 'u.phone',
  role: 'u.role',
  isActive: 'u.is_active',
  emailVerified: 'u.email_verified_at IS NOT NULL',
  phoneVerified: 'u.phone_verified_at IS NOT NULL',
  location: 'u.location',
  lastLoginAt: 'u.last_login_at',
  createdAt: 'u.created_at',
};

const AUDIT_CSV = {
  id: 'a.id',
  createdAt: 'a.created_at',
  actorId: 'a.actor_id',
  actorRole: 'a.actor_role',
  action: 'a.action',
  entityType: 'a.entity_type',
  entityId: 'a.entity_id',
  before: 'a.before',
  after: 'a.after',
  ip: 'a.ip',
  userAgent: 'a.user_agent',
  requestId: 'a.request_id',
};

/** `Accept: text/csv` on the admin's user and audit lists: every matching row, in the JSON order. */
@Injectable()
export class AdminListsCsv {
  constructor(
    private readonly dataSource: DataSource,
    private readonly csv: CsvExport,
  ) {}

  users(q: AdminUsersQuery): CsvFile {
    const query = csvQueryFrom(adminUsersQuery(this.dataSource, q), USER_CSV, [
      ['createdAt', 'DESC'],
      ['id', 'ASC'],
    ]);
    return this.csv.file(query, 'users');
  }

  auditLogs(q: AdminAuditQuery): CsvFile {
    const query = csvQueryFrom(adminAuditQuery(this.dataSource, q), AUDIT_CSV, [
      ['createdAt', 'DESC'],
      ['id', 'DESC'],
    ]);
    return this.csv.file(query, 'audit-logs');
  }
}
