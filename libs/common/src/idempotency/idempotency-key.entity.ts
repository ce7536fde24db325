/* eslint-disable @typescript-eslint/no-explicit-any -- stored response bodies are arbitrary JSON */
import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * `Idempotency-Key` records: the unique (user, key) row is claimed before the work starts, so a
 * concurrent repeat sees `in_progress` (409) and a later one replays the stored answer.
 */
@Entity('idempotency_keys')
@Check('chk_idempotency_status', `"status" IN ('in_progress', 'completed')`)
@Index('uq_idempotency_user_key', ['userId', 'key'], { unique: true })
@Index('idx_idempotency_created', ['createdAt'])
export class IdempotencyKey {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ type: 'varchar', length: 255 })
  key: string;

  /** Method and route, so one key cannot be replayed against another endpoint. */
  @Column({ type: 'varchar', length: 300 })
  scope: string;

  @Column({ name: 'request_hash', type: 'char', length: 64 })
  requestHash: string;

  @Column({ type: 'varchar', length: 20, default: 'in_progress' })
  status: 'in_progress' | 'completed';

  @Column({ name: 'response_status', type: 'int', nullable: true })
  responseStatus: number | null;

  @Column({ name: 'response_body', type: 'jsonb', nullable: true })
  responseBody: any;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
