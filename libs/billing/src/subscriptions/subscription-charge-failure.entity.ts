import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One row per failed charge attempt, keyed by the gateway payment id (or a synthetic key for an
 * attempt the gateway refused outright): the primary key is what counts a failure once, whichever
 * of the webhook, the reconciliation and the charge run reports it, and however often.
 */
@Entity('subscription_charge_failures')
@Index('idx_charge_failures_subscription', ['subscriptionId', 'createdAt'])
export class SubscriptionChargeFailure {
  @PrimaryColumn({ type: 'varchar', length: 120 })
  key: string;

  @Column({ name: 'subscription_id', type: 'uuid' })
  subscriptionId: string;

  @Column({ name: 'cycle_id', type: 'uuid' })
  cycleId: string;

  @Column({ name: 'gateway_payment_id', type: 'varchar', length: 64, nullable: true })
  gatewayPaymentId: string | null;

  @Column({ type: 'varchar', length: 500 })
  reason: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
