import { RefundsService, WebhookApplier } from '@trektribe/billing';
import { OutboxDispatcher } from '@trektribe/notifications';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff, register, SignedIn } from './support/app';
import { BillingTestApp, startBillingApp } from './support/billing';
import { auditRows, book, bookingRow, createTrip } from './support/fixtures';

/**
 * The webhook as a durable queue: with WEBHOOK_INLINE_BACKLOG=0 every delivery is answered as soon as
 * it is stored (what a burst gets), and the effect follows from the applier. Also what a crashed
 * instance or an erroring application leaves behind.
 */
describe('Razorpay webhook: answered on receipt, applied once behind it', () => {
  let t: BillingTestApp;
  let organizer: SignedIn;
  let trip: { id: string };
  let applier: WebhookApplier;

  beforeAll(async () => {
    t = await startBillingApp({ WEBHOOK_INLINE_BACKLOG: '0' });
    applier = t.app.get(WebhookApplier);
    organizer = await register(t, 'organizer');
    trip = await createTrip(t, organizer, { capacity: 60, price: 250_000 });
  });
  afterAll(async () => {
    await applier?.idle();
    await t?.app.get(RefundsService).processPendingRefunds();
    await t?.app.get(OutboxDispatcher).dispatchPending();
    await t?.close();
  });

  async function paidBooking() {
    const traveler = await register(t, 'traveler');
    const booking = await book(t, traveler, trip.id, 1);
    const res = await t.http
      .post(`/api/v1/bookings/${booking.id}/payments/order`)
      .set(traveler.auth)
      .expect(200);
    const orderId = res.body.data.orderId as string;
    const paid = t.rzp.payOrder(orderId);
    const event = t.rzp.buildEvent('payment.captured', {
      payment: t.rzp.payments.get(paid.razorpay_payment_id)!,
    });
    return { booking, orderId, event };
  }

  const confirmationEmails = (bookingId: string) =>
    t.db.query(`SELECT 1 FROM notification_outbox WHERE channel = 'email' AND dedupe_key = $1`, [
      `booking-confirmed:${bookingId}`,
    ]);

  /** A real database error inside the effect's transaction, for this payment only; resolves with its removal. */
  async function refusePaymentRow(gatewayPaymentId: string, message: string): Promise<() => Promise<void>> {
    await t.db.query(`
      CREATE FUNCTION tt_refuse_payment() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.gateway_payment_id = '${gatewayPaymentId}' THEN RAISE EXCEPTION '${message}'; END IF;
        RETURN NEW;
      END $$`);
    await t.db.query(
      `CREATE TRIGGER tt_refuse_payment BEFORE INSERT ON payments FOR EACH ROW EXECUTE FUNCTION tt_refuse_payment()`,
    );
    return async () => {
      await t.db.query(`DROP TRIGGER IF EXISTS tt_refuse_payment ON payments`);
      await t.db.query(`DROP FUNCTION IF EXISTS tt_refuse_payment()`);
    };
  }

  /** What a webhook row looks like in the table, by Razorpay's event id. */
  const stored = async (eventId: string) =>
    (await t.db.query(`SELECT * FROM webhook_events WHERE event_id = $1`, [eventId]))[0];

  it('a burst with repeats: every delivery 200 at once, each event applied exactly once afterwards', async () => {
    const bookings = await Promise.all(Array.from({ length: 8 }, () => paidBooking()));
    // each event three times, all at once: one stores it, the other two are answered as repeats
    const sends = bookings.flatMap(({ event }, i) =>
      [0, 1, 2].map(() => t.rzp.sendWebhook(event, { eventId: `evt_burst_${i}` })),
    );
    const answers = await Promise.all(sends);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const bodies = answers.map((a) => (a.body as { data: { duplicate: boolean; queued: boolean } }).data);
    expect(bodies.filter((b) => !b.duplicate)).toHaveLength(8);
    expect(bodies.filter((b) => !b.duplicate).every((b) => b.queued)).toBe(true);

    await applier.idle();
    for (const [i, { booking }] of bookings.entries()) {
      expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'confirmed', payment_status: 'paid' });
      expect(await t.db.query(`SELECT 1 FROM payments WHERE booking_id = $1`, [booking.id])).toHaveLength(1);
      expect(await confirmationEmails(booking.id)).toHaveLength(1);
      expect(await auditRows(t, booking.id, 'booking.confirmed')).toHaveLength(1);
      const row = await stored(`evt_burst_${i}`);
      expect(row).toMatchObject({
        outcome: 'captured: booking confirmed',
        attempts: 0,
        last_error: null,
        claimed_until: null,
      });
      expect(row.processed_at).not.toBeNull();
    }
    expect(await t.db.query(`SELECT 1 FROM webhook_events WHERE event_id LIKE 'evt_burst_%'`)).toHaveLength(
      8,
    );

    // a repeat long after: 200, a duplicate, nothing more happens
    const late = await t.rzp.sendWebhook(bookings[0].event, { eventId: 'evt_burst_0' });
    expect((late.body as { data: { duplicate: boolean } }).data.duplicate).toBe(true);
    await applier.idle();
    expect(await confirmationEmails(bookings[0].booking.id)).toHaveLength(1);
  });

  it('an event an instance stored but never applied (it died after the 200) is applied by the next pull, once', async () => {
    const { booking, event } = await paidBooking();
    const other = await paidBooking();
    // as a crashed instance leaves them: stored, unprocessed; one lease ran out, one still runs
    await t.db.query(
      `INSERT INTO webhook_events (event_id, event_type, payload, claimed_until)
       VALUES ('evt_orphan_1', 'payment.captured', $1, now() - interval '1 second'),
              ('evt_leased_1', 'payment.captured', $2, now() + interval '10 minutes')`,
      [JSON.stringify(event), JSON.stringify(other.event)],
    );
    expect(await applier.applyUnclaimed()).toBe(1);
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'confirmed', payment_status: 'paid' });
    expect((await stored('evt_orphan_1')).outcome).toBe('captured: booking confirmed');
    // another live instance holds the second one: not taken until its lease is over
    expect(await bookingRow(t, other.booking.id)).toMatchObject({ status: 'pending' });
    expect((await stored('evt_leased_1')).processed_at).toBeNull();

    await t.db.query(
      `UPDATE webhook_events SET claimed_until = now() - interval '1 second' WHERE event_id = 'evt_leased_1'`,
    );
    expect(await applier.applyUnclaimed()).toBe(1);
    expect(await bookingRow(t, other.booking.id)).toMatchObject({ status: 'confirmed' });
    // nothing left, and a second pull applies nothing twice
    expect(await applier.applyUnclaimed()).toBe(0);
    expect(await confirmationEmails(booking.id)).toHaveLength(1);
    expect(await auditRows(t, booking.id, 'booking.confirmed')).toHaveLength(1);
  });

  it('an application that fails (a database error, not a rule) is kept, retried after a backoff, then applied', async () => {
    const { booking, event } = await paidBooking();
    const paymentId = (event.payload.payment as { entity: { id: string } }).entity.id;
    const allowAgain = await refusePaymentRow(paymentId, 'disk full (simulated)');
    try {
      const res = await t.rzp.sendWebhook(event, { eventId: 'evt_fails_once' });
      expect(res.status).toBe(200);
      await applier.idle();
      const row = await stored('evt_fails_once');
      expect(row).toMatchObject({ processed_at: null, outcome: null, attempts: 1 });
      expect(row.last_error).toContain('disk full (simulated)');
      expect(new Date(row.claimed_until).getTime()).toBeGreaterThan(Date.now() + 20_000);
      expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'pending' });
      expect(await t.db.query(`SELECT 1 FROM payments WHERE booking_id = $1`, [booking.id])).toHaveLength(0);
      // still backing off: the pull leaves it
      expect(await applier.applyUnclaimed()).toBe(0);
    } finally {
      await allowAgain();
    }
    // the backoff is over
    await t.db.query(
      `UPDATE webhook_events SET claimed_until = now() - interval '1 second' WHERE event_id = 'evt_fails_once'`,
    );
    expect(await applier.applyUnclaimed()).toBe(1);
    expect(await stored('evt_fails_once')).toMatchObject({
      outcome: 'captured: booking confirmed',
      last_error: null,
    });
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'confirmed', payment_status: 'paid' });
    expect(await confirmationEmails(booking.id)).toHaveLength(1);
  });

  it('an admin finds a failing event, retries it while the cause stands, then once it is fixed: applied once', async () => {
    const admin = await createStaff(t, 'admin');
    const traveler = await register(t, 'traveler');
    const { booking, event } = await paidBooking();
    const paymentId = (event.payload.payment as { entity: { id: string } }).entity.id;
    const allowAgain = await refusePaymentRow(paymentId, 'check constraint (simulated bug)');
    let id: string;
    try {
      expect((await t.rzp.sendWebhook(event, { eventId: 'evt_admin_retry' })).status).toBe(200);
      await applier.idle();

      const failing = await t.http
        .get('/api/v1/admin/webhook-events')
        .query({ status: 'failing' })
        .set(admin.auth)
        .expect(200);
      const listed = (failing.body.data as { eventId: string }[]).find(
        (e) => e.eventId === 'evt_admin_retry',
      );
      expect(listed).toMatchObject({
        type: 'payment.captured',
        status: 'failing',
        attempts: 1,
        outcome: null,
        processedAt: null,
      });
      expect((listed as unknown as { lastError: string }).lastError).toContain('simulated bug');
      expect((listed as unknown as { payload?: unknown }).payload).toBeUndefined();
      id = (listed as unknown as { id: string }).id;
      expect(failing.body.meta).toMatchObject({ page: 1 });
      expect(failing.body.meta.total).toBeGreaterThanOrEqual(1);

      const one = await t.http.get(`/api/v1/admin/webhook-events/${id}`).set(admin.auth).expect(200);
      expect(one.body.data.payload).toMatchObject({ event: 'payment.captured' });
      expect(new Date(one.body.data.nextAttemptAt).getTime()).toBeGreaterThan(Date.now() + 20_000);

      // the cause still stands: the retry runs at once, fails again, and says so
      const again = await t.http.post(`/api/v1/admin/webhook-events/${id}/retry`).set(admin.auth).expect(200);
      expect(again.body.data).toMatchObject({ status: 'failing', attempts: 2 });
      expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'pending' });
    } finally {
      await allowAgain();
    }
    // fixed: applied now, not after the backoff
    const applied = await t.http.post(`/api/v1/admin/webhook-events/${id}/retry`).set(admin.auth).expect(200);
    expect(applied.body.data).toMatchObject({
      status: 'processed',
      outcome: 'captured: booking confirmed',
      lastError: null,
      nextAttemptAt: null,
    });
    expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'confirmed', payment_status: 'paid' });
    expect(await confirmationEmails(booking.id)).toHaveLength(1);
    const audits = await t.db.query(
      `SELECT actor_id FROM audit_logs WHERE action = 'webhook_event.retry_requested' AND entity_id = $1`,
      [id],
    );
    expect(audits).toHaveLength(2);
    expect(audits.every((a: { actor_id: string }) => a.actor_id === admin.id)).toBe(true);

    // a processed event is not applied twice
    const twice = await t.http.post(`/api/v1/admin/webhook-events/${id}/retry`).set(admin.auth).expect(409);
    expect(twice.body.error.code).toBe('WEBHOOK_EVENT_PROCESSED');
    await applier.idle();
    expect(await t.db.query(`SELECT 1 FROM payments WHERE booking_id = $1`, [booking.id])).toHaveLength(1);
    // filters, and who may look
    const byId = await t.http
      .get('/api/v1/admin/webhook-events')
      .query({ eventId: 'evt_admin_retry', status: 'processed' })
      .set(admin.auth)
      .expect(200);
    expect(byId.body.data).toHaveLength(1);
    expect(byId.body.meta.total).toBe(1);
    const bad = await t.http
      .get('/api/v1/admin/webhook-events')
      .query({ status: 'stuck' })
      .set(admin.auth)
      .expect(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    await t.http.get('/api/v1/admin/webhook-events').set(traveler.auth).expect(403);
    await t.http.get(`/api/v1/admin/webhook-events/${id}`).set(organizer.auth).expect(403);
    await t.http.post(`/api/v1/admin/webhook-events/${id}/retry`).set(traveler.auth).expect(403);
    await t.http
      .get('/api/v1/admin/webhook-events/00000000-0000-4000-8000-000000000000')
      .set(admin.auth)
      .expect(404);
    await t.http.post('/api/v1/admin/webhook-events/not-a-uuid/retry').set(admin.auth).expect(400);
  });

  it('unhandled event types are stored processed on receipt, with nothing to apply', async () => {
    const res = await t.rzp.sendWebhook({
      entity: 'event',
      event: 'settlement.processed',
      contains: [],
      payload: {},
      created_at: 0,
    });
    expect(res.status).toBe(200);
    expect((res.body as { data: { queued: boolean } }).data.queued).toBe(false);
    const row = await stored(res.eventId);
    expect(row).toMatchObject({ outcome: 'ignored: unhandled event type', claimed_until: null });
    expect(row.processed_at).not.toBeNull();
  });
});
