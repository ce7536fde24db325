#!/usr/bin/env node
// Webhook ingestion: POST /api/v1/webhooks/razorpay with real, HMAC-signed Razorpay events against
// the built API on a fresh PostgreSQL database, 10 % of requests repeating an earlier event (same
// id, same body, same signature: a Razorpay retry). Target (issue 4): >= 1,000 events/s.
//
//   node bench/webhooks.mjs [--app DIR] [--connections 50] [--duration 20] [--warmup 5]
//        [--events 60000] [--dup-rate 0.10] [--quiet-wait 120] [--label r1]
//        [--cpu-prof] [--api-node-args=--max-old-space-size=256]
//        [--pg-admin postgres://postgres@127.0.0.1:5432/postgres]
//
// --cpu-prof writes the API's V8 CPU profile to $TMPDIR/tt-bench-cpuprof-webhooks-<ms>/ when it stops.
// --app is a tree holding a `npx nest build` output (dist/apps/api/src/main.js and
// dist/test/support/razorpay-emulator/emulator.js); default: this repository. To benchmark a commit
// while the working tree is being edited, build a snapshot and point --app at it (see BILLING.md).
//
// What it does, all on loopback, everything it starts stopped at the end (also on error/SIGINT, and
// by a hard time limit):
//   1. CREATE DATABASE tt_bench_billing_<ts>; the Razorpay emulator in this process on a free port;
//      the API (NODE_ENV=production, LOG_LEVEL=warn, SCHEDULER_ENABLED=false) on a free port;
//      migrations run at its start.
//   2. Seeds by SQL what the events refer to: trips with pending online bookings and their
//      payment_orders, cancelled bookings with a captured payment and a pending refund, organizers
//      whose subscription cycle is being charged (payment_orders purpose 'subscription'); ANALYZE.
//   3. Builds --events distinct events (event mix below), each signed with the webhook secret.
//   4. Waits for the (shared) machine to be quiet, warms up (--warmup s, not recorded), then
//      autocannon for --duration s at --connections; a setupRequest hands every request the next
//      event: 90 % a fresh one, 10 % a random earlier one again.
//   5. Verifies in SQL: webhook_events holds exactly the distinct ids sent, and every effect happened
//      once (bookings confirmed, subscriptions past due, refunds processed, failures counted once);
//      then times how long the outbox (realtime events, emails the events wrote) takes to drain.
//   6. Writes bench/results/webhooks[-<label>].json; prints a JSON summary; drops the database.
//
// Event mix (of the distinct events):
//   25 % payment.captured  on a booking order (pending booking -> confirmed, emails, realtime)
//   10 % order.paid        for one of those payments (the second event Razorpay sends: 'unchanged')
//   15 % payment.authorized on a booking order (payment row 'authorized')
//   10 % payment.failed    on a booking order (booking payment_status 'failed')
//   15 % payment.failed    on a subscription cycle order (dunning: cycle failed, past_due, email)
//    5 % refund.processed  for a pending refund (refund, payment and booking settled, email)
//   10 % payment.captured/failed for an order we do not have ('ignored: unknown order')
//   10 % order.notification / payment.dispute.created / settlement.processed ('ignored: unhandled')
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import pg from 'pg';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(BENCH_DIR, '..');
export const RESULTS = join(BENCH_DIR, 'results');

export const KEYS = { keyId: 'rzp_test_bench', keySecret: 'bench_key_secret_0123456789', webhookSecret: 'bench_webhook_secret_0123456789' };
export const ADMIN = { email: 'bench-admin@bench.local', password: 'BenchAdmin2026!' };

// ---------------------------------------------------------------------------------------------------
// Harness shared with charge-run.mjs: database, emulator, API process, sampling, cleanup
// ---------------------------------------------------------------------------------------------------

export const log = (...a) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolvePort(port));
    });
  });
}

/** Resident set of a process in kB (current and peak-so-far), from /proc. */
export function rss(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) ?? [])[1] ?? NaN);
    return { rssKb: get('VmRSS'), hwmKb: get('VmHWM') };
  } catch {
    return { rssKb: null, hwmKb: null };
  }
}

/** CPU seconds (user + system) a process has used. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of the PostgreSQL backends serving database `db` (their title names the database). */
export function pgBackendCpuSeconds(db) {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.startsWith('postgres:') && cmd.includes(` ${db} `)) total += cpuSeconds(pid);
    } catch {
      // gone
    }
  }
  return total;
}

function procStat() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3] + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
}

/** Machine-wide CPU busy % over a window, and CPU seconds used by processes that are not ours. */
export function machineCpu() {
  const a = procStat();
  return () => {
    const b = procStat();
    return b.total === a.total ? null : Math.round(1000 * (1 - (b.idle - a.idle) / (b.total - a.total))) / 10;
  };
}

/** Samples a process's RSS every `ms`; returns { stop() → { peakKb, samples } }. */
export function rssSampler(pid, ms = 500) {
  let peak = rss(pid).rssKb ?? 0;
  let samples = 1;
  const t = setInterval(() => {
    const r = rss(pid).rssKb;
    if (r) peak = Math.max(peak, r);
    samples++;
  }, ms);
  return { stop: () => (clearInterval(t), { peakKb: peak, samples }) };
}

/** Waits (at most `maxS`) until the machine is below `busyPct` CPU for 3 s in a row; the shared box runs other benchmarks. */
export async function waitForQuiet(maxS, busyPct = 30) {
  const started = Date.now();
  let quiet = 0;
  let last = null;
  while ((Date.now() - started) / 1000 < maxS) {
    const m = machineCpu();
    await sleep(1000);
    last = m();
    quiet = last !== null && last < busyPct ? quiet + 1 : 0;
    if (quiet >= 3) break;
  }
  return { waitedS: Math.round((Date.now() - started) / 100) / 10, lastBusyPct: last, quiet: quiet >= 3 };
}

/** One HTTP request with no client-side timeout (the charge run can take minutes); JSON in and out. */
export function httpJson(url, { method = 'GET', body, headers = {}, agent } = {}) {
  return new Promise((resolveReq, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = httpRequest(
      url,
      { method, agent, headers: { ...(data !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}), ...headers } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            json = text;
          }
          resolveReq({ status: res.statusCode, body: json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

export function hmacHex(secret, data) {
  return createHmac('sha256', secret).update(data).digest('hex');
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Razorpay-style id: prefix + 14 alphanumerics. */
export function rzpId(prefix) {
  const b = randomBytes(14);
  let s = '';
  for (let i = 0; i < 14; i++) s += ALNUM[b[i] % 62];
  return `${prefix}_${s}`;
}

/** Deterministic PRNG (mulberry32) so every run sends the same sequence. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pct(hist, p) {
  return hist?.[`p${p}`] ?? null;
}

/**
 * A fresh database, the in-process Razorpay emulator and the built API. `stop()` undoes everything
 * (idempotent), and runs on SIGINT/SIGTERM, uncaught errors and the hard time limit.
 */
export class Harness {
  constructor({ name, appRoot, pgAdminUrl, hardLimitS }) {
    this.name = name;
    this.appRoot = resolve(appRoot);
    this.pgAdminUrl = pgAdminUrl;
    this.db = `tt_bench_billing_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}`;
    this.dbUrl = `${pgAdminUrl.replace(/\/[^/]*$/, '')}/${this.db}`;
    this.work = mkdtempSync(join(tmpdir(), `tt-bench-${name}.`));
    this.api = null;
    this.emulator = null;
    this.dbCreated = false;
    this.stopped = false;
    this.hard = setTimeout(() => {
      log(`hard time limit of ${hardLimitS} s reached: stopping everything`);
      this.stop().finally(() => process.exit(3));
    }, hardLimitS * 1000);
    const onSignal = (sig) => {
      log(`${sig}: stopping everything`);
      this.stop().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    for (const f of ['dist/apps/api/src/main.js', 'dist/test/support/razorpay-emulator/emulator.js']) {
      if (!existsSync(join(this.appRoot, f))) throw new Error(`${join(this.appRoot, f)} is missing: run \`npx nest build\` in ${this.appRoot} first`);
    }
  }

  async admin(sql, params) {
    const c = new pg.Client({ connectionString: this.pgAdminUrl });
    await c.connect();
    try {
      return await c.query(sql, params);
    } finally {
      await c.end();
    }
  }

  async createDb() {
    await this.admin(`CREATE DATABASE "${this.db}"`);
    this.dbCreated = true;
    log(`created database ${this.db}`);
  }

  /** The emulator in this process (its state lives in memory: the bench seeds customers/tokens into it directly). */
  async startEmulator({ webhookUrl } = {}) {
    const require = createRequire(import.meta.url);
    const { RazorpayEmulator } = require(join(this.appRoot, 'dist/test/support/razorpay-emulator/emulator.js'));
    this.emulator = await RazorpayEmulator.start({ ...KEYS, webhookUrl, port: 0 });
    log(`Razorpay emulator on ${this.emulator.url}${webhookUrl ? `, webhooks to ${webhookUrl}` : ', webhooks off'}`);
    return this.emulator;
  }

  async startApi({ port, env = {} }) {
    this.api = await this.spawnApi({ port, env, name: 'api' });
    return this.api;
  }

  /** Another instance on the same database (e.g. a web instance beside a scheduler instance); stopped with the rest. */
  async startExtraApi({ port, env = {}, name }) {
    const api = await this.spawnApi({ port, env, name });
    (this.extraApis ??= []).push(api);
    return api;
  }

  async spawnApi({ port, env, name }) {
    const logFile = join(this.work, `${name}.log`);
    const out = createWriteStream(logFile);
    const child = spawn(process.execPath, [...(env.NODE_OPTIONS_ARGS ?? []), join(this.appRoot, 'dist/apps/api/src/main.js')], {
      cwd: this.work,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'production',
        PORT: String(port),
        DATABASE_URL: this.dbUrl,
        DATA_DIR: join(this.work, 'data'),
        LOG_LEVEL: 'warn',
        JWT_ACCESS_SECRET: 'bench-billing-access-secret-0123456789abcdef',
        JWT_REFRESH_SECRET: 'bench-billing-refresh-secret-fedcba9876543210',
        THROTTLE_LIMIT: '100000000',
        AUTH_THROTTLE_LIMIT: '100000000',
        SCHEDULER_ENABLED: 'false',
        RAZORPAY_KEY_ID: KEYS.keyId,
        RAZORPAY_KEY_SECRET: KEYS.keySecret,
        RAZORPAY_WEBHOOK_SECRET: KEYS.webhookSecret,
        RAZORPAY_API_URL: this.emulator.url,
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        ...Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'NODE_OPTIONS_ARGS')),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    const api = { child, pid: child.pid, url: `http://127.0.0.1:${port}`, logFile, exited: null };
    child.once('exit', (code, sig) => (api.exited = { code, sig }));
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (api.exited) throw new Error(`the API exited at start (${JSON.stringify(api.exited)}):\n${this.apiLogTail(30, api)}`);
      try {
        const r = await httpJson(`${api.url}/api/v1/health`);
        if (r.status === 200) break;
      } catch {
        // not yet listening
      }
      if (Date.now() > deadline) throw new Error(`the API did not become healthy in 90 s:\n${this.apiLogTail(30, api)}`);
      await sleep(300);
    }
    log(`${name} pid ${child.pid} on ${api.url} (log ${logFile})`);
    return api;
  }

  apiLogTail(n = 30, api = this.api) {
    try {
      return readFileSync(api.logFile, 'utf8').split('\n').slice(-n).join('\n');
    } catch {
      return '';
    }
  }

  /** Registers one organizer through the API and returns its real argon2id hash, for the seeded users. */
  async realPasswordHash(q) {
    const email = `bench-hash-${process.pid}@bench.local`;
    const r = await httpJson(`${this.api.url}/api/v1/auth/register`, {
      method: 'POST',
      body: { name: 'Bench Hash', email, password: 'BenchTrek2026!', phone: '+919800000001', role: 'organizer' },
    });
    if (r.status !== 201) throw new Error(`register: ${r.status} ${JSON.stringify(r.body)}`);
    const { rows } = await q(`SELECT password_hash FROM users WHERE email = $1`, [email]);
    return rows[0].password_hash;
  }

  async login(email, password) {
    const r = await httpJson(`${this.api.url}/api/v1/auth/login`, { method: 'POST', body: { email, password } });
    if (r.status !== 200) throw new Error(`login ${email}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.data.accessToken;
  }

  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.hard);
    for (const api of [this.api, ...(this.extraApis ?? [])]) {
      if (!api || api.exited) continue;
      const { child } = api;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(t);
    }
    if (this.emulator) {
      this.emulator.setWebhookUrl(undefined);
      await Promise.race([this.emulator.stop(), sleep(15_000)]).catch(() => undefined);
    }
    if (this.dbCreated) {
      try {
        await this.admin(`DROP DATABASE IF EXISTS "${this.db}" WITH (FORCE)`);
        log(`dropped database ${this.db}`);
      } catch (err) {
        log(`could not drop ${this.db}: ${err.message}`);
      }
    }
    rmSync(this.work, { recursive: true, force: true });
  }
}

/** Runs `main(harness)` with cleanup on every exit path; exits 0 on success, 1 on failure. */
export async function runBench(opts, main) {
  let h;
  try {
    h = new Harness(opts);
    await main(h);
    await h.stop();
    process.exit(0);
  } catch (err) {
    log(`FAILED: ${err?.stack ?? err}`);
    if (h?.api) log(`API log tail:\n${h.apiLogTail()}`);
    if (h) await h.stop();
    process.exit(1);
  }
}

export function machineInfo() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function gitCommit(appRoot) {
  try {
    const f = join(appRoot, '.bench-commit');
    if (existsSync(f)) return readFileSync(f, 'utf8').trim();
    const head = readFileSync(join(appRoot, '.git/HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head.slice(0, 7);
    return readFileSync(join(appRoot, '.git', head.slice(5)), 'utf8').trim().slice(0, 7);
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------------
// The webhook benchmark
// ---------------------------------------------------------------------------------------------------

export const MIX = { captured: 0.25, orderPaid: 0.1, authorized: 0.15, failedBooking: 0.1, failedSub: 0.15, refund: 0.05, unknownOrder: 0.1, unhandled: 0.1 };
const POLICY = JSON.stringify({ tiers: [{ minHoursBefore: 168, refundPercent: 100 }, { minHoursBefore: 48, refundPercent: 50 }, { minHoursBefore: 0, refundPercent: 0 }] });
const TRIPS = 50;
const TRAVELERS = 2000;

export async function seedWebhooks(q, counts, passwordHash) {
  const t0 = Date.now();
  await q(
    `INSERT INTO users (name, email, phone, password_hash, role, email_verified_at)
     SELECT 'Bench Organizer ' || i, 'bench-org-' || i || '@bench.local', '+9198' || lpad(i::text, 8, '0'), $2, 'organizer', now()
       FROM generate_series(1, $1::int) i`,
    [TRIPS, passwordHash],
  );
  await q(
    `INSERT INTO users (name, email, phone, password_hash, role, email_verified_at)
     SELECT 'Bench Traveler ' || i, 'bench-traveler-' || i || '@bench.local', '+9197' || lpad(i::text, 8, '0'), $2, 'traveler', now()
       FROM generate_series(1, $1::int) i`,
    [TRAVELERS, passwordHash],
  );
  await q(
    `INSERT INTO trips (organizer_id, title, description, destination, difficulty_level, start_date, end_date, price, capacity)
     SELECT u.id, 'Bench trek ' || u.email, 'Five days above the tree line', 'Uttarakhand', 'beginner',
            current_date + 60, current_date + 65, 250000, 100000
       FROM users u WHERE u.email LIKE 'bench-org-%'`,
  );
  const bookingOrders = async (n, status, paymentStatus) =>
    (
      await q(
        `WITH t AS (SELECT id, organizer_id, price, (row_number() OVER (ORDER BY id)) - 1 AS k FROM trips),
              tr AS (SELECT id, (row_number() OVER (ORDER BY id)) - 1 AS k FROM users WHERE role = 'traveler' AND email LIKE 'bench-traveler-%'),
              b AS (
                INSERT INTO bookings (trip_id, traveler_id, organizer_id, seats, unit_price, total_amount, status, payment_status, payment_method,
                                      hold_expires_at, seats_released_at, cancelled_at, cancelled_by, cancelled_by_role, cancel_reason, refund_amount,
                                      cancellation_policy)
                SELECT t.id, tr.id, t.organizer_id, 1 + i % 2, t.price, (1 + i % 2) * t.price, $2::text, $3::text, 'online',
                       CASE WHEN $2::text = 'pending' THEN now() + interval '6 hours' END,
                       CASE WHEN $2::text = 'cancelled' THEN now() END,
                       CASE WHEN $2::text = 'cancelled' THEN now() END,
                       CASE WHEN $2::text = 'cancelled' THEN tr.id END,
                       CASE WHEN $2::text = 'cancelled' THEN 'traveler' END,
                       CASE WHEN $2::text = 'cancelled' THEN 'plans changed' END,
                       CASE WHEN $2::text = 'cancelled' THEN (1 + i % 2) * t.price ELSE 0 END,
                       $4::jsonb
                  FROM generate_series(0, $1::int - 1) i JOIN t ON t.k = i % ${TRIPS} JOIN tr ON tr.k = i % ${TRAVELERS}
                RETURNING id, traveler_id, total_amount),
              o AS (
                INSERT INTO payment_orders (purpose, booking_id, payer_id, amount, currency, receipt, gateway_order_id, status, paid_at)
                SELECT 'booking', b.id, b.traveler_id, b.total_amount, 'INR', 'bk:' || replace(b.id::text, '-', ''),
                       'order_' || substr(md5(b.id::text), 1, 14), CASE WHEN $2::text = 'cancelled' THEN 'paid' ELSE 'created' END,
                       CASE WHEN $2::text = 'cancelled' THEN now() - interval '1 day' END
                  FROM b
                RETURNING id, booking_id, payer_id, amount, receipt, gateway_order_id)
         SELECT o.id AS order_id, o.booking_id, o.amount, o.receipt, o.gateway_order_id, u.email, u.phone
           FROM o JOIN users u ON u.id = o.payer_id`,
        [n, status, paymentStatus, POLICY],
      )
    ).rows;

  const captured = await bookingOrders(counts.captured, 'pending', 'unpaid');
  const authorized = await bookingOrders(counts.authorized, 'pending', 'unpaid');
  const failedBooking = await bookingOrders(counts.failedBooking, 'pending', 'unpaid');
  const refundOrders = await bookingOrders(counts.refund, 'cancelled', 'refund_pending');
  // Seats held by the pending bookings.
  await q(`UPDATE trips t SET seats_booked = s.n FROM (SELECT trip_id, sum(seats)::int AS n FROM bookings WHERE status = 'pending' GROUP BY trip_id) s WHERE s.trip_id = t.id`);
  // The cancelled bookings were paid (captured payment) and wait for their refund.
  const refunds = (
    await q(
      `WITH p AS (
         INSERT INTO payments (order_id, booking_id, payer_id, method, gateway_payment_id, amount, currency, status, gateway_method, captured_at)
         SELECT o.id, o.booking_id, o.payer_id, 'online', 'pay_' || substr(md5(o.id::text || 'p'), 1, 14), o.amount, 'INR', 'captured', 'upi', now() - interval '1 day'
           FROM payment_orders o WHERE o.id = ANY($1::uuid[])
         RETURNING id, booking_id, amount, gateway_payment_id),
       r AS (
         INSERT INTO refunds (payment_id, booking_id, amount, currency, status, idempotency_key, gateway_refund_id, reason, attempts, next_attempt_at)
         SELECT p.id, p.booking_id, p.amount, 'INR', 'pending', 'bench_' || replace(p.id::text, '-', ''), 'rfnd_' || substr(md5(p.id::text || 'r'), 1, 14),
                'Cancelled by the traveler', 1, now() + interval '1 hour'
           FROM p
         RETURNING id, payment_id, amount, gateway_refund_id)
       SELECT r.id, r.amount, r.gateway_refund_id, p.gateway_payment_id, p.booking_id FROM r JOIN p ON p.id = r.payment_id`,
      [refundOrders.map((o) => o.order_id)],
    )
  ).rows;
  // Organizers whose first cycle is being charged (the charge run claimed it; the outcome comes by webhook).
  const failedSub = (
    await q(
      `WITH u AS (
         INSERT INTO users (name, email, phone, password_hash, role, email_verified_at, created_at)
         SELECT 'Bench Sub Organizer ' || i, 'bench-suborg-' || i || '@bench.local', '+9196' || lpad(i::text, 8, '0'), $2, 'organizer', now(), now() - interval '61 days'
           FROM generate_series(1, $1::int) i
         RETURNING id, email, phone),
       s AS (
         INSERT INTO subscriptions (organizer_id, status, trial_ends_at, current_period_end, next_charge_at, amount, currency, gateway_customer_id, gateway_token_id)
         SELECT u.id, 'trial', now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour', 149900, 'INR',
                'cust_' || substr(md5(u.id::text), 1, 14), 'token_' || substr(md5(u.id::text || 't'), 1, 14)
           FROM u
         RETURNING id, organizer_id, current_period_end, gateway_customer_id, gateway_token_id),
       c AS (
         INSERT INTO subscription_cycles (subscription_id, cycle, amount, period_start, period_end, status, attempts, gateway_order_id, last_attempt_at)
         SELECT s.id, 1, 149900, s.current_period_end, s.current_period_end + interval '60 days', 'charging', 1,
                'order_' || substr(md5(s.id::text || 'o'), 1, 14), now() - interval '2 minutes'
           FROM s
         RETURNING id, subscription_id, gateway_order_id),
       o AS (
         INSERT INTO payment_orders (purpose, subscription_id, cycle_id, payer_id, amount, currency, receipt, gateway_order_id, status)
         SELECT 'subscription', c.subscription_id, c.id, s.organizer_id, 149900, 'INR', 'sub:' || substr(replace(c.subscription_id::text, '-', ''), 1, 24) || ':1',
                c.gateway_order_id, 'created'
           FROM c JOIN s ON s.id = c.subscription_id
         RETURNING id, subscription_id, amount, receipt, gateway_order_id)
       SELECT o.id AS order_id, o.subscription_id, o.amount, o.receipt, o.gateway_order_id, u.email, u.phone, s.gateway_customer_id, s.gateway_token_id
         FROM o JOIN s ON s.id = o.subscription_id JOIN u ON u.id = s.organizer_id`,
      [counts.failedSub, passwordHash],
    )
  ).rows;
  await q('ANALYZE');
  log(`seeded in ${Date.now() - t0} ms: ${captured.length + authorized.length + failedBooking.length + refundOrders.length} bookings, ${failedSub.length} subscriptions, ${refunds.length} refunds`);
  return { captured, authorized, failedBooking, refunds, failedSub };
}

function paymentEntity(o, status, extra = {}) {
  const failed = status === 'failed';
  return {
    id: rzpId('pay'),
    entity: 'payment',
    amount: o.amount,
    currency: 'INR',
    status,
    order_id: o.gateway_order_id,
    invoice_id: null,
    international: false,
    method: 'upi',
    amount_refunded: 0,
    refund_status: null,
    captured: status === 'captured' || status === 'refunded',
    description: null,
    email: o.email ?? 'void@razorpay.com',
    contact: o.phone ?? '+919000090000',
    customer_id: null,
    token_id: null,
    notes: [],
    error_code: failed ? 'BAD_REQUEST_ERROR' : null,
    error_description: failed ? 'Payment failed due to insufficient balance in the account' : null,
    error_source: failed ? 'customer' : null,
    error_step: failed ? 'payment_authorization' : null,
    error_reason: failed ? 'payment_failed' : null,
    created_at: Math.floor(Date.now() / 1000) - 30,
    ...extra,
  };
}

function orderEntity(o, paid) {
  return {
    id: o.gateway_order_id,
    entity: 'order',
    amount: o.amount,
    amount_paid: paid ? o.amount : 0,
    amount_due: paid ? 0 : o.amount,
    currency: 'INR',
    receipt: o.receipt ?? null,
    offer_id: null,
    status: paid ? 'paid' : 'attempted',
    attempts: 1,
    notes: [],
    created_at: Math.floor(Date.now() / 1000) - 60,
  };
}

function envelope(event, payload) {
  return { entity: 'event', account_id: 'acc_BenchAccount01', event, contains: Object.keys(payload), payload, created_at: Math.floor(Date.now() / 1000) };
}

/** The distinct events, shuffled deterministically; each with its body bytes and signature. */
export function buildEvents(seeded, counts, rng) {
  const events = [];
  const add = (kind, ev) => {
    const body = JSON.stringify(ev);
    events.push({ kind, id: rzpId('evt'), body, sig: hmacHex(KEYS.webhookSecret, body) });
  };
  const capturedPayments = seeded.captured.map((o) => [o, paymentEntity(o, 'captured')]);
  for (const [, p] of capturedPayments) add('captured', envelope('payment.captured', { payment: { entity: p } }));
  for (const [o, p] of capturedPayments.slice(0, counts.orderPaid)) add('orderPaid', envelope('order.paid', { payment: { entity: p }, order: { entity: orderEntity(o, true) } }));
  for (const o of seeded.authorized) add('authorized', envelope('payment.authorized', { payment: { entity: paymentEntity(o, 'authorized') } }));
  for (const o of seeded.failedBooking) add('failedBooking', envelope('payment.failed', { payment: { entity: paymentEntity(o, 'failed') } }));
  for (const o of seeded.failedSub) {
    const p = paymentEntity(o, 'failed', { customer_id: o.gateway_customer_id, token_id: o.gateway_token_id, description: 'TrekTribe organizer plan, cycle 1', notes: { subscription_id: o.subscription_id, cycle: '1' } });
    add('failedSub', envelope('payment.failed', { payment: { entity: p } }));
  }
  for (const r of seeded.refunds) {
    const refund = {
      id: r.gateway_refund_id,
      entity: 'refund',
      amount: r.amount,
      currency: 'INR',
      payment_id: r.gateway_payment_id,
      notes: { refund_id: r.id },
      receipt: null,
      acquirer_data: { arn: null },
      batch_id: null,
      status: 'processed',
      speed_requested: 'normal',
      speed_processed: 'normal',
      created_at: Math.floor(Date.now() / 1000) - 10,
    };
    add('refund', envelope('refund.processed', { refund: { entity: refund } }));
  }
  for (let i = 0; i < counts.unknownOrder; i++) {
    const o = { gateway_order_id: rzpId('order'), amount: 250000 };
    add('unknownOrder', envelope(i % 2 ? 'payment.failed' : 'payment.captured', { payment: { entity: paymentEntity(o, i % 2 ? 'failed' : 'captured') } }));
  }
  const unhandled = ['order.notification', 'payment.dispute.created', 'settlement.processed'];
  for (let i = 0; i < counts.unhandled; i++) {
    const o = { gateway_order_id: rzpId('order'), amount: 250000 };
    add('unhandled', envelope(unhandled[i % 3], { order: { entity: orderEntity(o, false) } }));
  }
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [events[i], events[j]] = [events[j], events[i]];
  }
  return events;
}

/** Hands out events: `dupRate` of the time a random earlier one again, otherwise the next fresh one. */
function eventSource(events, dupRate, rng) {
  const s = { next: 0, issued: 0, dup: 0, exhausted: 0, phase: null, byPhase: {} };
  s.setPhase = (p) => {
    s.phase = p;
    s.byPhase[p] ??= { sent: 0, fresh: 0, dup: 0, ok: 0, non2xx: 0, dupAcks: 0, freshAcks: 0, statuses: {} };
  };
  s.take = () => {
    const ph = s.byPhase[s.phase];
    ph.sent++;
    if (s.next > 0 && (rng() < dupRate || s.next >= events.length)) {
      if (s.next >= events.length) s.exhausted++;
      ph.dup++;
      return { ev: events[Math.floor(rng() * s.next)], dup: true };
    }
    ph.fresh++;
    return { ev: events[s.next++], dup: false };
  };
  return s;
}

/** One autocannon per instance, the connections split between them; counts merged, latency of the worst. */
async function fireAll(urls, source, phase, { connections, duration }) {
  if (urls.length === 1) return fire(urls[0], source, phase, { connections, duration });
  const each = await Promise.all(urls.map((url, i) => fire(url, source, phase, { connections: Math.floor(connections / urls.length) + (i < connections % urls.length ? 1 : 0), duration })));
  const worst = each.reduce((w, r) => (pct(r.latency, 99) > pct(w.latency, 99) ? r : w));
  return {
    ...worst,
    duration: Math.max(...each.map((r) => r.duration)),
    requests: { ...worst.requests, average: each.reduce((sum, r) => sum + r.requests.average, 0) },
    errors: each.reduce((sum, r) => sum + r.errors, 0),
    timeouts: each.reduce((sum, r) => sum + r.timeouts, 0),
    perInstance: each.map((r) => ({ reqPerS: r.requests.average, latencyMs: { p50: pct(r.latency, 50), p99: pct(r.latency, 99), max: r.latency.max } })),
  };
}

async function fire(url, source, phase, { connections, duration }) {
  source.setPhase(phase);
  const ph = source.byPhase[phase];
  const result = await autocannon({
    url,
    connections,
    duration,
    pipelining: 1,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/api/v1/webhooks/razorpay',
        setupRequest: (req) => {
          const { ev } = source.take();
          return {
            ...req,
            body: ev.body,
            headers: {
              'content-type': 'application/json',
              'user-agent': 'Razorpay-Webhook/v1',
              'x-razorpay-signature': ev.sig,
              'x-razorpay-event-id': ev.id,
            },
          };
        },
        onResponse: (status, body) => {
          ph.statuses[status] = (ph.statuses[status] ?? 0) + 1;
          if (status >= 200 && status < 300) {
            ph.ok++;
            if (typeof body === 'string' && body.includes('"duplicate":true')) ph.dupAcks++;
            else ph.freshAcks++;
          } else ph.non2xx++;
        },
      },
    ],
  });
  return result;
}

async function verify(q, events, source, seeded) {
  const sentIds = new Set(events.slice(0, source.next).map((e) => e.id));
  const sentKinds = {};
  for (const e of events.slice(0, source.next)) sentKinds[e.kind] = (sentKinds[e.kind] ?? 0) + 1;
  // Wait for requests autocannon left in flight at its deadline to finish on the server.
  let rows = 0;
  for (let i = 0; i < 40; i++) {
    const n = Number((await q(`SELECT count(*) AS n FROM webhook_events`)).rows[0].n);
    if (n === rows && n >= sentIds.size) break;
    rows = n;
    await sleep(250);
  }
  const stored = (await q(`SELECT event_id FROM webhook_events`)).rows.map((r) => r.event_id);
  const storedSet = new Set(stored);
  const missing = [...sentIds].filter((id) => !storedSet.has(id)).length;
  const unexpected = stored.filter((id) => !sentIds.has(id)).length;
  const outcomes = (
    await q(
      `SELECT event_type, regexp_replace(coalesce(outcome, '(null)'), '(cycle \\d+|[0-9a-f-]{36})', '#', 'g') AS outcome, count(*)::int AS n
         FROM webhook_events GROUP BY 1, 2 ORDER BY 1, 3 DESC`,
    )
  ).rows;
  const one = async (sql, params) => Number(Object.values((await q(sql, params)).rows[0])[0]);
  const effects = {
    bookingsConfirmed: await one(`SELECT count(*) FROM bookings WHERE status = 'confirmed'`),
    bookingsPaymentFailed: await one(`SELECT count(*) FROM bookings WHERE payment_status = 'failed'`),
    bookingsRefunded: await one(`SELECT count(*) FROM bookings WHERE payment_status = 'refunded'`),
    paymentsByStatus: Object.fromEntries((await q(`SELECT status, count(*)::int AS n FROM payments GROUP BY 1 ORDER BY 1`)).rows.map((r) => [r.status, r.n])),
    refundsProcessed: await one(`SELECT count(*) FROM refunds WHERE status = 'processed'`),
    subscriptionsPastDue: await one(`SELECT count(*) FROM subscriptions WHERE status = 'past_due'`),
    subscriptionFailuresCounted: await one(`SELECT coalesce(sum(failed_attempts), 0) FROM subscriptions`),
    chargeFailedAudits: await one(`SELECT count(*) FROM audit_logs WHERE action = 'subscription.charge_failed'`),
    bookingConfirmedAudits: await one(`SELECT count(*) FROM audit_logs WHERE action = 'booking.confirmed'`),
    webhookEventsUnapplied: await one(`SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`),
    outboxRows: await one(`SELECT count(*) FROM notification_outbox`),
    outboxPending: await one(`SELECT count(*) FROM notification_outbox WHERE status = 'pending'`),
    tripsSeatsConsistent:
      (await one(
        `SELECT count(*) FROM trips t WHERE t.seats_booked <> (SELECT coalesce(sum(seats), 0) FROM bookings b WHERE b.trip_id = t.id AND b.status IN ('pending', 'confirmed'))`,
      )) === 0,
  };
  // Which captured bookings got any event (payment.captured or order.paid) among those sent.
  const sentCapturedBookings = new Set();
  const sentBodies = events.slice(0, source.next);
  const orderToBooking = new Map(seeded.captured.map((o) => [o.gateway_order_id, o.booking_id]));
  for (const e of sentBodies) {
    if (e.kind !== 'captured' && e.kind !== 'orderPaid') continue;
    const orderId = JSON.parse(e.body).payload.payment.entity.order_id;
    sentCapturedBookings.add(orderToBooking.get(orderId));
  }
  const expected = {
    webhookEvents: sentIds.size,
    bookingsConfirmed: sentCapturedBookings.size,
    bookingsPaymentFailed: sentKinds.failedBooking ?? 0,
    refundsProcessed: sentKinds.refund ?? 0,
    subscriptionsPastDue: sentKinds.failedSub ?? 0,
    chargeFailedAudits: sentKinds.failedSub ?? 0,
    paymentsAuthorized: sentKinds.authorized ?? 0,
  };
  const checks = {
    webhookEventsEqualDistinctSent: stored.length === sentIds.size && missing === 0 && unexpected === 0,
    bookingsConfirmedOnce: effects.bookingsConfirmed === expected.bookingsConfirmed && effects.bookingConfirmedAudits === expected.bookingsConfirmed,
    bookingFailuresOnce: effects.bookingsPaymentFailed === expected.bookingsPaymentFailed,
    refundsOnce: effects.refundsProcessed === expected.refundsProcessed && effects.bookingsRefunded === expected.refundsProcessed,
    subscriptionFailuresOnce:
      effects.subscriptionsPastDue === expected.subscriptionsPastDue &&
      effects.chargeFailedAudits === expected.chargeFailedAudits &&
      effects.subscriptionFailuresCounted === expected.subscriptionsPastDue,
    authorizedOnce: (effects.paymentsByStatus.authorized ?? 0) === expected.paymentsAuthorized,
    seatsConsistent: effects.tripsSeatsConsistent,
    everyEventApplied: effects.webhookEventsUnapplied === 0,
  };
  return { distinctSent: sentIds.size, stored: stored.length, missing, unexpected, sentKinds, expected, effects, checks, outcomes };
}

async function main() {
  const { values: a } = parseArgs({
    options: {
      app: { type: 'string', default: REPO },
      connections: { type: 'string', default: '50' },
      duration: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '5' },
      events: { type: 'string', default: '60000' },
      'dup-rate': { type: 'string', default: '0.10' },
      'quiet-wait': { type: 'string', default: '120' },
      label: { type: 'string' },
      'pg-admin': { type: 'string', default: process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      'cpu-prof': { type: 'boolean', default: false },
      'api-node-args': { type: 'string', default: '' },
      // extra settings for the API, e.g. --api-env WEBHOOK_APPLY_CONCURRENCY=2,WEBHOOK_INLINE_BACKLOG=0
      'api-env': { type: 'string', default: '' },
      // web instances of the API on the same database, each receiving its share of the connections
      // (as behind a load balancer); the first one is profiled and counted as before
      instances: { type: 'string', default: '1' },
    },
  });
  const connections = Number(a.connections);
  const duration = Number(a.duration);
  const warmup = Number(a.warmup);
  const total = Number(a.events);
  const dupRate = Number(a['dup-rate']);
  const counts = Object.fromEntries(Object.entries(MIX).map(([k, f]) => [k, Math.round(total * f)]));

  await runBench({ name: 'webhooks', appRoot: a.app, pgAdminUrl: a['pg-admin'], hardLimitS: 600 + Number(a['quiet-wait']) + duration + warmup }, async (h) => {
    await h.createDb();
    const apiPort = await freePort();
    await h.startEmulator();
    const profDir = a['cpu-prof'] ? join(tmpdir(), `tt-bench-cpuprof-webhooks-${Date.now()}`) : null; // kept after the run
    if (profDir) (mkdirSync(profDir, { recursive: true }), log(`API CPU profile goes to ${profDir} when the API stops`));
    const nodeArgs = [...a['api-node-args'].split(' ').filter(Boolean), ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])];
    const apiEnv = Object.fromEntries(a['api-env'].split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    await h.startApi({ port: apiPort, env: { ...apiEnv, NODE_OPTIONS_ARGS: nodeArgs } });
    const extra = [];
    for (let i = 1; i < Number(a.instances); i++) extra.push(await h.startExtraApi({ port: await freePort(), env: apiEnv, name: `api-${i + 1}` }));
    const urls = [h.api.url, ...extra.map((e) => e.url)];
    const pids = [h.api.pid, ...extra.map((e) => e.pid)];
    const pool = new pg.Pool({ connectionString: h.dbUrl, max: 2 });
    const q = (sql, p) => pool.query(sql, p);
    try {
      const hash = await h.realPasswordHash(q);
      const seeded = await seedWebhooks(q, counts, hash);
      const rng = prng(20261121);
      const t0 = Date.now();
      const events = buildEvents(seeded, counts, rng);
      log(`built and signed ${events.length} distinct events in ${Date.now() - t0} ms`);
      const source = eventSource(events, dupRate, rng);
      const pid = h.api.pid;
      const rssIdle = rss(pid);

      const quiet = await waitForQuiet(Number(a['quiet-wait']));
      log(`machine quiet check: ${JSON.stringify(quiet)}`);
      if (warmup > 0) {
        log(`warm-up ${warmup} s at ${connections} connections`);
        await fireAll(urls, source, 'warmup', { connections, duration: warmup });
      }
      const rssBefore = rss(pid);
      const cpuApi0 = pids.reduce((sum, p) => sum + cpuSeconds(p), 0);
      const samplers = pids.slice(1).map((p) => rssSampler(p, 500));
      const cpuPg0 = pgBackendCpuSeconds(h.db);
      const cpuSelf0 = process.cpuUsage();
      const machine = machineCpu();
      const sampler = rssSampler(pid, 500);
      log(`measured run: ${duration} s at ${connections} connections, ${Math.round(dupRate * 100)} % duplicates`);
      const count = async (where) => Number((await q(`SELECT count(*) AS n FROM webhook_events WHERE ${where}`)).rows[0].n);
      const queueAtStart = { applied: await count('processed_at IS NOT NULL'), waiting: await count('processed_at IS NULL') };
      const mono0 = Number(process.hrtime.bigint() / 1000n); // CLOCK_MONOTONIC µs, the clock of --cpu-prof timestamps
      const result = await fireAll(urls, source, 'measure', { connections, duration });
      const monoWindowUs = [mono0, Number(process.hrtime.bigint() / 1000n)];
      // Answered is not applied: the API answers once an event is stored and applies a backlog behind
      // it. How long until every stored event is applied, and the rate that sustains.
      const queueAtEnd = { waiting: await count('processed_at IS NULL') };
      let appliedAfterRunS = null;
      for (let waited = 0; waited < 600_000; waited += 250) {
        if ((await count('processed_at IS NULL')) === 0) {
          appliedAfterRunS = Math.round((Number(process.hrtime.bigint() / 1000n) - monoWindowUs[1]) / 1e5) / 10;
          break;
        }
        await sleep(250);
      }
      const appliedInWindowAndDrain = (await count('processed_at IS NOT NULL')) - queueAtStart.applied;
      const cpuApiWithDrain = pids.reduce((sum, p) => sum + cpuSeconds(p), 0) - cpuApi0;
      const cpuPgWithDrain = pgBackendCpuSeconds(h.db) - cpuPg0;
      const peak = sampler.stop();
      const busy = machine();
      const cpuApi = pids.reduce((sum, p) => sum + cpuSeconds(p), 0) - cpuApi0;
      const extraPeaksMb = samplers.map((x) => Math.round(x.stop().peakKb / 1024));
      const cpuPg = pgBackendCpuSeconds(h.db) - cpuPg0;
      const self = process.cpuUsage(cpuSelf0);
      const rssAfter = rss(pid);
      const v = await verify(q, events, source, seeded);
      // The outbox rows (realtime events, emails) the events wrote: how long until all are delivered.
      const outboxDrain = { pendingAtVerify: v.effects.outboxPending, drainedAfterRunS: null };
      for (let waited = 0; waited < 180_000; waited += 500) {
        const n = Number((await q(`SELECT count(*) AS n FROM notification_outbox WHERE status = 'pending'`)).rows[0].n);
        if (n === 0) {
          outboxDrain.drainedAfterRunS = Math.round((Number(process.hrtime.bigint() / 1000n) - monoWindowUs[1]) / 1e5) / 10;
          break;
        }
        await sleep(500);
      }
      const m = source.byPhase.measure;
      const seconds = result.duration;
      const summary = {
        bench: 'webhooks',
        label: a.label ?? null,
        date: new Date().toISOString(),
        commit: gitCommit(h.appRoot),
        machine: { ...machineInfo(), busyPctDuringRun: busy, quietCheck: quiet },
        config: { instances: urls.length, apiNodeArgs: a['api-node-args'] || null, apiEnv: a['api-env'] || null, connections, durationS: duration, warmupS: warmup, dupRate, distinctEventsPrepared: events.length, mix: MIX },
        measured: {
          requests: m.sent,
          freshEvents: m.fresh,
          duplicateRequests: m.dup,
          duplicateShare: Math.round((1000 * m.dup) / Math.max(1, m.sent)) / 1000,
          responses2xx: m.ok,
          non2xx: m.non2xx,
          statuses: m.statuses,
          ackDuplicateTrue: m.dupAcks,
          eventsPerS: Math.round((10 * m.ok) / seconds) / 10,
          autocannonReqPerS: result.requests.average,
          latencyMs: { p50: pct(result.latency, 50), p90: pct(result.latency, 90), p99: pct(result.latency, 99), max: result.latency.max, mean: result.latency.mean },
          errors: result.errors,
          timeouts: result.timeouts,
          poolExhausted: source.exhausted,
          monoWindowUs,
          perInstance: result.perInstance ?? null,
        },
        warmup: source.byPhase.warmup ?? null,
        applied: {
          waitingAtStart: queueAtStart.waiting,
          waitingAtEnd: queueAtEnd.waiting,
          allAppliedAfterRunS: appliedAfterRunS,
          appliedInRunAndDrain: appliedInWindowAndDrain,
          // sustained: every event stored during the run (and the warm-up backlog) applied, over run + drain time
          appliedPerS: appliedAfterRunS === null ? null : Math.round((10 * appliedInWindowAndDrain) / (seconds + appliedAfterRunS)) / 10,
          cpuApiS: Math.round(cpuApiWithDrain * 10) / 10,
          cpuPostgresS: Math.round(cpuPgWithDrain * 10) / 10,
        },
        outboxDrain: {
          ...outboxDrain,
          // events/s if the run had to wait for its notifications too (run + drain time)
          eventsPerSIncludingDrain: outboxDrain.drainedAfterRunS === null ? null : Math.round((10 * m.ok) / (result.duration + outboxDrain.drainedAfterRunS)) / 10,
        },
        cpu: {
          apiS: Math.round(cpuApi * 10) / 10,
          apiCoreShare: Math.round((100 * cpuApi) / seconds),
          postgresBackendsS: Math.round(cpuPg * 10) / 10,
          postgresCoreShare: Math.round((100 * cpuPg) / seconds),
          benchClientS: Math.round((self.user + self.system) / 1e5) / 10,
        },
        memory: {
          apiRssIdleMb: Math.round(rssIdle.rssKb / 1024),
          apiRssBeforeMb: Math.round(rssBefore.rssKb / 1024),
          apiRssPeakMb: Math.round(peak.peakKb / 1024),
          apiRssAfterMb: Math.round(rssAfter.rssKb / 1024),
          apiVmHwmMb: Math.round(rssAfter.hwmKb / 1024),
          otherInstancesRssPeakMb: extraPeaksMb,
        },
        verification: v,
        target: { eventsPerS: 1000, met: m.ok / seconds >= 1000 },
      };
      mkdirSync(RESULTS, { recursive: true });
      const file = join(RESULTS, `webhooks${a.label ? `-${a.label}` : ''}.json`);
      writeFileSync(file, JSON.stringify({ summary, autocannon: result }, null, 2));
      log(`wrote ${file}`);
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      const failed = Object.entries(v.checks).filter(([, ok]) => !ok);
      if (failed.length) throw new Error(`verification failed: ${failed.map(([k]) => k).join(', ')}`);
    } finally {
      await pool.end();
    }
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main();
}
