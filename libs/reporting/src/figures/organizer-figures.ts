import { PLAN, SUBSCRIPTION_STATUSES } from '@trektribe/billing';
import { TRIP_STATUSES } from '@trektribe/booking';
import { fragment, Fragment } from './fragment';
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
 * An organizer's figures ($1), read live from booking's and billing's tables: what the organizer
 * dashboard and GET /organizer/stats|earnings all show, from these same fragments.
 */
export const ORGANIZER_SNAPSHOT: Fragment<OrganizerSnapshot> = fragment(
  `json_build_object(
     'tripsByStatus', (SELECT coalesce(json_agg(json_build_object('key', status, 'n', n)), '[]') FROM (
        SELECT status, count(*)::int AS n FROM trips WHERE organizer_id = $1::uuid GROUP BY status) s),
     'seats', (SELECT json_build_object('seatsBooked', coalesce(sum(seats_booked), 0)::int, 'capacity', coalesce(sum(capacity), 0)::int)
                 FROM trips WHERE organizer_id = $1::uuid),
     'upcoming', (SELECT coalesce(json_agg(json_build_object(
                           'tripId', id, 'title', title, 'startDate', to_char(start_date, 'YYYY-MM-DD'),
                           'endDate', to_char(end_date, 'YYYY-MM-DD'), 'status', status, 'capacity', capacity,
                           'seatsBooked', seats_booked, 'occupancy', round(seats_booked::numeric / capacity, 4))
                         ORDER BY start_date, id), '[]')
                    FROM (SELECT * FROM trips
                           WHERE organizer_id = $1::uuid AND status IN ('active', 'inactive')
                             AND start_date >= ($2::timestamptz AT TIME ZONE timezone)::date
                           ORDER BY start_date, id LIMIT ${UPCOMING_TRIPS}) u),
     -- what GET /organizer/pending-verifications counts
     'pendingVerifications', (SELECT count(*)::int FROM payment_proofs p JOIN bookings b ON b.id = p.booking_id
                               WHERE p.status = 'pending' AND b.organizer_id = $1::uuid),
     -- per trip (its reviews by index), then over the organizer's trips: the mean of every review
     'reviews', (SELECT json_build_object('rating', round(sum(r.total)::numeric / nullif(sum(r.n), 0), 2),
                                          'count', coalesce(sum(r.n), 0)::int)
                   FROM trips t CROSS JOIN LATERAL (SELECT sum(rating) AS total, count(*) AS n FROM reviews WHERE trip_id = t.id) r
                  WHERE t.organizer_id = $1::uuid),
     -- No row yet (auto-pay never opened): the trial it will get, from registration (GET /auto-pay/status creates it so).
     'subscription', (SELECT json_build_object(
                        'status', coalesce(s.status, 'trial'),
                        'trialEndsAt', ${isoSql(`coalesce(s.trial_ends_at, u.created_at + make_interval(days => ${PLAN.trialDays}))`)},
                        'nextChargeAt', CASE WHEN s.id IS NULL THEN ${isoSql(`u.created_at + make_interval(days => ${PLAN.trialDays})`)}
                                             WHEN s.cancel_at_period_end OR s.status = 'cancelled' THEN NULL
                                             ELSE ${isoSql('s.next_charge_at')} END)
                        FROM users u LEFT JOIN subscriptions s ON s.organizer_id = u.id WHERE u.id = $1::uuid))`,
  (row: {
    tripsByStatus: { key: string; n: number }[];
    seats: { seatsBooked: number; capacity: number };
    upcoming: UpcomingTrip[];
    pendingVerifications: number;
    reviews: { rating: number | null; count: number };
    subscription: OrganizerSubscription;
  }): OrganizerSnapshot => {
    const tripsByStatus = zeroFilled(TRIP_STATUSES, row.tripsByStatus);
    return {
      tripsByStatus,
      trips: {
        total: Object.values(tripsByStatus).reduce((a, b) => a + b, 0),
        active: tripsByStatus.active,
        seatsBooked: row.seats.seatsBooked,
        capacity: row.seats.capacity,
      },
      upcoming: row.upcoming,
      pendingVerifications: row.pendingVerifications,
      rating: row.reviews.rating,
      reviewCount: row.reviews.count,
      subscription: row.subscription,
    };
  },
);

/** Per trip (newest start first) and in total, integer paise. */
export const ORGANIZER_EARNINGS: Fragment<{ trips: TripEarnings[]; total: EarningsTotal }> = fragment(
  // Per trip, through its bookings (idx_bookings_trip_status) to their payments and refunds by index:
  // joining the organizer's bookings to every payment at once made PostgreSQL scan all payments.
  `WITH per_trip AS (
     SELECT t.id, t.title, t.start_date, t.status, paid.payments, paid.gross, back.refunded, back.pending
       FROM trips t
      CROSS JOIN LATERAL (
        SELECT count(*) AS payments, coalesce(sum(p.amount), 0) AS gross
          FROM bookings b JOIN payments p ON p.booking_id = b.id
         WHERE b.trip_id = t.id AND p.status IN ${PAID_PAYMENT}) paid
      CROSS JOIN LATERAL (
        SELECT coalesce(sum(r.amount) FILTER (WHERE r.status IN ${REFUND_DONE}), 0) AS refunded,
               coalesce(sum(r.amount) FILTER (WHERE r.status IN ${REFUND_OWED}), 0) AS pending
          FROM bookings b JOIN payments p ON p.booking_id = b.id JOIN refunds r ON r.payment_id = p.id
         WHERE b.trip_id = t.id) back
      WHERE t.organizer_id = $1::uuid)
   SELECT json_build_object(
            'trips', coalesce(json_agg(json_build_object(
                       'tripId', id, 'title', title, 'startDate', to_char(start_date, 'YYYY-MM-DD'), 'status', status,
                       'payments', payments, 'gross', gross, 'refunded', refunded, 'refundsPending', pending,
                       'net', gross - refunded - pending) ORDER BY start_date DESC, id), '[]'),
            'total', json_build_object(
                       'payments', coalesce(sum(payments), 0), 'gross', coalesce(sum(gross), 0),
                       'refunded', coalesce(sum(refunded), 0), 'refundsPending', coalesce(sum(pending), 0),
                       'net', coalesce(sum(gross - refunded - pending), 0)))
     FROM per_trip`,
  (value: { trips: TripEarnings[]; total: EarningsTotal }) => value,
);
