#!/usr/bin/env node
// Hot-trip booking storm: POST /api/v1/bookings (1 seat, online payment) on ONE trip at 50
// connections, rotating the bearer tokens of many travelers (the app allows 2 unpaid holds per
// traveler per trip, so with T travelers at most 2·T holds can succeed; seed.mjs makes 300
// travelers for a 500-seat trip, so the trip sells out on seats, not on the hold limit).
// Runs for --duration seconds or until the trip is sold out, whichever comes first, then checks for
// oversell in PostgreSQL:
//   SELECT seats_booked, capacity, (SELECT sum(seats) FROM bookings WHERE trip_id=$1 AND status IN ('pending','confirmed')) …
// oversell = max(0, sold − capacity); seats_booked must equal sold; every 201 must be a bookings row
// (the run may create up to `connections` more rows than the 201s it saw: requests in flight when
// autocannon stops at the time limit complete on the server but are not counted).
//
//   node bench/bookings.mjs --api http://127.0.0.1:38110 --db postgres://…/tt_bench_x --manifest manifest.json \
//        [--pid <api pid>] [--connections 50] [--duration 15]
//
// Tokens come from POST /api/v1/auth/login for each seeded traveler (argon2id verify, done up front;
// --tokens-cache FILE keeps them for repeated runs against the same database and JWT secret).
// Writes the raw autocannon result to bench/results/<--label, default bookings>.json and prints a JSON
// summary on stdout. Give ad-hoc runs their own --label so they do not overwrite the recorded run.
import autocannon from 'autocannon';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { cpuSeconds, foreignCpuSampler, rssKb, rssSampler, waitForQuiet } from './search.mjs';

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results');

async function login(api, email, password) {
  const res = await fetch(`${api}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = await res.json();
  if (res.status !== 200 && res.status !== 201) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(body)}`);
  return body.data.accessToken;
}

async function loginAll(api, emails, password, concurrency = 4) {
  const tokens = new Array(emails.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < emails.length) {
        const i = next++;
        tokens[i] = await login(api, emails[i], password);
      }
    }),
  );
  return tokens;
}

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null);
const round = (x) => (x === null ? null : Math.round(x * 100) / 100);

export async function bookingsBench({ api, db, manifest, pid, connections = 50, duration = 15, quietWaitS = 90, tokensCache, label = 'bookings' }) {
  const tripId = manifest.hotTrip.id;
  const t0 = Date.now();
  let tokens = tokensCache && existsSync(tokensCache) ? JSON.parse(readFileSync(tokensCache, 'utf8')) : null;
  if (!tokens) {
    tokens = await loginAll(api, manifest.hotTravelers, manifest.password);
    if (tokensCache) writeFileSync(tokensCache, JSON.stringify(tokens));
  }
  const loginS = (Date.now() - t0) / 1000;

  const client = new pg.Client({ connectionString: db, application_name: 'bench-bookings' });
  await client.connect();
  const check = async () =>
    (
      await client.query(
        `SELECT seats_booked, capacity,
                (SELECT coalesce(sum(seats), 0)::int FROM bookings WHERE trip_id = $1 AND status IN ('pending', 'confirmed')) AS sold,
                (SELECT count(*)::int FROM bookings WHERE trip_id = $1) AS rows
           FROM trips WHERE id = $1`,
        [tripId],
      )
    ).rows[0];
  try {
    const before = await check();
    const capacityLeft = before.capacity - before.seats_booked;
    const quiet = quietWaitS > 0 ? await waitForQuiet({ maxWaitS: quietWaitS }) : null;

    let i = 0;
    const byStatus = {};
    const latencies = { all: [], created: [], rejected: [] };
    let created = 0;
    let firstAt = 0;
    let lastCreatedAt = 0;
    let soldOutAt = 0;
    const rssBefore = rssKb(pid);
    const stopRss = rssSampler(pid);
    const stopForeign = foreignCpuSampler([pid]);
    const loadBefore = loadavg()[0];
    const cpuBefore = cpuSeconds(pid);
    const instance = autocannon({
      url: api,
      connections,
      duration,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          path: '/api/v1/bookings',
          setupRequest: (req) => {
            const n = i++;
            return {
              ...req,
              headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[n % tokens.length]}` },
              body: JSON.stringify({ tripId, seats: 1, paymentMethod: 'online', participants: [{ name: `Bench Participant ${n}`, age: 20 + (n % 40) }] }),
            };
          },
        },
      ],
    });
    const started = Date.now();
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      const now = Date.now();
      if (!firstAt) firstAt = now;
      byStatus[statusCode] = (byStatus[statusCode] ?? 0) + 1;
      latencies.all.push(responseTime);
      if (statusCode === 201) {
        created++;
        lastCreatedAt = now;
        latencies.created.push(responseTime);
        // Sold out: stop a moment later, so the 409s of the requests still in flight are seen too.
        if (created >= capacityLeft && !soldOutAt) {
          soldOutAt = now;
          setTimeout(() => instance.stop(), 500);
        }
      } else {
        latencies.rejected.push(responseTime);
      }
    });
    const result = await instance;
    const rssPeak = stopRss();
    const foreignCores = await stopForeign();
    const rssAfter = rssKb(pid);
    const cpuUsed = pid ? cpuSeconds(pid) - cpuBefore : null;
    const after = await check();

    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, `${label}.json`), JSON.stringify(result, null, 2));

    for (const k of Object.keys(latencies)) latencies[k].sort((a, b) => a - b);
    const sellingS = ((lastCreatedAt || Date.now()) - started) / 1000;
    const stats = (xs) => ({ n: xs.length, p50: round(pct(xs, 50)), p90: round(pct(xs, 90)), p99: round(pct(xs, 99)), max: round(xs.at(-1) ?? null) });
    return {
      bench: 'bookings',
      url: `${api}/api/v1/bookings`,
      connections,
      maxDurationS: duration,
      ranS: round((Date.now() - started) / 1000),
      soldOut: Boolean(soldOutAt),
      soldOutAfterS: soldOutAt ? round((soldOutAt - started) / 1000) : null,
      travelers: tokens.length,
      loginS: round(loginS),
      capacity: before.capacity,
      seatsBookedBefore: before.seats_booked,
      statuses: byStatus,
      created,
      bookingsPerSec: round(created / sellingS),
      requestsPerSecMean: result.requests.average,
      latencyMs: { all: stats(latencies.all), created201: stats(latencies.created), rejected: stats(latencies.rejected) },
      autocannon: { p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts },
      oversell: {
        seatsBooked: after.seats_booked,
        capacity: after.capacity,
        soldPendingOrConfirmed: after.sold,
        oversell: Math.max(0, after.sold - after.capacity),
        seatsBookedMatchesSold: after.seats_booked === after.sold,
        rowsCreatedByRun: after.rows - before.rows,
        rowsConsistentWith201s: after.rows - before.rows >= created && after.rows - before.rows - created <= connections,
      },
      serverCpu: pid ? { seconds: round(cpuUsed), coresBusy: round(cpuUsed / ((Date.now() - started) / 1000)), msPerResponse: round((1000 * cpuUsed) / latencies.all.length) } : null,
      rssKb: { before: rssBefore, peak: rssPeak, after: rssAfter },
      machine: { quiet, foreignCoresDuringRun: foreignCores, loadavg1Before: loadBefore, loadavg1After: loadavg()[0], cpus: cpus().length },
    };
  } finally {
    await client.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      api: { type: 'string' },
      db: { type: 'string' },
      manifest: { type: 'string' },
      pid: { type: 'string' },
      connections: { type: 'string', default: '50' },
      duration: { type: 'string', default: '15' },
      'quiet-wait': { type: 'string', default: '90' },
      'tokens-cache': { type: 'string' },
      label: { type: 'string', default: 'bookings' },
    },
  });
  if (!values.api || !values.db || !values.manifest) {
    console.error('usage: node bench/bookings.mjs --api URL --db postgres://… --manifest manifest.json [--pid PID] [--connections 50] [--duration 15]');
    process.exit(2);
  }
  const summary = await bookingsBench({
    api: values.api,
    db: values.db,
    manifest: JSON.parse(readFileSync(values.manifest, 'utf8')),
    pid: values.pid ? Number(values.pid) : undefined,
    connections: Number(values.connections),
    duration: Number(values.duration),
    quietWaitS: Number(values['quiet-wait']),
    tokensCache: values['tokens-cache'],
    label: values.label,
  });
  console.log(JSON.stringify(summary));
  if (summary.oversell.oversell !== 0 || !summary.oversell.seatsBookedMatchesSold || !summary.oversell.rowsConsistentWith201s) process.exitCode = 1;
}
