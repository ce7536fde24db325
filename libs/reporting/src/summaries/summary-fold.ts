import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PLATFORM_SCOPE } from './summary.entities';

/**
 * Moves every delta into its totals, per organizer and under PLATFORM_SCOPE, in one transaction.
 * Each statement deletes the deltas its snapshot sees and adds them to the totals: a delta written
 * meanwhile stays for the next fold, and a fold running at the same time in another instance waits
 * on the rows this one deletes, then skips them. A reader sees the totals and deltas of one
 * snapshot, so every figure is the same before, during and after a fold.
 */
export const FOLD_STATEMENTS = [
  `WITH d AS (DELETE FROM report_booking_count_deltas RETURNING organizer_id, status, bookings),
        t AS (SELECT organizer_id, status, sum(bookings) AS bookings FROM d GROUP BY organizer_id, status
              UNION ALL
              SELECT '${PLATFORM_SCOPE}'::uuid, status, sum(bookings) FROM d GROUP BY status)
   INSERT INTO report_booking_counts (organizer_id, status, bookings)
   SELECT organizer_id, status, bookings FROM t WHERE bookings <> 0
   ON CONFLICT (organizer_id, status) DO UPDATE SET bookings = report_booking_counts.bookings + EXCLUDED.bookings`,
  `WITH d AS (DELETE FROM report_money_month_deltas RETURNING kind, organizer_id, month, bookings, payments, gross, refunds),
        t AS (SELECT kind, organizer_id, month, sum(bookings) AS bookings, sum(payments) AS payments,
                     sum(gross) AS gross, sum(refunds) AS refunds
                FROM d GROUP BY kind, organizer_id, month
              UNION ALL
              SELECT kind, '${PLATFORM_SCOPE}'::uuid, month, sum(bookings), sum(payments), sum(gross), sum(refunds)
                FROM d GROUP BY kind, month)
   INSERT INTO report_money_months (kind, organizer_id, month, bookings, payments, gross, refunds)
   SELECT kind, organizer_id, month, bookings, payments, gross, refunds FROM t
    WHERE bookings <> 0 OR payments <> 0 OR gross <> 0 OR refunds <> 0
   ON CONFLICT (kind, organizer_id, month) DO UPDATE
      SET bookings = report_money_months.bookings + EXCLUDED.bookings,
          payments = report_money_months.payments + EXCLUDED.payments,
          gross = report_money_months.gross + EXCLUDED.gross,
          refunds = report_money_months.refunds + EXCLUDED.refunds`,
  `WITH d AS (DELETE FROM report_user_count_deltas RETURNING role, active, users),
        t AS (SELECT role, active, sum(users) AS users FROM d GROUP BY role, active)
   INSERT INTO report_user_counts (role, active, users)
   SELECT role, active, users FROM t WHERE users <> 0
   ON CONFLICT (role, active) DO UPDATE SET users = report_user_counts.users + EXCLUDED.users`,
];

@Injectable()
export class SummaryFold {
  constructor(private readonly dataSource: DataSource) {}

  /** The scheduler's every-minute pass (and the bench's, after its bulk seed). */
  async fold(): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      for (const sql of FOLD_STATEMENTS) await m.query(sql);
    });
  }
}
