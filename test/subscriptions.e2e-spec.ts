import { CHARGE_LEASE_MS, cycleReceipt, RazorpayGateway, SubscriptionChargeRun } from '@trektribe/billing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaymentOrder } from '../libs/billing/src/ledger/payment-order.entity';
import { ChargeCycles } from '../libs/billing/src/subscriptions/charge-cycles';
import { ChargeOrders } from '../libs/billing/src/subscriptions/charge-orders';
import { SubscriptionPayments } from '../libs/billing/src/ledger/subscription-payments';
import { createStaff, register, SignedIn } from './support/app';
import { BillingTestApp, RZP, startBillingApp } from './support/billing';
import { auditRows, book, createTrip, daysFromNow, markPaid, tripBody } from './support/fixtures';
import type { PaymentEntity } from './support/razorpay-emulator';

const AP = '/api/v1/auto-pay';
const DAY = 86_400_000;
const RECURRING = 'POST /v1/payments/create/recurring';

/**
 * How a charge's outcome reaches the app. 'direct': the test hands the emulator's settled payment to
 * SubscriptionPayments inside a transaction, exactly as the webhook code does. 'webhook': the
 * emulator's own signed webhooks (sent after every recurring charge) do it end to end. Switching is
 * this one line.
 */
const OUTCOMES: 'direct' | 'webhook' = 'webhook';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error(`gave up waiting for ${what}`);
}

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

const recurringCalls = (t: BillingTestApp) => t.rzp.calls.get(RECURRING) ?? 0;

async function status(t: BillingTestApp, org: SignedIn) {
  return (await t.http.get(`${AP}/status`).set(org.auth).expect(200)).body.data;
}

async function subRow(t: BillingTestApp, org: SignedIn): Promise<Record<string, any>> {
  const [row] = await t.db.query(`SELECT * FROM subscriptions WHERE organizer_id = $1`, [org.id]);
  return row;
}

async function cyclesOf(t: BillingTestApp, subscriptionId: string): Promise<Record<string, any>[]> {
  return t.db.query(`SELECT * FROM subscription_cycles WHERE subscription_id = $1 ORDER BY cycle`, [
    subscriptionId,
  ]);
}

async function cycleOrdersOf(t: BillingTestApp, subscriptionId: string): Promise<Record<string, any>[]> {
  return t.db.query(
    `SELECT * FROM payment_orders WHERE subscription_id = $1 AND purpose = 'subscription' ORDER BY created_at, id`,
    [subscriptionId],
  );
}

async function emails(t: BillingTestApp, org: SignedIn, topic: string): Promise<Record<string, any>[]> {
  return t.db.query(
    `SELECT * FROM notification_outbox WHERE channel = 'email' AND recipient = $1 AND topic = $2 ORDER BY created_at, id`,
    [org.email, topic],
  );
}

async function realtimeEvents(t: BillingTestApp, org: SignedIn): Promise<Record<string, any>[]> {
  return t.db.query(
    `SELECT * FROM notification_outbox WHERE channel = 'realtime' AND topic = 'subscription.updated' AND recipient = $1 ORDER BY created_at, id`,
    [`user:${org.id}`],
  );
}

/** Setup → checkout pays the authorisation order → verify → the bank confirms the mandate. */
async function subscribe(t: BillingTestApp, org: SignedIn) {
  const setup = await t.http.post(`${AP}/setup`).set(org.auth).send({}).expect(201);
  const paid = t.rzp.payOrder(setup.body.data.orderId);
  const verified = await t.http.post(`${AP}/verify`).set(org.auth).send(paid).expect(200);
  const tokenId = t.rzp.payments.get(paid.razorpay_payment_id)!.token_id!;
  t.rzp.confirmToken(tokenId);
  return { setup: setup.body.data, verified: verified.body.data, tokenId, paid };
}

async function runCharges(t: BillingTestApp, admin: SignedIn) {
  return (await t.http.post(`${AP}/process-scheduled`).set(admin.auth).expect(200)).body.data;
}

/** The latest payment on a gateway order, once the emulator has settled it (recurring debits settle asynchronously). */
async function settledPayment(t: BillingTestApp, gatewayOrderId: string): Promise<PaymentEntity> {
  let payment: PaymentEntity | undefined;
  await waitFor(`the charge on ${gatewayOrderId} to settle`, () => {
    payment = [...t.rzp.payments.values()].filter((p) => p.order_id === gatewayOrderId).pop();
    return payment !== undefined && payment.status !== 'created';
  });
  return payment!;
}

/** Delivers the outcome of the latest charge on the subscription's cycle order (see OUTCOMES). */
async function deliverOutcome(
  t: BillingTestApp,
  subscriptionId: string,
  cycle: number,
  mode = OUTCOMES,
): Promise<PaymentEntity> {
  const order = await t.db
    .getRepository(PaymentOrder)
    .findOneByOrFail({ receipt: cycleReceipt(subscriptionId, cycle) });
  const payment = await settledPayment(t, order.gatewayOrderId);
  if (mode === 'webhook') {
    await waitFor('the webhook to settle the cycle', async () => {
      const [c] = await t.db.query(`SELECT status FROM subscription_cycles WHERE id = $1`, [order.cycleId]);
      return c.status !== 'charging';
    });
    return payment;
  }
  await handOver(t, order, payment);
  return payment;
}

/** What the webhook route does with a payment on a subscription order. */
async function handOver(t: BillingTestApp, order: PaymentOrder, payment: PaymentEntity): Promise<string> {
  const handler = t.app.get(SubscriptionPayments);
  return t.db.transaction((m) =>
    payment.status === 'captured'
      ? handler.onOrderPaid(m, order, payment)
      : handler.onPaymentFailed(m, order, payment),
  );
}

function after(at: string | Date, ms = 60_000): Date {
  return new Date(new Date(at).getTime() + ms);
}

// ------------------------------------------------------------------------------------------------

describe('auto-pay: trial, mandate, first charge', () => {
  let t: BillingTestApp;
  let admin: SignedIn;
  let org: SignedIn;

  beforeAll(async () => {
    t = await startBillingApp();
    admin = await createStaff(t, 'admin');
    org = await register(t, 'organizer');
  });
  afterAll(async () => t?.close());

  it('a new organizer is on a 60-day trial from registration, created once', async () => {
    const me = (await t.http.get('/api/v1/auth/me').set(org.auth).expect(200)).body.data;
    const [first, second] = await Promise.all([status(t, org), status(t, org)]);
    expect(second).toEqual(first);
    expect(first).toMatchObject({
      status: 'trial',
      amount: 149_900,
      currency: 'INR',
      failedAttempts: 0,
      hasPaymentMethod: false,
      cancelAtPeriodEnd: false,
    });
    const trialEnd = new Date(new Date(me.createdAt).getTime() + 60 * DAY).toISOString();
    expect(first.trialEndsAt).toBe(trialEnd);
    expect(first.nextChargeAt).toBe(trialEnd);
    expect(first.currentPeriodEnd).toBe(trialEnd);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM subscriptions WHERE organizer_id = $1`, [
      org.id,
    ]);
    expect(n).toBe(1);
    expect(await auditRows(t, first.subscriptionId, 'subscription.created')).toHaveLength(1);
  });

  it('only organizers see auto-pay; only admins run the jobs', async () => {
    const traveler = await register(t, 'traveler');
    expect((await t.http.get(`${AP}/status`).set(traveler.auth)).status).toBe(403);
    expect((await t.http.post(`${AP}/process-scheduled`).set(org.auth)).status).toBe(403);
    expect((await t.http.post(`${AP}/send-reminders`).set(org.auth)).status).toBe(403);
    expect((await t.http.get(`${AP}/status`)).status).toBe(401);
    const bad = await t.http.post(`${AP}/setup`).set(org.auth).send({ method: 'cash' });
    expect(bad.status).toBe(400);
  });

  it('setup creates the customer once and an authorisation order with a recurring token request', async () => {
    const res = await t.http.post(`${AP}/setup`).set(org.auth).send({ method: 'card' }).expect(201);
    const data = res.body.data;
    expect(data).toMatchObject({ amount: 100, currency: 'INR', keyId: RZP.keyId, method: 'card' });
    expect(data.customerId).toMatch(/^cust_/);
    const order = t.rzp.orders.get(data.orderId)!;
    expect(order).toMatchObject({ amount: 100, customer_id: data.customerId, method: 'card' });
    expect(order.token).toMatchObject({ max_amount: 299_800, frequency: 'as_presented' });
    const tenYears = Math.floor(t.clock.now().getTime() / 1000) + 10 * 365 * 86_400;
    expect(Math.abs(order.token!.expire_at! - tenYears)).toBeLessThan(4 * 86_400);
    const [row] = await t.db.query(
      `SELECT purpose, payer_id, amount, receipt FROM payment_orders WHERE gateway_order_id = $1`,
      [data.orderId],
    );
    expect(row).toMatchObject({ purpose: 'subscription_authorization', payer_id: org.id, amount: 100 });
    expect(row.receipt.length).toBeLessThanOrEqual(40);

    const again = (await t.http.post(`${AP}/setup`).set(org.auth).send({}).expect(201)).body.data;
    expect(again.customerId).toBe(data.customerId);
    expect(again.method).toBe('upi');
    expect(t.rzp.calls.get('POST /v1/customers')).toBe(1);
  });

  it('verify refuses a forged signature and another organizer, then saves the mandate token', async () => {
    const setup = (await t.http.post(`${AP}/setup`).set(org.auth).send({}).expect(201)).body.data;
    const paid = t.rzp.payOrder(setup.orderId);

    const forged = await t.http
      .post(`${AP}/verify`)
      .set(org.auth)
      .send({ ...paid, razorpay_signature: 'ab'.repeat(32) });
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('INVALID_SIGNATURE');
    const rival = await register(t, 'organizer');
    expect((await t.http.post(`${AP}/verify`).set(rival.auth).send(paid)).status).toBe(404);
    expect((await status(t, org)).hasPaymentMethod).toBe(false);

    const res = await t.http.post(`${AP}/verify`).set(org.auth).send(paid).expect(200);
    expect(res.body.data).toMatchObject({ status: 'trial', hasPaymentMethod: true });
    const tokenId = t.rzp.payments.get(paid.razorpay_payment_id)!.token_id!;
    expect((await subRow(t, org)).gateway_token_id).toBe(tokenId);
    t.rzp.confirmToken(tokenId);

    // token.confirmed for the same token (the webhook's path) changes nothing.
    const handler = t.app.get(SubscriptionPayments);
    const token = t.rzp.tokens.get(tokenId)!;
    const outcome = await t.db.transaction((m) => handler.onTokenConfirmed(m, token));
    expect(outcome).toMatch(/unchanged/);
    const saved = await auditRows(t, res.body.data.subscriptionId, 'subscription.payment_method_saved');
    expect(saved).toHaveLength(1);
    expect(saved[0].actor_id).toBe(org.id);
  });

  it('at the end of the trial the run charges once; the paid outcome renews for 60 days; repeats change nothing', async () => {
    const before = await status(t, org);
    const sub = await subRow(t, org);
    t.clock.set(after(before.trialEndsAt));
    const calls = recurringCalls(t);

    // The rival organizer of the previous test has no mandate: dunned, not charged.
    const summary = await runCharges(t, admin);
    expect(summary).toMatchObject({ due: 2, charged: 1, noPaymentMethod: 1 });
    expect(recurringCalls(t)).toBe(calls + 1);
    const [cycle] = await cyclesOf(t, sub.id);
    expect(cycle).toMatchObject({ cycle: 1, amount: 149_900, attempts: 1 });
    const orders = await cycleOrdersOf(t, sub.id);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({
      receipt: cycleReceipt(sub.id, 1),
      amount: 149_900,
      payer_id: org.id,
      cycle_id: cycle.id,
    });
    expect(orders[0].receipt).toMatch(/^sub:[0-9a-f]{24}:1$/);
    const charge = [...t.rzp.payments.values()].filter((p) => p.order_id === orders[0].gateway_order_id);
    expect(charge).toHaveLength(1);
    expect(charge[0]).toMatchObject({
      amount: 149_900,
      customer_id: sub.gateway_customer_id,
      token_id: sub.gateway_token_id,
    });

    // A second run before the outcome arrives finds the cycle claimed: no second charge.
    expect(await runCharges(t, admin)).toMatchObject({ charged: 0 });
    expect(recurringCalls(t)).toBe(calls + 1);

    const payment = await deliverOutcome(t, sub.id, 1);
    expect(payment.status).toBe('captured');
    const renewed = await status(t, org);
    const periodEnd = new Date(new Date(before.trialEndsAt).getTime() + 60 * DAY).toISOString();
    expect(renewed).toMatchObject({
      status: 'active',
      currentPeriodEnd: periodEnd,
      nextChargeAt: periodEnd,
      failedAttempts: 0,
    });
    const [paidCycle] = await cyclesOf(t, sub.id);
    expect(paidCycle).toMatchObject({ status: 'paid', gateway_payment_id: payment.id });
    const [orderRow] = await cycleOrdersOf(t, sub.id);
    expect(orderRow.status).toBe('paid');
    const [bill] = await t.db.query(
      `SELECT status, amount, method, subscription_id FROM payments WHERE gateway_payment_id = $1`,
      [payment.id],
    );
    expect(bill).toEqual({
      status: 'captured',
      amount: 149_900,
      method: 'recurring',
      subscription_id: sub.id,
    });

    // The same outcome again, and a stale failure of the same cycle: nothing moves.
    const order = await t.db
      .getRepository(PaymentOrder)
      .findOneByOrFail({ receipt: cycleReceipt(sub.id, 1) });
    expect(await handOver(t, order, payment)).toMatch(/already paid/);
    expect(
      await handOver(t, order, { ...payment, id: 'pay_stale0000000000', status: 'failed', captured: false }),
    ).toMatch(/ignored/);
    expect(await status(t, org)).toEqual(renewed);
    expect(await runCharges(t, admin)).toMatchObject({ due: 0 });
    expect(recurringCalls(t)).toBe(calls + 1);

    expect(await auditRows(t, sub.id, 'subscription.renewed')).toHaveLength(1);
    expect(await emails(t, org, 'subscription.paid')).toHaveLength(1);
    const events = await realtimeEvents(t, org);
    expect(events.map((e) => e.payload.change)).toContain('renewed');
    expect(events.at(-1)!.payload).toMatchObject({ status: 'active', nextChargeAt: periodEnd });
  });
});

describe('auto-pay: two runs at once', () => {
  let t: BillingTestApp;
  let admin: SignedIn;
  const orgs: SignedIn[] = [];

  beforeAll(async () => {
    t = await startBillingApp();
    admin = await createStaff(t, 'admin');
    for (let i = 0; i < 3; i++) {
      const org = await register(t, 'organizer');
      await subscribe(t, org);
      orgs.push(org);
    }
  });
  afterAll(async () => t?.close());

  it('charges each due subscription once per cycle, in-process and over HTTP', async () => {
    const run = t.app.get(SubscriptionChargeRun);
    const last = (await Promise.all(orgs.map((o) => status(t, o))))
      .map((s) => s.trialEndsAt)
      .sort()
      .at(-1)!;
    t.clock.set(after(last));
    const calls = recurringCalls(t);

    const [a, b] = await Promise.all([run.processDueSubscriptions(), run.processDueSubscriptions()]);
    expect(a.charged + b.charged).toBe(3);
    expect(recurringCalls(t)).toBe(calls + 3);
    for (const org of orgs) {
      const sub = await subRow(t, org);
      expect(await cyclesOf(t, sub.id)).toHaveLength(1);
      const orders = await cycleOrdersOf(t, sub.id);
      expect(orders).toHaveLength(1);
      expect(
        [...t.rzp.payments.values()].filter((p) => p.order_id === orders[0].gateway_order_id),
      ).toHaveLength(1);
      await deliverOutcome(t, sub.id, 1);
      expect((await status(t, org)).status).toBe('active');
    }

    // The next period: two admins press the button at the same moment.
    const nexts = await Promise.all(orgs.map(async (o) => (await status(t, o)).nextChargeAt as string));
    t.clock.set(after([...nexts].sort().at(-1)!));
    const [x, y] = await Promise.all([runCharges(t, admin), runCharges(t, admin)]);
    expect(x.charged + y.charged).toBe(3);
    expect(recurringCalls(t)).toBe(calls + 6);
    for (const [i, org] of orgs.entries()) {
      const sub = await subRow(t, org);
      expect((await cyclesOf(t, sub.id)).map((c) => c.cycle)).toEqual([1, 2]);
      expect((await cycleOrdersOf(t, sub.id)).map((o) => o.receipt)).toEqual([
        cycleReceipt(sub.id, 1),
        cycleReceipt(sub.id, 2),
      ]);
      await deliverOutcome(t, sub.id, 2);
      expect(await status(t, org)).toMatchObject({
        status: 'active',
        currentPeriodEnd: new Date(new Date(nexts[i]).getTime() + 60 * DAY).toISOString(),
      });
    }
  });
});

describe('auto-pay: a run that crashed mid-way', () => {
  let t: BillingTestApp;
  let run: SubscriptionChargeRun;
  let cycles: ChargeCycles;
  let orders: ChargeOrders;
  const orgs: SignedIn[] = [];

  beforeAll(async () => {
    t = await startBillingApp();
    // Every outcome webhook is lost here: what the runs do must not depend on one arriving.
    t.rzp.setWebhookUrl('http://127.0.0.1:9/lost');
    run = t.app.get(SubscriptionChargeRun);
    cycles = t.app.get(ChargeCycles);
    orders = t.app.get(ChargeOrders);
    for (let i = 0; i < 3; i++) {
      const org = await register(t, 'organizer');
      await subscribe(t, org);
      orgs.push(org);
    }
  });
  afterAll(async () => t?.close());

  it('is completed by the next runs without a second charge, whichever step it died after', async () => {
    const last = (await Promise.all(orgs.map((o) => status(t, o))))
      .map((s) => s.trialEndsAt)
      .sort()
      .at(-1)!;
    t.clock.set(after(last));
    const [afterOrder, afterClaim, afterCharge] = await Promise.all(orgs.map((o) => subRow(t, o)));
    const calls = recurringCalls(t);

    // A died after storing the cycle's order; B after claiming the cycle; C right after the gateway accepted the debit.
    const planA = await cycles.openCycle(afterOrder.id);
    if (typeof planA === 'string') throw new Error(planA);
    const orderA = await orders.ensureCycleOrder(planA);
    const planB = await cycles.openCycle(afterClaim.id);
    if (typeof planB === 'string') throw new Error(planB);
    const orderB = await orders.ensureCycleOrder(planB);
    expect(await run.claim(planB, orderB)).toBe(1);
    const planC = await cycles.openCycle(afterCharge.id);
    if (typeof planC === 'string') throw new Error(planC);
    const orderC = await orders.ensureCycleOrder(planC);
    expect(await run.claim(planC, orderC)).toBe(1);
    await t.app.get(RazorpayGateway).createRecurringPayment({
      email: planC.email,
      contact: planC.contact,
      amount: orderC.amount,
      currency: orderC.currency,
      order_id: orderC.gatewayOrderId,
      customer_id: planC.customerId,
      token: planC.tokenId,
      recurring: '1',
    });
    expect(recurringCalls(t)).toBe(calls + 1);
    await settledPayment(t, orderC.gatewayOrderId);

    // The next run: A is charged on its stored order; B and C are still claimed (a runner may be alive).
    const first = await run.processDueSubscriptions();
    expect(first).toMatchObject({ due: 3, charged: 1, inProgress: 2 });
    expect(recurringCalls(t)).toBe(calls + 2);
    const ordersA = await cycleOrdersOf(t, afterOrder.id);
    expect(ordersA.map((o) => o.gateway_order_id)).toEqual([orderA.gatewayOrderId]);
    expect(
      [...t.rzp.orders.values()].filter((o) => o.receipt === cycleReceipt(afterOrder.id, 1)),
    ).toHaveLength(1);
    await deliverOutcome(t, afterOrder.id, 1, 'direct');

    // Once the claims' lease has run out: B is charged, C is found paid at the gateway and settled.
    t.clock.advance(CHARGE_LEASE_MS + 60_000);
    const second = await run.processDueSubscriptions();
    expect(second).toMatchObject({ due: 2, charged: 1, settled: 1 });
    expect(recurringCalls(t)).toBe(calls + 3);
    await deliverOutcome(t, afterClaim.id, 1, 'direct');

    for (const [org, sub] of [
      [orgs[0], afterOrder],
      [orgs[1], afterClaim],
      [orgs[2], afterCharge],
    ] as const) {
      expect((await status(t, org)).status).toBe('active');
      const cycles = await cyclesOf(t, sub.id);
      expect(cycles).toHaveLength(1);
      expect(cycles[0].status).toBe('paid');
      const orders = await cycleOrdersOf(t, sub.id);
      expect(orders).toHaveLength(1);
      expect(
        [...t.rzp.payments.values()].filter(
          (p) => p.order_id === orders[0].gateway_order_id && p.status === 'captured',
        ),
      ).toHaveLength(1);
    }
    expect((await cyclesOf(t, afterClaim.id))[0].attempts).toBe(2);
    expect(await run.processDueSubscriptions()).toMatchObject({ due: 0 });
    expect(recurringCalls(t)).toBe(calls + 3);
  });
});

describe('auto-pay: dunning, suspension and coming back', () => {
  let t: BillingTestApp;
  let admin: SignedIn;
  let org: SignedIn;
  let traveler: SignedIn;
  const trips: { id: string }[] = [];
  let ownHidden: { id: string };
  let bookingId: string;

  beforeAll(async () => {
    t = await startBillingApp();
    admin = await createStaff(t, 'admin');
    org = await register(t, 'organizer');
    traveler = await register(t, 'traveler');
    const far = { startDate: daysFromNow(t, 100), endDate: daysFromNow(t, 105) };
    trips.push(
      await createTrip(t, org, far),
      await createTrip(t, org, { ...far, title: 'Hampta Pass Crossover' }),
    );
    ownHidden = await createTrip(t, org, { ...far, title: 'Brahmatal Winter Trek' });
    await t.http
      .patch(`/api/v1/trips/${ownHidden.id}`)
      .set(org.auth)
      .send({ status: 'inactive' })
      .expect(200);
    bookingId = (await book(t, traveler, trips[0].id, 2)).id;
    await markPaid(t, bookingId);
    await subscribe(t, org);
  });
  afterAll(async () => t?.close());

  async function tripStatuses(): Promise<Record<string, string>> {
    const rows: { id: string; status: string }[] = await t.db.query(
      `SELECT id, status FROM trips WHERE organizer_id = $1`,
      [org.id],
    );
    return Object.fromEntries(rows.map((r) => [r.id, r.status]));
  }

  async function suspendedBy(): Promise<Record<string, string | null>> {
    const rows: { id: string; by: string | null }[] = await t.db.query(
      `SELECT id, suspended_by_subscription_id AS by FROM trips WHERE organizer_id = $1`,
      [org.id],
    );
    return Object.fromEntries(rows.map((r) => [r.id, r.by]));
  }

  it('three failed charges a day apart suspend the plan and hide the active trips; bookings stay valid', async () => {
    const sub = await subRow(t, org);
    t.rzp.setRecurringOutcome('fail');
    t.clock.set(after((await status(t, org)).trialEndsAt));
    const calls = recurringCalls(t);

    for (const attempt of [1, 2]) {
      expect(await runCharges(t, admin)).toMatchObject({ charged: 1 });
      const failed = await deliverOutcome(t, sub.id, 1);
      expect(failed.status).toBe('failed');
      const now = t.clock.now();
      expect(await status(t, org)).toMatchObject({
        status: 'past_due',
        failedAttempts: attempt,
        nextChargeAt: new Date(now.getTime() + DAY).toISOString(),
      });
      // Not retried before tomorrow.
      expect(await runCharges(t, admin)).toMatchObject({ due: 0 });
      t.clock.advance(DAY);
    }
    expect(await emails(t, org, 'subscription.charge_failed')).toHaveLength(2);
    expect((await tripStatuses())[trips[0].id]).toBe('active');

    expect(await runCharges(t, admin)).toMatchObject({ charged: 1 });
    await deliverOutcome(t, sub.id, 1);
    expect(recurringCalls(t)).toBe(calls + 3);
    const suspended = await status(t, org);
    expect(suspended).toMatchObject({ status: 'suspended', failedAttempts: 3, nextChargeAt: null });
    expect(suspended.suspendedAt).toBe(t.clock.now().toISOString());
    expect(await tripStatuses()).toEqual({
      [trips[0].id]: 'inactive',
      [trips[1].id]: 'inactive',
      [ownHidden.id]: 'inactive',
    });
    const booking = (await t.http.get(`/api/v1/bookings/${bookingId}`).set(traveler.auth).expect(200)).body
      .data;
    expect(booking).toMatchObject({ status: 'confirmed', paymentStatus: 'paid' });
    expect(await emails(t, org, 'subscription.suspended')).toHaveLength(1);
    expect(await auditRows(t, trips[0].id, 'trip.deactivated')).toHaveLength(1);
    // The state lives in tables, not in audit rows: which trips this suspension hid, which failures counted.
    expect(await suspendedBy()).toEqual({
      [trips[0].id]: sub.id,
      [trips[1].id]: sub.id,
      [ownHidden.id]: null,
    });
    const failures = await t.db.query(
      `SELECT key, cycle_id FROM subscription_charge_failures WHERE subscription_id = $1`,
      [sub.id],
    );
    expect(failures).toHaveLength(3);
    const [cycle] = await cyclesOf(t, sub.id);
    expect(cycle).toMatchObject({ status: 'failed', attempts: 3 });
    expect(await cycleOrdersOf(t, sub.id)).toHaveLength(1);

    // Suspended: no more charges, no new or re-activated trips.
    expect(await runCharges(t, admin)).toMatchObject({ due: 0 });
    t.clock.advance(DAY);
    expect(await runCharges(t, admin)).toMatchObject({ due: 0 });
    expect(recurringCalls(t)).toBe(calls + 3);
    const create = await t.http.post('/api/v1/trips').set(org.auth).send(tripBody(t));
    expect(create.status).toBe(403);
    expect(create.body.error.code).toBe('SUBSCRIPTION_INACTIVE');
    const reactivate = await t.http
      .patch(`/api/v1/trips/${trips[0].id}`)
      .set(org.auth)
      .send({ status: 'active' });
    expect(reactivate.status).toBe(403);
    expect(reactivate.body.error.code).toBe('SUBSCRIPTION_INACTIVE');
    expect(
      (await t.http.get('/api/v1/trips').query({ organizerId: org.id }).expect(200)).body.data,
    ).toHaveLength(0);
  });

  it('a new mandate and a successful payment reactivate the plan and list the hidden trips again', async () => {
    const sub = await subRow(t, org);
    t.rzp.setRecurringOutcome('success');
    const calls = recurringCalls(t);
    const { verified } = await subscribe(t, org);
    expect(verified).toMatchObject({ status: 'suspended', hasPaymentMethod: true });
    expect(verified.nextChargeAt).toBe(t.clock.now().toISOString());

    expect(await runCharges(t, admin)).toMatchObject({ charged: 1 });
    expect(recurringCalls(t)).toBe(calls + 1);
    expect(await cycleOrdersOf(t, sub.id)).toHaveLength(1); // the cycle's order is reused
    const payment = await deliverOutcome(t, sub.id, 1);
    expect(payment.status).toBe('captured');

    const now = t.clock.now();
    const periodEnd = new Date(now.getTime() + 60 * DAY).toISOString();
    expect(await status(t, org)).toMatchObject({
      status: 'active',
      failedAttempts: 0,
      suspendedAt: null,
      currentPeriodEnd: periodEnd,
      nextChargeAt: periodEnd,
    });
    // The two trips the suspension hid are back; the one the organizer had hidden stays hidden.
    expect(await tripStatuses()).toEqual({
      [trips[0].id]: 'active',
      [trips[1].id]: 'active',
      [ownHidden.id]: 'inactive',
    });
    expect(await suspendedBy()).toEqual({ [trips[0].id]: null, [trips[1].id]: null, [ownHidden.id]: null });
    expect(await auditRows(t, trips[1].id, 'trip.reactivated')).toHaveLength(1);
    expect(await auditRows(t, sub.id, 'subscription.reactivated')).toHaveLength(1);
    await t.http.post('/api/v1/trips').set(org.auth).send(tripBody(t)).expect(201);
    expect((await realtimeEvents(t, org)).map((e) => e.payload.change)).toEqual(
      expect.arrayContaining(['past_due', 'suspended', 'payment_method_saved', 'reactivated']),
    );
  });

  it('an organizer without a mandate is dunned but never charged, and suspended on the third day', async () => {
    const lapsed = await register(t, 'organizer');
    const trip = await createTrip(t, lapsed, { startDate: daysFromNow(t, 30), endDate: daysFromNow(t, 31) });
    const calls = recurringCalls(t);
    t.clock.set(after((await status(t, lapsed)).trialEndsAt));
    for (const attempt of [1, 2]) {
      expect(await runCharges(t, admin)).toMatchObject({ noPaymentMethod: 1 });
      expect(await status(t, lapsed)).toMatchObject({
        status: 'past_due',
        failedAttempts: attempt,
        hasPaymentMethod: false,
      });
      expect(await runCharges(t, admin)).toMatchObject({ due: 0 });
      t.clock.advance(DAY);
    }
    expect(await runCharges(t, admin)).toMatchObject({ noPaymentMethod: 1 });
    expect(await status(t, lapsed)).toMatchObject({ status: 'suspended', failedAttempts: 3 });
    expect(recurringCalls(t)).toBe(calls);
    expect(await emails(t, lapsed, 'subscription.payment_method_missing')).toHaveLength(3);
    const [row] = await t.db.query(`SELECT status FROM trips WHERE id = $1`, [trip.id]);
    expect(row.status).toBe('inactive');
  });
});

describe('auto-pay: reminders and cancellation', () => {
  let t: BillingTestApp;
  let admin: SignedIn;
  let org: SignedIn;
  let quitter: SignedIn;

  beforeAll(async () => {
    t = await startBillingApp();
    admin = await createStaff(t, 'admin');
    org = await register(t, 'organizer');
    quitter = await register(t, 'organizer');
    await subscribe(t, org);
    await subscribe(t, quitter);
  });
  afterAll(async () => t?.close());

  const remind = async () =>
    (await t.http.post(`${AP}/send-reminders`).set(admin.auth).expect(200)).body.data;
  const keys = async (o: SignedIn) =>
    (
      (await t.db.query(
        `SELECT dedupe_key FROM notification_outbox WHERE recipient = $1 AND dedupe_key IS NOT NULL ORDER BY created_at, id`,
        [o.email],
      )) as {
        dedupe_key: string;
      }[]
    ).map((r) => r.dedupe_key);

  it('/cancel stops renewal: no reminders, no charge, cancelled at the period end, no new trips', async () => {
    const res = await t.http.post(`${AP}/cancel`).set(quitter.auth).expect(200);
    expect(res.body.data).toMatchObject({ status: 'trial', cancelAtPeriodEnd: true, nextChargeAt: null });
    expect((await t.http.post(`${AP}/cancel`).set(quitter.auth).expect(200)).body.data).toEqual(
      res.body.data,
    );
    expect(await auditRows(t, res.body.data.subscriptionId, 'subscription.cancel_requested')).toHaveLength(1);
    // Trial and paid time run out first: listing still allowed.
    await createTrip(t, quitter);
  });

  it('sends the trial notice once and each payment reminder once, 7 and 3 days before the charge', async () => {
    const s = await status(t, org);
    const sub = await subRow(t, org);
    const trialEnd = new Date(s.trialEndsAt).getTime();

    t.clock.set(new Date(trialEnd - 10 * DAY));
    expect(await remind()).toEqual({ reminders: 0, trialNotices: 0 });

    t.clock.set(new Date(trialEnd - 6.6 * DAY));
    // Only the organizer who is not cancelling hears about the trial's end and the coming charge.
    expect(await remind()).toEqual({ reminders: 1, trialNotices: 1 });
    expect(await remind()).toEqual({ reminders: 0, trialNotices: 0 });
    t.clock.advance(DAY);
    expect(await remind()).toEqual({ reminders: 0, trialNotices: 0 });

    t.clock.set(new Date(trialEnd - 2.6 * DAY));
    expect(await remind()).toEqual({ reminders: 1, trialNotices: 0 });
    t.clock.advance(DAY);
    expect(await remind()).toEqual({ reminders: 0, trialNotices: 0 });
    expect(await keys(org)).toEqual([
      `sub-trial-ending:${sub.id}`,
      `sub-reminder:${sub.id}:1:7`,
      `sub-reminder:${sub.id}:1:3`,
    ]);
    const [reminder] = await emails(t, org, 'subscription.reminder');
    expect(reminder.body).toContain('₹1,499');
    expect(await keys(quitter)).toEqual([]);

    // The charge, then the next cycle's reminders.
    t.clock.set(new Date(trialEnd + 60_000));
    const calls = recurringCalls(t);
    expect(await runCharges(t, admin)).toMatchObject({ charged: 1, cancelled: 1 });
    expect(recurringCalls(t)).toBe(calls + 1);
    await deliverOutcome(t, sub.id, 1);
    const next = new Date((await status(t, org)).nextChargeAt).getTime();
    t.clock.set(new Date(next - 5 * DAY));
    expect(await remind()).toEqual({ reminders: 1, trialNotices: 0 });
    expect((await keys(org)).filter((k) => k.startsWith('sub-reminder:'))).toEqual([
      `sub-reminder:${sub.id}:1:7`,
      `sub-reminder:${sub.id}:1:3`,
      `sub-reminder:${sub.id}:2:7`,
    ]);
  });

  it('the cancelled organizer was never charged and may not list trips any more', async () => {
    const s = await status(t, quitter);
    expect(s).toMatchObject({ status: 'cancelled', nextChargeAt: null, hasPaymentMethod: true });
    const sub = await subRow(t, quitter);
    expect(await cyclesOf(t, sub.id)).toHaveLength(0);
    expect(
      [...t.rzp.payments.values()].filter(
        (p) => p.customer_id === sub.gateway_customer_id && p.amount === 149_900,
      ),
    ).toHaveLength(0);
    expect(await emails(t, quitter, 'subscription.cancelled')).toHaveLength(1);
    const create = await t.http.post('/api/v1/trips').set(quitter.auth).send(tripBody(t));
    expect(create.status).toBe(403);
    expect(create.body.error.code).toBe('SUBSCRIPTION_INACTIVE');
  });

  it('the jobs create the rows of organizers who never opened auto-pay, each audited through AuditService', async () => {
    const quiet = await register(t, 'organizer');
    await t.db.query(`DELETE FROM subscriptions WHERE organizer_id = $1`, [quiet.id]); // as if it predates the plan
    await t.http.post(`${AP}/send-reminders`).set(admin.auth).expect(200);
    const [row] = await t.db.query(`SELECT id, status FROM subscriptions WHERE organizer_id = $1`, [
      quiet.id,
    ]);
    expect(row.status).toBe('trial');
    const [created] = await auditRows(t, row.id, 'subscription.created');
    expect(created).toMatchObject({
      actor_id: null,
      after: { subscriptionId: row.id, status: 'trial', amount: 149_900, hasPaymentMethod: false },
    });
  });
});
