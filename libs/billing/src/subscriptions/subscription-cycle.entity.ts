import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export type CycleStatus = 'pending' | 'charging' | 'paid' | 'failed';

/**
 * One row per (subscription, cycle), inserted before any gateway call: the unique index is what
 * makes "one charge per cycle" hold across crashes, retries and two instances.
 */
@Entity('subscription_cycles')
@Check('chk_cycles_status', `"status" IN ('pending', 'charging', 'paid', 'failed')`)
@Check('chk_cycles_cycle', `"cycle" >= 1`)
@Index('uq_cycles_subscription_cycle', ['subscriptionId', 'cycle'], { unique: true })
@Index('idx_cycles_status', ['status', 'nextRetryAt'])
export class SubscriptionCycle {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'subscription_id', type: 'uuid' })
  subscriptionId: string;

  @Column({ type: 'int' })
  cycle: number;

  @Column({ type: 'int' })
  amount: number;

  @Column({ name: 'period_start', type: 'timestamptz' })
  periodStart: Date;

  @Column({ name: 'period_end', type: 'timestamptz' })
  periodEnd: Date;

  @Column({ type: 'varchar', length: 20, default: 'pending' })
  status: CycleStatus;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'gateway_order_id', type: 'varchar', length: 64, nullable: true })
  gatewayOrderId: string | null;

  @Column({ name: 'gateway_payment_id', type: 'varchar', length: 64, nullable: true })
  gatewayPaymentId: string | null;

  @Column({ name: 'last_attempt_at', type: 'timestamptz', nullable: true })
  lastAttemptAt: Date | null;

  @Column({ name: 'next_retry_at', type: 'timestamptz', nullable: true })
  nextRetryAt: Date | null;

  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true })
  lastError: string | null;

  @Column({ name: 'paid_at', type: 'timestamptz', nullable: true })
  paidAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
