import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export type PaymentRowStatus = 'authorized' | 'captured' | 'failed' | 'refunded' | 'partially_refunded';

/**
 * One row per money movement in: a gateway payment (unique gateway id: a webhook and a verify call
 * for the same payment meet on this index) or an approved screenshot payment.
 */
@Entity('payments')
@Check(
  'chk_payments_status',
  `"status" IN ('authorized', 'captured', 'failed', 'refunded', 'partially_refunded')`,
)
@Check('chk_payments_method', `"method" IN ('online', 'screenshot', 'recurring')`)
@Check('chk_payments_amounts', `"amount" >= 0 AND "amount_refunded" >= 0 AND "amount_refunded" <= "amount"`)
@Index('uq_payments_gateway_id', ['gatewayPaymentId'], {
  unique: true,
  where: `"gateway_payment_id" IS NOT NULL`,
})
@Index('idx_payments_booking', ['bookingId'])
@Index('idx_payments_payer', ['payerId', 'createdAt'])
@Index('idx_payments_created', ['createdAt', 'id'])
@Index('idx_payments_order', ['orderId'])
export class Payment {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'order_id', type: 'uuid', nullable: true })
  orderId: string | null;

  @Column({ name: 'booking_id', type: 'uuid', nullable: true })
  bookingId: string | null;

  @Column({ name: 'subscription_id', type: 'uuid', nullable: true })
  subscriptionId: string | null;

  @Column({ name: 'payer_id', type: 'uuid' })
  payerId: string;

  @Column({ type: 'varchar', length: 20 })
  method: 'online' | 'screenshot' | 'recurring';

  @Column({ name: 'gateway_payment_id', type: 'varchar', length: 64, nullable: true })
  gatewayPaymentId: string | null;

  @Column({ type: 'int' })
  amount: number;

  @Column({ type: 'char', length: 3, default: 'INR' })
  currency: string;

  @Column({ type: 'varchar', length: 30 })
  status: PaymentRowStatus;

  @Column({ name: 'amount_refunded', type: 'int', default: 0 })
  amountRefunded: number;

  @Column({ name: 'gateway_method', type: 'varchar', length: 30, nullable: true })
  gatewayMethod: string | null;

  @Column({ name: 'error_code', type: 'varchar', length: 100, nullable: true })
  errorCode: string | null;

  @Column({ name: 'error_description', type: 'varchar', length: 500, nullable: true })
  errorDescription: string | null;

  @Column({ name: 'captured_at', type: 'timestamptz', nullable: true })
  capturedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
