import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export type OrderPurpose = 'booking' | 'subscription' | 'subscription_authorization';
export type OrderStatus = 'created' | 'attempted' | 'paid';

/**
 * A gateway order, stored before the client sees it. The amount comes from our records, never from
 * the client. One live (unpaid) order per booking; one order per subscription cycle (receipt
 * `sub:<id>:<cycle>`), so a cycle can never be charged twice.
 */
@Entity('payment_orders')
@Check('chk_orders_purpose', `"purpose" IN ('booking', 'subscription', 'subscription_authorization')`)
@Check('chk_orders_status', `"status" IN ('created', 'attempted', 'paid')`)
@Check('chk_orders_amount', `"amount" >= 0`)
@Index('uq_orders_gateway_id', ['gatewayOrderId'], { unique: true })
@Index('uq_orders_receipt', ['receipt'], { unique: true })
@Index('uq_orders_live_booking', ['bookingId'], {
  unique: true,
  where: `"booking_id" IS NOT NULL AND "status" <> 'paid' AND "superseded_at" IS NULL`,
})
@Index('idx_orders_pending', ['status', 'createdAt'])
@Index('idx_orders_subscription', ['subscriptionId'])
export class PaymentOrder {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 40 })
  purpose: OrderPurpose;

  @Column({ name: 'booking_id', type: 'uuid', nullable: true })
  bookingId: string | null;

  @Column({ name: 'subscription_id', type: 'uuid', nullable: true })
  subscriptionId: string | null;

  @Column({ name: 'cycle_id', type: 'uuid', nullable: true })
  cycleId: string | null;

  @Column({ name: 'payer_id', type: 'uuid' })
  payerId: string;

  @Column({ type: 'int' })
  amount: number;

  @Column({ type: 'char', length: 3, default: 'INR' })
  currency: string;

  @Column({ type: 'varchar', length: 40 })
  receipt: string;

  @Column({ name: 'gateway_order_id', type: 'varchar', length: 64 })
  gatewayOrderId: string;

  @Column({ type: 'varchar', length: 20, default: 'created' })
  status: OrderStatus;

  /** Set when the booking's amount changed and a fresh order replaced this one. */
  @Column({ name: 'superseded_at', type: 'timestamptz', nullable: true })
  supersededAt: Date | null;

  @Column({ name: 'paid_at', type: 'timestamptz', nullable: true })
  paidAt: Date | null;

  @Column({ name: 'last_reconciled_at', type: 'timestamptz', nullable: true })
  lastReconciledAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
