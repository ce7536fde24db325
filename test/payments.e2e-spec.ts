import { ReconciliationService, RefundsService } from '@trektribe/billing';
import { BookingLifecycleJobs } from '@trektribe/booking';
import { OutboxDispatcher } from '@trektribe/notifications';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff, register, SignedIn, startTestApp, TestApp } from './support/app';
import { BillingTestApp, RZP, startBillingApp } from './support/billing';
import { auditRows, book, bookingRow, createTrip, seatsBooked } from './support/fixtures';

const sign = (orderId: string, paymentId: string) =>
  createHmac('sha256', RZP.keySecret).update(`${orderId}|${paymentId}`).digest('hex');

function createOrder(t: TestApp, who: SignedIn, bookingId: string) {
  return t.http.post(`/api/v1/bookings/${bookingId}/payments/order`).set(who.auth);
}

function verify(t: TestApp, who: SignedIn, bookingId: string, fields: object) {
  return t.http.post(`/api/v1/bookings/${bookingId}/payments/verify`).set(who.auth).send(fields);
}

async function paymentRows(t: TestApp, bookingId: string) {
  return t.db.query(`SELECT * FROM payments WHERE booking_id = $1 ORDER BY created_at, id`, [bookingId]);
}

async function emails(t: TestApp, dedupeKey: string) {
  return t.db.query(`SELECT * FROM notification_outbox WHERE channel = 'email' AND dedupe_key = $1`, [
    dedupeKey,
  ]);
}

describe('booking checkout (Razorpay emulator over HTTP, official SDK in the app)', () => {
  let t: BillingTestApp;
  let organizer: SignedIn;
  let traveler: SignedIn;
  let other: SignedIn;

  beforeAll(async () => {
    t = await startBillingApp();
    organizer = await register(t, 'organizer');
    traveler = await register(t, 'traveler');
    other = await register(t, 'traveler');
  });
  afterAll(async () => {
    // let after-commit work (refunds, then outbox deliveries) finish before the app and its Redis clients close
    await t?.app.get(RefundsService).processPendingRefunds();
    await t?.app.get(OutboxDispatcher).dispatchPending();
    await t?.close();
  });

  it('happy path: order → checkout → verify confirms the booking once, records the payment and queues one email', async () => {
    const trip = await createTrip(t, organizer, { capacity: 5, price: 250_000 });
    const booking = await book(t, traveler, trip.id, 2);

    const res = await createOrder(t, traveler, booking.id).expect(200);
    const order = res.body.data;
    expect(order).toMatchObject({
      amount: 500_000,
      currency: 'INR',
      keyId: RZP.keyId,
      bookingId: booking.id,
    });
    expect(order.orderId).toMatch(/^order_/);
    // stored before answering, with our amount and a bk_ receipt
    const [stored] = await t.db.query(`SELECT * FROM payment_orders WHERE booking_id = $1`, [booking.id]);
    expect(stored).toMatchObject({
      gateway_order_id: order.orderId,
      amount: 500_000,
      status: 'created',
      purpose: 'booking',
      payer_id: traveler.id,
    });
    expect(stored.receipt).toMatch(/^bk_[A-Za-z0-9_-]{22}$/);
    expect(t.rzp.orders.get(order.orderId)).toMatchObject({ amount: 500_000, receipt: stored.receipt });

    const paid = t.rzp.payOrder(order.orderId);
    const v = await verify(t, traveler, booking.id, paid).expect(200);
    expect(v.body.data.outcome).toBe('confirmed');
    expect(v.body.data.booking).toMatchObject({ id: booking.id, status: 'confirmed', paymentStatus: 'paid' });
    expect(v.body.data.payment).toMatchObject({
      gatewayPaymentId: paid.razorpay_payment_id,
      status: 'captured',
      amount: 500_000,
      method: 'online',
    });

    expect(await bookingRow(t, booking.id)).toMatchObject({
      status: 'confirmed',
      payment_status: 'paid',
      hold_expires_at: null,
    });
    const rows = await paymentRows(t, booking.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      gateway_payment_id: paid.razorpay_payment_id,
      status: 'captured',
      amount: 500_000,
      payer_id: traveler.id,
    });
    const [orderAfter] = await t.db.query(`SELECT status, paid_at FROM payment_orders WHERE id = $1`, [
      stored.id,
    ]);
    expect(orderAfter.status).toBe('paid');
    expect(orderAfter.paid_at).not.toBeNull();
    expect(await emails(t, `booking-confirmed:${booking.id}`)).toHaveLength(1);
    expect(await auditRows(t, rows[0].id, 'payment.captured')).toHaveLength(1);

    // verify again (a client retry): nothing new
    const again = await verify(t, traveler, booking.id, paid).expect(200);
    expect(again.body.data.outcome).toBe('confirmed');
    expect(await paymentRows(t, booking.id)).toHaveLength(1);
    expect(await emails(t, `booking-confirmed:${booking.id}`)).toHaveLength(1);
    expect(await auditRows(t, booking.id, 'booking.confirmed')).toHaveLength(1);
    // and a paid booking takes no new order
    const late = await createOrder(t, traveler, booking.id).expect(409);
    expect(late.body.error.code).toBe('BOOKING_NOT_PAYABLE');
  });

  it('repeated order calls return the same live order, even when they race', async () => {
    const trip = await createTrip(t, organizer, { capacity: 5 });
    const booking = await book(t, traveler, trip.id, 1);
    const first = (await createOrder(t, traveler, booking.id).expect(200)).body.data;
    const second = (await createOrder(t, traveler, booking.id).expect(200)).body.data;
    expect(second).toEqual(first);

    const booking2 = await book(t, traveler, trip.id, 1);
    const raced = await Promise.all([1, 2, 3].map(() => createOrder(t, traveler, booking2.id)));
    expect(raced.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(new Set(raced.map((r) => r.body.data.orderId)).size).toBe(1);
    const rows = await t.db.query(`SELECT * FROM payment_orders WHERE booking_id = $1`, [booking2.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].gateway_order_id).toBe(raced[0].body.data.orderId);
  });

  it('an Idempotency-Key reused on another booking is refused (422), never answered with the first booking’s order', async () => {
    const trip = await createTrip(t, organizer, { capacity: 5 });
    const a = await book(t, traveler, trip.id, 1);
    const b = await book(t, traveler, trip.id, 1);
    const key = 'checkout-key-0001';
    const first = await t.http
      .post(`/api/v1/bookings/${a.id}/payments/order`)
      .set(traveler.auth)
      .set('Idempotency-Key', key)
      .expect(200);
    const replay = await t.http
      .post(`/api/v1/bookings/${a.id}/payments/order`)
      .set(traveler.auth)
      .set('Idempotency-Key', key)
      .expect(200);
    expect(replay.body.data.orderId).toBe(first.body.data.orderId);
    const other = await t.http
      .post(`/api/v1/bookings/${b.id}/payments/order`)
      .set(traveler.auth)
      .set('Idempotency-Key', key)
      .expect(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await t.db.query(`SELECT 1 FROM payment_orders WHERE booking_id = $1`, [b.id])).toHaveLength(0);
  });

  it('a forged signature → 400 INVALID_SIGNATURE and nothing changes', async () => {
    const trip = await createTrip(t, organizer, { capacity: 5 });
    const booking = await book(t, traveler, trip.id, 1);
    const order = (await createOrder(t, traveler, booking.id).expect(200)).body.data;
    const paid = t.rzp.payOrder(order.orderId);
    const forged = createHmac('sha256', 'not-the-secret')
      .update(`${order.orderId}|${paid.razorpay_payment_id}`)
      .digest('hex');
    const res = await verify(t, traveler, booking.id, { ...paid, razorpay_signature: forged }).expect(400);
    expect(res.body.error.code).toBe('INVALID_SIGNATURE');
    const junk = await verify(t, traveler, booking.id, { ...paid, razorpay_signature: 'zz' }).expect(400);
    expect(junk.body.error.code).toBe('INVALID_SIGNATURE');
    // the real signature with a stray character is not the real signature
    const sloppy = await verify(t, traveler, booking.id, {
      ...paid,
      razorpay_signature: `${paid.razorpay_signature}f`,
    }).expect(400);
    expect(sloppy.body.error.code).toBe('INVALID_SIGNATURE');
    const upper = await verify(t, traveler, booking.id, {
      ...paid,
      razorpay_signature: paid.razorpay_signature.toUpperCase(),
    }).expect(400);
    expect(upper.body.error.code).toBe('INVALID_SIGNATURE');
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'pending', payment_status: 'unpaid' });
    expect(await paymentRows(t, booking.id)).toHaveLength(0);
    expect(await emails(t, `booking-confirmed:${booking.id}`)).toHaveLength(0);
  });

  it('amount tampering: another (cheaper) order’s payment is refused and nothing changes', async () => {
    const cheapTrip = await createTrip(t, organizer, { capacity: 5, price: 10_000 });
    const dearTrip = await createTrip(t, organizer, { capacity: 5, price: 900_000 });
    const cheap = await book(t, traveler, cheapTrip.id, 1);
    const dear = await book(t, traveler, dearTrip.id, 2);
    const cheapOrder = (await createOrder(t, traveler, cheap.id).expect(200)).body.data;
    const dearOrder = (await createOrder(t, traveler, dear.id).expect(200)).body.data;
    const paidCheap = t.rzp.payOrder(cheapOrder.orderId);

    // 1. the cheap order's genuine ids sent for the dear booking: not this booking's order
    const swapped = await verify(t, traveler, dear.id, paidCheap).expect(400);
    expect(swapped.body.error.code).toBe('BAD_REQUEST');
    // 2. the dear order's id with the cheap payment, even with a signature that checks out: the gateway's payment is for another order/amount
    const tampered = await verify(t, traveler, dear.id, {
      razorpay_order_id: dearOrder.orderId,
      razorpay_payment_id: paidCheap.razorpay_payment_id,
      razorpay_signature: sign(dearOrder.orderId, paidCheap.razorpay_payment_id),
    }).expect(422);
    expect(tampered.body.error.code).toBe('AMOUNT_MISMATCH');
    expect(await bookingRow(t, dear.id)).toMatchObject({ status: 'pending', payment_status: 'unpaid' });
    expect(await paymentRows(t, dear.id)).toHaveLength(0);
    expect(
      await t.db.query(`SELECT 1 FROM payments WHERE gateway_payment_id = $1`, [
        paidCheap.razorpay_payment_id,
      ]),
    ).toHaveLength(0);

    // the cheap booking itself still verifies normally
    const ok = await verify(t, traveler, cheap.id, paidCheap).expect(200);
    expect(ok.body.data.booking).toMatchObject({
      status: 'confirmed',
      paymentStatus: 'paid',
      totalAmount: 10_000,
    });
  });

  it('someone else’s booking → 404 for order and verify; organizers → 403; unknown fields → 400', async () => {
    const trip = await createTrip(t, organizer, { capacity: 5 });
    const booking = await book(t, traveler, trip.id, 1);
    const order = (await createOrder(t, traveler, booking.id).expect(200)).body.data;
    const paid = t.rzp.payOrder(order.orderId);
    expect((await createOrder(t, other, booking.id).expect(404)).body.error.code).toBe('NOT_FOUND');
    expect((await verify(t, other, booking.id, paid).expect(404)).body.error.code).toBe('NOT_FOUND');
    await createOrder(t, organizer, booking.id).expect(403);
    const extra = await verify(t, traveler, booking.id, { ...paid, amount: 1 }).expect(400);
    expect(extra.body.error.code).toBe('VALIDATION_ERROR');
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'pending', payment_status: 'unpaid' });
  });

  it('screenshot bookings take no online order (409)', async () => {
    const trip = await createTrip(t, organizer, { capacity: 5 });
    const booking = await book(t, traveler, trip.id, 1, 'screenshot');
    const res = await createOrder(t, traveler, booking.id).expect(409);
    expect(res.body.error.code).toBe('WRONG_PAYMENT_METHOD');
    expect(await t.db.query(`SELECT 1 FROM payment_orders WHERE booking_id = $1`, [booking.id])).toHaveLength(
      0,
    );
  });

  it('gateway offline → 503 GATEWAY_UNAVAILABLE and nothing stored; back online it works', async () => {
    const trip = await createTrip(t, organizer, { capacity: 5 });
    const booking = await book(t, traveler, trip.id, 1);
    t.rzp.setOffline(true);
    try {
      const res = await createOrder(t, traveler, booking.id).expect(503);
      expect(res.body.error.code).toBe('GATEWAY_UNAVAILABLE');
      expect(
        await t.db.query(`SELECT 1 FROM payment_orders WHERE booking_id = $1`, [booking.id]),
      ).toHaveLength(0);
    } finally {
      t.rzp.setOffline(false);
    }
    const order = (await createOrder(t, traveler, booking.id).expect(200)).body.data;
    const paid = t.rzp.payOrder(order.orderId);
    t.rzp.setOffline(true);
    try {
      const res = await verify(t, traveler, booking.id, paid).expect(503);
      expect(res.body.error.code).toBe('GATEWAY_UNAVAILABLE');
      expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'pending', payment_status: 'unpaid' });
      expect(await paymentRows(t, booking.id)).toHaveLength(0);
    } finally {
      t.rzp.setOffline(false);
    }
    expect((await verify(t, traveler, booking.id, paid).expect(200)).body.data.outcome).toBe('confirmed');
  });

  it('a gateway 4xx → 502 GATEWAY_ERROR with its description, and nothing changes', async () => {
    const trip = await createTrip(t, organizer, { capacity: 5 });
    const booking = await book(t, traveler, trip.id, 1);
    const order = (await createOrder(t, traveler, booking.id).expect(200)).body.data;
    // a well-signed answer for a payment the gateway has never seen: its 400 becomes our 502
    const ghost = 'pay_NoSuchPayment001';
    const res = await verify(t, traveler, booking.id, {
      razorpay_order_id: order.orderId,
      razorpay_payment_id: ghost,
      razorpay_signature: sign(order.orderId, ghost),
    }).expect(502);
    expect(res.body.error.code).toBe('GATEWAY_ERROR');
    expect(res.body.error.message).toMatch(/does not exist/);
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'pending', payment_status: 'unpaid' });
    expect(await paymentRows(t, booking.id)).toHaveLength(0);
  });

  describe('late payment: the hold expired before the money arrived', () => {
    it('the seat is still free → the booking is confirmed again', async () => {
      const trip = await createTrip(t, organizer, { capacity: 1 });
      const booking = await book(t, traveler, trip.id, 1);
      const order = (await createOrder(t, traveler, booking.id).expect(200)).body.data;
      t.clock.advance(16 * 60_000);
      try {
        expect(await t.app.get(BookingLifecycleJobs).expireHolds()).toBeGreaterThanOrEqual(1);
        expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'expired' });
        expect(await seatsBooked(t, trip.id)).toBe(0);
        const paid = t.rzp.payOrder(order.orderId);
        const v = await verify(t, traveler, booking.id, paid).expect(200);
        expect(v.body.data.outcome).toBe('confirmed');
        expect(await bookingRow(t, booking.id)).toMatchObject({
          status: 'confirmed',
          payment_status: 'paid',
        });
        expect(await seatsBooked(t, trip.id)).toBe(1);
        expect(await t.db.query(`SELECT 1 FROM refunds WHERE booking_id = $1`, [booking.id])).toHaveLength(0);
      } finally {
        t.clock.reset();
      }
    });

    it('the seat was taken meanwhile → full automatic refund, traveler told, never an oversell', async () => {
      const trip = await createTrip(t, organizer, { capacity: 1 });
      const booking = await book(t, traveler, trip.id, 1);
      const order = (await createOrder(t, traveler, booking.id).expect(200)).body.data;
      t.clock.advance(16 * 60_000);
      try {
        await t.app.get(BookingLifecycleJobs).expireHolds();
        const taker = await book(t, other, trip.id, 1);
        expect(await seatsBooked(t, trip.id)).toBe(1);

        const paid = t.rzp.payOrder(order.orderId);
        const v = await verify(t, traveler, booking.id, paid).expect(200);
        expect(v.body.data.outcome).toBe('refund_initiated');
        expect(v.body.data.booking).toMatchObject({ status: 'expired' });
        expect(await seatsBooked(t, trip.id)).toBe(1);
        expect(await bookingRow(t, taker.id)).toMatchObject({ status: 'pending' });

        await t.app.get(RefundsService).processPendingRefunds();
        const [refund] = await t.db.query(`SELECT * FROM refunds WHERE booking_id = $1`, [booking.id]);
        expect(refund).toMatchObject({
          status: 'processed',
          amount: booking.totalAmount,
          idempotency_key: `auto_${paid.razorpay_payment_id}`,
        });
        const gw = [...t.rzp.refunds.values()].filter((r) => r.payment_id === paid.razorpay_payment_id);
        expect(gw).toHaveLength(1);
        expect(gw[0]).toMatchObject({
          amount: booking.totalAmount,
          status: 'processed',
          id: refund.gateway_refund_id,
        });
        expect(t.rzp.payments.get(paid.razorpay_payment_id)).toMatchObject({
          status: 'refunded',
          amount_refunded: booking.totalAmount,
        });
        expect(await bookingRow(t, booking.id)).toMatchObject({
          status: 'expired',
          payment_status: 'refunded',
        });
        const [payment] = await paymentRows(t, booking.id);
        expect(payment).toMatchObject({ status: 'refunded', amount_refunded: booking.totalAmount });
        expect(await emails(t, `payment-auto-refund:${payment.id}`)).toHaveLength(1);
        expect(await emails(t, `booking-confirmed:${booking.id}`)).toHaveLength(0);
      } finally {
        t.clock.reset();
      }
    });
  });

  describe('reconciliation', () => {
    it('settles an order whose webhook never came, through the same path, once', async () => {
      const trip = await createTrip(t, organizer, { capacity: 5 });
      const booking = await book(t, traveler, trip.id, 1);
      const order = (await createOrder(t, traveler, booking.id).expect(200)).body.data;
      const failed = t.rzp.failOrder(order.orderId); // a declined first attempt
      const paid = t.rzp.payOrder(order.orderId); // the client closed the tab: no verify, no webhook
      const svc = t.app.get(ReconciliationService);

      expect((await svc.reconcile()).orders).toBe(0); // too young: webhooks get 15 minutes
      expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'pending' });

      t.clock.advance(16 * 60_000);
      try {
        const run = await svc.reconcile();
        expect(run.orders).toBeGreaterThanOrEqual(1);
        expect(run.payments).toBeGreaterThanOrEqual(2);
        expect(await bookingRow(t, booking.id)).toMatchObject({
          status: 'confirmed',
          payment_status: 'paid',
        });
        const rows = await paymentRows(t, booking.id);
        expect(
          rows
            .map((r: { gateway_payment_id: string; status: string }) => [r.gateway_payment_id, r.status])
            .sort(),
        ).toEqual(
          [
            [failed.id, 'failed'],
            [paid.razorpay_payment_id, 'captured'],
          ].sort(),
        );
        expect(await emails(t, `booking-confirmed:${booking.id}`)).toHaveLength(1);

        // a second run (and a late webhook-less verify) changes nothing
        t.clock.advance(60 * 60_000);
        await svc.reconcile();
        await verify(t, traveler, booking.id, paid).expect(200);
        expect(await paymentRows(t, booking.id)).toHaveLength(2);
        expect(await auditRows(t, booking.id, 'booking.confirmed')).toHaveLength(1);
      } finally {
        t.clock.reset();
      }
    });
  });

  describe('payment lists', () => {
    it('the payer sees only their own payments; admins filter all of them with paging', async () => {
      const trip = await createTrip(t, organizer, { capacity: 5, price: 123_400 });
      const payer = await register(t, 'traveler');
      const booking = await book(t, payer, trip.id, 1);
      const order = (await createOrder(t, payer, booking.id).expect(200)).body.data;
      const paid = t.rzp.payOrder(order.orderId);
      await verify(t, payer, booking.id, paid).expect(200);

      const mine = await t.http.get('/api/v1/payments').set(payer.auth).expect(200);
      expect(mine.body.meta).toMatchObject({ page: 1, total: 1 });
      expect(mine.body.data[0]).toMatchObject({
        bookingId: booking.id,
        amount: 123_400,
        status: 'captured',
        gatewayOrderId: order.orderId,
      });
      const stranger = await register(t, 'traveler');
      expect((await t.http.get('/api/v1/payments').set(stranger.auth).expect(200)).body.meta.total).toBe(0);
      await t.http.get('/api/v1/admin/payments').set(payer.auth).expect(403);

      const admin = await createStaff(t, 'admin');
      const byBooking = await t.http
        .get('/api/v1/admin/payments')
        .query({ bookingId: booking.id })
        .set(admin.auth)
        .expect(200);
      expect(byBooking.body.data).toHaveLength(1);
      expect(byBooking.body.data[0].payer).toMatchObject({ id: payer.id, email: payer.email });
      const all = await t.http
        .get('/api/v1/admin/payments')
        .query({ status: 'captured', method: 'online', limit: 2 })
        .set(admin.auth)
        .expect(200);
      expect(all.body.meta.limit).toBe(2);
      expect(all.body.meta.total).toBeGreaterThanOrEqual(3);
      expect(
        all.body.data.every(
          (p: { status: string; method: string }) => p.status === 'captured' && p.method === 'online',
        ),
      ).toBe(true);
      // Admin date filters are IST days (API.md): today in IST, not in UTC (they differ after 18:30 UTC).
      const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Kolkata' }).format(new Date());
      const future = await t.http
        .get('/api/v1/admin/payments')
        .query({ bookingId: booking.id, from: '2999-01-01' })
        .set(admin.auth)
        .expect(200);
      expect(future.body.meta.total).toBe(0);
      const window = await t.http
        .get('/api/v1/admin/payments')
        .query({ bookingId: booking.id, from: '2000-01-01', to: today })
        .set(admin.auth)
        .expect(200);
      expect(window.body.meta.total).toBe(1);
      await t.http.get('/api/v1/admin/payments').query({ status: 'bogus' }).set(admin.auth).expect(400);
    });
  });
});

describe('without Razorpay credentials', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.app.get(OutboxDispatcher).dispatchPending();
    await t?.close();
  });

  it('online payment answers 503 PAYMENTS_NOT_CONFIGURED; everything else works', async () => {
    const organizer = await register(t, 'organizer');
    const traveler = await register(t, 'traveler');
    const trip = await createTrip(t, organizer, { capacity: 3 });
    const booking = await book(t, traveler, trip.id, 1);
    const res = await createOrder(t, traveler, booking.id).expect(503);
    expect(res.body.error.code).toBe('PAYMENTS_NOT_CONFIGURED');
    const v = await verify(t, traveler, booking.id, {
      razorpay_order_id: 'order_X1',
      razorpay_payment_id: 'pay_X1',
      razorpay_signature: 'ab',
    }).expect(503);
    expect(v.body.error.code).toBe('PAYMENTS_NOT_CONFIGURED');
    expect(await t.db.query(`SELECT 1 FROM payment_orders`)).toHaveLength(0);
    const hook = await t.http
      .post('/api/v1/webhooks/razorpay')
      .set('x-razorpay-event-id', 'evt_1')
      .send({ event: 'payment.captured' })
      .expect(400);
    expect(hook.body.error.code).toBe('INVALID_SIGNATURE');
    expect((await t.http.get('/api/v1/payments').set(traveler.auth).expect(200)).body.meta.total).toBe(0);
    await t.http.post(`/api/v1/bookings/${booking.id}/cancel`).set(traveler.auth).send({}).expect(200);
  });
});
