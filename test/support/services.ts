import { Actor, AuthService } from '@trektribe/auth';
import { BookingsService, BookingView } from '@trektribe/booking';
import { TripsService, TripView } from '../../libs/booking/src/trips/trips.service';
import type { Role } from '@trektribe/common';
import { randomBytes } from 'node:crypto';
import type { GatewayPayment } from '../../libs/billing/src/gateway/razorpay.gateway';
import { PASSWORD, ServiceApp, uniqueEmail } from './app';
import { bookingBody, tripBody } from './fixtures';

/**
 * Seeding for the service-level specs (test/medium): the same rows the e2e fixtures make over HTTP,
 * made by calling the services themselves, so a spec never needs a port.
 */

/** A registered user as the services see one. Agents and admins cannot self-register: set in the database, as createStaff does. */
export async function newUser(t: ServiceApp, role: Role = 'traveler'): Promise<Actor> {
  const email = uniqueEmail(role);
  const name = `Test ${role}`;
  const registered = role === 'organizer' ? 'organizer' : 'traveler';
  const { user } = await t.app
    .get(AuthService)
    .register({ name, email, password: PASSWORD, phone: '+919812345678', role: registered });
  if (registered !== role) await t.db.query(`UPDATE users SET role = $2 WHERE id = $1`, [user.id, role]);
  return { id: user.id, role, email, name };
}

/** A trip listed by `organizer` (tripBody's defaults: 20 seats, 30 days out). */
export function newTrip(
  t: ServiceApp,
  organizer: Actor,
  overrides: Record<string, unknown> = {},
): Promise<TripView> {
  return t.app
    .get(TripsService)
    .create(organizer, tripBody(t, overrides) as Parameters<TripsService['create']>[1]);
}

/** A pending booking holding `seats` of the trip, made the way a traveler's request makes one. */
export function newHold(
  t: ServiceApp,
  traveler: Actor,
  tripId: string,
  seats = 1,
  paymentMethod: 'online' | 'screenshot' = 'online',
): Promise<BookingView> {
  return t.app.get(BookingsService).create(traveler, bookingBody(tripId, seats, paymentMethod));
}

export interface TestOrder {
  id: string;
  gatewayOrderId: string;
  amount: number;
  currency: string;
}

/**
 * The payment order checkout would have stored for a booking (checkout needs the gateway to make one,
 * so the row is written directly; the ledger only reads it).
 */
export async function newBookingOrder(
  t: ServiceApp,
  booking: Pick<BookingView, 'id' | 'travelerId' | 'totalAmount' | 'currency'>,
): Promise<TestOrder> {
  const gatewayOrderId = `order_${randomBytes(7).toString('hex')}`;
  const [row] = (await t.db.query(
    `INSERT INTO payment_orders (purpose, booking_id, payer_id, amount, currency, receipt, gateway_order_id)
     VALUES ('booking', $1, $2, $3, $4, $5, $6) RETURNING id`,
    [
      booking.id,
      booking.travelerId,
      booking.totalAmount,
      booking.currency,
      `bk:${randomBytes(8).toString('hex')}`,
      gatewayOrderId,
    ],
  )) as { id: string }[];
  return { id: row.id, gatewayOrderId, amount: booking.totalAmount, currency: booking.currency };
}

/** A gateway payment against `order` as Razorpay reports one: captured for the order's amount unless overridden. */
export function gatewayPayment(order: TestOrder, overrides: Partial<GatewayPayment> = {}): GatewayPayment {
  return {
    id: `pay_${randomBytes(7).toString('hex')}`,
    amount: order.amount,
    currency: order.currency,
    status: 'captured',
    order_id: order.gatewayOrderId,
    method: 'upi',
    captured: true,
    amount_refunded: 0,
    refund_status: null,
    error_code: null,
    error_description: null,
    created_at: Math.floor(Date.now() / 1000),
    ...overrides,
  };
}

/** Rows of one payment table for a booking, oldest first: what the billing specs read back. */
export async function rowsFor(
  t: ServiceApp,
  table: 'payments' | 'refunds',
  bookingId: string,
): Promise<Record<string, any>[]> {
  return t.db.query(`SELECT * FROM ${table} WHERE booking_id = $1 ORDER BY created_at, id`, [bookingId]);
}
