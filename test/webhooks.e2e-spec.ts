import { RefundsService } from '@trektribe/billing';
import { OutboxDispatcher } from '@trektribe/notifications';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, SignedIn } from './support/app';
import { BillingTestApp, RZP, startBillingApp } from './support/billing';
import { auditRows, book, bookingRow, createTrip } from './support/fixtures';
import type { PaymentEntity } from './support/razorpay-emulator';

const WEBHOOK = '/api/v1/webhooks/razorpay';

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}

describe('Razorpay webhook', () => {
  let t: BillingTestApp;
  let organizer: SignedIn;
  let trip: { id: string };

  beforeAll(async () => {
    t = await startBillingApp();
    organizer = await register(t, 'organizer');
    trip = await createTrip(t, organizer, { capacity: 50, price: 300_000 });
  });
  afterAll(async () => {
    // let after-commit work (refunds, then outbox deliveries) finish before the app and its Redis clients close
    await t?.app.get(RefundsService).processPendingRefunds();
    await t?.app.get(OutboxDispatcher).dispatchPending();
    await t?.close();
  });

  /** A fresh traveler with a pending online booking and its stored gateway order. */
  async function pendingBooking() {
    const traveler = await register(t, 'traveler');
    const booking = await book(t, traveler, trip.id, 1);
    const res = await t.http
      .post(`/api/v1/bookings/${booking.id}/payments/order`)
      .set(traveler.auth)
      .expect(200);
    return { traveler, booking, orderId: res.body.data.orderId as string };
  }

  const events = (p: PaymentEntity) => ({
    authorized: t.rzp.buildEvent('payment.authorized', {
      payment: { ...p, status: 'authorized', captured: false },
    }),
    captured: t.rzp.buildEvent('payment.captured', { payment: { ...p, status: 'captured', captured: true } }),
    failed: t.rzp.buildEvent('payment.failed', {
      payment: {
        ...p,
        status: 'failed',
        captured: false,
        error_code: 'BAD_REQUEST_ERROR',
        error_description: 'Payment failed',
      },
    }),
  });

  const paymentRows = (bookingId: string) =>
    t.db.query(`SELECT * FROM payments WHERE booking_id = $1`, [bookingId]);
  const confirmationEmails = (bookingId: string) =>
    t.db.query(`SELECT 1 FROM notification_outbox WHERE channel = 'email' AND dedupe_key = $1`, [
      `booking-confirmed:${bookingId}`,
    ]);
  const storedEvent = async (eventId: string) =>
    (await t.db.query(`SELECT * FROM webhook_events WHERE event_id = $1`, [eventId]))[0];

  it('a bad, missing or re-serialized signature → 400 INVALID_SIGNATURE, no effect, nothing stored', async () => {
    const { booking, orderId } = await pendingBooking();
    const paid = t.rzp.payOrder(orderId);
    const event = t.rzp.buildEvent('payment.captured', {
      payment: t.rzp.payments.get(paid.razorpay_payment_id)!,
    });

    const bad = await t.rzp.sendWebhook(event, { eventId: 'evt_forged_000001', badSignature: true });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { code: string } }).error.code).toBe('INVALID_SIGNATURE');
    const missing = await t.rzp.sendWebhook(event, { eventId: 'evt_forged_000002', omitSignature: true });
    expect(missing.status).toBe(400);
    // signed over one serialization, sent as another: the same JSON, other bytes
    const raw = JSON.stringify(event);
    const sig = createHmac('sha256', RZP.webhookSecret).update(raw).digest('hex');
    const reformatted = await t.http
      .post(WEBHOOK)
      .set({
        'content-type': 'application/json',
        'x-razorpay-signature': sig,
        'x-razorpay-event-id': 'evt_forged_000003',
      })
      .send(JSON.stringify(event, null, 2))
      .expect(400);
    expect(reformatted.body.error.code).toBe('INVALID_SIGNATURE');

    expect(await t.db.query(`SELECT 1 FROM webhook_events WHERE event_id LIKE 'evt_forged_%'`)).toHaveLength(
      0,
    );
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'pending', payment_status: 'unpaid' });
    expect(await paymentRows(booking.id)).toHaveLength(0);

    // the x-razorpay-event-id header is required (with a valid signature)
    const noId = await t.http
      .post(WEBHOOK)
      .set({ 'content-type': 'application/json', 'x-razorpay-signature': sig })
      .send(raw)
      .expect(400);
    expect(noId.body.error.code).toBe('BAD_REQUEST');
    expect(await paymentRows(booking.id)).toHaveLength(0);
  });

  it('a signed event with NUL characters or unpaired surrogates (which PostgreSQL refuses) is applied, not a 500 on every retry', async () => {
    const { booking, orderId } = await pendingBooking();
    const failed = t.rzp.failOrder(orderId, {
      code: 'BAD_REQUEST_ERROR',
      description: 'Card declined\u0000 by bank \ud83d',
    });
    const event = t.rzp.buildEvent('payment.failed', { payment: failed });
    const res = await t.rzp.sendWebhook(event, { eventId: 'evt_nul_000001' });
    expect(res.status).toBe(200);
    const [payment] = await paymentRows(booking.id);
    expect(payment).toMatchObject({
      status: 'failed',
      error_description: 'Card declined\uFFFD by bank \uFFFD',
    });
    expect((await storedEvent('evt_nul_000001')).outcome).toBe('failed');
  });

  it('the same event delivered 3× (at once) → 200 each, one row, one effect, one email', async () => {
    const { booking, orderId } = await pendingBooking();
    const paid = t.rzp.payOrder(orderId);
    const event = t.rzp.buildEvent('payment.captured', {
      payment: t.rzp.payments.get(paid.razorpay_payment_id)!,
    });
    const callsBefore = JSON.stringify([...t.rzp.calls]);
    const answers = await Promise.all(
      [1, 2, 3].map(() => t.rzp.sendWebhook(event, { eventId: 'evt_dup_captured_1' })),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.filter((a) => (a.body as { data: { duplicate: boolean } }).data.duplicate)).toHaveLength(
      2,
    );
    // no gateway call was made to answer a webhook
    expect(JSON.stringify([...t.rzp.calls])).toBe(callsBefore);

    expect(
      await t.db.query(`SELECT 1 FROM webhook_events WHERE event_id = 'evt_dup_captured_1'`),
    ).toHaveLength(1);
    expect((await storedEvent('evt_dup_captured_1')).outcome).toBe('captured: booking confirmed');
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'confirmed', payment_status: 'paid' });
    expect(await paymentRows(booking.id)).toHaveLength(1);
    expect(await confirmationEmails(booking.id)).toHaveLength(1);
    expect(await auditRows(t, booking.id, 'booking.confirmed')).toHaveLength(1);

    // order.paid for the same payment (another event id) changes nothing more
    const orderPaid = t.rzp.buildEvent('order.paid', {
      payment: t.rzp.payments.get(paid.razorpay_payment_id)!,
      order: t.rzp.orders.get(orderId)!,
    });
    expect((await t.rzp.sendWebhook(orderPaid)).status).toBe(200);
    expect(await paymentRows(booking.id)).toHaveLength(1);
    expect(await auditRows(t, booking.id, 'booking.confirmed')).toHaveLength(1);
    // …and notifies nobody again: one email, one in-app item.
    expect(await confirmationEmails(booking.id)).toHaveLength(1);
    expect(
      await t.db.query(
        `SELECT 1 FROM notifications WHERE type = 'booking.confirmed' AND data->>'bookingId' = $1`,
        [booking.id],
      ),
    ).toHaveLength(1);
  });

  it.each(
    permutations(['authorized', 'captured', 'failed'] as const).map((order) => [order.join(' → '), order]),
  )('out of order (%s) ends captured and confirmed, once', async (_name, sequence) => {
    const { booking, orderId } = await pendingBooking();
    const paid = t.rzp.payOrder(orderId, { capture: false });
    const all = events(t.rzp.payments.get(paid.razorpay_payment_id)!);
    for (const name of sequence) expect((await t.rzp.sendWebhook(all[name])).status).toBe(200);
    const rows = await paymentRows(booking.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'captured', gateway_payment_id: paid.razorpay_payment_id });
    expect(rows[0].captured_at).not.toBeNull();
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'confirmed', payment_status: 'paid' });
    expect(await confirmationEmails(booking.id)).toHaveLength(1);
    expect(await auditRows(t, rows[0].id, 'payment.captured')).toHaveLength(1);
    const [order] = await t.db.query(`SELECT status FROM payment_orders WHERE gateway_order_id = $1`, [
      orderId,
    ]);
    expect(order.status).toBe('paid');
  });

  it('failed → authorized is accepted (a late authorisation); the booking waits for the capture', async () => {
    const { booking, orderId } = await pendingBooking();
    const paid = t.rzp.payOrder(orderId, { capture: false });
    const all = events(t.rzp.payments.get(paid.razorpay_payment_id)!);
    await t.rzp.sendWebhook(all.failed);
    expect((await paymentRows(booking.id))[0]).toMatchObject({
      status: 'failed',
      error_code: 'BAD_REQUEST_ERROR',
    });
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'pending', payment_status: 'failed' });
    await t.rzp.sendWebhook(all.authorized);
    expect((await paymentRows(booking.id))[0]).toMatchObject({ status: 'authorized' });
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'pending' });
    await t.rzp.sendWebhook(all.failed); // a repeat of the old failure (new event id) moves nothing back
    expect((await paymentRows(booking.id))[0]).toMatchObject({ status: 'authorized' });
    await t.rzp.sendWebhook(all.captured);
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'confirmed', payment_status: 'paid' });
  });

  it('a failed attempt, then a successful one on the same order: both recorded, booking confirmed', async () => {
    const { booking, orderId } = await pendingBooking();
    const failed = t.rzp.failOrder(orderId);
    await t.rzp.sendWebhook(t.rzp.buildEvent('payment.failed', { payment: failed }));
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'pending', payment_status: 'failed' });
    const paid = t.rzp.payOrder(orderId);
    await t.rzp.sendWebhook(
      t.rzp.buildEvent('payment.captured', { payment: t.rzp.payments.get(paid.razorpay_payment_id)! }),
    );
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'confirmed', payment_status: 'paid' });
    expect((await paymentRows(booking.id)).map((r: { status: string }) => r.status).sort()).toEqual([
      'captured',
      'failed',
    ]);
  });

  it('racing the verify call: one payment row, the booking confirmed once, one email', async () => {
    const { traveler, booking, orderId } = await pendingBooking();
    const paid = t.rzp.payOrder(orderId);
    const p = t.rzp.payments.get(paid.razorpay_payment_id)!;
    const [verify, captured, orderPaid] = await Promise.all([
      t.http.post(`/api/v1/bookings/${booking.id}/payments/verify`).set(traveler.auth).send(paid),
      t.rzp.sendWebhook(t.rzp.buildEvent('payment.captured', { payment: p })),
      t.rzp.sendWebhook(t.rzp.buildEvent('order.paid', { payment: p, order: t.rzp.orders.get(orderId)! })),
    ]);
    expect(verify.status).toBe(200);
    expect(verify.body.data.outcome).toBe('confirmed');
    expect([captured.status, orderPaid.status]).toEqual([200, 200]);
    expect(await paymentRows(booking.id)).toHaveLength(1);
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'confirmed', payment_status: 'paid' });
    expect(await auditRows(t, booking.id, 'booking.confirmed')).toHaveLength(1);
    expect(await confirmationEmails(booking.id)).toHaveLength(1);
    const outcomes = (
      await t.db.query(`SELECT outcome FROM webhook_events WHERE event_id = ANY($1)`, [
        [captured.eventId, orderPaid.eventId],
      ])
    ).map((r: { outcome: string }) => r.outcome);
    expect(outcomes).toHaveLength(2);
  });

  it('unknown events and payments of unknown orders are stored, ignored, answered 200', async () => {
    const unknown = await t.rzp.sendWebhook({
      entity: 'event',
      event: 'invoice.paid',
      contains: [],
      payload: {},
      created_at: 0,
    });
    expect(unknown.status).toBe(200);
    expect(await storedEvent(unknown.eventId)).toMatchObject({
      event_type: 'invoice.paid',
      outcome: 'ignored: unhandled event type',
    });

    const stray = await t.rzp.sendWebhook(
      t.rzp.buildEvent('payment.captured', {
        payment: {
          ...t.rzp.payments.values().next().value!,
          id: 'pay_StrayPayment0001',
          order_id: 'order_NotOurs000001',
        },
      }),
    );
    expect(stray.status).toBe(200);
    expect(await storedEvent(stray.eventId)).toMatchObject({
      event_type: 'payment.captured',
      outcome: 'ignored: unknown order',
    });
    expect(
      await t.db.query(`SELECT 1 FROM payments WHERE gateway_payment_id = 'pay_StrayPayment0001'`),
    ).toHaveLength(0);
  });

  it('subscription orders and token.confirmed are handed to the subscription side', async () => {
    const organizer2 = await register(t, 'organizer');
    const [order] = await t.db.query(
      `INSERT INTO payment_orders (purpose, subscription_id, payer_id, amount, currency, receipt, gateway_order_id)
       VALUES ('subscription', gen_random_uuid(), $1, 149900, 'INR', 'sub:test:1', 'order_SubTest000001') RETURNING id`,
      [organizer2.id],
    );
    const payment = {
      ...t.rzp.payments.values().next().value!,
      id: 'pay_SubPayment00001',
      order_id: 'order_SubTest000001',
      amount: 149900,
      status: 'captured' as const,
      captured: true,
    };
    const res = await t.rzp.sendWebhook(t.rzp.buildEvent('payment.captured', { payment }));
    expect(res.status).toBe(200);
    // the subscription side finds no such subscription and says so; the captured money is recorded once all the same
    expect((await storedEvent(res.eventId)).outcome).toMatch(/^subscription: ignored/);
    const rows = await t.db.query(`SELECT method, status FROM payments WHERE order_id = $1`, [order.id]);
    expect(rows).toEqual([{ method: 'recurring', status: 'captured' }]);
    expect((await t.rzp.sendWebhook(t.rzp.buildEvent('payment.captured', { payment }))).status).toBe(200);
    expect(await t.db.query(`SELECT 1 FROM payments WHERE order_id = $1`, [order.id])).toHaveLength(1);

    const token = await t.rzp.sendWebhook({
      entity: 'event',
      event: 'token.confirmed',
      contains: ['token'],
      payload: {
        token: {
          entity: {
            id: 'token_Test00000001',
            method: 'card',
            recurring: true,
            recurring_details: { status: 'confirmed' },
          },
        },
      },
      created_at: 0,
    });
    expect(token.status).toBe(200);
    expect((await storedEvent(token.eventId)).outcome).toMatch(/^subscription: /);
  });
});
