/* eslint-disable @typescript-eslint/no-explicit-any -- raw gateway payloads */
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Every verified webhook, unique on Razorpay's event id: inserted in the same transaction as its effect. */
@Entity('webhook_events')
@Index('uq_webhook_events_event_id', ['eventId'], { unique: true })
@Index('idx_webhook_events_received', ['receivedAt'])
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
}
