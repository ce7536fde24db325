import { Check, Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The read side's summary tables (issue 14, item 4). Each figure has two tables: its totals, one row
 * per key, and its deltas, appended by database triggers in the transaction of every change to the
 * rows it counts (bookings, payments, refunds, users). No writer ever updates a shared row, so the
 * triggers add no lock and no contention; `SummaryFold` moves the deltas into the totals every
 * minute. A figure is always totals + deltas, exact at any moment, whether or not the fold has run.
 *
 * Totals are kept per organizer and, under PLATFORM_SCOPE, for the whole platform, so an admin's
 * figure reads a handful of rows however many organizers there are.
 */
export const PLATFORM_SCOPE = '00000000-0000-0000-0000-000000000000';

/** Bookings by status, per organizer (and PLATFORM_SCOPE). */
@Entity('report_booking_counts')
export class ReportBookingCount {
  @PrimaryColumn({ name: 'organizer_id', type: 'uuid' })
  organizerId: string;

  @PrimaryColumn({ type: 'varchar', length: 20 })
  status: string;

  @Column({ type: 'bigint' })
  bookings: string;
}

@Entity('report_booking_count_deltas')
@Index('idx_report_booking_count_deltas_organizer', ['organizerId'])
export class ReportBookingCountDelta {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'organizer_id', type: 'uuid' })
  organizerId: string;

  @Column({ type: 'varchar', length: 20 })
  status: string;

  @Column({ type: 'int' })
  bookings: number;
}

/**
 * Money by IST month, per organizer (and PLATFORM_SCOPE): `booking` is what travelers paid for the
 * organizer's trips (`bookings` confirmed in the month, `payments` captured and their `gross`, and
 * `refunds` processed in the month); `subscription` is what the organizer paid the platform
 * (recurring charges and their refunds).
 */
@Entity('report_money_months')
@Check('chk_report_money_months_kind', `"kind" IN ('booking', 'subscription')`)
export class ReportMoneyMonth {
  @PrimaryColumn({ type: 'varchar', length: 12 })
  kind: string;

  @PrimaryColumn({ name: 'organizer_id', type: 'uuid' })
  organizerId: string;

  /** The first day of the month, in IST. */
  @PrimaryColumn({ type: 'date' })
  month: string;

  @Column({ type: 'bigint', default: 0 })
  bookings: string;

  @Column({ type: 'bigint', default: 0 })
  payments: string;

  @Column({ type: 'bigint', default: 0 })
  gross: string;

  @Column({ type: 'bigint', default: 0 })
  refunds: string;
}

@Entity('report_money_month_deltas')
@Check('chk_report_money_month_deltas_kind', `"kind" IN ('booking', 'subscription')`)
@Index('idx_report_money_month_deltas_organizer', ['organizerId'])
export class ReportMoneyMonthDelta {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ type: 'varchar', length: 12 })
  kind: string;

  @Column({ name: 'organizer_id', type: 'uuid' })
  organizerId: string;

  @Column({ type: 'date' })
  month: string;

  @Column({ type: 'int', default: 0 })
  bookings: number;

  @Column({ type: 'int', default: 0 })
  payments: number;

  @Column({ type: 'bigint', default: 0 })
  gross: string;

  @Column({ type: 'bigint', default: 0 })
  refunds: string;
}

/** Users by role and whether they are active. */
@Entity('report_user_counts')
export class ReportUserCount {
  @PrimaryColumn({ type: 'varchar', length: 20 })
  role: string;

  @PrimaryColumn({ type: 'boolean' })
  active: boolean;

  @Column({ type: 'bigint' })
  users: string;
}

@Entity('report_user_count_deltas')
export class ReportUserCountDelta {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ type: 'varchar', length: 20 })
  role: string;

  @Column({ type: 'boolean' })
  active: boolean;

  @Column({ type: 'int' })
  users: number;
}

export const REPORTING_ENTITIES = [
  ReportBookingCount,
  ReportBookingCountDelta,
  ReportMoneyMonth,
  ReportMoneyMonthDelta,
  ReportUserCount,
  ReportUserCountDelta,
];
