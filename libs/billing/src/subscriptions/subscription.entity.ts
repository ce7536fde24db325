import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export const SUBSCRIPTION_STATUSES = ['trial', 'active', 'past_due', 'suspended', 'cancelled'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** An organizer's platform plan: 60-day trial, then ₹1,499 every 60 days charged by our own jobs. */
@Entity('subscriptions')
@Check('chk_subscriptions_status', `"status" IN ('trial', 'active', 'past_due', 'suspended', 'cancelled')`)
@Check('chk_subscriptions_amount', `"amount" > 0`)
@Index('uq_subscriptions_organizer', ['organizerId'], { unique: true })
@Index('idx_subscriptions_due', ['status', 'nextChargeAt'])
export class Subscription {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'organizer_id', type: 'uuid' })
  organizerId: string;

  @Column({ type: 'varchar', length: 20, default: 'trial' })
  status: SubscriptionStatus;

  @Column({ name: 'trial_ends_at', type: 'timestamptz' })
  trialEndsAt: Date;

  /** Paid (or trial) access runs until this instant. */
  @Column({ name: 'current_period_end', type: 'timestamptz' })
  currentPeriodEnd: Date;

  @Column({ name: 'next_charge_at', type: 'timestamptz', nullable: true })
  nextChargeAt: Date | null;

  @Column({ type: 'int', default: 149900 })
  amount: number;

  @Column({ type: 'char', length: 3, default: 'INR' })
  currency: string;

  @Column({ name: 'gateway_customer_id', type: 'varchar', length: 64, nullable: true })
  gatewayCustomerId: string | null;

  @Column({ name: 'gateway_token_id', type: 'varchar', length: 64, nullable: true })
  gatewayTokenId: string | null;

  /** When the bank confirmed the mandate of gatewayTokenId (null: not yet, or no token). */
  @Column({ name: 'token_confirmed_at', type: 'timestamptz', nullable: true })
  tokenConfirmedAt: Date | null;

  @Column({ name: 'failed_attempts', type: 'int', default: 0 })
  failedAttempts: number;

  @Column({ name: 'cancel_at_period_end', type: 'boolean', default: false })
  cancelAtPeriodEnd: boolean;

  @Column({ name: 'suspended_at', type: 'timestamptz', nullable: true })
  suspendedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
