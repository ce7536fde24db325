import { Injectable } from '@nestjs/common';
import { UserDirectory, UserView } from '@trektribe/auth';
import { Clock, DomainError } from '@trektribe/common';
import { DataSource } from 'typeorm';
import { Ticket } from '../tickets/ticket.entity';
import { toTicketView } from '../tickets/ticket-views';

/** How many of each kind the customer view lists, newest first (`counts` has the totals). */
const RECENT = 50;

/**
 * The agents' CRM (API.md, `/agent/customers`): find a customer by part of a name, email or phone,
 * and see their whole history in one view. Read-only: the rows belong to auth (users, through its
 * UserDirectory), booking (bookings, trips) and billing (payments, refunds); support writes none.
 */
@Injectable()
export class CustomerRecordsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UserDirectory,
    private readonly clock: Clock,
  ) {}

  /** Up to 20 travelers and organizers matching `text` (3+ characters), an exact email first. */
  async search(text: string): Promise<UserView[]> {
    return this.users.searchCustomers(this.dataSource.manager, text, 20);
  }

  /**
   * Profile, bookings (made as a traveler, or on the organizer's trips), payments (as payer),
   * refunds, tickets, and how many of each there are. Not a customer (an agent, an admin) → 404.
   */
  async profile(id: string) {
    const m = this.dataSource.manager;
    const profile = await this.users.customerProfile(m, id);
    if (!profile) throw DomainError.notFound('Customer');
    const [bookings, payments, refunds, tickets, [counts]] = await Promise.all([
      m.query(
        `SELECT b.id, b.trip_id AS "tripId", t.title AS "tripTitle", to_char(t.start_date, 'YYYY-MM-DD') AS "startDate",
                b.traveler_id AS "travelerId", b.organizer_id AS "organizerId", b.seats, b.total_amount AS "totalAmount",
                b.status, b.payment_status AS "paymentStatus", b.payment_method AS "paymentMethod",
                b.refund_amount AS "refundAmount", b.created_at AS "createdAt"
           FROM bookings b JOIN trips t ON t.id = b.trip_id
          WHERE b.traveler_id = $1 OR b.organizer_id = $1
          ORDER BY b.created_at DESC, b.id DESC LIMIT $2`,
        [id, RECENT],
      ) as Promise<Record<string, unknown>[]>,
      m.query(
        `SELECT p.id, p.booking_id AS "bookingId", p.subscription_id AS "subscriptionId", p.method, p.amount,
                p.amount_refunded AS "amountRefunded", p.status, p.gateway_payment_id AS "gatewayPaymentId",
                p.captured_at AS "capturedAt", p.created_at AS "createdAt"
           FROM payments p WHERE p.payer_id = $1
          ORDER BY p.created_at DESC, p.id DESC LIMIT $2`,
        [id, RECENT],
      ) as Promise<Record<string, unknown>[]>,
      m.query(
        `SELECT r.id, r.payment_id AS "paymentId", r.booking_id AS "bookingId", r.amount, r.status,
                r.processed_at AS "processedAt", r.created_at AS "createdAt"
           FROM refunds r JOIN payments p ON p.id = r.payment_id
          WHERE p.payer_id = $1
          ORDER BY r.created_at DESC, r.id DESC LIMIT $2`,
        [id, RECENT],
      ) as Promise<Record<string, unknown>[]>,
      m.find(Ticket, { where: { customerId: id }, order: { createdAt: 'DESC', id: 'DESC' }, take: RECENT }),
      m.query(
        `SELECT (SELECT count(*) FROM bookings WHERE traveler_id = $1 OR organizer_id = $1)::int AS bookings,
                (SELECT count(*) FROM payments WHERE payer_id = $1)::int AS payments,
                (SELECT count(*) FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.payer_id = $1)::int AS refunds,
                (SELECT count(*) FROM support_tickets WHERE customer_id = $1)::int AS tickets`,
        [id],
      ) as Promise<{ bookings: number; payments: number; refunds: number; tickets: number }[]>,
    ]);
    const now = this.clock.now();
    return {
      profile,
      counts,
      bookings,
      payments,
      refunds,
      tickets: tickets.map((t) => toTicketView(t, now)),
    };
  }
}
