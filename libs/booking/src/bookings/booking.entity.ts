import { User } from '@trektribe/auth';
import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Trip } from '../trips/trip.entity';
import { BookingParticipant } from './booking-participant.entity';

export const BOOKING_STATUSES = ['pending', 'confirmed', 'completed', 'cancelled', 'expired'] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];
export const PAYMENT_STATUSES = [
  'unpaid',
  'awaiting_verification',
  'paid',
  'failed',
  'refund_pending',
  'refunded',
  'partially_refunded',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
export type PaymentMethod = 'online' | 'screenshot';
export const MAX_SEATS_PER_BOOKING = 10;

/** The refund tiers in force when the booking was made; later policy changes do not touch it. */
export interface CancellationPolicy {
  /** Ordered from the earliest cancellation: at least `minHoursBefore` hours before the start → `refundPercent`. */
  tiers: { minHoursBefore: number; refundPercent: number }[];
}

@Entity('bookings')
@Check('chk_bookings_seats', `"seats" BETWEEN 1 AND 10`)
@Check(
  'chk_bookings_amount',
  `"total_amount" >= 0 AND "refund_amount" >= 0 AND "refund_amount" <= "total_amount"`,
)
@Check('chk_bookings_status', `"status" IN ('pending', 'confirmed', 'completed', 'cancelled', 'expired')`)
@Check(
  'chk_bookings_payment_status',
  `"payment_status" IN ('unpaid', 'awaiting_verification', 'paid', 'failed', 'refund_pending', 'refunded', 'partially_refunded')`,
)
@Check('chk_bookings_payment_method', `"payment_method" IN ('online', 'screenshot')`)
@Index('idx_bookings_trip_status', ['tripId', 'status'])
@Index('idx_bookings_traveler', ['travelerId', 'createdAt'])
// id too: the organizer's lists sort by (created_at, id), and the organizer's figures (libs/reporting)
// find the organizer's bookings' ids from the index alone.
@Index('idx_bookings_organizer', ['organizerId', 'createdAt', 'id'])
// The admin's list and its CSV export: newest first, the id breaking ties (a keyset batch starts here).
@Index('idx_bookings_created', ['createdAt', 'id'])
@Index('idx_bookings_hold_expiry', ['holdExpiresAt'], {
  where: `"status" = 'pending' AND "seats_released_at" IS NULL`,
})
export class Booking {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'trip_id', type: 'uuid' })
  tripId: string;

  @ManyToOne(() => Trip, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'trip_id', foreignKeyConstraintName: 'fk_bookings_trip' })
  trip?: Trip;

  @Column({ name: 'traveler_id', type: 'uuid' })
  travelerId: string;

  @ManyToOne(() => User, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'traveler_id', foreignKeyConstraintName: 'fk_bookings_traveler' })
  traveler?: User;

  /** Copied from the trip so "bookings on my trips" and ownership checks need no join. */
  @Column({ name: 'organizer_id', type: 'uuid' })
  organizerId: string;

  @Column({ type: 'int' })
  seats: number;

  @Column({ name: 'unit_price', type: 'int' })
  unitPrice: number;

  @Column({ name: 'total_amount', type: 'int' })
  totalAmount: number;

  @Column({ type: 'char', length: 3, default: 'INR' })
  currency: string;

  @Column({ type: 'varchar', length: 20, default: 'pending' })
  status: BookingStatus;

  @Column({ name: 'payment_status', type: 'varchar', length: 30, default: 'unpaid' })
  paymentStatus: PaymentStatus;

  @Column({ name: 'payment_method', type: 'varchar', length: 20 })
  paymentMethod: PaymentMethod;

  /** Seats are held until then while unpaid; null once paid, or while a proof is being verified. */
  @Column({ name: 'hold_expires_at', type: 'timestamptz', nullable: true })
  holdExpiresAt: Date | null;

  /** Set in the same statement that gives the seats back, so they return exactly once. */
  @Column({ name: 'seats_released_at', type: 'timestamptz', nullable: true })
  seatsReleasedAt: Date | null;

  @Column({ name: 'special_requests', type: 'varchar', length: 1000, nullable: true })
  specialRequests: string | null;

  @Column({ name: 'cancellation_policy', type: 'jsonb' })
  cancellationPolicy: CancellationPolicy;

  @Column({ name: 'waitlist_entry_id', type: 'uuid', nullable: true })
  waitlistEntryId: string | null;

  @Column({ name: 'confirmed_at', type: 'timestamptz', nullable: true })
  confirmedAt: Date | null;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;

  @Column({ name: 'cancelled_at', type: 'timestamptz', nullable: true })
  cancelledAt: Date | null;

  @Column({ name: 'cancelled_by', type: 'uuid', nullable: true })
  cancelledBy: string | null;

  @Column({ name: 'cancelled_by_role', type: 'varchar', length: 20, nullable: true })
  cancelledByRole: string | null;

  @Column({ name: 'cancel_reason', type: 'varchar', length: 500, nullable: true })
  cancelReason: string | null;

  /** What the cancellation policy says is owed back, in paise. */
  @Column({ name: 'refund_amount', type: 'int', default: 0 })
  refundAmount: number;

  @OneToMany(() => BookingParticipant, (p) => p.booking)
  participants?: BookingParticipant[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
