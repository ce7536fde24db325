/* eslint-disable @typescript-eslint/no-explicit-any -- jsonb itinerary */
import { User } from '@trektribe/auth';
import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export const DIFFICULTY_LEVELS = ['beginner', 'intermediate', 'advanced'] as const;
export type DifficultyLevel = (typeof DIFFICULTY_LEVELS)[number];
export const TRIP_STATUSES = ['active', 'inactive', 'cancelled', 'completed'] as const;
export type TripStatus = (typeof TRIP_STATUSES)[number];

export interface ItineraryDay {
  day: number;
  title: string;
  activities: string[];
}

/**
 * A trip and its seat count. `seats_booked` is changed only by conditional updates in the booking
 * service and can never pass capacity: the CHECK makes an oversell impossible even for buggy code.
 * `search_vector` is kept by a trigger (see the migration) and indexed with GIN.
 */
@Entity('trips')
@Check('chk_trips_seats', `"seats_booked" >= 0 AND "seats_booked" <= "capacity"`)
@Check('chk_trips_capacity', `"capacity" >= 1`)
@Check('chk_trips_price', `"price" >= 0`)
@Check('chk_trips_dates', `"end_date" >= "start_date"`)
@Check('chk_trips_status', `"status" IN ('active', 'inactive', 'cancelled', 'completed')`)
@Check('chk_trips_difficulty', `"difficulty_level" IN ('beginner', 'intermediate', 'advanced')`)
@Index('idx_trips_status_start', ['status', 'startDate', 'id'])
@Index('idx_trips_organizer', ['organizerId', 'createdAt'])
@Index('idx_trips_price', ['price'])
@Index('idx_trips_difficulty', ['difficultyLevel'])
@Index('idx_trips_rating', ['ratingAvg'])
@Index('idx_trips_created', ['createdAt'])
@Index('idx_trips_suspended_by', ['suspendedBySubscriptionId'], {
  where: '"suspended_by_subscription_id" IS NOT NULL',
})
// Created by hand in the migration (GIN and expression indexes TypeORM cannot describe):
@Index('idx_trips_search', { synchronize: false })
@Index('idx_trips_categories', { synchronize: false })
@Index('idx_trips_destination_lower', { synchronize: false })
export class Trip {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'organizer_id', type: 'uuid' })
  organizerId: string;

  @ManyToOne(() => User, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'organizer_id', foreignKeyConstraintName: 'fk_trips_organizer' })
  organizer?: User;

  @Column({ type: 'varchar', length: 200 })
  title: string;

  @Column({ type: 'text' })
  description: string;

  @Column({ type: 'varchar', length: 200 })
  destination: string;

  @Column({ type: 'varchar', array: true, default: () => "'{}'" })
  categories: string[];

  @Column({ name: 'difficulty_level', type: 'varchar', length: 20 })
  difficultyLevel: DifficultyLevel;

  /** Calendar dates in the trip's timezone. */
  @Column({ name: 'start_date', type: 'date' })
  startDate: string;

  @Column({ name: 'end_date', type: 'date' })
  endDate: string;

  @Column({ type: 'varchar', length: 64, default: 'Asia/Kolkata' })
  timezone: string;

  /** Per seat, in paise. */
  @Column({ type: 'int' })
  price: number;

  @Column({ type: 'char', length: 3, default: 'INR' })
  currency: string;

  @Column({ type: 'int' })
  capacity: number;

  @Column({ name: 'seats_booked', type: 'int', default: 0 })
  seatsBooked: number;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  itinerary: ItineraryDay[] | any;

  @Column({ name: 'included_items', type: 'varchar', array: true, default: () => "'{}'" })
  includedItems: string[];

  @Column({ type: 'varchar', array: true, default: () => "'{}'" })
  requirements: string[];

  @Column({ type: 'varchar', array: true, default: () => "'{}'" })
  images: string[];

  @Column({ type: 'varchar', length: 20, default: 'active' })
  status: TripStatus;

  @Column({
    name: 'rating_avg',
    type: 'numeric',
    precision: 3,
    scale: 2,
    default: 0,
    transformer: { to: (v: number) => v, from: (v: string | null) => (v === null ? 0 : Number(v)) },
  })
  ratingAvg: number;

  @Column({ name: 'review_count', type: 'int', default: 0 })
  reviewCount: number;

  @Column({
    name: 'search_vector',
    type: 'tsvector',
    nullable: true,
    select: false,
    insert: false,
    update: false,
  })
  searchVector?: string;

  /** Set while the organizer's suspended subscription hides this trip (TripListings); cleared when it is listed again or its status is changed by hand. */
  @Column({ name: 'suspended_by_subscription_id', type: 'uuid', nullable: true })
  suspendedBySubscriptionId: string | null;

  @Column({ name: 'cancelled_at', type: 'timestamptz', nullable: true })
  cancelledAt: Date | null;

  @Column({ name: 'cancel_reason', type: 'varchar', length: 500, nullable: true })
  cancelReason: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
