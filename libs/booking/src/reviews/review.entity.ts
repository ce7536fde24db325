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
import { User } from '@trektribe/auth';
import { Booking } from '../bookings/booking.entity';
import { Trip } from '../trips/trip.entity';

/** One review per completed booking; the trip's rating is kept in step in the same transaction. */
@Entity('reviews')
@Check('chk_reviews_rating', `"rating" BETWEEN 1 AND 5`)
@Index('uq_reviews_booking', ['bookingId'], { unique: true })
@Index('idx_reviews_trip', ['tripId', 'createdAt', 'id'])
export class Review {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'trip_id', type: 'uuid' })
  tripId: string;

  @ManyToOne(() => Trip, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'trip_id', foreignKeyConstraintName: 'fk_reviews_trip' })
  trip?: Trip;

  @Column({ name: 'booking_id', type: 'uuid' })
  bookingId: string;

  @ManyToOne(() => Booking, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'booking_id', foreignKeyConstraintName: 'fk_reviews_booking' })
  booking?: Booking;

  @Column({ name: 'traveler_id', type: 'uuid' })
  travelerId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'traveler_id', foreignKeyConstraintName: 'fk_reviews_traveler' })
  traveler?: User;

  @Column({ type: 'int' })
  rating: number;

  @Column({ type: 'varchar', length: 2000 })
  comment: string;

  @Column({ name: 'organizer_reply', type: 'varchar', length: 2000, nullable: true })
  organizerReply: string | null;

  @Column({ name: 'replied_at', type: 'timestamptz', nullable: true })
  repliedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
