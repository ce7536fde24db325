import type { Actor } from '@trektribe/auth';
import { PaymentLedger } from '@trektribe/billing';
import type { BookingView } from '@trektribe/booking';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootTestApp, ServiceApp } from '../support/app';
import { auditRows, bookingRow } from '../support/fixtures';
import {
  gatewayPayment,
  newBookingOrder,
  newHold,
  newTrip,
  newUser,
  rowsFor,
  TestOrder,
} from '../support/services';

/**
 * PaymentLedger.apply: the one path that records a gateway payment against our order. A capture for
 * the order's amount confirms the booking; a capture for another amount or currency is never kept
 * (refunded in full, the booking left unconfirmed, the mismatch audited); repeats change nothing.
 * No gateway is configured, so recorded refunds stay `pending`: nothing settles them behind the test.
 */
describe('PaymentLedger (billing)', () => {
  let t: ServiceApp;
  let ledger: PaymentLedger;
  let organizer: Actor;
  let traveler: Actor;
  beforeAll(async () => {
    t = await bootTestApp();
    ledger = t.app.get(PaymentLedger);
    organizer = await newUser(t, 'organizer');
    traveler = await newUser(t, 'traveler');
  });
  afterAll(async () => t?.close());

  const apply = (
    order: TestOrder,
    p: ReturnType<typeof gatewayPayment>,
    observed: 'captured' | 'failed' | 'authorized' = 'captured',
  ) => t.db.transaction((m) => ledger.apply(m, order.id, p, observed, null));

  /** A pending 2-seat booking on a trip of its own, and the order checkout would have made for it. */
  async function ordered(): Promise<{ booking: BookingView; order: TestOrder }> {
    const trip = await newTrip(t, organizer);
    const booking = await newHold(t, traveler, trip.id, 2);
    return { booking, order: await newBookingOrder(t, booking) };
  }

  const orderRow = async (id: string) =>
    (
      (await t.db.query(`SELECT status, paid_at FROM payment_orders WHERE id = $1`, [id])) as Record<
        string,
        any
      >[]
    )[0];

  it("a capture for the order's amount records the payment, pays the order and confirms the booking", async () => {
    const { booking, order } = await ordered();
    const p = gatewayPayment(order);

    expect((await apply(order, p)).kind).toBe('confirmed');

    expect(await bookingRow(t, booking.id)).toMatchObject({
      status: 'confirmed',
      payment_status: 'paid',
      hold_expires_at: null,
    });
    const [payment] = await rowsFor(t, 'payments', booking.id);
    expect(payment).toMatchObject({
      gateway_payment_id: p.id,
      status: 'captured',
      amount: booking.totalAmount,
      method: 'online',
      payer_id: traveler.id,
    });
    expect((await orderRow(order.id)).status).toBe('paid');
    expect(await auditRows(t, payment.id, 'payment.captured')).toHaveLength(1);
    expect(await rowsFor(t, 'refunds', booking.id)).toEqual([]);
  });

  it('a capture for less than the order, or in another currency, is refunded in full and confirms nothing', async () => {
    const { booking, order } = await ordered();
    const p = gatewayPayment(order, { amount: order.amount - 50_000 });

    expect((await apply(order, p)).kind).toBe('refund_initiated');

    expect(await bookingRow(t, booking.id)).toMatchObject({
      status: 'pending',
      payment_status: 'refund_pending',
    });
    const [payment] = await rowsFor(t, 'payments', booking.id);
    expect(payment).toMatchObject({ status: 'captured', amount: p.amount });
    const refunds = await rowsFor(t, 'refunds', booking.id);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({
      payment_id: payment.id,
      amount: p.amount,
      status: 'pending',
      idempotency_key: `auto_${p.id}`,
    });
    const [mismatch] = await auditRows(t, payment.id, 'payment.amount_mismatch');
    expect(mismatch.after).toMatchObject({
      gatewayPaymentId: p.id,
      bookingId: booking.id,
      expected: { amount: order.amount, currency: 'INR' },
      captured: { amount: p.amount, currency: 'INR' },
    });

    // Another currency for the right amount: the same refusal.
    const usd = await ordered();
    const inUsd = gatewayPayment(usd.order, { currency: 'USD' });
    expect((await apply(usd.order, inUsd)).kind).toBe('refund_initiated');
    expect((await bookingRow(t, usd.booking.id)).status).toBe('pending');
    const [refund] = await rowsFor(t, 'refunds', usd.booking.id);
    expect(refund).toMatchObject({ amount: usd.order.amount, currency: 'USD' });
  });

  it('only what the gateway still holds is refunded, and replaying the capture records nothing more', async () => {
    const { booking, order } = await ordered();
    const p = gatewayPayment(order, { amount: order.amount + 10_000, amount_refunded: 4_000 });

    await apply(order, p);
    const replay = await apply(order, p);

    expect(replay.kind).toBe('unchanged');
    const refunds = await rowsFor(t, 'refunds', booking.id);
    expect(refunds.map((r) => r.amount)).toEqual([p.amount - 4_000]);
    expect(await rowsFor(t, 'payments', booking.id)).toHaveLength(1);
    expect(await auditRows(t, refunds[0].payment_id, 'payment.amount_mismatch')).toHaveLength(1);
  });

  it('a second capture for a booking already paid is a double charge: refunded in full, the booking stays paid', async () => {
    const { booking, order } = await ordered();
    await apply(order, gatewayPayment(order));
    const second = gatewayPayment(order);

    expect((await apply(order, second)).kind).toBe('refund_initiated');

    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'confirmed', payment_status: 'paid' });
    const payments = await rowsFor(t, 'payments', booking.id);
    expect(payments.map((r) => r.status)).toEqual(['captured', 'captured']);
    const refunds = await rowsFor(t, 'refunds', booking.id);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ amount: order.amount, idempotency_key: `auto_${second.id}` });
    expect(refunds[0].payment_id).toBe(payments.find((r) => r.gateway_payment_id === second.id)!.id);
  });

  it('a failed attempt marks the booking failed; a later authorisation moves only the payment up', async () => {
    const { booking, order } = await ordered();
    const p = gatewayPayment(order, {
      status: 'failed',
      captured: false,
      error_code: 'BAD_REQUEST_ERROR',
      error_description: 'Card declined',
    });

    expect((await apply(order, p, 'failed')).kind).toBe('failed');
    expect((await apply(order, { ...p, status: 'authorized' }, 'authorized')).kind).toBe('authorized');

    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'pending', payment_status: 'failed' });
    expect((await orderRow(order.id)).status).toBe('attempted');
    const [payment] = await rowsFor(t, 'payments', booking.id);
    expect(payment).toMatchObject({ status: 'authorized', error_code: 'BAD_REQUEST_ERROR' });
    expect(await rowsFor(t, 'refunds', booking.id)).toEqual([]);
  });

  it('a payment of another order, or for an order we do not have, is ignored and records nothing', async () => {
    const { booking, order } = await ordered();
    const other = await ordered();

    expect((await apply(order, gatewayPayment(other.order))).kind).toBe('ignored');
    expect(
      (
        await t.db.transaction((m) =>
          ledger.apply(m, '00000000-0000-4000-8000-000000000000', gatewayPayment(order), 'captured', null),
        )
      ).kind,
    ).toBe('ignored');

    expect(await rowsFor(t, 'payments', booking.id)).toEqual([]);
    expect(await rowsFor(t, 'payments', other.booking.id)).toEqual([]);
    expect((await orderRow(order.id)).status).toBe('created');
    expect((await bookingRow(t, booking.id)).payment_status).toBe('unpaid');
  });
});
