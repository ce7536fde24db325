import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Booking } from './booking.entity';

/** One per seat: organizers need names and phones for permits and emergencies. */
@Entity('booking_participants')
@Check('chk_participants_age', `"age" IS NULL OR ("age" >= 0 AND "age" <= 120)`)
@Index('idx_participants_booking', ['bookingId'])
export class BookingParticipant {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'booking_id', type: 'uuid' })
  bookingId: string;

  @ManyToOne(() => Booking, (b) => b.participants, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'booking_id', foreignKeyConstraintName: 'fk_participants_booking' })
  booking?: Booking;

  @Column({ type: 'varchar', length: 120 })
  name: string;

  @Column({ type: 'varchar', length: 20, nullable: true })
  phone: string | null;

  @Column({ type: 'int', nullable: true })
  age: number | null;

  @Column({ name: 'dietary_restrictions', type: 'varchar', length: 300, nullable: true })
  dietaryRestrictions: string | null;
}
