/* eslint-disable @typescript-eslint/no-explicit-any -- jsonb holds per-type switches */
import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * What reaches a user (API.md, Notifications: preferences). No row means the defaults
 * (PreferencesService.DEFAULTS); a row is written on the first PATCH.
 */
@Entity('notification_preferences')
export class NotificationPreference {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ type: 'boolean' })
  email: boolean;

  @Column({ type: 'boolean' })
  sms: boolean;

  @Column({ type: 'boolean' })
  whatsapp: boolean;

  @Column({ name: 'in_app', type: 'boolean' })
  inApp: boolean;

  /** Per type: `{"booking.confirmed": {"sms": true}}`; a switch set here wins over the channel's. */
  @Column({ type: 'jsonb' })
  types: Record<string, any>;

  /** `HH:MM` in `timezone`; both null: no quiet hours. */
  @Column({ name: 'quiet_start', type: 'varchar', length: 5, nullable: true })
  quietStart: string | null;

  @Column({ name: 'quiet_end', type: 'varchar', length: 5, nullable: true })
  quietEnd: string | null;

  @Column({ type: 'varchar', length: 64 })
  timezone: string;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
