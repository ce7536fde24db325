import { Injectable } from '@nestjs/common';
import { BOOKING_STATUSES, TRIP_STATUSES } from '@trektribe/booking';
import { Clock, ROLES } from '@trektribe/common';
import { DataSource } from 'typeorm';
import { RECONCILE_AFTER_MS } from '../ledger/reconciliation.service';

/** The admin dashboard's headline counts (API.md, Admin and Dashboards). */
export interface AdminHeadline {
  /** Every account by role, deactivated ones included (`usersInactive` says how many those are). */
  usersByRole: Record<(typeof ROLES)[number], number>;
  usersInactive: number;
  tripsByStatus: Record<(typeof TRIP_STATUSES)[number], number>;
  bookingsByStatus: Record<(typeof BOOKING_STATUSES)[number], number>;
  /** Refunds whose last gateway attempt failed (being retried, or given up on). */
  failedRefunds: number;
  /**
   * Gateway orders still `created` or `attempted` more than 15 minutes after they were made (and not
   * replaced by a newer order): a payment we may not have heard of; reconciliation polls them.
   */
  stuckPayments: number;
  /** Stored Razorpay events whose application failed and waits for a retry. */
  failingWebhooks: number;
  /** The instant the counts were taken. */
  asOf: Date;
}

const zeros = <K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/**
 * A read-only service: one SQL statement counts everything (no rows are loaded), so `GET /admin/stats`
 * and the admin dashboard can share it. It reads auth's, booking's and billing's tables, which a
 * read-only view may do; it writes nothing.
 */
@Injectable()
export class AdminStats {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async headline(): Promise<AdminHeadline> {
    const now = this.clock.now();
    const [row] = (await this.dataSource.query(
      `SELECT
         (SELECT coalesce(json_object_agg(role, n), '{}') FROM
            (SELECT role, count(*)::int AS n FROM users GROUP BY role) r) AS "usersByRole",
         (SELECT count(*)::int FROM users WHERE NOT is_active) AS "usersInactive",
         (SELECT coalesce(json_object_agg(status, n), '{}') FROM
            (SELECT status, count(*)::int AS n FROM trips GROUP BY status) t) AS "tripsByStatus",
         (SELECT coalesce(json_object_agg(status, n), '{}') FROM
            (SELECT status, count(*)::int AS n FROM bookings GROUP BY status) b) AS "bookingsByStatus",
         (SELECT count(*)::int FROM refunds WHERE status = 'failed') AS "failedRefunds",
         (SELECT count(*)::int FROM payment_orders
           WHERE status IN ('created', 'attempted') AND superseded_at IS NULL AND created_at < $1) AS "stuckPayments",
         (SELECT count(*)::int FROM webhook_events
           WHERE processed_at IS NULL AND attempts > 0) AS "failingWebhooks"`,
      [new Date(now.getTime() - RECONCILE_AFTER_MS)],
    )) as {
      usersByRole: Record<string, number>;
      usersInactive: number;
      tripsByStatus: Record<string, number>;
      bookingsByStatus: Record<string, number>;
      failedRefunds: number;
      stuckPayments: number;
      failingWebhooks: number;
    }[];
    return {
      usersByRole: { ...zeros(ROLES), ...row.usersByRole },
      usersInactive: row.usersInactive,
      tripsByStatus: { ...zeros(TRIP_STATUSES), ...row.tripsByStatus },
      bookingsByStatus: { ...zeros(BOOKING_STATUSES), ...row.bookingsByStatus },
      failedRefunds: row.failedRefunds,
      stuckPayments: row.stuckPayments,
      failingWebhooks: row.failingWebhooks,
      asOf: now,
    };
  }
}
