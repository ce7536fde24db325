#!/usr/bin/env node
// The baseline for the search benchmark: plain `node:http` + `pg.Pool` (10 connections, like the app)
// answering GET /api/v1/trips?q=&destination=&page=&limit= with the SAME SQL the app's
// TripsService.search emits through TypeORM (captured from TypeORM's query log, TypeORM 1.1.1) and
// the same JSON envelope `{ success, data, meta: { page, limit, total } }`. No framework, no
// middleware, no validation beyond what the SQL needs.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/tt_bench_x PORT=38111 node bench/bare-search-server.mjs
//
// Only the parameters the benchmark sends are supported (q, destination, page, limit); with q the
// order is relevance, as in the app.
import http from 'node:http';
import pg from 'pg';

// TypeORM hands `date` columns back as 'YYYY-MM-DD' strings; do the same instead of pg's Date.
pg.types.setTypeParser(1082, (v) => v);

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: 10,
  connectionTimeoutMillis: 10_000,
  idleTimeoutMillis: 30_000,
  application_name: 'bench-bare',
});

const COLUMNS = `"t"."id" AS "t_id", "t"."organizer_id" AS "t_organizer_id", "t"."title" AS "t_title", "t"."description" AS "t_description", "t"."destination" AS "t_destination", "t"."categories" AS "t_categories", "t"."difficulty_level" AS "t_difficulty_level", "t"."start_date" AS "t_start_date", "t"."end_date" AS "t_end_date", "t"."timezone" AS "t_timezone", "t"."price" AS "t_price", "t"."currency" AS "t_currency", "t"."capacity" AS "t_capacity", "t"."seats_booked" AS "t_seats_booked", "t"."itinerary" AS "t_itinerary", "t"."included_items" AS "t_included_items", "t"."requirements" AS "t_requirements", "t"."images" AS "t_images", "t"."status" AS "t_status", "t"."rating_avg" AS "t_rating_avg", "t"."review_count" AS "t_review_count", "t"."cancelled_at" AS "t_cancelled_at", "t"."cancel_reason" AS "t_cancel_reason", "t"."created_at" AS "t_created_at", "t"."updated_at" AS "t_updated_at"`;

// Exactly what TypeORM sends for `?q=…&destination=…` (q → relevance sort). Parameters are
// numbered in order of first appearance, so they differ between the two statements, as in TypeORM.
const SELECT_SQL = (limit, offset) =>
  `SELECT ${COLUMNS}, ts_rank("t"."search_vector", websearch_to_tsquery('english', $1)) + ts_rank("t"."search_vector", websearch_to_tsquery('simple', $1)) AS "rank" FROM "trips" "t" WHERE "t"."status" = 'active' AND "t"."start_date" >= $2 AND ("t"."search_vector" @@ websearch_to_tsquery('english', $1) OR "t"."search_vector" @@ websearch_to_tsquery('simple', $1)) AND lower("t"."destination") LIKE $3 ORDER BY "rank" DESC, "t"."id" ASC LIMIT ${limit} OFFSET ${offset}`;
const COUNT_SQL = `SELECT COUNT(1) AS "cnt" FROM "trips" "t" WHERE "t"."status" = 'active' AND "t"."start_date" >= $1 AND ("t"."search_vector" @@ websearch_to_tsquery('english', $2) OR "t"."search_vector" @@ websearch_to_tsquery('simple', $2)) AND lower("t"."destination") LIKE $3`;

const todayFmt = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Kolkata', year: 'numeric', month: '2-digit', day: '2-digit' });
const escapeLike = (s) => s.replace(/[\\%_]/g, (c) => '\\' + c);

const view = (r) => ({
  id: r.t_id,
  organizerId: r.t_organizer_id,
  title: r.t_title,
  description: r.t_description,
  destination: r.t_destination,
  categories: r.t_categories,
  difficultyLevel: r.t_difficulty_level,
  startDate: r.t_start_date,
  endDate: r.t_end_date,
  timezone: r.t_timezone,
  price: r.t_price,
  currency: r.t_currency,
  capacity: r.t_capacity,
  seatsBooked: r.t_seats_booked,
  seatsAvailable: r.t_capacity - r.t_seats_booked,
  itinerary: r.t_itinerary,
  includedItems: r.t_included_items,
  requirements: r.t_requirements,
  images: r.t_images,
  status: r.t_status,
  rating: Number(r.t_rating_avg),
  reviewCount: r.t_review_count,
  createdAt: r.t_created_at,
  updatedAt: r.t_updated_at,
});

function send(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

async function search(url) {
  const q = url.searchParams.get('q');
  const destination = url.searchParams.get('destination');
  const page = Number(url.searchParams.get('page') ?? 1);
  const limit = Number(url.searchParams.get('limit') ?? 20);
  if (!q || !destination || !(Number.isInteger(page) && page >= 1) || !(Number.isInteger(limit) && limit >= 1 && limit <= 100)) {
    return [400, { success: false, error: { code: 'VALIDATION_ERROR', message: 'q, destination, page, limit', statusCode: 400 } }];
  }
  const offset = (page - 1) * limit;
  const today = todayFmt.format(new Date());
  const dest = `${escapeLike(destination.trim().toLowerCase())}%`;
  // One pooled connection for both statements, as TypeORM's getManyAndCount holds one query runner.
  const client = await pool.connect();
  try {
    const { rows } = await client.query(SELECT_SQL(limit, offset), [q, today, dest]);
    // TypeORM's lazy count: only when the page is full (or empty past the first page).
    let total = offset + rows.length;
    if (rows.length === limit || (rows.length === 0 && offset > 0)) {
      const { rows: [c] } = await client.query(COUNT_SQL, [today, q, dest]);
      total = Number(c.cnt);
    }
    return [200, { success: true, data: rows.map(view), meta: { page, limit, total } }];
  } finally {
    client.release();
  }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (req.method === 'GET' && url.pathname === '/api/v1/trips') {
    search(url).then(
      ([status, body]) => send(res, status, body),
      (err) => send(res, 500, { success: false, error: { code: 'INTERNAL', message: String(err?.message ?? err), statusCode: 500 } }),
    );
  } else if (url.pathname === '/api/v1/health') {
    send(res, 200, { success: true, data: { status: 'ok' } });
  } else {
    send(res, 404, { success: false, error: { code: 'NOT_FOUND', message: 'Not found', statusCode: 404 } });
  }
});
server.keepAliveTimeout = 5_000;

const port = Number(process.env.PORT ?? 38111);
server.listen(port, '127.0.0.1', () => console.error(`bare search server on http://127.0.0.1:${port}/api/v1/trips (pid ${process.pid})`));

const shutdown = () => {
  server.close();
  server.closeAllConnections?.();
  pool.end().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 3_000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
