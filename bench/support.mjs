#!/usr/bin/env node
// The support desk at size (issue 13): 100,000 users and 20,000 tickets (60,000 messages) on the
// PostgreSQL server, then
//   1. EXPLAIN (ANALYZE, BUFFERS) of the customer search and of the ticket queue, as the app runs them;
//   2. latency of GET /api/v1/agent/customers/search and GET /api/v1/agent/tickets over HTTP
//      (autocannon, 10 connections, 10 s each, after a 3 s warm-up).
// It builds nothing: run `npm run build` first. It creates and drops its own database.
//
//   npm run build && node bench/support.mjs [--pg postgres://postgres@127.0.0.1:5432/postgres] [--port N]
//
// Writes bench/results/support.json (figures) and bench/results/support-plans.txt (the plans).
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'bench', 'results');
const { values: args } = parseArgs({
  options: {
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    port: { type: 'string' },
    users: { type: 'string', default: '100000' },
    tickets: { type: 'string', default: '20000' },
  },
});
const USERS = Number(args.users);
const TICKETS = Number(args.tickets);
const PASSWORD = 'BenchTrek2026x';
const dbName = `tt_bench_support_${Date.now()}`;
const dbUrl = (() => {
  const u = new URL(args.pg);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
// A free port unless one is given: other benches may be running on this machine.
const port =
  args.port ??
  (await new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address();
      srv.close(() => resolve(String(p)));
    });
  }));
const api = `http://127.0.0.1:${port}`;

const FIRST = [
  'Asha',
  'Ravi',
  'Meera',
  'Vikram',
  'Priya',
  'Arjun',
  'Kavya',
  'Rohan',
  'Ishita',
  'Karan',
  'Neha',
  'Aditya',
  'Sneha',
  'Rahul',
  'Pooja',
  'Siddharth',
  'Ananya',
  'Manish',
  'Divya',
  'Nikhil',
];
const LAST = [
  'Rao',
  'Sharma',
  'Iyer',
  'Sethi',
  'Nair',
  'Gupta',
  'Menon',
  'Patel',
  'Reddy',
  'Das',
  'Kulkarni',
  'Bose',
  'Joshi',
  'Chopra',
  'Pillai',
  'Verma',
  'Mehta',
  'Kapoor',
  'Singh',
  'Banerjee',
];
const SUBJECTS = [
  'Refund not received',
  'Pickup point for day 1',
  'Payment failed but money debited',
  'Change my booking dates',
  'Screenshot not verified',
  'Cannot log in',
  'Listing hidden after payment',
  'Invoice for my booking',
  'Weather on the trek',
  'Group discount',
];
const sqlArray = (xs) => `ARRAY[${xs.map((x) => `'${x.replace(/'/g, "''")}'`).join(',')}]`;

async function waitHealthy(proc) {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`the API exited with ${proc.exitCode}`);
    try {
      const r = await fetch(`${api}/api/v1/health`);
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the API did not become healthy');
}

async function post(path, body, token) {
  const r = await fetch(`${api}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

async function seed(db) {
  const t0 = Date.now();
  const reg = await post('/auth/register', {
    name: 'Bench Agent',
    email: 'bench-agent@bench.trektribe.test',
    password: PASSWORD,
    phone: '+919800000000',
  });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.json)}`);
  await db.query(`UPDATE users SET role = 'agent' WHERE email = 'bench-agent@bench.trektribe.test'`);
  const {
    rows: [{ password_hash: hash }],
  } = await db.query(`SELECT password_hash FROM users WHERE email = 'bench-agent@bench.trektribe.test'`);
  await db.query('BEGIN');
  await db.query(
    `INSERT INTO users (name, email, phone, password_hash, role, email_verified_at, created_at)
     SELECT (${sqlArray(FIRST)})[1 + g % 20] || ' ' || (${sqlArray(LAST)})[1 + (g / 20) % 20] || ' ' || g,
            lower((${sqlArray(FIRST)})[1 + g % 20]) || '.' || g || '@mail' || (g % 7) || '.example.com',
            '+91' || (9000000000 + g * 7919 % 1000000000)::text,
            $1, CASE WHEN g % 25 = 0 THEN 'organizer' ELSE 'traveler' END, now(), now() - make_interval(mins => g)
       FROM generate_series(1, $2::int) g`,
    [hash, USERS],
  );
  await db.query(
    `INSERT INTO support_tickets (customer_id, subject, category, status, priority, first_response_due_at, first_response_at, created_at)
     SELECT u.id, (${sqlArray(SUBJECTS)})[1 + g % 10] || ' #' || g,
            (ARRAY['booking','payment','refund','account','listing','other'])[1 + g % 6],
            (ARRAY['open','open','pending','resolved','closed'])[1 + g % 5],
            CASE WHEN g % 9 = 0 THEN 'high' ELSE 'normal' END,
            now() - make_interval(mins => g) + interval '4 hours',
            CASE WHEN g % 3 = 0 THEN now() - make_interval(mins => g) + interval '1 hour' END,
            now() - make_interval(mins => g)
       FROM generate_series(1, $1::int) g
       JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM users WHERE role = 'traveler' LIMIT 5000) u
         ON u.rn = 1 + (g * 37) % 5000`,
    [TICKETS],
  );
  await db.query(
    `INSERT INTO support_ticket_messages (ticket_id, author_id, author_role, body, internal, created_at)
     SELECT t.id, t.customer_id, 'traveler',
            'Message ' || k || ' about ' || t.subject || ': booking reference TT-' || md5(t.id::text || k)::varchar(10),
            k = 3, t.created_at + make_interval(mins => k)
       FROM support_tickets t CROSS JOIN generate_series(1, 3) k`,
  );
  await db.query('COMMIT');
  await db.query('ANALYZE');
  const login = await post('/auth/login', { email: 'bench-agent@bench.trektribe.test', password: PASSWORD });
  if (login.status !== 200) throw new Error(`login: ${login.status}`);
  return { token: login.json.data.accessToken, seconds: (Date.now() - t0) / 1000 };
}

// The statements the app sends, as TypeORM's query log shows them (select lists shortened to the
// columns that matter). The search runs with enable_seqscan off, as UserDirectory.searchCustomers does.
const branch = (match) => `(SELECT id FROM "users" WHERE ${match} LIMIT 200)`;
const searchSql = (
  phone,
) => `SELECT "u"."id", "u"."name", "u"."email", "u"."phone", "u"."role" FROM "users" "u"
  WHERE "u"."id" IN (${[branch('name ILIKE $1'), branch('email ILIKE $1'), ...(phone ? [branch('phone LIKE $3')] : [])].join(' UNION ')})
    AND "u"."role" IN ('traveler', 'organizer')
  ORDER BY ("u"."email" = lower($2)) DESC, "u"."name" ASC, "u"."id" ASC LIMIT 20`;
const overdue = `(t.status IN ('open', 'pending') AND t.first_response_at IS NULL AND t.first_response_due_at <= $1)`;
const QUEUE_SQL = `SELECT t.id FROM support_tickets t WHERE t.status = $2
  ORDER BY ${overdue} DESC, (t.priority = 'high') DESC, t.first_response_due_at, t.created_at, t.id LIMIT 20 OFFSET 0`;
const QUEUE_TEXT_SQL = `SELECT t.id FROM support_tickets t
  WHERE t.id IN (SELECT id FROM support_tickets WHERE subject ILIKE $2
                 UNION SELECT ticket_id FROM support_ticket_messages WHERE body ILIKE $2)
  ORDER BY ${overdue} DESC, (t.priority = 'high') DESC, t.first_response_due_at, t.created_at, t.id LIMIT 20 OFFSET 0`;

async function explain(db, title, sql, params, { noSeqScan = false } = {}) {
  await db.query('BEGIN');
  if (noSeqScan) await db.query('SET LOCAL enable_seqscan = off');
  const { rows } = await db.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`, params);
  await db.query('COMMIT');
  return `## ${title}\n${sql}\n-- params: ${JSON.stringify(params)}\n${rows.map((r) => r['QUERY PLAN']).join('\n')}\n`;
}

async function load(path, token) {
  const run = (duration) =>
    autocannon({
      url: `${api}${path}`,
      connections: 10,
      duration,
      headers: { authorization: `Bearer ${token}` },
    });
  await run(3);
  const r = await run(10);
  return {
    path,
    reqPerSec: r.requests.average,
    p50: r.latency.p50,
    p97_5: r.latency.p97_5,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

const admin = new pg.Client({ connectionString: args.pg });
await admin.connect();
await admin.query(`CREATE DATABASE "${dbName}"`);
const proc = spawn(process.execPath, [join(ROOT, 'dist/apps/api/src/main.js')], {
  env: {
    ...process.env,
    DATABASE_URL: dbUrl,
    PORT: port,
    NODE_ENV: 'production',
    JWT_ACCESS_SECRET: 'bench-access-secret-0123456789abcdefghijkl',
    JWT_REFRESH_SECRET: 'bench-refresh-secret-9876543210zyxwvutsrqpo',
    LOG_LEVEL: 'warn',
    THROTTLE_LIMIT: '100000000',
    AUTH_THROTTLE_LIMIT: '100000000',
    SCHEDULER_ENABLED: 'false',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
// Interrupted (Ctrl-C, a timeout): stop the API; the database is dropped by the finally below.
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => proc.kill('SIGTERM'));
const db = new pg.Client({ connectionString: dbUrl });
try {
  await waitHealthy(proc);
  await db.connect();
  console.error(`API up on ${api}, seeding…`);
  const { token, seconds } = await seed(db);
  console.error(`seeded ${USERS} users, ${TICKETS} tickets in ${seconds.toFixed(1)} s`);
  const now = new Date();
  const plans = [
    await explain(
      db,
      'customer search: part of a name',
      searchSql(false),
      ['%meera iyer 4%', 'meera iyer 4'],
      {
        noSeqScan: true,
      },
    ),
    await explain(
      db,
      'customer search: part of a phone',
      searchSql(true),
      ['%9876543%', '9876543', '%9876543%'],
      {
        noSeqScan: true,
      },
    ),
    await explain(db, 'customer search: part of an email', searchSql(false), ['%kavya.123%', 'kavya.123'], {
      noSeqScan: true,
    }),
    await explain(
      db,
      'customer search: a broad term (every email)',
      searchSql(false),
      ['%example.com%', 'example.com'],
      {
        noSeqScan: true,
      },
    ),
    await explain(db, 'queue: status=open, overdue first', QUEUE_SQL, [now, 'open']),
    await explain(db, 'queue: q over subjects and messages', QUEUE_TEXT_SQL, [now, '%TT-4f%']),
  ];
  const latency = [
    await load('/api/v1/agent/customers/search?q=meera%20iyer%204', token),
    await load('/api/v1/agent/customers/search?q=9876543', token),
    await load('/api/v1/agent/customers/search?q=kavya.123', token),
    await load('/api/v1/agent/customers/search?q=example.com', token),
    await load('/api/v1/agent/tickets?status=open', token),
    await load('/api/v1/agent/tickets?q=screenshot', token),
    await load('/api/v1/agent/stats', token),
  ];
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'support-plans.txt'), plans.join('\n'));
  const out = { users: USERS, tickets: TICKETS, messages: TICKETS * 3, latency };
  writeFileSync(join(RESULTS, 'support.json'), JSON.stringify(out, null, 2));
  console.log(plans.join('\n'));
  console.table(latency);
} finally {
  await db.end().catch(() => undefined);
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
}
