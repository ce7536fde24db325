import { Injectable } from '@nestjs/common';
import { PLAN, SUBSCRIPTION_STATUSES } from '@trektribe/billing';
import { TRIP_STATUSES } from '@trektribe/booking';
import { DataSource } from 'typeorm';
import { isoSql, PAID_PAYMENT, REFUND_DONE, REFUND_OWED, zeroFilled } from './sql';

export type TripStatusCounts = Record<(typeof TRIP_STATUSES)[number], number>;

export interface UpcomingTrip {
  tripId: string;
  title: string;
  startDate: string;
  endDate: string;
  status: string;
  capacity: number;
  seatsBooked: number;
  /** seatsBooked ÷ capacity, 0–1, four decimals. */
  occupancy: number;
}

export interface OrganizerSubscription {
  status: (typeof SUBSCRIPTION_STATUSES)[number];
  trialEndsAt: string;
  /** Null when no charge is coming (cancelling or cancelled), as GET /auto-pay/status says. */
  nextChargeAt: string | null;
}

export interface OrganizerSnapshot {
  tripsByStatus: TripStatusCounts;
  trips: { total: number; active: number; seatsBooked: number; capacity: number };
  upcoming: UpcomingTrip[];
  pendingVerifications: number;
  /** The mean of every review of the organizer's trips, two decimals; null before the first. */
  rating: number | null;
  reviewCount: number;
  subscription: OrganizerSubscription;
}

export interface TripEarnings {
  tripId: string;
  title: string;
  startDate: string;
  status: string;
  /** Captured payments on the trip's bookings. */
  payments: number;
  /** What they captured, in paise. */
  gross: number;
  /** Refunded so far (gateway refunds processed, manual payouts made). */
  refunded: number;
  /** Refunds owed but not yet paid out. */
  refundsPending: number;
  /** gross − refunded − refundsPending. */
  net: number;
}

export type EarningsTotal = Omit<TripEarnings, 'tripId' | 'title' | 'startDate' | 'status'>;

export const UPCOMING_TRIPS = 5;

/**
 * An organizer's figures read live from booking's and billing's tables, one statement each: what
 * the organizer dashboard and GET /organizer/stats|earnings both show, so they never disagree.
 */
@Injectable()
export class OrganizerFigures {
  constructor(private readonly dataSource: DataSource) {}

  async snapshot(organizerId: string, now: Date): Promise<OrganizerSnapshot> {
    const [row] = (await this.dataSource.query(
      `SELECT
         (SELECT coalesce(json_agg(json_build_object('key', status, 'n', n)), '[]') FROM (
            SELECT status, count(*)::int AS n FROM trips WHERE organizer_id = $1 GROUP BY status) s) AS "tripsByStatus",
         (SELECT json_build_object('seatsBooked', coalesce(sum(seats_booked), 0)::int, 'capacity', coalesce(sum(capacity), 0)::int)
            FROM trips WHERE organizer_id = $1) AS seats,
         (SELECT coalesce(json_agg(u ORDER BY u."startDate", u."tripId"), '[]') FROM (
            SELECT id AS "tripId", title, to_char(start_date, 'YYYY-MM-DD') AS "startDate", to_char(end_date, 'YYYY-MM-DD') AS "endDate",
                   status, capacity, seats_booked AS "seatsBooked", round(seats_booked::numeric / capacity, 4) AS occupancy
              FROM trips
             WHERE organizer_id = $1 AND status IN ('active', 'inactive') AND start_date >= ($2::timestamptz AT TIME ZONE timezone)::date
             ORDER BY start_date, id LIMIT ${UPCOMING_TRIPS}) u) AS upcoming,
         (SELECT count(*)::int FROM payment_proofs p JOIN bookings b ON b.id = p.booking_id
           WHERE p.status = 'pending' AND b.organizer_id = $1) AS "pendingVerifications",
         -- per trip (its reviews by index), then over the organizer's trips: the mean of every review
         (SELECT json_build_object('rating', round(sum(r.total)::numeric / nullif(sum(r.n), 0), 2), 'count', coalesce(sum(r.n), 0)::int)
            FROM trips t CROSS JOIN LATERAL (SELECT sum(rating) AS total, count(*) AS n FROM reviews WHERE trip_id = t.id) r
           WHERE t.organizer_id = $1) AS reviews,
         -- No row yet (auto-pay never opened): the trial it will get, from registration (GET /auto-pay/status creates it so).
         (SELECT json_build_object(
                   'status', coalesce(s.status, 'trial'),
                   'trialEndsAt', ${isoSql(`coalesce(s.trial_ends_at, u.created_at + make_interval(days => $3))`)},
                   'nextChargeAt', CASE WHEN s.id IS NULL THEN ${isoSql(`u.created_at + make_interval(days => $3)`)}
                                        WHEN s.cancel_at_period_end OR s.status = 'cancelled' THEN NULL
                                        ELSE ${isoSql('s.next_charge_at')} END)
            FROM users u LEFT JOIN subscriptions s ON s.organizer_id = u.id WHERE u.id = $1) AS subscription`,
      [organizerId, now, PLAN.trialDays],
    )) as {
      tripsByStatus: { key: string; n: number }[];
      seats: { seatsBooked: number; capacity: number };
      upcoming: UpcomingTrip[];
      pendingVerifications: number;
      reviews: { rating: number | null; count: number };
      subscription: OrganizerSubscription;
    }[];
    const tripsByStatus = zeroFilled(TRIP_STATUSES, row.tripsByStatus);
    return {
      tripsByStatus,
      trips: {
        total: Object.values(tripsByStatus).reduce((a, b) => a + b, 0),
        active: tripsByStatus.active,
        seatsBooked: row.seats.seatsBooked,
        capacity: row.seats.capacity,
      },
      upcoming: row.upcoming.map((u) => ({ ...u, occupancy: Number(u.occupancy) })),
      pendingVerifications: row.pendingVerifications,
      rating: row.reviews.rating === null ? null : Number(row.reviews.rating),
      reviewCount: row.reviews.count,
      subscription: row.subscription,
    };
  }

  /** Per trip (newest start first) and in total, integer paise. */
  async earningsByTrip(organizerId: string): Promise<{ trips: TripEarnings[]; total: EarningsTotal }> {
    const rows = (await this.dataSource.query(
      `WITH paid AS (
         SELECT b.trip_id, count(*)::int AS payments, sum(p.amount)::bigint AS gross
           FROM bookings b JOIN payments p ON p.booking_id = b.id
          WHERE b.organizer_id = $1 AND p.status IN ${PAID_PAYMENT}
          GROUP BY b.trip_id),
       back AS (
         SELECT b.trip_id, coalesce(sum(r.amount) FILTER (WHERE r.status IN ${REFUND_DONE}), 0)::bigint AS refunded,
                coalesce(sum(r.amount) FILTER (WHERE r.status IN ${REFUND_OWED}), 0)::bigint AS pending
           FROM bookings b JOIN payments p ON p.booking_id = b.id JOIN refunds r ON r.payment_id = p.id
          WHERE b.organizer_id = $1
          GROUP BY b.trip_id),
       per_trip AS (
         SELECT t.id AS "tripId", t.title, to_char(t.start_date, 'YYYY-MM-DD') AS "startDate", t.status,
                coalesce(paid.payments, 0) AS payments, coalesce(paid.gross, 0) AS gross,
                coalesce(back.refunded, 0) AS refunded, coalesce(back.pending, 0) AS pending, t.start_date, t.id
           FROM trips t LEFT JOIN paid ON paid.trip_id = t.id LEFT JOIN back ON back.trip_id = t.id
          WHERE t.organizer_id = $1)
       SELECT "tripId", title, "startDate", status, payments, gross, refunded, pending,
              sum(payments) OVER () AS total_payments, sum(gross) OVER () AS total_gross,
              sum(refunded) OVER () AS total_refunded, sum(pending) OVER () AS total_pending
         FROM per_trip
        ORDER BY start_date DESC, id`,
      [organizerId],
    )) as (Record<'tripId' | 'title' | 'startDate' | 'status', string> &
      Record<'payments' | 'gross' | 'refunded' | 'pending', number | string> &
      Record<'total_payments' | 'total_gross' | 'total_refunded' | 'total_pending', string>)[];
    const money = (
      payments: unknown,
      gross: unknown,
      refunded: unknown,
      pending: unknown,
    ): EarningsTotal => ({
      payments: Number(payments),
      gross: Number(gross),
      refunded: Number(refunded),
      refundsPending: Number(pending),
      net: Number(gross) - Number(refunded) - Number(pending),
    });
    const first = rows[0];
    return {
      trips: rows.map((r) => ({
        tripId: r.tripId,
        title: r.title,
        startDate: r.startDate,
        status: r.status,
        ...money(r.payments, r.gross, r.refunded, r.pending),
      })),
      total: first
        ? money(first.total_payments, first.total_gross, first.total_refunded, first.total_pending)
        : money(0, 0, 0, 0),
    };
  }
}
