import { MAX_REFUND_ATTEMPTS, ReconciliationService, RefundsService } from '@trektribe/billing';
import { OutboxDispatcher } from '@trektribe/notifications';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff, register, SignedIn } from './support/app';
import { BillingTestApp, RZP, startBillingApp } from './support/billing';
import { auditRows, book, bookingRow, createTrip, markPaid, tripStartsAt } from './support/fixtures';

/** Waits for something the app does after commit (kick → gateway → settle); fails if it never happens. */
async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await read();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

describe('refunds', () => {
  let t: BillingTestApp;
  let organizer: SignedIn;
  let admin: SignedIn;
  let refunds: RefundsService;

  beforeAll(async () => {
    t = await startBillingApp();
    organizer = await register(t, 'organizer');
    admin = await createStaff(t, 'admin');
    refunds = t.app.get(RefundsService);
  });
  afterAll(async () => {
    // let after-commit work (refunds, then outbox deliveries) finish before the app and its Redis clients close
    await t?.app.get(RefundsService).processPendingRefunds();
    await t?.app.get(OutboxDispatcher).dispatchPending();
    await t?.close();
  });

  /** A traveler's booking paid through checkout: order → emulator checkout → verify. */
  async function paidBooking(trip: { id: string }, seats = 1) {
    const traveler = await register(t, 'traveler');
    const booking = await book(t, traveler, trip.id, seats);
    const order = (
      await t.http.post(`/api/v1/bookings/${booking.id}/payments/order`).set(traveler.auth).expect(200)
    ).body.data;
    const paid = t.rzp.payOrder(order.orderId);
    await t.http
      .post(`/api/v1/bookings/${booking.id}/payments/verify`)
      .set(traveler.auth)
      .send(paid)
      .expect(200);
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'confirmed', payment_status: 'paid' });
    return { traveler, booking, paymentId: paid.razorpay_payment_id };
  }

  const refundRow = async (bookingId: string) =>
    (await t.db.query(`SELECT * FROM refunds WHERE booking_id = $1 ORDER BY created_at`, [bookingId]))[0];
  const paymentRow = async (bookingId: string) =>
    (await t.db.query(`SELECT * FROM payments WHERE booking_id = $1`, [bookingId]))[0];
  const gatewayRefunds = (paymentId: string) =>
    [...t.rzp.refunds.values()].filter((r) => r.payment_id === paymentId);
  const cancel = (who: SignedIn, bookingId: string) =>
    t.http.post(`/api/v1/bookings/${bookingId}/cancel`).set(who.auth).send({ reason: 'Change of plans' });

  it('full refund: a cancellation ≥ 7 days before the start is refunded in full, sent right after commit', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10, price: 400_000 });
    const { traveler, booking, paymentId } = await paidBooking(trip, 2);
    const res = await cancel(traveler, booking.id).expect(200);
    expect(res.body.data).toMatchObject({
      status: 'cancelled',
      paymentStatus: 'refund_pending',
      refundAmount: 800_000,
    });

    // no job run: the commit kicked the refund processor
    const refund = await eventually(
      () => refundRow(booking.id),
      (r) => r?.status === 'processed',
      'refund processed after commit',
    );
    expect(refund).toMatchObject({
      amount: 800_000,
      idempotency_key: `cancel_${booking.id}`,
      requested_by: traveler.id,
      attempts: 1,
    });
    expect(gatewayRefunds(paymentId)).toEqual([
      expect.objectContaining({ id: refund.gateway_refund_id, amount: 800_000, status: 'processed' }),
    ]);
    expect(t.rzp.refundIdempotencyKeys).toContain(`cancel_${booking.id}`);
    expect(t.rzp.payments.get(paymentId)).toMatchObject({ status: 'refunded', amount_refunded: 800_000 });
    expect(await paymentRow(booking.id)).toMatchObject({ status: 'refunded', amount_refunded: 800_000 });
    expect(await bookingRow(t, booking.id)).toMatchObject({
      status: 'cancelled',
      payment_status: 'refunded',
    });
    expect(await auditRows(t, refund.id, 'refund.requested')).toHaveLength(1);
    expect(await auditRows(t, refund.id, 'refund.processed')).toHaveLength(1);
    expect(
      await t.db.query(`SELECT 1 FROM notification_outbox WHERE dedupe_key = $1`, [
        `refund-processed:${refund.id}`,
      ]),
    ).toHaveLength(1);

    // a later job run sends nothing again
    await refunds.processPendingRefunds();
    expect(gatewayRefunds(paymentId)).toHaveLength(1);
  });

  it('one payment: the payer reads it with its refunds, admins read any; to anyone else it does not exist', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10, price: 210_000 });
    const { traveler, booking } = await paidBooking(trip, 1);
    await cancel(traveler, booking.id).expect(200);
    await refunds.processPendingRefunds();
    const { id } = await paymentRow(booking.id);

    const mine = await t.http.get(`/api/v1/payments/${id}`).set(traveler.auth).expect(200);
    expect(mine.body.data).toMatchObject({
      id,
      bookingId: booking.id,
      payerId: traveler.id,
      amount: 210_000,
      amountRefunded: 210_000,
      status: 'refunded',
    });
    expect(mine.body.data.refunds).toEqual([
      expect.objectContaining({ paymentId: id, amount: 210_000, status: 'processed', needsAttention: false }),
    ]);
    expect(mine.body.data.payer).toBeUndefined();

    const stranger = await register(t, 'traveler');
    const hidden = await t.http.get(`/api/v1/payments/${id}`).set(stranger.auth).expect(404);
    expect(hidden.body.error.code).toBe('NOT_FOUND');
    // the trip's organizer sees the booking, not the traveler's payment record
    await t.http.get(`/api/v1/payments/${id}`).set(organizer.auth).expect(404);
    await t.http.get(`/api/v1/admin/payments/${id}`).set(traveler.auth).expect(403);
    await t.http.get('/api/v1/payments/not-a-uuid').set(traveler.auth).expect(400);

    const any = await t.http.get(`/api/v1/admin/payments/${id}`).set(admin.auth).expect(200);
    expect(any.body.data).toMatchObject({
      id,
      status: 'refunded',
      payer: { id: traveler.id, email: traveler.email },
    });
    expect(any.body.data.refunds).toHaveLength(1);
    await t.http
      .get('/api/v1/admin/payments/00000000-0000-4000-8000-000000000000')
      .set(admin.auth)
      .expect(404);
  });

  it('partial refund: cancelled 3 days before the start → 50 %; organizer earnings net of it', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10, price: 333_333 });
    const { traveler, booking, paymentId } = await paidBooking(trip, 1);
    t.clock.set(new Date(tripStartsAt(trip).getTime() - 3 * 86_400_000));
    try {
      const res = await cancel(traveler, booking.id).expect(200);
      expect(res.body.data).toMatchObject({ paymentStatus: 'refund_pending', refundAmount: 166_666 });
      await refunds.processPendingRefunds();
      const refund = await refundRow(booking.id);
      expect(refund).toMatchObject({ status: 'processed', amount: 166_666 });
      expect(gatewayRefunds(paymentId)).toEqual([
        expect.objectContaining({ amount: 166_666, status: 'processed' }),
      ]);
      expect(t.rzp.payments.get(paymentId)).toMatchObject({
        status: 'captured',
        amount_refunded: 166_666,
        refund_status: 'partial',
      });
      expect(await paymentRow(booking.id)).toMatchObject({
        status: 'partially_refunded',
        amount_refunded: 166_666,
      });
      expect(await bookingRow(t, booking.id)).toMatchObject({
        status: 'cancelled',
        payment_status: 'partially_refunded',
      });
    } finally {
      t.clock.reset();
    }

    const earnings = await t.http.get('/api/v1/organizer/earnings').set(organizer.auth).expect(200);
    const row = earnings.body.data.trips.find((x: { tripId: string }) => x.tripId === trip.id);
    expect(row).toMatchObject({
      payments: 1,
      gross: 333_333,
      refunded: 166_666,
      refundsPending: 0,
      net: 166_667,
    });
    expect(earnings.body.data.total.gross).toBeGreaterThanOrEqual(333_333);
    expect(earnings.body.data.total.net).toBe(
      earnings.body.data.total.gross -
        earnings.body.data.total.refunded -
        earnings.body.data.total.refundsPending,
    );
    const stranger = await register(t, 'organizer');
    expect(
      (await t.http.get('/api/v1/organizer/earnings').set(stranger.auth).expect(200)).body.data,
    ).toMatchObject({ trips: [], total: { gross: 0, net: 0 } });
    await t.http.get('/api/v1/organizer/earnings').set(traveler.auth).expect(403);
  });

  it('a refund the gateway reports failed is retried by the job after its backoff → processed, never twice', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10, price: 500_000 });
    const { traveler, booking, paymentId } = await paidBooking(trip, 1);
    t.rzp.failNextRefunds(1);
    await cancel(traveler, booking.id).expect(200);
    await refunds.processPendingRefunds();
    const failed = await refundRow(booking.id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failed.gateway_refund_id).toMatch(/^rfnd_/);
    expect(new Date(failed.next_attempt_at).getTime()).toBeGreaterThan(t.clock.now().getTime());
    expect(await auditRows(t, failed.id, 'refund.failed')).toHaveLength(1);
    expect(await bookingRow(t, booking.id)).toMatchObject({ payment_status: 'refund_pending' });

    // admins see it
    const list = await t.http
      .get('/api/v1/admin/refunds')
      .query({ status: 'failed', bookingId: booking.id })
      .set(admin.auth)
      .expect(200);
    expect(list.body.meta.total).toBe(1);
    expect(list.body.data[0]).toMatchObject({
      id: failed.id,
      status: 'failed',
      needsAttention: false,
      attempts: 1,
    });
    await t.http.get('/api/v1/admin/refunds').set(traveler.auth).expect(403);

    // not due yet: nothing is sent
    await refunds.processPendingRefunds();
    expect(gatewayRefunds(paymentId)).toHaveLength(1);

    t.clock.advance(6 * 60_000);
    try {
      await refunds.processPendingRefunds();
    } finally {
      t.clock.reset();
    }
    const done = await refundRow(booking.id);
    expect(done).toMatchObject({ status: 'processed', attempts: 2 });
    const atGateway = gatewayRefunds(paymentId);
    expect(atGateway.map((r) => r.status)).toEqual(['failed', 'processed']);
    expect(t.rzp.payments.get(paymentId)).toMatchObject({ amount_refunded: 500_000, status: 'refunded' });
    // the retry used a new key (the first one would only replay the failure), derived deterministically
    const keys = t.rzp.refundIdempotencyKeys.filter((k) => k.startsWith(`cancel_${booking.id}`));
    expect(keys).toEqual([`cancel_${booking.id}`, `cancel_${booking.id}_${failed.gateway_refund_id}`]);
    expect(await bookingRow(t, booking.id)).toMatchObject({ payment_status: 'refunded' });
  });

  it('a refund the gateway refuses (4xx) is retried with the same key; after the last attempt it waits for an admin', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10, price: 200_000 });
    const { traveler, booking, paymentId } = await paidBooking(trip, 1);
    t.rzp.failNextRefunds(MAX_REFUND_ATTEMPTS, 'error');
    await cancel(traveler, booking.id).expect(200);
    try {
      for (let i = 0; i < MAX_REFUND_ATTEMPTS; i++) {
        await refunds.processPendingRefunds();
        t.clock.advance(7 * 3_600_000);
      }
      await refunds.processPendingRefunds();
    } finally {
      t.clock.reset();
    }
    const stuck = await refundRow(booking.id);
    expect(stuck).toMatchObject({
      status: 'failed',
      attempts: MAX_REFUND_ATTEMPTS,
      next_attempt_at: null,
      gateway_refund_id: null,
    });
    expect(stuck.last_error).toMatch(/GATEWAY_ERROR.*Refund could not be processed/);
    expect(gatewayRefunds(paymentId)).toHaveLength(0);
    expect(t.rzp.refundIdempotencyKeys.filter((k) => k.startsWith(`cancel_${booking.id}`))).toEqual(
      Array.from({ length: MAX_REFUND_ATTEMPTS }, () => `cancel_${booking.id}`),
    );
    const attention = await t.http
      .get('/api/v1/admin/refunds')
      .query({ needsAttention: 'true', bookingId: booking.id })
      .set(admin.auth)
      .expect(200);
    expect(attention.body.data[0]).toMatchObject({ id: stuck.id, needsAttention: true });

    const retried = await t.http.post(`/api/v1/admin/refunds/${stuck.id}/retry`).set(admin.auth).expect(200);
    expect(retried.body.data).toMatchObject({ status: 'failed', attempts: 0 });
    await eventually(
      () => refundRow(booking.id),
      (r) => r.status === 'processed',
      'admin retry processed',
    );
    expect(gatewayRefunds(paymentId)).toEqual([
      expect.objectContaining({ amount: 200_000, status: 'processed' }),
    ]);
    expect(await bookingRow(t, booking.id)).toMatchObject({ payment_status: 'refunded' });
    await t.http.post(`/api/v1/admin/refunds/${stuck.id}/retry`).set(admin.auth).expect(409);
  });

  it('gateway offline: the refund stays pending, no money moves, it is never given up; sent once the gateway is back', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10, price: 150_000 });
    const { traveler, booking, paymentId } = await paidBooking(trip, 1);
    try {
      t.rzp.setOffline(true);
      await cancel(traveler, booking.id).expect(200);
      await refunds.processPendingRefunds();
      const pending = await refundRow(booking.id);
      expect(pending).toMatchObject({ status: 'pending', attempts: 1, gateway_refund_id: null });
      expect(pending.last_error).toMatch(/GATEWAY_UNAVAILABLE/);
      // a long outage: retried on the backoff past the attempt limit, still pending, flagged for admins
      for (let i = 0; i < MAX_REFUND_ATTEMPTS; i++) {
        t.clock.advance(7 * 3_600_000);
        await refunds.processPendingRefunds();
      }
      const stuck = await refundRow(booking.id);
      expect(stuck).toMatchObject({ status: 'pending', attempts: MAX_REFUND_ATTEMPTS + 1 });
      expect(stuck.next_attempt_at).not.toBeNull();
      const flagged = await t.http
        .get('/api/v1/admin/refunds')
        .query({ needsAttention: 'true', bookingId: booking.id })
        .set(admin.auth)
        .expect(200);
      expect(flagged.body.data).toEqual([
        expect.objectContaining({ id: stuck.id, status: 'pending', needsAttention: true }),
      ]);
      expect(gatewayRefunds(paymentId)).toHaveLength(0);

      t.rzp.setOffline(false);
      t.clock.advance(7 * 3_600_000);
      await refunds.processPendingRefunds();
    } finally {
      t.rzp.setOffline(false);
      t.clock.reset();
    }
    expect(await refundRow(booking.id)).toMatchObject({
      status: 'processed',
      attempts: MAX_REFUND_ATTEMPTS + 2,
      last_error: null,
    });
    expect(gatewayRefunds(paymentId)).toHaveLength(1);
    expect(t.rzp.refundIdempotencyKeys.filter((k) => k.startsWith(`cancel_${booking.id}`))).toEqual([
      `cancel_${booking.id}`,
    ]);
    expect(await bookingRow(t, booking.id)).toMatchObject({ payment_status: 'refunded' });
  });

  it('refund.processed webhook settles a refund whose gateway answer was lost; repeats and a late refund.failed change nothing', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10, price: 220_000 });
    const { traveler, booking, paymentId } = await paidBooking(trip, 1);
    t.rzp.setOffline(true);
    try {
      await cancel(traveler, booking.id).expect(200);
      await refunds.processPendingRefunds();
    } finally {
      t.rzp.setOffline(false);
    }
    const pending = await refundRow(booking.id);
    expect(pending).toMatchObject({ status: 'pending', gateway_refund_id: null });

    // Our request did reach Razorpay after all (same key and notes as the app sends); only its answer was lost.
    const auth = `Basic ${Buffer.from(`${RZP.keyId}:${RZP.keySecret}`).toString('base64')}`;
    const made = await fetch(`${t.rzp.url}/v1/payments/${paymentId}/refund`, {
      method: 'POST',
      headers: {
        authorization: auth,
        'content-type': 'application/json',
        'X-Refund-Idempotency': `cancel_${booking.id}`,
      },
      body: JSON.stringify({ amount: 220_000, notes: { refund_id: pending.id, booking_id: booking.id } }),
    });
    const gwRefund = (await made.json()) as { id: string };
    const event = t.rzp.buildEvent('refund.processed', {
      refund: t.rzp.refunds.get(gwRefund.id)!,
      payment: t.rzp.payments.get(paymentId)!,
    });
    const first = await t.rzp.sendWebhook(event);
    expect(first.status).toBe(200);
    expect(await refundRow(booking.id)).toMatchObject({
      status: 'processed',
      gateway_refund_id: gwRefund.id,
    });
    expect(await bookingRow(t, booking.id)).toMatchObject({ payment_status: 'refunded' });
    expect(await paymentRow(booking.id)).toMatchObject({ status: 'refunded', amount_refunded: 220_000 });

    expect((await t.rzp.sendWebhook(event, { eventId: first.eventId })).status).toBe(200); // duplicate delivery
    const late = await t.rzp.sendWebhook(
      t.rzp.buildEvent('refund.failed', { refund: { ...t.rzp.refunds.get(gwRefund.id)!, status: 'failed' } }),
    );
    expect(late.status).toBe(200);
    expect(await refundRow(booking.id)).toMatchObject({ status: 'processed' });
    expect(await paymentRow(booking.id)).toMatchObject({ amount_refunded: 220_000 });
    expect(await auditRows(t, pending.id, 'refund.processed')).toHaveLength(1);

    // the retry job no longer sends it: one refund at the gateway
    t.clock.advance(60 * 60_000);
    try {
      await refunds.processPendingRefunds();
    } finally {
      t.clock.reset();
    }
    expect(gatewayRefunds(paymentId)).toHaveLength(1);
  });

  it('reconciliation settles a refund the gateway left pending when its webhook never came', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10, price: 180_000 });
    const { traveler, booking, paymentId } = await paidBooking(trip, 1);
    t.rzp.setOffline(true);
    try {
      await cancel(traveler, booking.id).expect(200);
      await refunds.processPendingRefunds();
    } finally {
      t.rzp.setOffline(false);
    }
    const row = await refundRow(booking.id);
    // The gateway took the refund and answered `pending` (the emulator settles at once, so that answer is written here).
    const made = await fetch(`${t.rzp.url}/v1/payments/${paymentId}/refund`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${RZP.keyId}:${RZP.keySecret}`).toString('base64')}`,
        'content-type': 'application/json',
        'X-Refund-Idempotency': `cancel_${booking.id}`,
      },
      body: JSON.stringify({ amount: 180_000 }),
    });
    const gwRefund = (await made.json()) as { id: string };
    await t.db.query(
      `UPDATE refunds SET gateway_refund_id = $2, next_attempt_at = $3, last_error = NULL WHERE id = $1`,
      [row.id, gwRefund.id, new Date(t.clock.now().getTime() + 15 * 60_000)],
    );
    await refunds.processPendingRefunds(); // pending at the gateway: not re-sent
    expect(gatewayRefunds(paymentId)).toHaveLength(1);

    const svc = t.app.get(ReconciliationService);
    expect((await svc.reconcile()).refundsChecked).toBe(0); // not due yet
    t.clock.advance(16 * 60_000);
    try {
      const run = await svc.reconcile();
      expect(run.refundsSettled).toBeGreaterThanOrEqual(1);
    } finally {
      t.clock.reset();
    }
    expect(await refundRow(booking.id)).toMatchObject({
      status: 'processed',
      gateway_refund_id: gwRefund.id,
    });
    expect(await bookingRow(t, booking.id)).toMatchObject({ payment_status: 'refunded' });
    expect(gatewayRefunds(paymentId)).toHaveLength(1);
  });

  it('a cancelled trip refunds every paid booking in full (the trip’s commit kicks the refunds)', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10, price: 120_000 });
    const a = await paidBooking(trip, 1);
    const b = await paidBooking(trip, 2);
    await t.http
      .delete(`/api/v1/trips/${trip.id}`)
      .set(organizer.auth)
      .expect((res) => expect([200, 204]).toContain(res.status));
    for (const x of [a, b]) {
      const r = await eventually(
        () => refundRow(x.booking.id),
        (v) => v?.status === 'processed',
        'trip cancellation refund',
      );
      expect(r.amount).toBe(x === a ? 120_000 : 240_000);
      expect(gatewayRefunds(x.paymentId)).toHaveLength(1);
      expect(await bookingRow(t, x.booking.id)).toMatchObject({
        status: 'cancelled',
        payment_status: 'refunded',
      });
    }
  });

  it('a second payment for a booking already paid is refunded in full; a later cancellation refunds the first', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10, price: 110_000 });
    const traveler = await register(t, 'traveler');
    const booking = await book(t, traveler, trip.id, 1);
    const order = (
      await t.http.post(`/api/v1/bookings/${booking.id}/payments/order`).set(traveler.auth).expect(200)
    ).body.data;
    // meanwhile the booking got paid another way (recorded as the proofs side does on approval)
    await markPaid(t, booking.id);
    await t.db.query(
      `INSERT INTO payments (booking_id, payer_id, method, amount, currency, status, captured_at) VALUES ($1, $2, 'screenshot', 110000, 'INR', 'captured', now())`,
      [booking.id, traveler.id],
    );
    const paid = t.rzp.payOrder(order.orderId);
    const hook = await t.rzp.sendWebhook(
      t.rzp.buildEvent('payment.captured', { payment: t.rzp.payments.get(paid.razorpay_payment_id)! }),
    );
    expect(hook.status).toBe(200);
    expect(
      (await t.db.query(`SELECT outcome FROM webhook_events WHERE event_id = $1`, [hook.eventId]))[0].outcome,
    ).toBe('refund: duplicate payment');
    const auto = await eventually(
      () =>
        t.db
          .query(`SELECT * FROM refunds WHERE idempotency_key = $1`, [`auto_${paid.razorpay_payment_id}`])
          .then((r) => r[0]),
      (r) => r?.status === 'processed',
      'duplicate payment refunded',
    );
    expect(auto.amount).toBe(110_000);
    expect(gatewayRefunds(paid.razorpay_payment_id)).toEqual([
      expect.objectContaining({ amount: 110_000, status: 'processed' }),
    ]);
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'confirmed', payment_status: 'paid' });

    // cancelling now refunds the payment that is still held (the screenshot one, by hand), nothing twice
    await cancel(traveler, booking.id).expect(200);
    const due = (
      await t.db.query(`SELECT * FROM refunds WHERE idempotency_key = $1`, [`cancel_${booking.id}`])
    )[0];
    expect(due).toMatchObject({ status: 'manual_due', amount: 110_000 });
    const [screenshot] = await t.db.query(
      `SELECT id FROM payments WHERE booking_id = $1 AND method = 'screenshot'`,
      [booking.id],
    );
    expect(due.payment_id).toBe(screenshot.id);
    expect(gatewayRefunds(paid.razorpay_payment_id)).toHaveLength(1);
  });

  it('screenshot payments: the refund is recorded as due for a manual payout; an admin marks it paid', async () => {
    const trip = await createTrip(t, organizer, { capacity: 10, price: 90_000 });
    const traveler = await register(t, 'traveler');
    const booking = await book(t, traveler, trip.id, 1, 'screenshot');
    // paid by screenshot (what the proofs side records on approval)
    await markPaid(t, booking.id);
    await t.db.query(
      `INSERT INTO payments (booking_id, payer_id, method, amount, currency, status, captured_at) VALUES ($1, $2, 'screenshot', 90000, 'INR', 'captured', now())`,
      [booking.id, traveler.id],
    );
    const calls = JSON.stringify([...t.rzp.calls]);
    await cancel(traveler, booking.id).expect(200);
    await refunds.processPendingRefunds();
    const due = await refundRow(booking.id);
    expect(due).toMatchObject({ status: 'manual_due', amount: 90_000, next_attempt_at: null });
    expect(JSON.stringify([...t.rzp.calls])).toBe(calls); // no gateway call for a screenshot payment
    expect(await bookingRow(t, booking.id)).toMatchObject({ payment_status: 'refund_pending' });

    const list = await t.http
      .get('/api/v1/admin/refunds')
      .query({ status: 'manual_due', bookingId: booking.id })
      .set(admin.auth)
      .expect(200);
    expect(list.body.data[0]).toMatchObject({ id: due.id, needsAttention: true });
    const paidOut = await t.http
      .post(`/api/v1/admin/refunds/${due.id}/mark-paid`)
      .set(admin.auth)
      .send({ note: 'UPI ref 4242' })
      .expect(200);
    expect(paidOut.body.data).toMatchObject({ status: 'manual_paid', needsAttention: false });
    expect(await bookingRow(t, booking.id)).toMatchObject({ payment_status: 'refunded' });
    expect(await paymentRow(booking.id)).toMatchObject({ status: 'refunded', amount_refunded: 90_000 });
    expect(await auditRows(t, due.id, 'refund.manual_paid')).toHaveLength(1);
    await t.http.post(`/api/v1/admin/refunds/${due.id}/mark-paid`).set(admin.auth).send({}).expect(409);
  });

  it('every payment.updated this suite caused has the one payload of the event map (capture, refund, screenshot alike)', async () => {
    const rows: { payload: Record<string, unknown> }[] = await t.db.query(
      `SELECT payload FROM notification_outbox WHERE channel = 'realtime' AND topic = 'payment.updated'`,
    );
    expect(rows.length).toBeGreaterThan(5);
    const shapes = new Set(rows.map((r) => Object.keys(r.payload).sort().join(',')));
    expect([...shapes]).toEqual([
      'amount,amountRefunded,bookingId,currency,method,paymentId,status,subscriptionId',
    ]);
    expect(new Set(rows.map((r) => r.payload.method))).toEqual(new Set(['online', 'screenshot']));
  });
});
