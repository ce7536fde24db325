/**
 * Drives the Razorpay emulator with the OFFICIAL `razorpay` SDK, so the emulator stays faithful to what
 * the SDK sends and expects (paths, basic auth, error shapes, signatures).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Razorpay from 'razorpay';
import { validatePaymentVerification } from 'razorpay/dist/utils/razorpay-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RazorpayEmulator, type PaymentEntity, type WebhookEvent } from './support/razorpay-emulator';

const KEY_ID = 'rzp_test_emulator';
const KEY_SECRET = 'emulator_key_secret';
const WEBHOOK_SECRET = 'emulator_webhook_secret';

/** The SDK puts '/v1' in every path itself (api.js getEntityUrl), so the base URL is the bare host. */
function sdk(emulator: RazorpayEmulator, keyId = KEY_ID, keySecret = KEY_SECRET): Razorpay {
  const rzp = new Razorpay({ key_id: keyId, key_secret: keySecret });
  (rzp as any).api.rq.defaults.baseURL = emulator.url;
  (rzp as any).api.rq.defaults.timeout = 5_000;
  return rzp;
}

/** Sends X-Refund-Idempotency on the calls made inside fn (the SDK drops custom headers). */
async function withIdempotencyKey<T>(rzp: Razorpay, key: string, fn: () => Promise<T>): Promise<T> {
  const rq = (rzp as any).api.rq;
  const id: number = rq.interceptors.request.use((cfg: any) => {
    cfg.headers['X-Refund-Idempotency'] = key;
    return cfg;
  });
  try {
    return await fn();
  } finally {
    rq.interceptors.request.eject(id);
  }
}

/** Captures a rejection so its shape can be asserted (the SDK rejects with plain objects, not Errors). */
async function rejectionOf(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function eventually<T>(fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface ReceivedWebhook {
  eventId: string;
  valid: boolean;
  duplicate: boolean;
  event?: WebhookEvent;
}

/** A tiny webhook receiver doing what our app must: verify over the raw bytes, dedupe by event id. */
async function startReceiver(): Promise<{
  url: string;
  received: ReceivedWebhook[];
  close(): Promise<void>;
}> {
  const received: ReceivedWebhook[] = [];
  const seen = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const signature = req.headers['x-razorpay-signature'];
      const eventId = String(req.headers['x-razorpay-event-id']);
      let valid = false;
      try {
        valid =
          typeof signature === 'string' && Razorpay.validateWebhookSignature(raw, signature, WEBHOOK_SECRET);
      } catch {
        valid = false;
      }
      if (!valid) {
        received.push({ eventId, valid, duplicate: false });
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false }));
        return;
      }
      const duplicate = seen.has(eventId);
      seen.add(eventId);
      received.push({ eventId, valid, duplicate, event: JSON.parse(raw) as WebhookEvent });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, duplicate }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/razorpay`,
    received,
    close: () =>
      new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

describe('Razorpay emulator (driven by the official SDK)', () => {
  let emulator: RazorpayEmulator;
  let rzp: Razorpay;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    emulator = await RazorpayEmulator.start({
      keyId: KEY_ID,
      keySecret: KEY_SECRET,
      webhookSecret: WEBHOOK_SECRET,
    });
    emulator.setWebhookUrl(receiver.url);
    rzp = sdk(emulator);
  });

  afterAll(async () => {
    await emulator?.stop();
    await receiver?.close();
  });

  const newOrder = (amount = 150_000, extra: Record<string, unknown> = {}) =>
    rzp.orders.create({ amount, currency: 'INR', receipt: `rcpt_${Date.now()}`, ...extra });

  describe('orders and checkout', () => {
    it('creates an order with Razorpay’s shape', async () => {
      const order = await rzp.orders.create({ amount: 50_000, currency: 'INR', receipt: 'booking:42' });
      expect(order).toMatchObject({
        entity: 'order',
        amount: 50_000,
        amount_paid: 0,
        amount_due: 50_000,
        currency: 'INR',
        receipt: 'booking:42',
        offer_id: null,
        status: 'created',
        attempts: 0,
        notes: [],
      });
      expect(order.id).toMatch(/^order_[A-Za-z0-9]{14}$/);
      expect(Number.isInteger(order.created_at)).toBe(true);
      expect(await rzp.orders.fetch(order.id)).toEqual(order);

      const withNotes = await rzp.orders.create({
        amount: 100,
        currency: 'INR',
        notes: { booking: 'b1', seats: 2 },
      });
      expect(withNotes.notes).toEqual({ booking: 'b1', seats: 2 });
    });

    it('rejects invalid orders with 400 BAD_REQUEST_ERROR naming the field', async () => {
      const tooSmall = await rejectionOf(rzp.orders.create({ amount: 99, currency: 'INR' }));
      expect(tooSmall).toMatchObject({
        statusCode: 400,
        error: {
          code: 'BAD_REQUEST_ERROR',
          field: 'amount',
          source: 'business',
          step: 'payment_initiation',
          reason: 'input_validation_failed',
        },
      });
      expect(await rejectionOf(rzp.orders.create({ amount: 100.5, currency: 'INR' }))).toMatchObject({
        statusCode: 400,
        error: { field: 'amount' },
      });
      expect(
        await rejectionOf(rzp.orders.create({ amount: 100, currency: 'INR', receipt: 'x'.repeat(41) })),
      ).toMatchObject({
        statusCode: 400,
        error: { field: 'receipt' },
      });
      const notes = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'v']));
      expect(await rejectionOf(rzp.orders.create({ amount: 100, currency: 'INR', notes }))).toMatchObject({
        statusCode: 400,
        error: { field: 'notes' },
      });
      expect(await rejectionOf(rzp.orders.create({ amount: 100, currency: 'USD' }))).toMatchObject({
        statusCode: 400,
        error: { field: 'currency' },
      });
    });

    it('answers unknown ids with 400 "The id provided does not exist"', async () => {
      const err = await rejectionOf(rzp.orders.fetch('order_doesnotexist00'));
      expect(err).toMatchObject({
        statusCode: 400,
        error: { code: 'BAD_REQUEST_ERROR', description: 'The id provided does not exist' },
      });
      expect(await rejectionOf(rzp.orders.fetchPayments('order_doesnotexist00'))).toMatchObject({
        statusCode: 400,
      });
      expect(await rejectionOf(rzp.payments.fetch('pay_doesnotexist000'))).toMatchObject({ statusCode: 400 });
    });

    it('pays an order as checkout would; the signature verifies with the SDK helper and our own HMAC', async () => {
      const order = await newOrder();
      const result = emulator.payOrder(order.id);
      expect(result.razorpay_order_id).toBe(order.id);
      expect(result.razorpay_payment_id).toMatch(/^pay_[A-Za-z0-9]{14}$/);

      expect(
        validatePaymentVerification(
          { order_id: order.id, payment_id: result.razorpay_payment_id },
          result.razorpay_signature,
          KEY_SECRET,
        ),
      ).toBe(true);
      const expected = createHmac('sha256', KEY_SECRET)
        .update(`${order.id}|${result.razorpay_payment_id}`)
        .digest();
      expect(timingSafeEqual(expected, Buffer.from(result.razorpay_signature, 'hex'))).toBe(true);
      // Signed for this order only, and with the key secret (not the webhook secret).
      expect(
        validatePaymentVerification(
          { order_id: 'order_other000000000', payment_id: result.razorpay_payment_id },
          result.razorpay_signature,
          KEY_SECRET,
        ),
      ).toBe(false);
      expect(
        validatePaymentVerification(
          { order_id: order.id, payment_id: result.razorpay_payment_id },
          result.razorpay_signature,
          WEBHOOK_SECRET,
        ),
      ).toBe(false);

      expect(await rzp.orders.fetch(order.id)).toMatchObject({
        status: 'paid',
        amount_paid: order.amount,
        amount_due: 0,
        attempts: 1,
      });
      const payment = await rzp.payments.fetch(result.razorpay_payment_id);
      expect(payment).toMatchObject({
        id: result.razorpay_payment_id,
        entity: 'payment',
        amount: order.amount,
        currency: 'INR',
        status: 'captured',
        captured: true,
        order_id: order.id,
        invoice_id: null,
        international: false,
        method: 'card',
        amount_refunded: 0,
        refund_status: null,
        error_code: null,
        error_description: null,
      });
      const payments = await rzp.orders.fetchPayments(order.id);
      expect(payments).toMatchObject({ entity: 'collection', count: 1 });
      expect(payments.items[0].id).toBe(result.razorpay_payment_id);
    });

    it('a paid order refuses a second payment', async () => {
      const order = await newOrder();
      emulator.payOrder(order.id);
      expect(() => emulator.payOrder(order.id)).toThrow('Order has already been paid');
      expect(() => emulator.failOrder(order.id)).toThrow('Order has already been paid');
      expect((await rzp.orders.fetchPayments(order.id)).count).toBe(1);
    });

    it('failed attempts move the order to attempted; a later payment still succeeds', async () => {
      const order = await newOrder();
      const failed = emulator.failOrder(order.id, {
        code: 'BAD_REQUEST_ERROR',
        description: 'Card declined',
      });
      expect(failed).toMatchObject({
        status: 'failed',
        captured: false,
        error_code: 'BAD_REQUEST_ERROR',
        error_description: 'Card declined',
      });
      expect(await rzp.orders.fetch(order.id)).toMatchObject({ status: 'attempted', attempts: 1 });
      emulator.payOrder(order.id);
      expect(await rzp.orders.fetch(order.id)).toMatchObject({ status: 'paid', attempts: 2 });
      const { items } = await rzp.orders.fetchPayments(order.id);
      expect(items.map((p) => p.status).sort()).toEqual(['captured', 'failed']);
    });

    it('manual capture: authorized → captured, amount must match', async () => {
      const order = await newOrder(20_000);
      const { razorpay_payment_id: id } = emulator.payOrder(order.id, { capture: false, method: 'upi' });
      expect(await rzp.payments.fetch(id)).toMatchObject({
        status: 'authorized',
        captured: false,
        method: 'upi',
      });
      expect((await rzp.orders.fetch(order.id)).status).toBe('attempted');
      expect(await rejectionOf(rzp.payments.capture(id, 10_000, 'INR'))).toMatchObject({
        statusCode: 400,
        error: { field: 'amount' },
      });
      expect(await rzp.payments.capture(id, 20_000, 'INR')).toMatchObject({
        status: 'captured',
        captured: true,
      });
      expect((await rzp.orders.fetch(order.id)).status).toBe('paid');
      expect(await rejectionOf(rzp.payments.capture(id, 20_000, 'INR'))).toMatchObject({ statusCode: 400 });
    });
  });

  describe('refunds', () => {
    async function paidPayment(amount = 100_000): Promise<{ orderId: string; paymentId: string }> {
      const order = await newOrder(amount);
      return { orderId: order.id, paymentId: emulator.payOrder(order.id).razorpay_payment_id };
    }

    it('partial then the rest; cannot exceed the refundable amount; the order stays paid', async () => {
      const { orderId, paymentId } = await paidPayment(100_000);
      const partial = await rzp.payments.refund(paymentId, {
        amount: 30_000,
        speed: 'normal',
        notes: { reason: 'cancelled' },
        receipt: 'cancel:1',
      });
      expect(partial).toMatchObject({
        entity: 'refund',
        amount: 30_000,
        currency: 'INR',
        payment_id: paymentId,
        status: 'processed',
        notes: { reason: 'cancelled' },
        receipt: 'cancel:1',
        speed_processed: 'normal',
      });
      expect(partial.id).toMatch(/^rfnd_[A-Za-z0-9]{14}$/);
      expect(await rzp.payments.fetch(paymentId)).toMatchObject({
        status: 'captured',
        amount_refunded: 30_000,
        refund_status: 'partial',
      });

      expect(await rejectionOf(rzp.payments.refund(paymentId, { amount: 70_001 }))).toMatchObject({
        statusCode: 400,
        error: { code: 'BAD_REQUEST_ERROR', field: 'amount' },
      });

      const rest = await rzp.payments.refund(paymentId, {});
      expect(rest).toMatchObject({ amount: 70_000, status: 'processed' });
      expect(await rzp.payments.fetch(paymentId)).toMatchObject({
        status: 'refunded',
        amount_refunded: 100_000,
        refund_status: 'full',
        captured: true,
      });
      expect((await rzp.orders.fetch(orderId)).status).toBe('paid');
      expect(await rejectionOf(rzp.payments.refund(paymentId, {}))).toMatchObject({ statusCode: 400 });

      expect(await rzp.refunds.fetch(partial.id)).toEqual(partial);
      const list = await rzp.payments.fetchMultipleRefund(paymentId);
      expect(list.count).toBe(2);
      expect(list.items.map((r) => r.id).sort()).toEqual([partial.id, rest.id].sort());
    });

    it('full refund without an amount', async () => {
      const { paymentId } = await paidPayment(45_000);
      expect(await rzp.payments.refund(paymentId, { speed: 'optimum' })).toMatchObject({
        amount: 45_000,
        status: 'processed',
        speed_processed: 'instant',
      });
      expect(await rzp.payments.fetch(paymentId)).toMatchObject({
        status: 'refunded',
        refund_status: 'full',
      });
    });

    it('honours X-Refund-Idempotency: the same key on the same payment creates nothing new', async () => {
      const { paymentId } = await paidPayment(100_000);
      const before = emulator.refunds.size;
      const first = await withIdempotencyKey(rzp, 'refund-key-0001', () =>
        rzp.payments.refund(paymentId, { amount: 10_000 }),
      );
      const replay = await withIdempotencyKey(rzp, 'refund-key-0001', () =>
        rzp.payments.refund(paymentId, { amount: 10_000 }),
      );
      expect(replay.id).toBe(first.id);
      expect(emulator.refunds.size).toBe(before + 1);
      expect((await rzp.payments.fetch(paymentId)).amount_refunded).toBe(10_000);

      const other = await withIdempotencyKey(rzp, 'refund-key-0002', () =>
        rzp.payments.refund(paymentId, { amount: 10_000 }),
      );
      expect(other.id).not.toBe(first.id);
      expect((await rzp.payments.fetch(paymentId)).amount_refunded).toBe(20_000);
      expect(emulator.refundIdempotencyKeys.slice(-3)).toEqual([
        'refund-key-0001',
        'refund-key-0001',
        'refund-key-0002',
      ]);

      // Without the interceptor the header is absent, as the SDK drops custom headers.
      const plain = await rzp.payments.refund(paymentId, { amount: 10_000 });
      expect(plain.id).not.toBe(first.id);

      // A direct call works too; a malformed key is refused.
      const auth = `Basic ${Buffer.from(`${KEY_ID}:${KEY_SECRET}`).toString('base64')}`;
      const direct = await fetch(`${emulator.url}/v1/payments/${paymentId}/refund`, {
        method: 'POST',
        headers: {
          authorization: auth,
          'content-type': 'application/json',
          'X-Refund-Idempotency': 'refund-key-0001',
        },
        body: JSON.stringify({ amount: 10_000 }),
      });
      expect(direct.status).toBe(200);
      expect(((await direct.json()) as { id: string }).id).toBe(first.id);
      const bad = await fetch(`${emulator.url}/v1/payments/${paymentId}/refund`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json', 'X-Refund-Idempotency': 'short' },
        body: JSON.stringify({ amount: 10_000 }),
      });
      expect(bad.status).toBe(400);
    });

    it('failNextRefunds: a failed refund changes nothing; error mode answers 400', async () => {
      const { paymentId } = await paidPayment(60_000);
      emulator.failNextRefunds(1);
      expect(await rzp.payments.refund(paymentId, { amount: 10_000 })).toMatchObject({
        status: 'failed',
        amount: 10_000,
      });
      expect(await rzp.payments.fetch(paymentId)).toMatchObject({
        amount_refunded: 0,
        refund_status: null,
        status: 'captured',
      });

      emulator.failNextRefunds(1, 'error');
      const sizeBefore = emulator.refunds.size;
      expect(await rejectionOf(rzp.payments.refund(paymentId, { amount: 10_000 }))).toMatchObject({
        statusCode: 400,
        error: { code: 'BAD_REQUEST_ERROR' },
      });
      expect(emulator.refunds.size).toBe(sizeBefore);

      expect(await rzp.payments.refund(paymentId, { amount: 10_000 })).toMatchObject({ status: 'processed' });
    });
  });

  describe('transport and auth', () => {
    it('wrong basic auth → the SDK rejects with statusCode 401', async () => {
      const wrong = sdk(emulator, KEY_ID, 'not-the-secret');
      expect(await rejectionOf(wrong.orders.create({ amount: 100, currency: 'INR' }))).toEqual({
        statusCode: 401,
        error: { code: 'BAD_REQUEST_ERROR', description: 'The api key provided is invalid' },
      });
      const res = await fetch(`${emulator.url}/v1/orders/order_x`);
      expect(res.status).toBe(401);
    });

    it('unknown paths → 404', async () => {
      const err = await rejectionOf((rzp as any).api.get({ url: '/no/such/thing' }));
      expect(err).toEqual({
        statusCode: 404,
        error: { code: 'BAD_REQUEST_ERROR', description: 'The requested URL was not found on the server.' },
      });
    });

    it('setOffline(true): the SDK rejects with a non-HTTP error; back online it works again', async () => {
      emulator.setOffline(true);
      try {
        const err = await rejectionOf(rzp.orders.create({ amount: 100, currency: 'INR' }));
        expect(err).toBeInstanceOf(TypeError); // the SDK's normalizeError reads err.response.status
        expect(err.statusCode).toBeUndefined();
      } finally {
        emulator.setOffline(false);
      }
      expect((await rzp.orders.create({ amount: 100, currency: 'INR' })).status).toBe('created');
    });

    it('counts calls per method and path pattern', async () => {
      const before = emulator.calls.get('GET /v1/orders/:id') ?? 0;
      const order = await newOrder();
      await rzp.orders.fetch(order.id);
      await rzp.orders.fetch(order.id);
      expect(emulator.calls.get('GET /v1/orders/:id')).toBe(before + 2);
      expect(emulator.calls.get('POST /v1/orders')).toBeGreaterThan(0);
    });
  });

  describe('customers, tokens and recurring charges', () => {
    it('authorises a mandate, confirms the token and charges it asynchronously (webhooks included)', async () => {
      const customer = await rzp.customers.create({
        name: 'Trek Org',
        email: 'org@example.com',
        contact: '+919812345678',
        fail_existing: 0,
      });
      expect(customer).toMatchObject({
        entity: 'customer',
        name: 'Trek Org',
        email: 'org@example.com',
        contact: '+919812345678',
      });
      expect(customer.id).toMatch(/^cust_[A-Za-z0-9]{14}$/);
      // fail_existing 0 returns the same customer; the default ('1') refuses the duplicate.
      expect(
        (
          await rzp.customers.create({
            name: 'Trek Org',
            email: 'org@example.com',
            contact: '+919812345678',
            fail_existing: 0,
          })
        ).id,
      ).toBe(customer.id);
      expect(
        await rejectionOf(
          rzp.customers.create({ name: 'Trek Org', email: 'org@example.com', contact: '+919812345678' }),
        ),
      ).toMatchObject({ statusCode: 400 });

      // Authorisation order + checkout creates the token.
      const authOrder = await rzp.orders.create({
        amount: 100,
        currency: 'INR',
        customer_id: customer.id,
        method: 'card',
        token: {
          max_amount: 500_000,
          expire_at: Math.floor(Date.now() / 1000) + 365 * 86_400,
          frequency: 'as_presented',
        },
      } as any);
      const auth = emulator.payOrder(authOrder.id);
      const authPayment = await rzp.payments.fetch(auth.razorpay_payment_id);
      expect(authPayment.customer_id).toBe(customer.id);
      const tokenId = authPayment.token_id!;
      expect(tokenId).toMatch(/^token_[A-Za-z0-9]{14}$/);
      const tokens = await rzp.customers.fetchTokens(customer.id);
      expect(tokens).toMatchObject({ entity: 'collection', count: 1 });
      expect(tokens.items[0]).toMatchObject({
        id: tokenId,
        entity: 'token',
        method: 'card',
        recurring: true,
        recurring_details: { status: 'initiated' },
      });

      // A cycle order, charged through the token.
      const cycleOrder = await newOrder(99_900, { receipt: 'sub:org1:1' });
      const charge = () =>
        rzp.payments.createRecurringPayment({
          email: 'org@example.com',
          contact: '+919812345678',
          amount: 99_900,
          currency: 'INR',
          order_id: cycleOrder.id,
          customer_id: customer.id,
          token: tokenId,
          recurring: '1',
        } as any);

      // Not before the mandate is confirmed.
      expect(await rejectionOf(charge())).toMatchObject({
        statusCode: 400,
        error: { code: 'BAD_REQUEST_ERROR', field: 'token' },
      });
      expect(emulator.confirmToken(tokenId).recurring_details.status).toBe('confirmed');

      const webhooksBefore = receiver.received.length;
      const result = await charge();
      expect(result.razorpay_order_id).toBe(cycleOrder.id);
      expect(
        validatePaymentVerification(
          { order_id: cycleOrder.id, payment_id: result.razorpay_payment_id! },
          result.razorpay_signature!,
          KEY_SECRET,
        ),
      ).toBe(true);

      const captured = await eventually(
        () => rzp.payments.fetch(result.razorpay_payment_id!),
        (p) => p.status === 'captured',
      );
      expect(captured).toMatchObject({
        order_id: cycleOrder.id,
        customer_id: customer.id,
        token_id: tokenId,
        amount: 99_900,
        captured: true,
      });
      expect((await rzp.orders.fetch(cycleOrder.id)).status).toBe('paid');

      // payment.captured then order.paid arrive signed with the webhook secret.
      await eventually(
        async () => receiver.received.length,
        (n) => n >= webhooksBefore + 2,
      );
      const delivered = receiver.received.slice(webhooksBefore);
      expect(delivered.every((w) => w.valid && !w.duplicate)).toBe(true);
      expect(delivered.map((w) => w.event!.event)).toEqual(['payment.captured', 'order.paid']);
      expect(delivered[1].event).toMatchObject({
        contains: ['payment', 'order'],
        payload: { order: { entity: { id: cycleOrder.id, status: 'paid' } } },
      });

      // A paid order refuses a second charge: no cycle is charged twice.
      expect(await rejectionOf(charge())).toMatchObject({
        statusCode: 400,
        error: { description: 'Order has already been paid' },
      });
      expect((await rzp.orders.fetchPayments(cycleOrder.id)).count).toBe(1);
      expect(emulator.calls.get('POST /v1/payments/create/recurring')).toBe(3);

      // A declined debit: payment.failed, the order is left 'attempted' and can be retried.
      emulator.setRecurringOutcome('fail');
      const failingOrder = await newOrder(99_900, { receipt: 'sub:org1:2' });
      const failingBody = {
        email: 'org@example.com',
        contact: '+919812345678',
        amount: 99_900,
        currency: 'INR',
        order_id: failingOrder.id,
        customer_id: customer.id,
        token: tokenId,
        recurring: '1',
      } as any;
      const failedCharge = await rzp.payments.createRecurringPayment(failingBody);
      const failed = await eventually(
        () => rzp.payments.fetch(failedCharge.razorpay_payment_id!),
        (p) => p.status === 'failed',
      );
      expect(failed.error_code).toBe('BAD_REQUEST_ERROR');
      expect((await rzp.orders.fetch(failingOrder.id)).status).toBe('attempted');
      await eventually(
        async () => receiver.received.at(-1)?.event?.event,
        (e) => e === 'payment.failed',
      );

      emulator.setRecurringOutcome('success');
      const retry = await rzp.payments.createRecurringPayment(failingBody);
      await eventually(
        () => rzp.orders.fetch(failingOrder.id),
        (o) => o.status === 'paid',
      );
      expect((await rzp.payments.fetch(retry.razorpay_payment_id!)).status).toBe('captured');
    });
  });

  describe('webhooks', () => {
    it('sends signed events; duplicates reuse the event id; bad or missing signatures fail verification', async () => {
      const order = await newOrder(75_000);
      const { razorpay_payment_id } = emulator.payOrder(order.id);
      const payment = emulator.payments.get(razorpay_payment_id) as PaymentEntity;

      const event = emulator.buildEvent('order.paid', { payment, order: emulator.orders.get(order.id) });
      expect(event).toMatchObject({
        entity: 'event',
        event: 'order.paid',
        contains: ['payment', 'order'],
        payload: {
          payment: { entity: { id: razorpay_payment_id, status: 'captured' } },
          order: { entity: { id: order.id, status: 'paid' } },
        },
      });
      expect((event as WebhookEvent).account_id).toMatch(/^acc_/);

      const first = await emulator.sendWebhook(event);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ ok: true, duplicate: false });
      const got = receiver.received.at(-1)!;
      expect(got).toMatchObject({ eventId: first.eventId, valid: true, duplicate: false });
      expect(got.event).toEqual(JSON.parse(JSON.stringify(event)));

      const again = await emulator.sendWebhook(event, { eventId: first.eventId });
      expect(again.eventId).toBe(first.eventId);
      expect(receiver.received.at(-1)).toMatchObject({
        eventId: first.eventId,
        valid: true,
        duplicate: true,
      });

      const fresh = await emulator.sendWebhook(emulator.buildEvent('payment.captured', { payment }));
      expect(fresh.eventId).not.toBe(first.eventId);

      const bad = await emulator.sendWebhook(event, { badSignature: true });
      expect(bad.status).toBe(400);
      expect(receiver.received.at(-1)).toMatchObject({ eventId: bad.eventId, valid: false });
      const missing = await emulator.sendWebhook(event, { omitSignature: true });
      expect(missing.status).toBe(400);

      // The events are snapshots: a later refund does not change an event already built.
      await rzp.payments.refund(razorpay_payment_id, {});
      expect((event as WebhookEvent).payload.payment!.entity).toMatchObject({
        status: 'captured',
        amount_refunded: 0,
      });
      const refund = [...emulator.refunds.values()].find((r) => r.payment_id === razorpay_payment_id)!;
      const refundEvent = emulator.buildEvent('refund.processed', {
        refund,
        payment: emulator.payments.get(razorpay_payment_id),
      });
      expect(refundEvent.contains).toEqual(['refund', 'payment']);
      expect((await emulator.sendWebhook(refundEvent)).status).toBe(200);

      expect(
        emulator.webhookDeliveries.filter((d) => d.eventId === first.eventId).map((d) => d.status),
      ).toEqual([200, 200]);
    });

    it('signature is hex HMAC_SHA256(webhook secret, raw body)', async () => {
      let captured: { raw: string; signature: string } | undefined;
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          captured = {
            raw: Buffer.concat(chunks).toString('utf8'),
            signature: String(req.headers['x-razorpay-signature']),
          };
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const previous = receiver.url;
      try {
        emulator.setWebhookUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
        const order = await newOrder();
        const token = emulator.buildEvent('payment.failed', { payment: emulator.failOrder(order.id) });
        expect((await emulator.sendWebhook(token)).status).toBe(204);
        expect(captured!.signature).toBe(
          createHmac('sha256', WEBHOOK_SECRET).update(captured!.raw).digest('hex'),
        );
      } finally {
        emulator.setWebhookUrl(previous);
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });
});
