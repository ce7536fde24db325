import { BOOKING_STATUSES } from '@trektribe/booking';
import { ROLES } from '@trektribe/common';
import { fragment, Fragment } from '../figures/fragment';
import { istMonthStart, zeroFilled } from '../figures/sql';

export type MoneyKind = 'booking' | 'subscription';
export type BookingCounts = Record<(typeof BOOKING_STATUSES)[number], number>;

/** One IST month of money: bookings confirmed, payments captured and their gross, refunds paid out (paise). */
export interface MoneyMonth {
  month: string;
  bookings: number;
  payments: number;
  gross: number;
  refunds: number;
}

/**
 * The figures kept in the summary tables: totals plus the deltas not folded yet, in one snapshot.
 * `$1` is an organizer's id, or PLATFORM_SCOPE (`platform`: every delta counts).
 */

/** Bookings by status: on one organizer's trips, or on the platform. */
export function bookingCounts(platform: boolean): Fragment<BookingCounts> {
  return fragment(
    `SELECT coalesce(json_agg(json_build_object('key', status, 'n', n)), '[]') FROM (
       SELECT status, sum(bookings)::int AS n FROM (
         SELECT status, bookings FROM report_booking_counts WHERE organizer_id = $1::uuid
         UNION ALL
         SELECT status, bookings FROM report_booking_count_deltas ${platform ? '' : 'WHERE organizer_id = $1::uuid'}) x
        GROUP BY status) s`,
    (rows: { key: string; n: number }[]) => zeroFilled(BOOKING_STATUSES, rows),
  );
}

/**
 * The last `months` IST months up to the one holding now ($2), oldest first, each present (zeros
 * when nothing happened), for each of `kinds`.
 */
export function moneyByMonth<K extends MoneyKind>(
  platform: boolean,
  kinds: K[],
  months = 12,
): Fragment<Record<K, MoneyMonth[]>> {
  const kindList = `ARRAY[${kinds.map((k) => `'${k}'`).join(', ')}]::varchar[]`;
  return fragment(
    `WITH months AS (
       SELECT generate_series(${istMonthStart('$2::timestamptz', months - 1)}, ${istMonthStart('$2::timestamptz')},
                              interval '1 month')::date AS month),
     x AS (
       SELECT kind, month, bookings, payments, gross, refunds FROM report_money_months
        WHERE organizer_id = $1::uuid AND kind = ANY(${kindList}) AND month >= (SELECT min(month) FROM months)
       UNION ALL
       SELECT kind, month, bookings, payments, gross, refunds FROM report_money_month_deltas
        WHERE kind = ANY(${kindList}) AND month >= (SELECT min(month) FROM months)
              ${platform ? '' : 'AND organizer_id = $1::uuid'}),
     sums AS (
       SELECT k.kind, m.month, coalesce(sum(x.bookings), 0) AS bookings, coalesce(sum(x.payments), 0) AS payments,
              coalesce(sum(x.gross), 0) AS gross, coalesce(sum(x.refunds), 0) AS refunds
         FROM unnest(${kindList}) AS k(kind) CROSS JOIN months m
         LEFT JOIN x ON x.kind = k.kind AND x.month = m.month
        GROUP BY k.kind, m.month)
     SELECT json_agg(json_build_object('kind', kind, 'month', to_char(month, 'YYYY-MM'), 'bookings', bookings,
                                       'payments', payments, 'gross', gross, 'refunds', refunds) ORDER BY kind, month)
       FROM sums`,
    (rows: (MoneyMonth & { kind: K })[]) => {
      const out = Object.fromEntries(kinds.map((k) => [k, [] as MoneyMonth[]])) as Record<K, MoneyMonth[]>;
      for (const { kind, ...month } of rows) out[kind].push(month);
      return out;
    },
  );
}

/** Active users by role (deactivated accounts are not counted). */
export const ACTIVE_USERS_BY_ROLE: Fragment<Record<(typeof ROLES)[number], number>> = fragment(
  `SELECT coalesce(json_agg(json_build_object('key', role, 'n', n)), '[]') FROM (
     SELECT role, sum(users)::int AS n FROM (
       SELECT role, users FROM report_user_counts WHERE active
       UNION ALL
       SELECT role, users FROM report_user_count_deltas WHERE active) x
      GROUP BY role) s`,
  (rows: { key: string; n: number }[]) => zeroFilled(ROLES, rows),
);
