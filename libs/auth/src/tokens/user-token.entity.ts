import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { User } from '../users/user.entity';

export type UserTokenPurpose = 'verify_email' | 'reset_password' | 'invite';

/**
 * Single-use, hashed, expiring tokens mailed to users: email verification, password reset, and the
 * invitation of an agent or admin an admin created (it sets the first password, like a reset).
 */
@Entity('user_tokens')
@Check('chk_user_tokens_purpose', `"purpose" IN ('verify_email', 'reset_password', 'invite')`)
@Index('uq_user_tokens_hash', ['tokenHash'], { unique: true })
@Index('idx_user_tokens_user', ['userId', 'purpose'])
export class UserToken {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_user_tokens_user' })
  user?: User;

  @Column({ type: 'varchar', length: 20 })
  purpose: UserTokenPurpose;

  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
