import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A phone verification code sent by SMS (API.md: POST /auth/phone/send-code). Only its hash is kept;
 * it is bound to the number it was sent to, expires after 10 minutes and takes 5 tries.
 */
@Entity('phone_codes')
@Index('idx_phone_codes_user_created', ['userId', 'createdAt'])
export class PhoneCode {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ type: 'varchar', length: 20 })
  phone: string;

  /** sha256 of the code with the row id, so equal codes never share a hash. */
  @Column({ name: 'code_hash', type: 'char', length: 64 })
  codeHash: string;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
