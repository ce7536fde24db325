import { Injectable } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import {
  AuditService,
  Clock,
  CsvExport,
  CsvFile,
  csvQueryFrom,
  DomainError,
  offsetOf,
  Page,
  returnedRows,
  UnitOfWork,
} from '@trektribe/common';
import { DataSource } from 'typeorm';
import '../notifications.errors';
import { laneOf } from '../outbox/outbox-dispatcher';
import { OutboxChannel, OutboxMessage } from '../outbox/outbox-message.entity';
import { AdminNotificationsQuery } from './admin-notifications.dto';

/** An outbox row as the admin sees it; `body` and `html` only in the one-row view. */
export interface AdminNotificationView {
  id: string;
  channel: OutboxChannel;
  type: string;
  userId: string | null;
  recipient: string;
  subject: string | null;
  status: string;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  dedupeKey: string | null;
  sentAt: Date | null;
  createdAt: Date;
}

const toView = (o: OutboxMessage): AdminNotificationView => ({
  id: o.id,
  channel: o.channel,
  type: o.topic,
  userId: o.userId,
  recipient: o.recipient,
  subject: o.subject,
  status: o.status,
  attempts: o.attempts,
  nextAttemptAt: o.nextAttemptAt,
  lastError: o.lastError,
  dedupeKey: o.dedupeKey,
  sentAt: o.sentAt,
  createdAt: o.createdAt,
});

/** The CSV columns of the admin's message list: the list view (the bodies are in the one-row view only). */
const NOTIFICATION_CSV = {
  id: 'o.id',
  createdAt: 'o.created_at',
  channel: 'o.channel',
  type: 'o.topic',
  userId: 'o.user_id',
  recipient: 'o.recipient',
  subject: 'o.subject',
  status: 'o.status',
  attempts: 'o.attempts',
  nextAttemptAt: 'o.next_attempt_at',
  lastError: 'o.last_error',
  dedupeKey: 'o.dedupe_key',
  sentAt: 'o.sent_at',
};

/** The admin's view of every message (API.md, Admin), like the webhook-events view: find, read, retry. */
@Injectable()
export class AdminNotificationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    private readonly csv: CsvExport,
  ) {}

  /** Newest first, filtered by status, channel, user and type. */
  async list(q: AdminNotificationsQuery): Promise<Page<AdminNotificationView>> {
    const qb = this.filtered(q);
    qb.orderBy('o.created_at', 'DESC').addOrderBy('o.id', 'DESC').skip(offsetOf(q)).take(q.limit);
    const [rows, total] = await qb.getManyAndCount();
    return Page.of(rows.map(toView), total, q);
  }

  /** Every message `list` would page through (without bodies), as a CSV download. */
  listCsv(q: AdminNotificationsQuery): CsvFile {
    return this.csv.file(
      csvQueryFrom(this.filtered(q), NOTIFICATION_CSV, [
        ['createdAt', 'DESC'],
        ['id', 'DESC'],
      ]),
      'notifications',
    );
  }

  private filtered(q: AdminNotificationsQuery) {
    const qb = this.dataSource.getRepository(OutboxMessage).createQueryBuilder('o');
    if (q.status) qb.andWhere('o.status = :status', { status: q.status });
    if (q.channel) qb.andWhere('o.channel = :channel', { channel: q.channel });
    if (q.userId) qb.andWhere('o.user_id = :userId', { userId: q.userId });
    if (q.type) qb.andWhere('o.topic = :type', { type: q.type });
    return qb;
  }

  /** One message with its full text (and HTML for email). */
  async one(id: string): Promise<AdminNotificationView & { body: string | null; html: string | null }> {
    const o = await this.dataSource.getRepository(OutboxMessage).findOneBy({ id });
    if (!o) throw DomainError.notFound('Notification');
    // Sign-in codes are the user's alone: an admin sees that one was sent, not the code.
    if (o.topic.startsWith('auth.')) return { ...toView(o), body: '[redacted: a sign-in code]', html: null };
    return { ...toView(o), body: o.body, html: o.html };
  }

  /**
   * Sends a failed (or skipped) message again now, its attempts counted from zero; audited. Anything
   * else: 409 NOTIFICATION_NOT_RETRYABLE (a pending one is on its way; a sent one went out).
   */
  async retry(actor: Actor, id: string): Promise<AdminNotificationView> {
    return this.uow.run(async ({ manager: m }) => {
      const [row] = returnedRows<{ id: string }>(
        await m.query(
          `UPDATE notification_outbox SET status = 'pending', attempts = 0, next_attempt_at = $2, last_error = NULL
            WHERE id = $1 AND status IN ('failed', 'skipped') RETURNING id`,
          [id, this.clock.now()],
        ),
      );
      const o = await m.findOneBy(OutboxMessage, { id });
      if (!o) throw DomainError.notFound('Notification');
      if (!row)
        throw new DomainError('NOTIFICATION_NOT_RETRYABLE', `A ${o.status} message cannot be retried`);
      await this.audit.record(m, {
        actor,
        action: 'notification.retry_requested',
        entityType: 'notification',
        entityId: id,
        after: { channel: o.channel, type: o.topic, recipient: o.recipient },
      });
      this.uow.kickAfterCommit(m, laneOf(o.channel));
      return toView(o);
    });
  }
}
