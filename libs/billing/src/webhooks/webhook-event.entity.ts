/* eslint-disable @typescript-eslint/no-explicit-any -- raw gateway payloads */
import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Every verified webhook, unique on Razorpay's event id. The row is the durable queue entry: it is
 * inserted (the receipt Razorpay gets its 200 for) before the effect, and `processed_at` is set in the
 * same transaction as the effect, so an event is applied exactly once whatever crashes in between.
 */
@Entity('webhook_events')
@Index('uq_webhook_events_event_id', ['eventId'], { unique: true })
@Index('idx_webhook_events_received', ['receivedAt'])
@Index('idx_webhook_events_unprocessed', ['receivedAt'], { where: `"processed_at" IS NULL` })
@Check('chk_webhook_events_processed_outcome', `"processed_at" IS NULL OR "outcome" IS NOT NULL`)
export class WebhookEvent {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'event_id', type: 'varchar', length: 100 })
  eventId: string;

  @Column({ name: 'event_type', type: 'varchar', length: 60 })
  eventType: string;

  @Column({ type: 'jsonb' })
  payload: any;

  /** What we did with it: applied, ignored (unknown type or stale), or a short reason. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  outcome: string | null;

  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' })
  receivedAt: Date;

  /** Set with the effect, in its transaction; null while the event waits to be applied. */
  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true })
  processedAt: Date | null;

  /** The instance applying it may do so until then; after it, any instance may pick it up. */
  @Column({ name: 'claimed_until', type: 'timestamptz', nullable: true })
  claimedUntil: Date | null;

  /** Applications that ended in an error (not a rule refusing the event), retried with backoff. */
  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'last_error', type: 'varchar', length: 300, nullable: true })
  lastError: string | null;
}
