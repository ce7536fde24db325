import { Injectable } from '@nestjs/common';
import { Clock, DomainError, offsetOf, Page, returnedRows } from '@trektribe/common';
import { DataSource } from 'typeorm';
import { InboxQuery } from './inbox.dto';
import { Notification } from './notification.entity';

/** An in-app notification as its owner sees it (API.md, Notifications). */
export interface InboxItem {
  id: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  readAt: Date | null;
  createdAt: Date;
}

const toItem = (n: Notification): InboxItem => ({
  id: n.id,
  type: n.type,
  title: n.title,
  body: n.body,
  data: n.data,
  readAt: n.readAt,
  createdAt: n.createdAt,
});

/** The user's own inbox: newest first; another user's notification is "not found". */
@Injectable()
export class InboxService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** A page of the user's notifications; `meta.unread` is the unread count whatever the filter. */
  async list(userId: string, q: InboxQuery): Promise<Page<InboxItem>> {
    const repo = this.dataSource.getRepository(Notification);
    const qb = repo.createQueryBuilder('n').where('n.user_id = :userId', { userId });
    if (q.unread === 'true') qb.andWhere('n.read_at IS NULL');
    if (q.unread === 'false') qb.andWhere('n.read_at IS NOT NULL');
    qb.orderBy('n.created_at', 'DESC').addOrderBy('n.id', 'DESC').skip(offsetOf(q)).take(q.limit);
    const [[rows, total], unread] = await Promise.all([qb.getManyAndCount(), this.unreadCount(userId)]);
    return Page.of(rows.map(toItem), total, q, { unread });
  }

  async unreadCount(userId: string): Promise<number> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL`,
      [userId],
    )) as { n: number }[];
    return row.n;
  }

  /** Marks one as read (idempotent: a second call keeps the first time). 404 for another user's id. */
  async markRead(userId: string, id: string): Promise<InboxItem> {
    await this.dataSource.query(
      `UPDATE notifications SET read_at = $3 WHERE id = $1 AND user_id = $2 AND read_at IS NULL`,
      [id, userId, this.clock.now()],
    );
    const n = await this.dataSource.getRepository(Notification).findOneBy({ id, userId });
    if (!n) throw DomainError.notFound('Notification');
    return toItem(n);
  }

  /** Marks every unread one as read; `updated` is how many changed. */
  async markAllRead(userId: string): Promise<{ updated: number }> {
    const rows = returnedRows<{ id: string }>(
      await this.dataSource.query(
        `UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL RETURNING id`,
        [userId, this.clock.now()],
      ),
    );
    return { updated: rows.length };
  }
}
