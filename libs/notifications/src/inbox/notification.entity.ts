/* eslint-disable @typescript-eslint/no-explicit-any -- jsonb holds the notification's data */
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A user's in-app notification (API.md, Notifications: `GET /notifications`). Written with the
 * outbox rows of the same notification, in the transaction of the change that causes it; a
 * repeated `dedupe_key` writes nothing, so the same event never notifies twice on any channel.
 */
@Entity('notifications')
@Index('idx_notifications_user_created', ['userId', 'createdAt', 'id'])
@Index('idx_notifications_user_unread', ['userId'], { where: '"read_at" IS NULL' })
@Index('uq_notifications_dedupe_key', ['dedupeKey'], { unique: true, where: '"dedupe_key" IS NOT NULL' })
export class Notification {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  /** A catalog type, e.g. `booking.confirmed`. */
  @Column({ type: 'varchar', length: 80 })
  type: string;

  @Column({ type: 'varchar', length: 300 })
  title: string;

  @Column({ type: 'text' })
  body: string;

  /** What the message was written from (ids, amounts in paise, dates): the client links from it. */
  @Column({ type: 'jsonb' })
  data: Record<string, any>;

  @Column({ name: 'dedupe_key', type: 'varchar', length: 200, nullable: true })
  dedupeKey: string | null;

  @Column({ name: 'read_at', type: 'timestamptz', nullable: true })
  readAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
