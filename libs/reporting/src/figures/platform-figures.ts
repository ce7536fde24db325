import { SUBSCRIPTION_STATUSES } from '@trektribe/billing';
import { TRIP_STATUSES } from '@trektribe/booking';
import { ROLES } from '@trektribe/common';
import { fragment, Fragment } from './fragment';
import { IST, zeroFilled } from './sql';

export interface NewUsersWeek {
  /** The Monday the IST week starts on, `YYYY-MM-DD`. */
  week: string;
  users: number;
  travelers: number;
  organizers: number;
}

export interface PlatformLive {
  newUsersByWeek: NewUsersWeek[];
  tripsByStatus: Record<(typeof TRIP_STATUSES)[number], number>;
  subscriptionsByStatus: Record<(typeof SUBSCRIPTION_STATUSES)[number], number>;
  failedRefunds: number;
  stuckPayments: number;
  failingWebhooks: number;
}

export const NEW_USER_WEEKS = 8;
/** A Razorpay order still `created` or `attempted` this long after it was made is stuck (API.md). */
export const STUCK_AFTER_MINUTES = 15;
/** …and is looked at for as long as the reconciliation polls it; older ones were abandoned. */
export const STUCK_WINDOW_DAYS = 7;

const EVERY_ROLE = ROLES.map((r) => `'${r}'`).join(', ');

/** The admin's live figures at now ($2): small tables, or indexed ranges of big ones. */
export const PLATFORM_LIVE: Fragment<PlatformLive> = fragment(
  // Each IST week as an instant range, counted through the (role, created_at) index (role IN every
  // role lets it serve the range): no time zone conversion per user.
  `WITH weeks AS (
     SELECT w::date AS week, w AT TIME ZONE '${IST}' AS starts, (w + interval '1 week') AT TIME ZONE '${IST}' AS ends
       FROM generate_series(date_trunc('week', $2::timestamptz AT TIME ZONE '${IST}') - make_interval(weeks => ${NEW_USER_WEEKS - 1}),
                            date_trunc('week', $2::timestamptz AT TIME ZONE '${IST}'), interval '1 week') w)
   SELECT json_build_object(
     'weeks', (SELECT json_agg(json_build_object('week', to_char(week, 'YYYY-MM-DD'), 'users', users,
                                                 'travelers', travelers, 'organizers', organizers) ORDER BY week)
                 FROM (SELECT w.week, count(u.role) AS users, count(u.role) FILTER (WHERE u.role = 'traveler') AS travelers,
                              count(u.role) FILTER (WHERE u.role = 'organizer') AS organizers
                         FROM weeks w
                         LEFT JOIN users u ON u.role IN (${EVERY_ROLE}) AND u.created_at >= w.starts AND u.created_at < w.ends
                                          AND u.created_at <= $2::timestamptz
                        GROUP BY w.week) w),
     'trips', (SELECT coalesce(json_agg(json_build_object('key', status, 'n', n)), '[]') FROM (
                 SELECT status, count(*) AS n FROM trips GROUP BY status) s),
     -- An active organizer without a row yet has the trial it will get (GET /auto-pay/status creates it so).
     'subscriptions', (SELECT coalesce(json_agg(json_build_object('key', status, 'n', n)), '[]') FROM (
                         SELECT status, sum(n) AS n FROM (
                           SELECT status, count(*) AS n FROM subscriptions GROUP BY status
                           UNION ALL
                           SELECT 'trial', count(*) FROM users u
                            WHERE u.role = 'organizer' AND u.is_active
                              AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.organizer_id = u.id)) x
                          GROUP BY status) s),
     'failedRefunds', (SELECT count(*) FROM refunds WHERE status = 'failed'),
     'stuckPayments', (SELECT count(*) FROM payment_orders
                        WHERE status IN ('created', 'attempted') AND superseded_at IS NULL
                          AND created_at <= $2::timestamptz - make_interval(mins => ${STUCK_AFTER_MINUTES})
                          AND created_at > $2::timestamptz - make_interval(days => ${STUCK_WINDOW_DAYS})),
     -- What GET /admin/webhook-events?status=failing lists: applying it failed, it waits for a retry.
     'failingWebhooks', (SELECT count(*) FROM webhook_events WHERE processed_at IS NULL AND attempts > 0))`,
  (row: {
    weeks: NewUsersWeek[];
    trips: { key: string; n: number }[];
    subscriptions: { key: string; n: number }[];
    failedRefunds: number;
    stuckPayments: number;
    failingWebhooks: number;
  }): PlatformLive => ({
    newUsersByWeek: row.weeks,
    tripsByStatus: zeroFilled(TRIP_STATUSES, row.trips),
    subscriptionsByStatus: zeroFilled(SUBSCRIPTION_STATUSES, row.subscriptions),
    failedRefunds: row.failedRefunds,
    stuckPayments: row.stuckPayments,
    failingWebhooks: row.failingWebhooks,
  }),
);
