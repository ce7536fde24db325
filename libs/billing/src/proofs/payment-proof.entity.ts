import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export type ProofStatus = 'pending' | 'approved' | 'rejected';

/** A payment screenshot or PDF stored under DATA_DIR/uploads with a random name; hashes catch reuse. */
@Entity('payment_proofs')
@Check('chk_proofs_status', `"status" IN ('pending', 'approved', 'rejected')`)
@Check('chk_proofs_size', `"size_bytes" > 0 AND "size_bytes" <= 5242880`)
@Index('idx_proofs_booking', ['bookingId', 'createdAt'])
@Index('idx_proofs_sha256', ['sha256'])
@Index('idx_proofs_upi_ref', ['upiReference'], { where: `"upi_reference" IS NOT NULL` })
@Index('idx_proofs_pending', ['status', 'createdAt'])
// The proofs waiting on an organizer, by booking: the organizer's pendingVerifications (libs/reporting).
@Index('idx_proofs_pending_booking', ['bookingId'], { where: `"status" = 'pending'` })
export class PaymentProof {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'booking_id', type: 'uuid' })
  bookingId: string;

  @Column({ name: 'uploader_id', type: 'uuid' })
  uploaderId: string;

  @Column({ name: 'storage_name', type: 'varchar', length: 100 })
  storageName: string;

  @Column({ name: 'mime_type', type: 'varchar', length: 50 })
  mimeType: string;

  @Column({ name: 'size_bytes', type: 'int' })
  sizeBytes: number;

  @Column({ type: 'char', length: 64 })
  sha256: string;

  @Column({ name: 'upi_reference', type: 'varchar', length: 64, nullable: true })
  upiReference: string | null;

  @Column({ type: 'varchar', length: 20, default: 'pending' })
  status: ProofStatus;

  /** Same image or UPI reference already used on another booking: shown to the organizer. */
  @Column({ name: 'flagged_duplicate', type: 'boolean', default: false })
  flaggedDuplicate: boolean;

  @Column({ name: 'duplicate_of_booking_id', type: 'uuid', nullable: true })
  duplicateOfBookingId: string | null;

  @Column({ name: 'reviewed_by', type: 'uuid', nullable: true })
  reviewedBy: string | null;

  @Column({ name: 'reviewed_at', type: 'timestamptz', nullable: true })
  reviewedAt: Date | null;

  @Column({ name: 'review_note', type: 'varchar', length: 500, nullable: true })
  reviewNote: string | null;

  @Column({ name: 'escalated_at', type: 'timestamptz', nullable: true })
  escalatedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
