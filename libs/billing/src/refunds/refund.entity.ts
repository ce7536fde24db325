import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export type RefundStatus = 'pending' | 'processed' | 'failed' | 'manual_due' | 'manual_paid';

/**
 * A refund is recorded (pending) in the cancellation's transaction, then requested from the gateway
 * after commit with `idempotency_key` as X-Refund-Idempotency, so a retry never refunds twice.
 * Screenshot payments get `manual_due`: an admin pays out by hand and marks it `manual_paid`.
 */
@Entity('refunds')
@Check('chk_refunds_status', `"status" IN ('pending', 'processed', 'failed', 'manual_due', 'manual_paid')`)
@Check('chk_refunds_amount', `"amount" > 0`)
@Index('uq_refunds_idempotency', ['idempotencyKey'], { unique: true })
@Index('uq_refunds_gateway_id', ['gatewayRefundId'], {
  unique: true,
  where: `"gateway_refund_id" IS NOT NULL`,
})
@Index('idx_refunds_due', ['status', 'nextAttemptAt'])
@Index('idx_refunds_booking', ['bookingId'])
// A payment's refunds: what the earnings, totals spent and the summaries' recount join on.
@Index('idx_refunds_payment', ['paymentId'])
export class Refund {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'payment_id', type: 'uuid', nullable: true })
  paymentId: string | null;

  @Column({ name: 'booking_id', type: 'uuid', nullable: true })
  bookingId: string | null;

  @Column({ type: 'int' })
  amount: number;

  @Column({ type: 'char', length: 3, default: 'INR' })
  currency: string;

  @Column({ type: 'varchar', length: 20, default: 'pending' })
  status: RefundStatus;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 64 })
  idempotencyKey: string;

  @Column({ name: 'gateway_refund_id', type: 'varchar', length: 64, nullable: true })
  gatewayRefundId: string | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  reason: string | null;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true })
  lastError: string | null;

  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true })
  processedAt: Date | null;

  @Column({ name: 'requested_by', type: 'uuid', nullable: true })
  requestedBy: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
