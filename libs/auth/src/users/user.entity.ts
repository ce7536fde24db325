import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { Role } from '@trektribe/common';

@Entity('users')
@Check('chk_users_role', `"role" IN ('traveler', 'organizer', 'agent', 'admin')`)
@Check('chk_users_email_lower', `"email" = lower("email")`)
@Index('uq_users_email', ['email'], { unique: true })
@Index('uq_users_google_sub', ['googleSub'], { unique: true })
@Index('idx_users_role_created', ['role', 'createdAt'])
// Trigram indexes for the agents' customer search by partial name, email or phone (migration only:
// TypeORM cannot declare operator classes).
@Index('idx_users_name_trgm', { synchronize: false })
@Index('idx_users_email_trgm', { synchronize: false })
@Index('idx_users_phone_trgm', { synchronize: false })
export class User {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 120 })
  name: string;

  /** Stored lower-cased; the unique index makes the case-insensitive rule a database fact. */
  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ type: 'varchar', length: 20, nullable: true })
  phone: string | null;

  /** Set by a correct SMS code (PhoneVerificationService); cleared when the phone changes. */
  @Column({ name: 'phone_verified_at', type: 'timestamptz', nullable: true })
  phoneVerifiedAt: Date | null;

  @Column({ name: 'password_hash', type: 'varchar', length: 255, nullable: true, select: false })
  passwordHash: string | null;

  @Column({ type: 'varchar', length: 20 })
  role: Role;

  /** The Google account (`sub` of its ID tokens) that signs in as this user; at most one user per Google account. */
  @Column({ name: 'google_sub', type: 'varchar', length: 255, nullable: true, select: false })
  googleSub: string | null;

  /** Set by `POST /auth/complete-profile`, which may run (and choose a role) only once. */
  @Column({ name: 'profile_completed_at', type: 'timestamptz', nullable: true })
  profileCompletedAt: Date | null;

  @Column({ name: 'is_active', type: 'boolean', default: true })
  isActive: boolean;

  /** Bumped on password change, reset and deactivation: every access token issued before stops working. */
  @Column({ name: 'token_version', type: 'int', default: 0 })
  tokenVersion: number;

  @Column({ name: 'email_verified_at', type: 'timestamptz', nullable: true })
  emailVerifiedAt: Date | null;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  bio: string | null;

  @Column({ type: 'varchar', length: 120, nullable: true })
  location: string | null;

  @Column({ name: 'last_login_at', type: 'timestamptz', nullable: true })
  lastLoginAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/** What a user may see of their own account. */
export function toUserView(u: User) {
  return {
    id: u.id,
    name: u.name,
    email: u.email,
    phone: u.phone,
    phoneVerified: u.phoneVerifiedAt !== null && u.phoneVerifiedAt !== undefined,
    role: u.role,
    isActive: u.isActive,
    emailVerified: u.emailVerifiedAt !== null,
    bio: u.bio,
    location: u.location,
    createdAt: u.createdAt,
  };
}
export type UserView = ReturnType<typeof toUserView>;
