import { Injectable } from '@nestjs/common';
import { BOOKING_STATUSES } from '@trektribe/booking';
import { ROLES } from '@trektribe/common';
import { DataSource } from 'typeorm';
import { istMonthStart, zeroFilled } from '../figures/sql';
import { PLATFORM_SCOPE } from './summary.entities';

export type MoneyKind = 'booking' | 'subscription';

/** One IST month of money: bookings confirmed, payments captured and their gross, refunds paid out (paise). */
export interface MoneyMonth {
  month: string;
  bookings: number;
  payments: number;
  gross: number;
  refunds: number;
}

/**
 * The figures read from the summary tables: totals plus the deltas not folded yet, in one
 * statement (one snapshot). `scope` is an organizer's id, or PLATFORM_SCOPE for the whole platform.
 */
@Injectable()
export class SummaryFigures {
  constructor(private readonly dataSource: DataSource) {}

  /** Bookings by status: on one organizer's trips, or on the platform. */
  async bookingCounts(scope: string): Promise<Record<(typeof BOOKING_STATUSES)[number], number>> {
    const deltas = scope === PLATFORM_SCOPE ? '' : 'WHERE organizer_id = $1';
    const rows = (await this.dataSource.query(
      `SELECT status AS key, sum(bookings)::int AS n FROM (
         SELECT status, bookings FROM report_booking_counts WHERE organizer_id = $1
         UNION ALL
         SELECT status, bookings FROM report_booking_count_deltas ${deltas}) x
        GROUP BY status`,
      [scope],
    )) as { key: string; n: number }[];
    return zeroFilled(BOOKING_STATUSES, rows);
  }

  /**
   * The last `months` IST months up to the one holding `now`, oldest first, each present (zeros when
   * nothing happened), for each of `kinds`.
   */
  async moneyByMonth<K extends MoneyKind>(
    scope: string,
    kinds: K[],
    now: Date,
    months = 12,
  ): Promise<Record<K, MoneyMonth[]>> {
    const deltas = scope === PLATFORM_SCOPE ? '' : 'AND organizer_id = $2';
    const rows = (await this.dataSource.query(
      `WITH months AS (
         SELECT generate_series(${istMonthStart('$1::timestamptz', months - 1)}, ${istMonthStart('$1::timestamptz')},
                                interval '1 month')::date AS month),
       kinds AS (SELECT unnest($3::varchar[]) AS kind),
       x AS (
         SELECT kind, month, bookings, payments, gross, refunds FROM report_money_months
          WHERE organizer_id = $2 AND kind = ANY($3::varchar[]) AND month >= (SELECT min(month) FROM months)
         UNION ALL
         SELECT kind, month, bookings, payments, gross, refunds FROM report_money_month_deltas
          WHERE kind = ANY($3::varchar[]) AND month >= (SELECT min(month) FROM months) ${deltas})
       SELECT k.kind, to_char(m.month, 'YYYY-MM') AS month,
              coalesce(sum(x.bookings), 0)::int AS bookings, coalesce(sum(x.payments), 0)::int AS payments,
              coalesce(sum(x.gross), 0)::bigint AS gross, coalesce(sum(x.refunds), 0)::bigint AS refunds
         FROM kinds k CROSS JOIN months m LEFT JOIN x ON x.kind = k.kind AND x.month = m.month
        GROUP BY k.kind, m.month
        ORDER BY k.kind, m.month`,
      [now, scope, kinds],
    )) as { kind: K; month: string; bookings: number; payments: number; gross: string; refunds: string }[];
    const out = Object.fromEntries(kinds.map((k) => [k, [] as MoneyMonth[]])) as Record<K, MoneyMonth[]>;
    for (const r of rows)
      out[r.kind].push({
        month: r.month,
        bookings: r.bookings,
        payments: r.payments,
        gross: Number(r.gross),
        refunds: Number(r.refunds),
      });
    return out;
  }

  /** Active users by role (deactivated accounts are not counted). */
  async activeUsersByRole(): Promise<Record<(typeof ROLES)[number], number>> {
    const rows = (await this.dataSource.query(
      `SELECT role AS key, sum(users)::int AS n FROM (
         SELECT role, users FROM report_user_counts WHERE active
         UNION ALL
         SELECT role, users FROM report_user_count_deltas WHERE active) x
        GROUP BY role`,
    )) as { key: string; n: number }[];
    return zeroFilled(ROLES, rows);
  }
}
