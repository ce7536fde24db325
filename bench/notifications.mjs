#!/usr/bin/env node
// Notifications bench (issue 12), on the built app (npm run build first) and the PostgreSQL server:
//   1. outbox throughput: 10,000 pending emails drained by the dispatcher into a local SMTP server
//      (smtp-server, in this process), messages/s from the start of the pass to the last accepted;
//   2. latency: 1,000 `booking.new` notifications to one organizer, each recorded by Notifier.notify
//      in its own transaction (10 at a time), from the commit to the organizer's socket
//      `notification` event; p50/p99/max. The email of each is on its own lane meanwhile.
//
//   node bench/notifications.mjs [--messages 10000] [--notifications 1000] [--concurrency 10]
//        [--pg postgres://postgres@127.0.0.1:5432/postgres] [--label notifications]
//
// A database tt_bench_notif_<ts> is created and dropped. Figures go to bench/results/<label>-<commit>.json.
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { io } from 'socket.io-client';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { createApp } = require(join(ROOT, 'dist/apps/api/src/bootstrap.js'));
const { loadConfig } = require(join(ROOT, 'dist/libs/common/src/config/app-config.js'));
const { Notifier } = require(join(ROOT, 'dist/libs/notifications/src/notifier.js'));
const { OutboxDispatcher } = require(join(ROOT, 'dist/libs/notifications/src/outbox/outbox-dispatcher.js'));
const { DataSource } = require('typeorm');

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    notifications: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '10' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    label: { type: 'string', default: 'notifications' },
    port: { type: 'string', default: '38120' },
  },
});
const MESSAGES = Number(args.messages);
const NOTIFICATIONS = Number(args.notifications);
const CONCURRENCY = Number(args.concurrency);
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const round = (x) => Math.round(x * 100) / 100;

async function startSmtp() {
  let received = 0;
  let last = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, cb) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received++;
        last = performance.now();
        cb();
      });
    },
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: server.server.address().port, stats: () => ({ received, last }) };
}

async function main() {
  const commit = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
  const db = `tt_bench_notif_${Date.now()}`;
  const admin = new pg.Client({ connectionString: args.pg });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${db}"`);
  const smtp = await startSmtp();
  const config = loadConfig({
    NODE_ENV: 'development',
    PORT: args.port,
    DATABASE_URL: args.pg.replace(/\/[^/]*$/, `/${db}`),
    DATA_DIR: join(ROOT, '.tmp', db),
    SMTP_URL: `smtp://127.0.0.1:${smtp.port}?ignoreTLS=true`,
    SCHEDULER_ENABLED: 'false',
    LOG_LEVEL: 'warn',
    THROTTLE_LIMIT: '1000000',
    AUTH_THROTTLE_LIMIT: '1000000',
  });
  const running = await createApp(config);
  const result = { commit, at: new Date().toISOString(), messages: MESSAGES, notifications: NOTIFICATIONS, concurrency: CONCURRENCY };
  try {
    await running.app.listen(Number(args.port), '127.0.0.1');
    const api = `http://127.0.0.1:${args.port}`;
    const ds = running.app.get(DataSource);
    const dispatcher = running.app.get(OutboxDispatcher);
    const notifier = running.app.get(Notifier);

    // 1. Throughput.
    await ds.query(
      `INSERT INTO notification_outbox (channel, topic, recipient, subject, body, html, status)
       SELECT 'email', 'bench.mail', 'reader' || g || '@bench.test', 'Bench message ' || g,
              'Hi,' || chr(10) || 'a bench message of about a paragraph, ₹1,49,999.', '<p>Hi,</p><p>a bench message, ₹1,49,999.</p>', 'pending'
         FROM generate_series(1, $1) g`,
      [MESSAGES],
    );
    const t0 = performance.now();
    const before = smtp.stats().received;
    while (smtp.stats().received - before < MESSAGES) {
      const pass = await dispatcher.dispatchPending(500);
      if (pass.sent + pass.retried + pass.failed === 0 && smtp.stats().received - before < MESSAGES) {
        throw new Error(`drained with ${smtp.stats().received - before} of ${MESSAGES} delivered`);
      }
    }
    const seconds = (smtp.stats().last - t0) / 1000;
    result.throughput = { messagesPerSecond: round(MESSAGES / seconds), seconds: round(seconds) };
    console.error(`throughput: ${result.throughput.messagesPerSecond} messages/s (${MESSAGES} in ${round(seconds)} s)`);

    // 2. Latency: commit of Notifier.notify → the organizer's socket `notification`.
    const email = `organizer.${Date.now()}@bench.test`;
    const reg = await fetch(`${api}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bench Organizer', email, password: 'BenchTrek2026x', phone: '+919812345678', role: 'organizer' }),
    }).then((r) => r.json());
    const organizerId = reg.data.user.id;
    const socket = io(api, { path: '/socket.io', auth: { token: reg.data.accessToken }, transports: ['websocket'], reconnection: false });
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    await new Promise((r) => setTimeout(r, 200)); // rooms joined
    const waiting = new Map();
    socket.on('notification', (n) => {
      const at = performance.now();
      const w = waiting.get(n.title);
      if (w) w(at);
    });
    const latencies = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < NOTIFICATIONS) {
          const i = next++;
          const title = `bench-${i}`;
          const arrived = new Promise((r) => waiting.set(`New booking: ${title}`, r));
          await ds.transaction((m) =>
            notifier.notify(m, {
              type: 'booking.new',
              userId: organizerId,
              data: { bookingId: `b-${i}`, tripTitle: title, startDate: '2027-01-10', seats: 1, amount: 1_499_900, travelerName: 'Bench Traveller' },
              dedupeKey: `bench-new:${i}`,
            }),
          );
          const committed = performance.now();
          const at = await arrived;
          latencies.push(at - committed);
        }
      }),
    );
    socket.close();
    latencies.sort((a, b) => a - b);
    result.latencyMs = { p50: round(pct(latencies, 50)), p99: round(pct(latencies, 99)), max: round(latencies.at(-1)), n: latencies.length };
    console.error(`latency commit → socket notification: p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, max ${result.latencyMs.max} ms`);
  } finally {
    await running.close();
    await new Promise((r) => smtp.server.close(r));
    await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    await admin.end();
  }
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${args.label}-${commit}.json`), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
