import { RefundsService } from '@trektribe/billing';
import { OutboxDispatcher } from '@trektribe/notifications';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobLock } from '../apps/api/src/scheduler/job-lock';
import { register, SignedIn, startTestApp, TestApp } from './support/app';
import { BillingTestApp, RZP, startBillingApp } from './support/billing';
import { book, createTrip } from './support/fixtures';

/** Prometheus text → `name{labels}` → value (labels as exposed, in prom-client's order). */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function scrape(t: TestApp, token?: string): Promise<Map<string, number>> {
  const req = t.http.get('/metrics');
  if (token) req.set('Authorization', `Bearer ${token}`);
  const res = await req.expect(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(res.text);
}

describe('GET /metrics after a booking, its payment and its cancellation', () => {
  let t: BillingTestApp;
  let organizer: SignedIn;
  let traveler: SignedIn;
  let trip: { id: string };
  let metrics: Map<string, number>;

  beforeAll(async () => {
    t = await startBillingApp();
    organizer = await register(t, 'organizer');
    traveler = await register(t, 'traveler');
    trip = await createTrip(t, organizer, { capacity: 10, price: 250_000 });
    // a booking held (2 seats), paid at checkout, then cancelled (a refund is owed)
    const booking = await book(t, traveler, trip.id, 2);
    const order = await t.http
      .post(`/api/v1/bookings/${booking.id}/payments/order`)
      .set(traveler.auth)
      .expect(200);
    const paid = t.rzp.payOrder(order.body.data.orderId as string);
    const signature = createHmac('sha256', RZP.keySecret)
      .update(`${paid.razorpay_order_id}|${paid.razorpay_payment_id}`)
      .digest('hex');
    await t.http
      .post(`/api/v1/bookings/${booking.id}/payments/verify`)
      .set(traveler.auth)
      .send({ ...paid, razorpay_signature: signature })
      .expect(200);
    await t.http.post(`/api/v1/bookings/${booking.id}/cancel`).set(traveler.auth).send({}).expect(200);
    // a refused booking: more seats than the trip has
    await t.http
      .post('/api/v1/bookings')
      .set(traveler.auth)
      .send({
        tripId: trip.id,
        seats: 11,
        participants: Array.from({ length: 11 }, (_, i) => ({ name: `P ${i}` })),
        paymentMethod: 'online',
      })
      .expect((res) => expect([400, 409]).toContain(res.status));
    // a job run, through the lock the cron jobs use
    await t.app
      .get(JobLock)
      .runExclusive('deliver-outbox', () => t.app.get(OutboxDispatcher).dispatchPending());
    metrics = await scrape(t);
  });
  afterAll(async () => {
    await t?.app.get(RefundsService).processPendingRefunds();
    await t?.app.get(OutboxDispatcher).dispatchPending();
    await t?.close();
  });

  it('has request latency by method, route template and status', () => {
    const count = (method: string, route: string, status: number) =>
      metrics.get(
        `http_request_duration_seconds_count{method="${method}",route="${route}",status="${status}"}`,
      );
    expect(count('POST', '/api/v1/bookings', 201)).toBe(1);
    expect(count('POST', '/api/v1/bookings/:id/payments/verify', 200)).toBe(1);
    expect(count('POST', '/api/v1/bookings/:id/cancel', 200)).toBe(1);
    expect(count('POST', '/api/v1/auth/register', 201)).toBe(2);
    // ids never become labels
    expect([...metrics.keys()].some((k) => /route="[^"]*[0-9a-f]{8}-[0-9a-f]{4}-/.test(k))).toBe(false);
    expect(
      metrics.get(
        'http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/api/v1/bookings",status="201"}',
      ),
    ).toBe(1);
  });

  it('counts bookings and seats by outcome, payments and refunds by status', () => {
    expect(metrics.get('trektribe_bookings_total{outcome="held"}')).toBe(1);
    expect(metrics.get('trektribe_booking_seats_total{outcome="held"}')).toBe(2);
    expect(metrics.get('trektribe_bookings_total{outcome="confirmed"}')).toBe(1);
    expect(metrics.get('trektribe_booking_seats_total{outcome="confirmed"}')).toBe(2);
    expect(metrics.get('trektribe_bookings_total{outcome="cancelled"}')).toBe(1);
    expect(metrics.get('trektribe_bookings_total{outcome="expired"}')).toBe(0);
    expect(metrics.get('trektribe_payments_total{status="captured",method="online"}')).toBe(1);
    expect(metrics.get('trektribe_refunds_total{status="requested"}')).toBe(1);
  });

  it('reads the webhook backlog, the outbox depth by channel and the DB pool at scrape', () => {
    expect(metrics.get('trektribe_webhook_events_backlog{state="waiting"}')).toBe(0);
    expect(metrics.get('trektribe_webhook_events_backlog{state="failing"}')).toBe(0);
    expect(metrics.get('trektribe_webhook_events_oldest_unapplied_seconds')).toBe(0);
    for (const channel of ['email', 'sms', 'whatsapp', 'realtime']) {
      expect(metrics.get(`trektribe_outbox_pending{channel="${channel}"}`)).toBeGreaterThanOrEqual(0);
      expect(metrics.get(`trektribe_outbox_failed{channel="${channel}"}`)).toBe(0);
      expect(metrics.has(`trektribe_outbox_oldest_due_seconds{channel="${channel}"}`)).toBe(true);
    }
    expect(metrics.get('trektribe_db_pool_connections{state="max"}')).toBe(t.config.databaseUrl ? 10 : 1);
    expect(metrics.get('trektribe_db_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1);
    expect(metrics.has('trektribe_db_pool_connections{state="waiting"}')).toBe(true);
  });

  it('counts job runs with their duration and last success, and has event loop lag', () => {
    expect(metrics.get('trektribe_job_runs_total{job="deliver-outbox",outcome="ok"}')).toBe(1);
    expect(metrics.get('trektribe_job_duration_seconds_count{job="deliver-outbox"}')).toBe(1);
    expect(metrics.get('trektribe_job_last_success_timestamp_seconds{job="deliver-outbox"}')).toBeGreaterThan(
      Date.now() / 1000 - 600,
    );
    expect(metrics.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(metrics.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect(metrics.has('process_resident_memory_bytes')).toBe(true);
  });

  it('shows a stored webhook waiting, and a failed job run', async () => {
    await t.db.query(
      `INSERT INTO webhook_events (event_id, event_type, payload, received_at) VALUES ('evt_metrics_1', 'payment.captured', '{}', now() - interval '90 seconds')`,
    );
    await expect(
      t.app.get(JobLock).runExclusive('trip-reminders', () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    const m = await scrape(t);
    expect(m.get('trektribe_webhook_events_backlog{state="waiting"}')).toBe(1);
    expect(m.get('trektribe_webhook_events_oldest_unapplied_seconds')).toBeGreaterThanOrEqual(90);
    expect(m.get('trektribe_job_runs_total{job="trip-reminders",outcome="failed"}')).toBe(1);
    await t.db.query(`DELETE FROM webhook_events WHERE event_id = 'evt_metrics_1'`);
  });
});

describe('probes and scrapes: not rate limited, /metrics behind METRICS_TOKEN', () => {
  const TOKEN = 'metrics-token-0123456789';
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ THROTTLE_LIMIT: '3', THROTTLE_TTL: '60', METRICS_TOKEN: TOKEN });
  });
  afterAll(async () => t?.close());

  it('answers health, liveness, readiness and metrics well past the rate limit', async () => {
    for (let i = 0; i < 8; i++) {
      const health = await t.http.get('/api/v1/health').expect(200);
      expect(health.headers['x-ratelimit-remaining']).toBeUndefined();
      await t.http.get('/api/v1/health/live').expect(200, { success: true, data: { status: 'ok' } });
      const ready = await t.http.get('/api/v1/health/ready').expect(200);
      expect(ready.body.data).toMatchObject({ status: 'ok', db: 'up' });
      await t.http.get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    }
    // ...while the limit is real for the same client on other routes
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await t.http.get('/api/v1/trips')).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    // and the probes still answer once the client is limited
    await t.http.get('/api/v1/health/ready').expect(200);
  });

  it('refuses /metrics without the bearer token, or with a wrong one', async () => {
    for (const auth of [undefined, 'Bearer wrong-token-0123456789', `Basic ${TOKEN}`, TOKEN]) {
      const req = t.http.get('/metrics');
      if (auth) req.set('Authorization', auth);
      const res = await req.expect(401);
      expect(res.body).toMatchObject({ success: false, error: { code: 'UNAUTHORIZED', statusCode: 401 } });
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.text).not.toContain('http_request_duration_seconds');
    }
    const ok = await scrape(t, TOKEN);
    expect(ok.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });
});
