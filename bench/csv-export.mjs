#!/usr/bin/env node
// CSV export bench (issue 14): GET /api/v1/admin/bookings with `Accept: text/csv`, every one of
// 100,000 seeded bookings, over HTTP from the built app (npm run build first) running as its own
// process, so its memory is measured alone: rows/s (request sent → last byte read) and the server
// process's RSS from /proc/<pid>/status: VmHWM (peak since start) before and after the exports, and
// VmRSS sampled every 20 ms during each. Also its CPU time per export (/proc/<pid>/stat).
//
//   node bench/csv-export.mjs [--rows 100000] [--runs 3] [--slow-kbps 2048]
//        [--pg postgres://postgres@127.0.0.1:5432/postgres | --embedded] [--port <free>] [--label csv-export]
//        [--max-old-space-mb 64]
//
// On the server (default) a database tt_bench_csv_<ts> is created and dropped; the export reads a
// cursor. With --embedded the app runs on PGlite (seeded before it starts, in a temporary DATA_DIR)
// and the export reads keyset batches. --slow-kbps adds one run whose client reads at that rate
// (backpressure: the server must not buffer what the client has not read); 0 skips it.
// --max-old-space-mb N starts the app with --max-old-space-size=N: an export that kept its rows in
// memory would run out of heap there.
// Figures go to bench/results/<label>-<commit>[-embedded].json.
import { execSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    'slow-kbps': { type: 'string', default: '2048' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    embedded: { type: 'boolean', default: false },
    port: { type: 'string', default: '0' },
    label: { type: 'string', default: 'csv-export' },
    'max-old-space-mb': { type: 'string', default: '' },
  },
});
const ROWS = Number(args.rows);
const RUNS = Number(args.runs);
const SLOW_KBPS = Number(args['slow-kbps']);
/** A free port (another checkout's app may hold any fixed one). */
async function freePort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}
const PORT = Number(args.port) || (await freePort());
const API = `http://127.0.0.1:${PORT}/api/v1`;
const MB = (kb) => Math.round((kb / 1024) * 10) / 10;
const round = (x) => Math.round(x * 100) / 100;
const TICKS = Number(execSync('getconf CLK_TCK').toString().trim());

function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)[1]);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime + stime
}

/** The bench's data: travelers (some named like formulas), trips, and `rows` bookings over a year. */
async function seed(client, organizerId) {
  await client.query(
    `INSERT INTO users (name, email, phone, role)
     SELECT CASE WHEN g % 10 = 0 THEN '=Traveler ' || g ELSE 'Traveler ' || g END,
            'traveler' || g || '@bench.test', '+9198' || lpad(g::text, 8, '0'), 'traveler'
       FROM generate_series(1, 1000) g`,
  );
  await client.query(
    `INSERT INTO trips (organizer_id, title, description, destination, difficulty_level, start_date, end_date, price, capacity)
     SELECT $1, 'Bench Trek ' || g, 'A bench trip with a description of a sentence or two.', 'Uttarakhand',
            'beginner', current_date + g, current_date + g + 3, 1299900, 1000
       FROM generate_series(1, 200) g`,
    [organizerId],
  );
  await client.query(
    `WITH t AS (SELECT array_agg(id ORDER BY id) AS a FROM trips),
          u AS (SELECT array_agg(id ORDER BY id) AS a FROM users WHERE role = 'traveler' AND email LIKE '%@bench.test')
     INSERT INTO bookings (trip_id, traveler_id, organizer_id, seats, unit_price, total_amount, status, payment_status,
                           payment_method, special_requests, cancellation_policy, created_at)
     SELECT t.a[1 + g % 200], u.a[1 + g % 1000], $1, 1 + g % 3, 1299900, 1299900 * (1 + g % 3),
            (ARRAY['pending', 'confirmed', 'completed', 'cancelled', 'expired'])[1 + g % 5],
            (ARRAY['unpaid', 'paid', 'paid', 'refunded', 'unpaid'])[1 + g % 5],
            CASE WHEN g % 2 = 0 THEN 'online' ELSE 'screenshot' END,
            CASE WHEN g % 7 = 0 THEN '+1 vegetarian, "window seat", no onions' END,
            '{"tiers": [{"minHoursBefore": 168, "refundPercent": 100}]}',
            now() - make_interval(secs => g * 300)
       FROM generate_series(1, $2) g, t, u`,
    [organizerId, ROWS],
  );
  await client.query('ANALYZE users; ANALYZE trips; ANALYZE bookings');
}

async function waitHealthy(child) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${API}/health`);
      if (r.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the app did not become healthy');
}

async function json(path, init = {}) {
  const r = await fetch(`${API}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  const body = await r.json();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

/** One export over HTTP; `kbps` > 0 reads no faster than that. Returns rows, bytes, seconds, RSS samples. */
/**
 * While an export runs: a JSON request (GET /admin/bookings?limit=20) every 100 ms, one at a time;
 * their latencies say whether the export starves the other requests (on PGlite, one connection).
 */
function probe(token) {
  const latencies = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      await json('/admin/bookings?limit=20', { headers: { authorization: `Bearer ${token}` } });
      latencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      requests: sorted.length,
      p50Ms: round(sorted[Math.floor(sorted.length / 2)] ?? 0),
      maxMs: round(sorted[sorted.length - 1] ?? 0),
    };
  };
}

function exportOnce(pid, token, kbps) {
  return new Promise((resolve, reject) => {
    const samples = [];
    const sampler = setInterval(() => samples.push(memory(pid).rssKb), 20);
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    let bytes = 0;
    let newlines = 0;
    const req = http.get(
      `${API}/admin/bookings`,
      { headers: { authorization: `Bearer ${token}`, accept: 'text/csv' } },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`export answered ${res.statusCode}`));
        const started = performance.now();
        res.on('data', (chunk) => {
          bytes += chunk.length;
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
          if (kbps > 0) {
            // Read no faster than kbps: pause until this chunk's share of the time has passed.
            const due = started + (bytes / 1024 / kbps) * 1000;
            const wait = due - performance.now();
            if (wait > 0) {
              res.pause();
              setTimeout(() => res.resume(), wait);
            }
          }
        });
        res.on('end', () => {
          const seconds = (performance.now() - t0) / 1000;
          clearInterval(sampler);
          samples.push(memory(pid).rssKb);
          resolve({
            complete: res.complete,
            rows: newlines - 1, // the header row
            bytes,
            seconds,
            serverCpuSeconds: cpuSeconds(pid) - cpu0,
            rssMaxKb: Math.max(...samples),
            rssSamples: samples.length,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

async function main() {
  const commit = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
  const dataDir = mkdtempSync(join(tmpdir(), 'tt-bench-csv-'));
  const db = `tt_bench_csv_${Date.now()}`;
  let databaseUrl;
  let serverAdmin;
  let seedClient;
  let stopSeedDb = async () => undefined;
  const email = `admin.${Date.now()}@bench.test`;

  if (args.embedded) {
    // Seed PGlite before the app opens it (one process at a time on a data dir).
    const { startEmbeddedPostgres } = require(join(ROOT, 'dist/apps/api/src/database/embedded-postgres.js'));
    const { dataSourceOptions } = require(join(ROOT, 'dist/apps/api/src/database/data-source.js'));
    const { DataSource } = require('typeorm');
    const embedded = await startEmbeddedPostgres(dataDir, 3);
    const ds = new DataSource(dataSourceOptions(embedded.url, { poolSize: 1 }));
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    await ds.destroy();
    seedClient = new pg.Client({ connectionString: embedded.url });
    await seedClient.connect();
    stopSeedDb = async () => {
      await seedClient.end();
      await embedded.stop();
    };
  } else {
    serverAdmin = new pg.Client({ connectionString: args.pg });
    await serverAdmin.connect();
    await serverAdmin.query(`CREATE DATABASE "${db}"`);
    databaseUrl = args.pg.replace(/\/[^/]*$/, `/${db}`);
  }

  const env = {
    ...process.env,
    NODE_ENV: 'development',
    PORT: String(PORT),
    DATA_DIR: dataDir,
    SCHEDULER_ENABLED: 'false',
    LOG_LEVEL: 'warn',
    THROTTLE_LIMIT: '1000000',
    AUTH_THROTTLE_LIMIT: '1000000',
    ADMIN_EMAIL: email,
    ADMIN_PASSWORD: 'BenchTrek2026x',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
  if (!databaseUrl) delete env.DATABASE_URL;
  delete env.REDIS_URL;

  let child;
  const startApp = async () => {
    const heap = args['max-old-space-mb'] ? [`--max-old-space-size=${args['max-old-space-mb']}`] : [];
    child = spawn(process.execPath, [...heap, join(ROOT, 'dist/apps/api/src/main.js')], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitHealthy(child);
  };
  const stopApp = async () => {
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };

  const result = {
    commit,
    at: new Date().toISOString(),
    database: args.embedded ? 'PGlite (embedded): keyset batches' : 'PostgreSQL server: cursor',
    rows: ROWS,
    node: process.version,
    maxOldSpaceMb: args['max-old-space-mb'] || undefined,
  };
  try {
    let organizerId;
    if (args.embedded) {
      // PGlite has one owner at a time: seeded here, then opened by the app.
      organizerId = (
        await seedClient.query(
          `INSERT INTO users (name, email, phone, role) VALUES ('Bench Organizer', 'organizer@bench.test', '+919800000000', 'organizer') RETURNING id`,
        )
      ).rows[0].id;
      const t0 = performance.now();
      await seed(seedClient, organizerId);
      result.seedSeconds = round((performance.now() - t0) / 1000);
      await stopSeedDb();
      await startApp();
    } else {
      await startApp();
      seedClient = new pg.Client({ connectionString: databaseUrl });
      await seedClient.connect();
      organizerId = (
        await seedClient.query(
          `INSERT INTO users (name, email, phone, role) VALUES ('Bench Organizer', 'organizer@bench.test', '+919800000000', 'organizer') RETURNING id`,
        )
      ).rows[0].id;
      const t0 = performance.now();
      await seed(seedClient, organizerId);
      result.seedSeconds = round((performance.now() - t0) / 1000);
    }
    console.error(`seeded ${ROWS} bookings in ${result.seedSeconds} s (${result.database})`);

    // The admin is the bootstrap one (ADMIN_EMAIL/ADMIN_PASSWORD), created by the app at start.
    const token = (
      await json('/auth/login', {
        method: 'POST',
        body: JSON.stringify({ email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD }),
      })
    ).data.accessToken;
    const total = (await json('/admin/bookings?limit=1', { headers: { authorization: `Bearer ${token}` } }))
      .meta.total;
    if (total !== ROWS) throw new Error(`the JSON list counts ${total} bookings, expected ${ROWS}`);

    // "Without the export": the app warmed up on the JSON pages of the same list (100 pages of 100).
    for (let page = 1; page <= 100; page++)
      await json(`/admin/bookings?limit=100&page=${page}`, { headers: { authorization: `Bearer ${token}` } });
    const stopIdleProbe = probe(token);
    await new Promise((r) => setTimeout(r, 3000));
    result.jsonIdle = await stopIdleProbe();
    console.error(
      `JSON page with no export running: ${result.jsonIdle.requests} requests, p50 ${result.jsonIdle.p50Ms} ms, max ${result.jsonIdle.maxMs} ms`,
    );
    await new Promise((r) => setTimeout(r, 500));
    const before = memory(child.pid);
    result.withoutExport = { rssMb: MB(before.rssKb), peakRssMb: MB(before.hwmKb) };
    console.error(
      `without the export (after boot and 100 JSON pages): RSS ${MB(before.rssKb)} MB, peak (VmHWM) ${MB(before.hwmKb)} MB`,
    );

    result.runs = [];
    // The runs: RUNS fast ones, one more with JSON requests alongside, the slow reader.
    const plan = [
      ...Array.from({ length: RUNS }, () => ({ kbps: 0, probe: false })),
      { kbps: 0, probe: true },
      ...(SLOW_KBPS > 0 ? [{ kbps: SLOW_KBPS, probe: false }] : []),
    ];
    for (const { kbps, probe: probing } of plan) {
      const rssBefore = memory(child.pid).rssKb;
      const stopProbe = probing ? probe(token) : undefined;
      const r = await exportOnce(child.pid, token, kbps);
      const alongside = await stopProbe?.();
      if (!r.complete || r.rows !== ROWS) throw new Error(`an export sent ${r.rows} rows, expected ${ROWS}`);
      const run = {
        client:
          (kbps > 0 ? `reads at ${kbps} KB/s` : 'reads as fast as it can') +
          (probing ? ', JSON pages requested alongside' : ''),
        rows: r.rows,
        megabytes: round(r.bytes / 1024 / 1024),
        seconds: round(r.seconds),
        rowsPerSecond: Math.round(r.rows / r.seconds),
        serverCpuSeconds: round(r.serverCpuSeconds),
        serverCpuMicrosecondsPerRow: round((r.serverCpuSeconds / r.rows) * 1e6),
        loadAverage1m: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
        rssBeforeMb: MB(rssBefore),
        rssMaxDuringMb: MB(r.rssMaxKb),
        peakRssSinceStartMb: MB(memory(child.pid).hwmKb),
        ...(alongside ? { jsonAlongside: alongside } : {}),
      };
      result.runs.push(run);
      console.error(
        `export (${run.client}): ${run.rows} rows, ${run.megabytes} MB in ${run.seconds} s = ${run.rowsPerSecond} rows/s; ` +
          `server CPU ${run.serverCpuSeconds} s; load ${run.loadAverage1m}; RSS ${run.rssBeforeMb} → max ${run.rssMaxDuringMb} MB; VmHWM ${run.peakRssSinceStartMb} MB` +
          (alongside
            ? `; ${alongside.requests} JSON pages alongside: p50 ${alongside.p50Ms} ms, max ${alongside.maxMs} ms`
            : ''),
      );
    }
    const after = memory(child.pid);
    result.withExport = { rssMb: MB(after.rssKb), peakRssMb: MB(after.hwmKb) };
    console.error(`after the exports: RSS ${MB(after.rssKb)} MB, peak (VmHWM) ${MB(after.hwmKb)} MB`);

    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    const file = join(ROOT, `bench/results/${args.label}-${commit}${args.embedded ? '-embedded' : ''}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    console.error(`wrote ${file}`);
  } finally {
    await stopApp();
    if (!args.embedded) {
      await seedClient?.end().catch(() => undefined);
      await serverAdmin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined);
      await serverAdmin.end();
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
