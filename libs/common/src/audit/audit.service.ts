import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { EntityManager } from 'typeorm';
import { RequestContext } from '../http/request-context';
import { UnitOfWork } from '../uow/unit-of-work';
import { AuditLog } from './audit-log.entity';

export interface AuditActor {
  id: string;
  role: string;
}

export interface AuditEntry {
  actor: AuditActor | null;
  action: string;
  entityType: string;
  entityId?: string | null;
  before?: object | null;
  after?: object | null;
}

const SECRET_KEYS = /password|secret|token|hash/i;

/** Drops credentials so an audit row can be shown to an admin without leaking them. */
function scrub(value: object | null | undefined): Record<string, unknown> | null {
  if (!value) return null;
  return JSON.parse(
    JSON.stringify(value, (key, v: unknown) => (key && SECRET_KEYS.test(key) ? undefined : v)),
  ) as Record<string, unknown>;
}

/** Told of audit entries once the transaction that wrote them has committed (never on rollback). */
export type AuditObserver = (entries: readonly AuditEntry[]) => void;

@Injectable()
export class AuditService {
  private readonly observers: AuditObserver[] = [];

  constructor(
    private readonly cls: ClsService<RequestContext>,
    private readonly uow: UnitOfWork,
  ) {}

  /**
   * Every state change worth an audit row passes here (a booking held, confirmed, cancelled,
   * expired; a payment captured or failed; a refund requested, processed, failed): the app's
   * metrics count them by observing, with nothing to add at each place a change happens.
   */
  observe(observer: AuditObserver): void {
    this.observers.push(observer);
  }

  /** Writes through the caller's manager so the row commits or rolls back with the change it records. */
  async record(manager: EntityManager, entry: AuditEntry): Promise<void> {
    await this.recordMany(manager, [entry]);
  }

  /**
   * Several rows in one INSERT (a job's batch), scrubbed and stamped with the request context like
   * one: the only way audit rows are written.
   */
  async recordMany(manager: EntityManager, entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const ctx = this.cls.isActive() ? this.cls.get() : undefined;
    await manager.insert(
      AuditLog,
      entries.map((entry) =>
        manager.create(AuditLog, {
          actorId: entry.actor?.id ?? null,
          actorRole: entry.actor?.role ?? null,
          action: entry.action,
          entityType: entry.entityType,
          entityId: entry.entityId ?? null,
          before: scrub(entry.before),
          after: scrub(entry.after),
          ip: ctx?.ip?.slice(0, 64) ?? null,
          userAgent: ctx?.userAgent?.slice(0, 300) ?? null,
          requestId: ctx?.requestId ?? null,
        }),
      ),
    );
    if (this.observers.length) {
      this.uow.afterCommit(manager, () => {
        for (const observe of this.observers) observe(entries);
      });
    }
  }
}
