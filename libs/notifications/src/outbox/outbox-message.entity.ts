/* eslint-disable @typescript-eslint/no-explicit-any -- jsonb columns hold arbitrary JSON */
import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** `realtime`: a socket event to rooms; the others carry a message to one user. */
export type OutboxChannel = 'email' | 'sms' | 'whatsapp' | 'realtime';
/** `skipped`: the channel is off (no provider configured); recorded so nothing is silently lost. */
export type OutboxStatus = 'pending' | 'sent' | 'failed' | 'skipped';

/**
 * Side effects recorded in the same transaction as the change that causes them, delivered after commit.
 * `next_attempt_at` doubles as a lease: a claimed row is pushed into the future, so a crashed
 * dispatcher's rows come back on their own.
 */
@Entity('notification_outbox')
@Check('chk_outbox_channel', `"channel" IN ('email', 'sms', 'whatsapp', 'realtime')`)
@Check('chk_outbox_status', `"status" IN ('pending', 'sent', 'failed', 'skipped')`)
@Index('idx_outbox_channel_due', ['channel', 'nextAttemptAt'], { where: `"status" = 'pending'` })
@Index('idx_outbox_due', ['status', 'nextAttemptAt'])
@Index('uq_outbox_dedupe_key', ['dedupeKey'], { unique: true, where: '"dedupe_key" IS NOT NULL' })
export class OutboxMessage {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 20 })
  channel: OutboxChannel;

  /** The notification type (`booking.confirmed`…) or, for realtime rows, the socket event. */
  @Column({ type: 'varchar', length: 80 })
  topic: string;

  /** The user a message is for (null for realtime rows, which go to rooms). */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  /** Email address, phone number, or a comma-separated list of socket rooms. */
  @Column({ type: 'varchar', length: 500 })
  recipient: string;

  @Column({ type: 'varchar', length: 300, nullable: true })
  subject: string | null;

  /** The plain-text body (email text part, SMS/WhatsApp text). */
  @Column({ type: 'text', nullable: true })
  body: string | null;

  /** The email's HTML part. */
  @Column({ type: 'text', nullable: true })
  html: string | null;

  @Column({ type: 'jsonb', nullable: true })
  payload: Record<string, any> | null;

  /** Makes "send this once" a database fact, e.g. one confirmation email per booking. */
  @Column({ name: 'dedupe_key', type: 'varchar', length: 200, nullable: true })
  dedupeKey: string | null;

  @Column({ type: 'varchar', length: 20, default: 'pending' })
  status: OutboxStatus;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true })
  lastError: string | null;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
