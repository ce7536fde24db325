import { BOOKING_STATUSES } from '@trektribe/booking';
import { fragment, Fragment } from './fragment';
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
 * A traveler's figures ($1). A booking "holds" while it is confirmed, or pending with its hold not
 * lapsed at now ($2; the expiry job may not have run yet): only those count as upcoming or payable.
 */
export const TRAVELER_FIGURES: Fragment<TravelerFiguresResult> = fragment(
  `json_build_object(
     'upcoming', (SELECT coalesce(json_agg(json_build_object(
                           'bookingId', u.booking_id, 'tripId', u.trip_id, 'title', u.title, 'destination', u.destination,
                           'startDate', to_char(u.start_date, 'YYYY-MM-DD'), 'endDate', to_char(u.end_date, 'YYYY-MM-DD'),
                           'timezone', u.timezone, 'seats', u.seats, 'totalAmount', u.total_amount, 'currency', u.currency,
                           'status', u.status, 'paymentStatus', u.payment_status, 'holdExpiresAt', ${isoSql('u.hold_expires_at')})
                         ORDER BY u.start_date, u.created_at, u.booking_id), '[]')
                    FROM (SELECT b.id AS booking_id, b.created_at, b.seats, b.total_amount, b.currency, b.status, b.payment_status,
                                 b.hold_expires_at, t.id AS trip_id, t.title, t.destination, t.start_date, t.end_date, t.timezone
                            FROM bookings b JOIN trips t ON t.id = b.trip_id
                           WHERE b.traveler_id = $1::uuid
                             AND (b.status = 'confirmed'
                                  OR (b.status = 'pending' AND (b.hold_expires_at IS NULL OR b.hold_expires_at > $2::timestamptz)))
                             AND t.start_date >= ($2::timestamptz AT TIME ZONE t.timezone)::date
                           ORDER BY t.start_date, b.created_at, b.id
                           LIMIT ${UPCOMING_BOOKINGS}) u),
     'byStatus', (SELECT coalesce(json_agg(json_build_object('key', status, 'n', n)), '[]') FROM (
                    SELECT status, count(*)::int AS n FROM bookings WHERE traveler_id = $1::uuid GROUP BY status) s),
     'paid', (SELECT coalesce(sum(p.amount), 0) FROM payments p
               WHERE p.payer_id = $1::uuid AND p.booking_id IS NOT NULL AND p.status IN ${PAID_PAYMENT}),
     'refunded', (SELECT coalesce(sum(r.amount), 0) FROM payments p JOIN refunds r ON r.payment_id = p.id
                   WHERE p.payer_id = $1::uuid AND p.booking_id IS NOT NULL AND r.status IN ${REFUND_DONE}),
     'payable', (SELECT json_build_object('n', count(*), 'amount', coalesce(sum(total_amount), 0))
                   FROM bookings
                  WHERE traveler_id = $1::uuid AND status = 'pending' AND payment_status IN ('unpaid', 'failed')
                    AND (hold_expires_at IS NULL OR hold_expires_at > $2::timestamptz)),
     'awaitingVerification', (SELECT count(*) FROM bookings
                               WHERE traveler_id = $1::uuid AND status = 'pending' AND payment_status = 'awaiting_verification'),
     'reviewsDue', (SELECT count(*) FROM bookings b
                     WHERE b.traveler_id = $1::uuid AND b.status = 'completed'
                       AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.booking_id = b.id)))`,
  (row: {
    upcoming: UpcomingBooking[];
    byStatus: { key: string; n: number }[];
    paid: number;
    refunded: number;
    payable: { n: number; amount: number };
    awaitingVerification: number;
    reviewsDue: number;
  }): TravelerFiguresResult => ({
    upcomingTrips: row.upcoming,
    bookingsByStatus: zeroFilled(BOOKING_STATUSES, row.byStatus),
    totalSpent: row.paid - row.refunded,
    pendingPayments: row.payable.n,
    pendingPaymentsAmount: row.payable.amount,
    awaitingVerification: row.awaitingVerification,
    reviewsDue: row.reviewsDue,
  }),
);
