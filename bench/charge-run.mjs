#!/usr/bin/env node
// The 02:00 charge run (`processDueSubscriptions`) for 10,000 due subscriptions against the Razorpay
// emulator, through the admin endpoint POST /api/v1/auto-pay/process-scheduled. Target (issue 4):
// under 60 s, with memory.
//
//   node bench/charge-run.mjs [--app DIR] [--subs 10000] [--webhooks live|off] [--absorb-connections 50]
//        [--gateway-latency-ms 0] [--webhook-instance same|separate] [--quiet-wait 120] [--label NAME] [--cpu-prof]
//        [--api-node-args=--max-old-space-size=256] [--pg-admin postgres://postgres@127.0.0.1:5432/postgres]
//
// All on loopback; everything it starts is stopped at the end (also on error, SIGINT and a hard time limit).
//   1. CREATE DATABASE tt_bench_billing_<ts>; the Razorpay emulator IN THIS PROCESS (its state is in
//      memory, and confirmed recurring tokens exist only through its test controls); the built API
//      (NODE_ENV=production, LOG_LEVEL=warn, SCHEDULER_ENABLED=false, bootstrap admin) on free ports.
//   2. In the emulator, through its HTTP API: --subs customers (POST /v1/customers) and as many
//      authorisation orders with a token request (POST /v1/orders); each is paid with payOrder() and
//      its token confirmed with confirmToken(), as checkout and the bank would.
//   3. By SQL: --subs organizers (users, with the real argon2id hash of one organizer registered
//      through POST /api/v1/auth/register) and their subscriptions, all due (next_charge_at in the
//      last 10 h): half 'trial' past its end, half 'active' with a paid first cycle (its order and
//      payment), each with the emulator's customer id and confirmed token id; ANALYZE.
//   4. Waits for the shared machine to be quiet, then, as the bootstrap admin:
//        run 1: POST /auto-pay/process-scheduled, timed (wall clock), API RSS sampled every 500 ms;
//        run 2: the same again at once: must charge 0 (cycles claimed by run 1 are 'inProgress');
//        webhooks: with --webhooks live the emulator posts payment.captured + order.paid for every
//          charge to the API while the run goes on (like Razorpay); the bench waits until every
//          cycle is paid and reports when. With --webhooks off the emulator sends nothing during the
//          run; afterwards the bench posts the same two signed events per payment itself at
//          --absorb-connections and times how long the API takes to absorb them;
//        run 3: once everything is absorbed: nothing is due any more.
//   5. Checks: exactly one POST /v1/payments/create/recurring per subscription, one gateway order per
//      cycle with exactly one payment, every subscription active for the next period.
//   6. Writes bench/results/charge-run[-<label>].json, prints a JSON summary, drops the database.
//
// --gateway-latency-ms N delays every emulator answer by N ms (from step 4 on): the run against a
// gateway that is not on loopback. --cpu-prof writes the API's V8 CPU profile to
// $TMPDIR/tt-bench-cpuprof-charge-run-<ms>/ when it stops (run 1's window is in the result, monoWindowUs).
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  ADMIN,
  cpuSeconds,
  freePort,
  gitCommit,
  httpJson,
  KEYS,
  log,
  machineCpu,
  machineInfo,
  pgBackendCpuSeconds,
  REPO,
  RESULTS,
  rss,
  runBench,
  rzpId,
  sleep,
  waitForQuiet,
} from './webhooks.mjs';

const { values: a } = parseArgs({
  options: {
    app: { type: 'string', default: REPO },
    subs: { type: 'string', default: '10000' },
    webhooks: { type: 'string', default: 'live' },
    'absorb-connections': { type: 'string', default: '50' },
    'quiet-wait': { type: 'string', default: '120' },
    label: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'api-node-args': { type: 'string', default: '' },
    'gateway-latency-ms': { type: 'string', default: '0' },
    'webhook-instance': { type: 'string', default: 'same' },
    'pg-admin': { type: 'string', default: process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const SUBS = Number(a.subs);
const LIVE = a.webhooks === 'live';
if (!['live', 'off'].includes(a.webhooks)) throw new Error('--webhooks is live or off');
const ABSORB_LIMIT_S = 900;
const LATENCY_MS = Number(a['gateway-latency-ms']);
// same: the run and its webhooks share one API process. separate: the run on a scheduler instance,
// the webhooks to a second (web) instance on the same database and the same 2 cores.
const SEPARATE = a['webhook-instance'] === 'separate';
if (!['same', 'separate'].includes(a['webhook-instance'])) throw new Error('--webhook-instance is same or separate');

async function eachLimit(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

/** Customers with confirmed recurring tokens in the emulator: the state a finished auto-pay setup leaves. */
async function seedEmulator(emu, n) {
  const t0 = Date.now();
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const auth = `Basic ${Buffer.from(`${KEYS.keyId}:${KEYS.keySecret}`).toString('base64')}`;
  const out = new Array(n);
  const expireAt = Math.floor(Date.now() / 1000) + 10 * 365 * 86400;
  await eachLimit(
    Array.from({ length: n }, (_, i) => i),
    32,
    async (i) => {
      const email = `bench-org-${i + 1}@bench.local`;
      const phone = `+9198${String(i + 1).padStart(8, '0')}`;
      const c = await httpJson(`${emu.url}/v1/customers`, {
        method: 'POST',
        agent,
        headers: { authorization: auth },
        body: { name: `Bench Organizer ${i + 1}`, email, contact: phone, fail_existing: '0' },
      });
      if (c.status !== 200) throw new Error(`emulator customer: ${c.status} ${JSON.stringify(c.body)}`);
      const o = await httpJson(`${emu.url}/v1/orders`, {
        method: 'POST',
        agent,
        headers: { authorization: auth },
        body: {
          amount: 100,
          currency: 'INR',
          receipt: `subauth:bench${String(i).padStart(16, '0')}:000000`,
          customer_id: c.body.id,
          method: 'upi',
          token: { max_amount: 149900 * 2, expire_at: expireAt, frequency: 'as_presented' },
          notes: { purpose: 'subscription_authorization' },
        },
      });
      if (o.status !== 200) throw new Error(`emulator order: ${o.status} ${JSON.stringify(o.body)}`);
      const paid = emu.payOrder(o.body.id);
      const tokenId = emu.payments.get(paid.razorpay_payment_id).token_id;
      emu.confirmToken(tokenId);
      out[i] = { email, phone, customerId: c.body.id, tokenId };
    },
  );
  agent.destroy();
  log(`emulator: ${n} customers with confirmed tokens in ${Date.now() - t0} ms`);
  return out;
}

async function seedDb(q, mandates, hash) {
  const t0 = Date.now();
  await q(
    `WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS v(email, phone, cust, token, i)),
          u AS (
            INSERT INTO users (name, email, phone, password_hash, role, email_verified_at, created_at)
            SELECT 'Bench Organizer ' || v.i, v.email, v.phone, $5, 'organizer', now() - interval '130 days', now() - interval '130 days' FROM v
            RETURNING id, email),
          w AS (
            SELECT u.id AS organizer_id, v.*, now() - interval '1 minute' - (v.i % 600) * interval '1 minute' AS due FROM u JOIN v ON v.email = u.email),
          s AS (
            INSERT INTO subscriptions (organizer_id, status, trial_ends_at, current_period_end, next_charge_at, amount, currency, gateway_customer_id, gateway_token_id, created_at)
            SELECT w.organizer_id, CASE WHEN w.i % 2 = 0 THEN 'active' ELSE 'trial' END,
                   CASE WHEN w.i % 2 = 0 THEN w.due - interval '60 days' ELSE w.due END, w.due, w.due, 149900, 'INR', w.cust, w.token, now() - interval '130 days'
              FROM w
            RETURNING id, organizer_id, status, trial_ends_at, current_period_end),
          c AS (
            INSERT INTO subscription_cycles (subscription_id, cycle, amount, period_start, period_end, status, attempts, gateway_order_id, gateway_payment_id, last_attempt_at, paid_at)
            SELECT s.id, 1, 149900, s.trial_ends_at, s.current_period_end, 'paid', 1, 'order_' || substr(md5(s.id::text || 'o'), 1, 14),
                   'pay_' || substr(md5(s.id::text || 'p'), 1, 14), s.trial_ends_at, s.trial_ends_at
              FROM s WHERE s.status = 'active'
            RETURNING id, subscription_id, gateway_order_id, gateway_payment_id, paid_at),
          o AS (
            INSERT INTO payment_orders (purpose, subscription_id, cycle_id, payer_id, amount, currency, receipt, gateway_order_id, status, paid_at)
            SELECT 'subscription', c.subscription_id, c.id, s.organizer_id, 149900, 'INR', 'sub:' || substr(replace(c.subscription_id::text, '-', ''), 1, 24) || ':1',
                   c.gateway_order_id, 'paid', c.paid_at
              FROM c JOIN s ON s.id = c.subscription_id
            RETURNING id, subscription_id, payer_id, paid_at)
     INSERT INTO payments (order_id, subscription_id, payer_id, method, gateway_payment_id, amount, currency, status, gateway_method, captured_at)
     SELECT o.id, o.subscription_id, o.payer_id, 'recurring', c.gateway_payment_id, 149900, 'INR', 'captured', 'upi', o.paid_at
       FROM o JOIN c ON c.subscription_id = o.subscription_id`,
    [mandates.map((m) => m.email), mandates.map((m) => m.phone), mandates.map((m) => m.customerId), mandates.map((m) => m.tokenId), hash],
  );
  await q('ANALYZE');
  const { rows } = await q(
    `SELECT count(*)::int AS due, count(*) FILTER (WHERE status = 'trial')::int AS trial, count(*) FILTER (WHERE status = 'active')::int AS active
       FROM subscriptions WHERE next_charge_at <= now() AND gateway_token_id IS NOT NULL`,
  );
  log(`database: ${JSON.stringify(rows[0])} due subscriptions seeded in ${Date.now() - t0} ms`);
  return rows[0];
}

function callsSnapshot(emu) {
  return Object.fromEntries(emu.calls);
}
function callsDiff(before, after) {
  const d = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0)) d[k] = v - (before[k] ?? 0);
  return d;
}

async function runOnce(h, token, name) {
  const mono0 = process.hrtime.bigint() / 1000n; // CLOCK_MONOTONIC µs, the clock of V8's --cpu-prof timestamps
  const t0 = performance.now();
  const r = await httpJson(`${h.api.url}/api/v1/auto-pay/process-scheduled`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 200) throw new Error(`${name}: ${r.status} ${JSON.stringify(r.body)}`);
  log(`${name}: ${wallS.toFixed(2)} s ${JSON.stringify(r.body.data)}`);
  const monoWindowUs = [Number(mono0), Number(process.hrtime.bigint() / 1000n)];
  return { wallS: Math.round(wallS * 100) / 100, summary: r.body.data, startedAt: t0, monoWindowUs };
}

/** The cycles opened after seeding (`mark`: the database clock when seeding ended). */
async function cycleState(q, mark) {
  const { rows } = await q(
    `SELECT count(*) FILTER (WHERE cycle_is_new AND status = 'paid')::int AS paid,
            count(*) FILTER (WHERE cycle_is_new AND status = 'charging')::int AS charging,
            count(*) FILTER (WHERE cycle_is_new AND status = 'failed')::int AS failed,
            count(*) FILTER (WHERE cycle_is_new AND status = 'pending')::int AS pending,
            count(*) FILTER (WHERE cycle_is_new)::int AS opened
       FROM (SELECT status, created_at > $1 AS cycle_is_new FROM subscription_cycles) x`,
    [mark],
  );
  return rows[0];
}

/** Polls until every charged cycle is paid (or nothing moves for 60 s / the absorb limit). */
async function waitAbsorbed(q, mark, expected, sinceMs) {
  let last = -1;
  let lastMove = Date.now();
  const trace = [];
  for (;;) {
    const s = await cycleState(q, mark);
    const at = Math.round(performance.now() - sinceMs) / 1000;
    if (s.paid !== last) {
      last = s.paid;
      lastMove = Date.now();
      trace.push([at, s.paid]);
    }
    if (s.paid >= expected) return { done: true, atS: at, state: s, trace };
    if (Date.now() - lastMove > 60_000 || at > ABSORB_LIMIT_S) return { done: false, atS: at, state: s, trace };
    await sleep(250);
  }
}

/** --webhooks off: the events the emulator would have sent, signed, posted by the bench at a fixed concurrency. */
async function absorbSeparately(h, connections) {
  const emu = h.emulator;
  const recurring = [...emu.payments.values()].filter((p) => p.token_id && p.description?.startsWith('TrekTribe organizer plan'));
  const events = [];
  for (const p of recurring) {
    const order = emu.orders.get(p.order_id);
    const kind = p.status === 'captured' ? ['payment.captured', 'order.paid'] : ['payment.failed'];
    for (const name of kind) {
      const body = JSON.stringify(emu.buildEvent(name, name === 'order.paid' ? { payment: p, order } : { payment: p }));
      events.push({ id: rzpId('evt'), body, sig: createHmac('sha256', KEYS.webhookSecret).update(body).digest('hex') });
    }
  }
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const statuses = {};
  const lat = [];
  const t0 = performance.now();
  await eachLimit(events, connections, async (ev) => {
    const s = performance.now();
    const r = await httpJson(`${h.api.url}/api/v1/webhooks/razorpay`, {
      method: 'POST',
      agent,
      body: ev.body,
      headers: { 'x-razorpay-signature': ev.sig, 'x-razorpay-event-id': ev.id, 'user-agent': 'Razorpay-Webhook/v1' },
    }).catch((err) => ({ status: `error: ${err.code ?? err.message}` }));
    lat.push(performance.now() - s);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  });
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  lat.sort((x, y) => x - y);
  const p = (x) => Math.round(lat[Math.min(lat.length - 1, Math.floor((x / 100) * lat.length))]);
  return {
    payments: recurring.length,
    events: events.length,
    connections,
    seconds: Math.round(seconds * 100) / 100,
    eventsPerS: Math.round((events.length / seconds) * 10) / 10,
    latencyMs: { p50: p(50), p99: p(99), max: Math.round(lat[lat.length - 1]) },
    statuses,
  };
}

await runBench({ name: 'charge-run', appRoot: a.app, pgAdminUrl: a['pg-admin'], hardLimitS: 1800 + Number(a['quiet-wait']) }, async (h) => {
  await h.createDb();
  const apiPort = await freePort();
  const webPort = SEPARATE ? await freePort() : apiPort;
  const webhookUrl = `http://127.0.0.1:${webPort}/api/v1/webhooks/razorpay`;
  const emu = await h.startEmulator({ webhookUrl: LIVE ? webhookUrl : undefined });
  const profDir = a['cpu-prof'] ? join(tmpdir(), `tt-bench-cpuprof-charge-run-${Date.now()}`) : null; // kept after the run
  if (profDir) (mkdirSync(profDir, { recursive: true }), log(`API CPU profile goes to ${profDir} when the API stops`));
  const nodeArgs = [...a['api-node-args'].split(' ').filter(Boolean), ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])];
  await h.startApi({ port: apiPort, env: { NODE_OPTIONS_ARGS: nodeArgs } });
  const web = SEPARATE ? await h.startExtraApi({ port: webPort, name: 'web' }) : null;
  const pool = new pg.Pool({ connectionString: h.dbUrl, max: 2 });
  const q = (sql, p) => pool.query(sql, p);
  try {
    const hash = await h.realPasswordHash(q);
    const mandates = await seedEmulator(emu, SUBS);
    const seeded = await seedDb(q, mandates, hash);
    const mark = (await q('SELECT now() AS t')).rows[0].t;
    const pid = h.api.pid;
    const rssIdle = rss(pid);
    if (LATENCY_MS > 0) {
      // Every emulator answer from now on comes LATENCY_MS later (the real gateway is not on loopback).
      const handle = emu.onRequest.bind(emu);
      emu.onRequest = (req, res) => setTimeout(() => handle(req, res), LATENCY_MS);
      log(`emulator answers delayed by ${LATENCY_MS} ms`);
    }

    const quiet = await waitForQuiet(Number(a['quiet-wait']));
    log(`machine quiet check: ${JSON.stringify(quiet)}`);
    const token = await h.login(ADMIN.email, ADMIN.password); // after the wait: access tokens live 15 min

    // RSS every 500 ms from run 1 until everything is absorbed.
    const samples = [];
    const tStart = performance.now();
    const sample = () => samples.push([Math.round(performance.now() - tStart) / 1000, rss(pid).rssKb, ...(web ? [rss(web.pid).rssKb] : [])]);
    sample();
    const sampler = setInterval(sample, 500);
    const calls0 = callsSnapshot(emu);
    const deliveries0 = emu.webhookDeliveries.length;
    const cpuApi0 = cpuSeconds(pid);
    const cpuWeb0 = web ? cpuSeconds(web.pid) : 0;
    const cpuPg0 = pgBackendCpuSeconds(h.db);
    const cpuSelf0 = process.cpuUsage();
    const machine = machineCpu();

    const run1 = await runOnce(h, token, 'run 1');
    const cpuApiRun1 = cpuSeconds(pid) - cpuApi0;
    const cpuWebRun1 = web ? cpuSeconds(web.pid) - cpuWeb0 : null;
    const cpuPgRun1 = pgBackendCpuSeconds(h.db) - cpuPg0;
    const busyRun1 = machine();
    const calls1 = callsSnapshot(emu);
    const peakRun1 = Math.max(...samples.map((s) => s[1] ?? 0));
    const run2 = await runOnce(h, token, 'run 2 (immediately after)');
    const calls2 = callsSnapshot(emu);

    let absorb;
    if (LIVE) {
      log('waiting for the webhooks the emulator sends to be absorbed');
      const w = await waitAbsorbed(q, mark, run1.summary.charged, run1.startedAt);
      while (emu.pending?.size) await sleep(100); // private, but stop() would wait anyway
      const deliveries = emu.webhookDeliveries.slice(deliveries0);
      const byStatus = {};
      for (const d of deliveries) byStatus[`${d.event} ${d.status}`] = (byStatus[`${d.event} ${d.status}`] ?? 0) + 1;
      const errors = {};
      for (const d of deliveries) if (d.error) errors[d.error.slice(0, 80)] = (errors[d.error.slice(0, 80)] ?? 0) + 1;
      absorb = { mode: 'live', allPaid: w.done, allPaidAfterRun1StartS: w.atS, afterRun1EndS: Math.round((w.atS - run1.wallS) * 100) / 100, cycles: w.state, deliveries: deliveries.length, byStatus, errors, paidTrace: w.trace.filter((_, i, arr) => i % Math.ceil(arr.length / 40) === 0 || i === arr.length - 1) };
    } else {
      log('posting the payment.captured + order.paid events of every charge (webhooks were off during the run)');
      const before = rss(pid).rssKb;
      const cpuA = cpuSeconds(pid);
      const s = await absorbSeparately(h, Number(a['absorb-connections']));
      const w = await waitAbsorbed(q, mark, run1.summary.charged, performance.now());
      absorb = { mode: 'separate', ...s, apiCpuS: Math.round((cpuSeconds(pid) - cpuA) * 10) / 10, allPaid: w.done, cycles: w.state, rssBeforeMb: Math.round(before / 1024) };
      log(`absorbed ${s.events} events in ${s.seconds} s (${s.eventsPerS}/s) ${JSON.stringify(s.statuses)}`);
    }
    const run3 = await runOnce(h, token, 'run 3 (after absorption)');
    const calls3 = callsSnapshot(emu);
    clearInterval(sampler);
    sample();
    const cpuApi = cpuSeconds(pid) - cpuApi0;
    const cpuWeb = web ? cpuSeconds(web.pid) - cpuWeb0 : null;
    const cpuPg = pgBackendCpuSeconds(h.db) - cpuPg0;
    const self = process.cpuUsage(cpuSelf0);

    // Verification
    const run1Calls = callsDiff(calls0, calls1);
    const run2Calls = callsDiff(calls1, calls2);
    const run3Calls = callsDiff(calls2, calls3);
    const recurringAll = callsDiff(calls0, calls3)['POST /v1/payments/create/recurring'] ?? 0;
    const cycleOrders = [...emu.orders.values()].filter((o) => !Array.isArray(o.notes) && o.notes.purpose === 'subscription');
    const paymentsPerOrder = new Map();
    for (const p of emu.payments.values()) if (p.token_id && p.description?.startsWith('TrekTribe organizer plan')) paymentsPerOrder.set(p.order_id, (paymentsPerOrder.get(p.order_id) ?? 0) + 1);
    const maxPaymentsPerOrder = Math.max(0, ...paymentsPerOrder.values());
    const one = async (sql) => Number(Object.values((await q(sql, sql.includes('$1') ? [mark] : undefined)).rows[0])[0]);
    const db = {
      cycles: await cycleState(q, mark),
      subscriptionsActiveNextPeriod: await one(`SELECT count(*) FROM subscriptions WHERE status = 'active' AND next_charge_at > now() + interval '50 days' AND gateway_token_id IS NOT NULL`),
      stillDue: await one(`SELECT count(*) FROM subscriptions WHERE next_charge_at <= now()`),
      cycleOrdersStored: await one(`SELECT count(*) FROM payment_orders WHERE purpose = 'subscription' AND created_at > $1`),
      recurringPaymentsCaptured: await one(`SELECT count(*) FROM payments WHERE method = 'recurring' AND status = 'captured' AND created_at > $1`),
      chargeAttemptedAudits: await one(`SELECT count(*) FROM audit_logs WHERE action = 'subscription.charge_attempted'`),
      renewedAudits: await one(`SELECT count(*) FROM audit_logs WHERE action = 'subscription.renewed'`),
      webhookEvents: await one(`SELECT count(*) FROM webhook_events`),
      outboxRows: await one(`SELECT count(*) FROM notification_outbox`),
    };
    const checks = {
      run1ChargedAll: run1.summary.charged === SUBS && run1.summary.due === SUBS,
      oneRecurringCallPerSubscription: recurringAll === SUBS && (run1Calls['POST /v1/payments/create/recurring'] ?? 0) === SUBS,
      run2ChargedNothing: run2.summary.charged === 0 && !run2Calls['POST /v1/payments/create/recurring'],
      run3NothingDue: run3.summary.due === 0 && run3.summary.charged === 0 && !run3Calls['POST /v1/payments/create/recurring'],
      oneOrderPerCycle: cycleOrders.length === SUBS && db.cycleOrdersStored === SUBS,
      onePaymentPerOrder: paymentsPerOrder.size === SUBS && maxPaymentsPerOrder === 1,
      allRenewed: db.subscriptionsActiveNextPeriod === SUBS && db.cycles.paid === SUBS && db.recurringPaymentsCaptured === SUBS,
    };
    const summary = {
      bench: 'charge-run',
      label: a.label ?? null,
      date: new Date().toISOString(),
      commit: gitCommit(h.appRoot),
      machine: { ...machineInfo(), busyPctDuringRun1: busyRun1, quietCheck: quiet },
      config: { subscriptions: SUBS, webhooks: a.webhooks, webhookInstance: a['webhook-instance'], gatewayLatencyMs: LATENCY_MS, apiNodeArgs: a['api-node-args'] || null, seeded, chargeBatch: 200, gatewayConcurrency: 16, apiPoolSize: 10 },
      run1: { ...run1, startedAt: undefined, subsPerS: Math.round((SUBS / run1.wallS) * 10) / 10, emulatorCalls: run1Calls, apiCpuS: Math.round(cpuApiRun1 * 10) / 10, ...(web ? { webInstanceCpuS: Math.round(cpuWebRun1 * 10) / 10 } : {}), postgresBackendsCpuS: Math.round(cpuPgRun1 * 10) / 10, apiRssPeakMb: Math.round(peakRun1 / 1024) },
      run2: { ...run2, startedAt: undefined, emulatorCalls: run2Calls },
      absorb,
      run3: { ...run3, startedAt: undefined, emulatorCalls: run3Calls },
      recurringCallsTotal: recurringAll,
      cpu: { apiS: Math.round(cpuApi * 10) / 10, ...(web ? { webInstanceS: Math.round(cpuWeb * 10) / 10 } : {}), postgresBackendsS: Math.round(cpuPg * 10) / 10, benchProcessS: Math.round((self.user + self.system) / 1e5) / 10 },
      memory: {
        apiRssIdleMb: Math.round(rssIdle.rssKb / 1024),
        apiRssPeakMb: Math.round(Math.max(...samples.map((s) => s[1] ?? 0)) / 1024),
        apiRssEndMb: Math.round((samples[samples.length - 1][1] ?? 0) / 1024),
        apiVmHwmMb: Math.round(rss(pid).hwmKb / 1024),
        ...(web ? { webRssPeakMb: Math.round(Math.max(...samples.map((x) => x[2] ?? 0)) / 1024), webVmHwmMb: Math.round(rss(web.pid).hwmKb / 1024) } : {}),
        samples: samples.length,
        intervalMs: 500,
      },
      db,
      checks,
      target: { run1S: 60, met: run1.wallS < 60 },
    };
    mkdirSync(RESULTS, { recursive: true });
    const file = join(RESULTS, `charge-run${a.label ? `-${a.label}` : ''}.json`);
    writeFileSync(file, JSON.stringify({ summary, rssSamplesKb: samples }, null, 2));
    log(`wrote ${file}`);
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    const failed = Object.entries(checks).filter(([, ok]) => !ok);
    if (failed.length) throw new Error(`verification failed: ${failed.map(([k]) => k).join(', ')}`);
  } finally {
    await pool.end();
  }
});
