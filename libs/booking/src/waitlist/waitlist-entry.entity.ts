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
import { Trip } from '../trips/trip.entity';

export type WaitlistStatus = 'waiting' | 'offered' | 'accepted' | 'expired' | 'cancelled';

/** A place in line for a full trip; an offer is a pending booking that holds the seats until it expires. */
@Entity('waitlist_entries')
@Check('chk_waitlist_seats', `"seats" BETWEEN 1 AND 10`)
@Check('chk_waitlist_status', `"status" IN ('waiting', 'offered', 'accepted', 'expired', 'cancelled')`)
@Index('idx_waitlist_line', ['tripId', 'status', 'createdAt', 'id'])
@Index('uq_waitlist_active', ['tripId', 'travelerId'], {
  unique: true,
  where: `"status" IN ('waiting', 'offered')`,
})
export class WaitlistEntry {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'trip_id', type: 'uuid' })
  tripId: string;

  @ManyToOne(() => Trip, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'trip_id', foreignKeyConstraintName: 'fk_waitlist_trip' })
  trip?: Trip;

  @Column({ name: 'traveler_id', type: 'uuid' })
  travelerId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'traveler_id', foreignKeyConstraintName: 'fk_waitlist_traveler' })
  traveler?: User;

  @Column({ type: 'int' })
  seats: number;

  @Column({ type: 'varchar', length: 20, default: 'waiting' })
  status: WaitlistStatus;

  @Column({ name: 'offer_booking_id', type: 'uuid', nullable: true })
  offerBookingId: string | null;

  @Column({ name: 'offered_at', type: 'timestamptz', nullable: true })
  offeredAt: Date | null;

  @Column({ name: 'offer_expires_at', type: 'timestamptz', nullable: true })
  offerExpiresAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
