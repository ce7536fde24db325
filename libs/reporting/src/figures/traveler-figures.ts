import { Injectable } from '@nestjs/common';
import { BOOKING_STATUSES } from '@trektribe/booking';
import { DataSource } from 'typeorm';
import { isoSql, PAID_PAYMENT, REFUND_DONE, zeroFilled } from './sql';

export const UPCOMING_BOOKINGS = 5;

export interface UpcomingBooking {
  bookingId: string;
  tripId: string;
  title: string;
  destination: string;
  startDate: string;
  endDate: string;
  timezone: string;
  seats: number;
  totalAmount: number;
  currency: string;
  status: string;
  paymentStatus: string;
  holdExpiresAt: string | null;
}

export interface TravelerFiguresResult {
  upcomingTrips: UpcomingBooking[];
  bookingsByStatus: Record<(typeof BOOKING_STATUSES)[number], number>;
  totalSpent: number;
  pendingPayments: number;
  pendingPaymentsAmount: number;
  awaitingVerification: number;
  reviewsDue: number;
}

/**
 * A traveler's figures, in one statement. A booking "holds" while it is confirmed, or pending with
 * its hold not lapsed at `now` (the expiry job may not have run yet): only those count as upcoming
 * or payable.
 */
@Injectable()
export class TravelerFigures {
  constructor(private readonly dataSource: DataSource) {}

  async of(travelerId: string, now: Date): Promise<TravelerFiguresResult> {
    const [row] = (await this.dataSource.query(
      `SELECT
         (SELECT coalesce(json_agg(u ORDER BY u.n), '[]') FROM (
            SELECT b.id AS "bookingId", t.id AS "tripId", t.title, t.destination,
                   to_char(t.start_date, 'YYYY-MM-DD') AS "startDate", to_char(t.end_date, 'YYYY-MM-DD') AS "endDate",
                   t.timezone, b.seats, b.total_amount AS "totalAmount", b.currency, b.status,
                   b.payment_status AS "paymentStatus", ${isoSql('b.hold_expires_at')} AS "holdExpiresAt",
                   row_number() OVER (ORDER BY t.start_date, b.created_at, b.id) AS n
              FROM bookings b JOIN trips t ON t.id = b.trip_id
             WHERE b.traveler_id = $1
               AND (b.status = 'confirmed' OR (b.status = 'pending' AND (b.hold_expires_at IS NULL OR b.hold_expires_at > $2)))
               AND t.start_date >= ($2::timestamptz AT TIME ZONE t.timezone)::date
             ORDER BY t.start_date, b.created_at, b.id
             LIMIT ${UPCOMING_BOOKINGS}) u) AS upcoming,
         (SELECT coalesce(json_agg(json_build_object('key', status, 'n', n)), '[]') FROM (
            SELECT status, count(*)::int AS n FROM bookings WHERE traveler_id = $1 GROUP BY status) s) AS "byStatus",
         (SELECT coalesce(sum(p.amount), 0)::bigint FROM payments p
           WHERE p.payer_id = $1 AND p.booking_id IS NOT NULL AND p.status IN ${PAID_PAYMENT}) AS paid,
         (SELECT coalesce(sum(r.amount), 0)::bigint FROM payments p JOIN refunds r ON r.payment_id = p.id
           WHERE p.payer_id = $1 AND p.booking_id IS NOT NULL AND r.status IN ${REFUND_DONE}) AS refunded,
         (SELECT json_build_object('n', count(*)::int, 'amount', coalesce(sum(total_amount), 0)::bigint)
            FROM bookings
           WHERE traveler_id = $1 AND status = 'pending' AND payment_status IN ('unpaid', 'failed')
             AND (hold_expires_at IS NULL OR hold_expires_at > $2)) AS payable,
         (SELECT count(*)::int FROM bookings
           WHERE traveler_id = $1 AND status = 'pending' AND payment_status = 'awaiting_verification') AS "awaitingVerification",
         (SELECT count(*)::int FROM bookings b
           WHERE b.traveler_id = $1 AND b.status = 'completed'
             AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.booking_id = b.id)) AS "reviewsDue"`,
      [travelerId, now],
    )) as {
      upcoming: (UpcomingBooking & { n: number })[];
      byStatus: { key: string; n: number }[];
      paid: string;
      refunded: string;
      payable: { n: number; amount: number };
      awaitingVerification: number;
      reviewsDue: number;
    }[];
    return {
      upcomingTrips: row.upcoming.map(({ n: _n, ...u }) => u),
      bookingsByStatus: zeroFilled(BOOKING_STATUSES, row.byStatus),
      totalSpent: Number(row.paid) - Number(row.refunded),
      pendingPayments: row.payable.n,
      pendingPaymentsAmount: Number(row.payable.amount),
      awaitingVerification: row.awaitingVerification,
      reviewsDue: row.reviewsDue,
    };
  }
}
