#!/usr/bin/env node
// Seeds a freshly migrated bench database directly in SQL (bulk INSERT … SELECT generate_series):
//   40 organizers, 2,000 travelers, 300 "hot" travelers (for the bookings run),
//   999 regular trips + 1 hot trip (= 1,000 trips, all active, all in the future),
//   10,000 bookings over the 999 regular trips (confirmed/pending/cancelled/expired) with one
//   participant per seat, and trips.seats_booked set to the live (pending + confirmed) seats.
//
// Password hashes: argon2id is slow on purpose, so ONE user is registered through the real API
// (POST /api/v1/auth/register) and its password_hash is copied into every seeded row. Every seeded
// user therefore logs in with BENCH_PASSWORD.
//
//   node bench/seed.mjs --api http://127.0.0.1:4100 --db postgres://postgres@127.0.0.1:5432/tt_bench_x [--out manifest.json]
//
// Prints (and writes to --out) a JSON manifest: hot trip id, its capacity, traveler emails, password.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';

export const BENCH_PASSWORD = 'BenchTrek2026x';
export const EMAIL_DOMAIN = 'bench.trektribe.test';
export const COUNTS = { organizers: 40, travelers: 2000, hotTravelers: 300, trips: 1000, bookings: 10000 };
export const HOT_CAPACITY = 500;

export const DESTINATIONS = [
  'Uttarakhand', 'Himachal Pradesh', 'Ladakh', 'Sikkim', 'Kashmir', 'Karnataka', 'Kerala',
  'Maharashtra', 'Meghalaya', 'Arunachal Pradesh', 'Nepal', 'Rajasthan', 'West Bengal',
];
const FEATURES = ['Snow', 'Lake', 'Valley', 'Summit', 'Forest', 'Glacier', 'Meadow', 'River', 'Ridge', 'Waterfall', 'Desert'];
const KINDS = ['Trek', 'Expedition', 'Camp', 'Hike', 'Trail', 'Circuit', 'Traverse'];
const ADJ = ['Frozen', 'Hidden', 'Emerald', 'Golden', 'Misty', 'Wild', 'Ancient', 'Silent', 'Twin'];
const CATEGORIES = ['trekking', 'snow', 'camping', 'wildlife', 'river-rafting', 'cycling', 'pilgrimage', 'photography', 'beginner-friendly'];
const SENTENCES = [
  'Walk through pine and rhododendron forest to high camps with views of the main range.',
  'Nights in alpine tents, hot meals cooked by our kitchen crew and a certified trek leader.',
  'Cross a snow ridge at dawn and descend past shepherd huts and glacial streams.',
  'Ideal for fit beginners; previous experience at altitude helps but is not required.',
  'Campfires, stargazing and a rest day by the lake for acclimatisation.',
  'The route climbs through terraced villages, oak forest and wide summer meadows.',
  'Includes permits, forest entry fees, porters for common gear and first aid.',
];

const sqlArray = (xs) => `ARRAY[${xs.map((x) => `'${x.replace(/'/g, "''")}'`).join(',')}]`;

async function api(base, method, path, body) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => null);
  return { status: res.status, json };
}

export async function seed({ apiUrl, dbUrl, log = console.error }) {
  const t0 = Date.now();
  // 1. One real argon2id hash through the app's register endpoint.
  const templateEmail = `bench-template@${EMAIL_DOMAIN}`;
  const reg = await api(apiUrl, 'POST', '/auth/register', {
    name: 'Bench Template', email: templateEmail, password: BENCH_PASSWORD, phone: '+919800000000', role: 'traveler',
  });
  if (reg.status !== 201 && reg.json?.error?.code !== 'EMAIL_TAKEN') throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.json)}`);

  const db = new pg.Client({ connectionString: dbUrl, application_name: 'bench-seed' });
  await db.connect();
  try {
    const { rows: [{ password_hash: hash }] } = await db.query('SELECT password_hash FROM users WHERE email = $1', [templateEmail]);
    if (!hash?.startsWith('$argon2id$')) throw new Error('template user has no argon2id hash');

    await db.query('BEGIN');
    // 2. Users, all with the template hash.
    await db.query(
      `INSERT INTO users (name, email, phone, password_hash, role, email_verified_at, created_at)
       SELECT 'Bench Organizer ' || g, 'bench-org-' || g || '@${EMAIL_DOMAIN}', '+9197' || lpad(g::text, 8, '0'), $1, 'organizer', now(), now() - make_interval(days => g)
         FROM generate_series(1, $2::int) g`,
      [hash, COUNTS.organizers],
    );
    await db.query(
      `INSERT INTO users (name, email, phone, password_hash, role, email_verified_at, created_at)
       SELECT 'Bench Traveler ' || g, 'bench-traveler-' || g || '@${EMAIL_DOMAIN}', '+9198' || lpad(g::text, 8, '0'), $1, 'traveler', now(), now() - make_interval(hours => g)
         FROM generate_series(1, $2::int) g`,
      [hash, COUNTS.travelers],
    );
    await db.query(
      `INSERT INTO users (name, email, phone, password_hash, role, email_verified_at)
       SELECT 'Bench Hot Traveler ' || g, 'bench-hot-' || g || '@${EMAIL_DOMAIN}', '+9196' || lpad(g::text, 8, '0'), $1, 'traveler', now()
         FROM generate_series(1, $2::int) g`,
      [hash, COUNTS.hotTravelers],
    );

    // 3. 999 regular trips (the search_vector trigger fills search_vector on INSERT).
    const regular = COUNTS.trips - 1;
    await db.query(
      `WITH orgs AS (SELECT id, row_number() OVER (ORDER BY email) AS n FROM users WHERE email LIKE 'bench-org-%')
       INSERT INTO trips (organizer_id, title, description, destination, categories, difficulty_level, start_date, end_date,
                          price, capacity, itinerary, included_items, requirements, images, status, rating_avg, review_count, created_at)
       SELECT o.id,
              adj[1 + g % ${ADJ.length}] || ' ' || feat[1 + g % ${FEATURES.length}] || ' ' || kind[1 + g % ${KINDS.length}] || ' ' || g,
              sent[1 + g % ${SENTENCES.length}] || ' ' || sent[1 + (g * 3 + 1) % ${SENTENCES.length}] || ' ' || sent[1 + (g * 5 + 4) % ${SENTENCES.length}]
                || ' A ' || lower(feat[1 + (g / 11) % ${FEATURES.length}]) || ' detour is optional on day two.',
              dest[1 + g % ${DESTINATIONS.length}],
              (SELECT array_agg(DISTINCT c) FROM unnest(ARRAY[cat[1 + g % ${CATEGORIES.length}], cat[1 + (g / 5) % ${CATEGORIES.length}]]) c)::varchar[],
              (ARRAY['beginner', 'intermediate', 'advanced'])[1 + g % 3],
              current_date + 3 + g % 300,
              current_date + 3 + g % 300 + 2 + g % 7,
              300000 + ((g * 7919) % 50) * 50000,
              30 + g % 31,
              jsonb_build_array(
                jsonb_build_object('day', 1, 'title', 'Drive to base camp', 'activities', jsonb_build_array('Pick-up at 6 am', 'Briefing')),
                jsonb_build_object('day', 2, 'title', 'Trek to high camp', 'activities', jsonb_build_array('8 km trek', 'Camp by the ' || lower(feat[1 + g % ${FEATURES.length}]))),
                jsonb_build_object('day', 3, 'title', 'Summit and descent', 'activities', jsonb_build_array('Summit push at 4 am', 'Descend to base'))),
              ARRAY['Meals', 'Tents', 'Guide', 'Permits']::varchar[],
              ARRAY['Fitness certificate', 'Photo ID']::varchar[],
              ARRAY['https://cdn.trektribe.in/trips/' || g || '.jpg']::varchar[],
              'active',
              round(3 + (g % 20) / 10.0, 2),
              g % 50,
              now() - make_interval(days => g % 90)
         FROM generate_series(1, $1::int) g
         JOIN orgs o ON o.n = 1 + g % ${COUNTS.organizers},
              (SELECT ${sqlArray(ADJ)} AS adj, ${sqlArray(FEATURES)} AS feat, ${sqlArray(KINDS)} AS kind, ${sqlArray(DESTINATIONS)} AS dest,
                      ${sqlArray(CATEGORIES)} AS cat, ${sqlArray(SENTENCES)} AS sent) w`,
      [regular],
    );
    // The hot trip: large capacity, no seeded bookings, far enough out to stay bookable.
    const { rows: [hot] } = await db.query(
      `INSERT INTO trips (organizer_id, title, description, destination, categories, difficulty_level, start_date, end_date, price, capacity, status)
       SELECT id, 'Bench Hot Kedarkantha Summit Trek', 'The sale everybody wants a seat on: one trip, many travelers, no oversell.',
              'Uttarakhand', ARRAY['trekking', 'snow']::varchar[], 'intermediate', current_date + 60, current_date + 65, 1299900, $1, 'active'
         FROM users WHERE email = 'bench-org-1@${EMAIL_DOMAIN}'
       RETURNING id, capacity`,
      [HOT_CAPACITY],
    );

    // 4. 10,000 bookings spread evenly over the 999 regular trips (~10 each): 55 % confirmed, 15 % pending,
    //    20 % cancelled, 10 % expired; 1–3 seats. Live seats per trip ≤ 7 × 3 = 21 < min capacity 30.
    await db.query(
      `WITH t AS (SELECT id, organizer_id, price, row_number() OVER (ORDER BY id) AS n FROM trips WHERE id <> $2),
            u AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM users WHERE email LIKE 'bench-traveler-%'),
            s AS (SELECT b,
                         CASE WHEN b % 20 < 11 THEN 'confirmed' WHEN b % 20 < 14 THEN 'pending' WHEN b % 20 < 18 THEN 'cancelled' ELSE 'expired' END AS status,
                         CASE WHEN b % 4 = 0 THEN 'screenshot' ELSE 'online' END AS method,
                         1 + b % 3 AS seats
                    FROM generate_series(1, $1::int) b)
       INSERT INTO bookings (trip_id, traveler_id, organizer_id, seats, unit_price, total_amount, status, payment_status, payment_method,
                             hold_expires_at, seats_released_at, cancellation_policy, confirmed_at, cancelled_at, cancelled_by_role,
                             cancel_reason, created_at, updated_at)
       SELECT t.id, u.id, t.organizer_id, s.seats, t.price, t.price * s.seats, s.status,
              CASE s.status WHEN 'confirmed' THEN 'paid' WHEN 'pending' THEN (CASE WHEN s.method = 'screenshot' THEN 'awaiting_verification' ELSE 'unpaid' END)
                            ELSE 'unpaid' END,
              s.method,
              CASE WHEN s.status = 'pending' THEN now() + interval '48 hours' END,
              CASE WHEN s.status IN ('cancelled', 'expired') THEN now() - make_interval(hours => s.b % 200) END,
              '{"tiers":[{"minHoursBefore":168,"refundPercent":100},{"minHoursBefore":24,"refundPercent":50}]}'::jsonb,
              CASE WHEN s.status = 'confirmed' THEN now() - make_interval(hours => s.b % 500) END,
              CASE WHEN s.status = 'cancelled' THEN now() - make_interval(hours => s.b % 200) END,
              CASE WHEN s.status = 'cancelled' THEN 'traveler' END,
              CASE WHEN s.status = 'cancelled' THEN 'Change of plans' END,
              now() - make_interval(hours => 200 + s.b % 1000),
              now() - make_interval(hours => s.b % 200)
         FROM s
         JOIN t ON t.n = 1 + s.b % $3
         JOIN u ON u.n = 1 + (s.b * 7) % $4`,
      [COUNTS.bookings, hot.id, regular, COUNTS.travelers],
    );
    await db.query(
      `INSERT INTO booking_participants (booking_id, name, phone, age, dietary_restrictions)
       SELECT b.id, 'Participant ' || p || ' of ' || left(b.id::text, 8), '+9195' || lpad((abs(hashtext(b.id::text)) % 100000000)::text, 8, '0'),
              18 + abs(hashtext(b.id::text || p)) % 45, CASE WHEN p = 2 THEN 'vegetarian' END
         FROM bookings b, generate_series(1, b.seats) p`,
    );
    // 5. seats_booked = live seats (CHECK seats_booked <= capacity guards the arithmetic).
    await db.query(
      `UPDATE trips t SET seats_booked = l.seats
         FROM (SELECT trip_id, sum(seats)::int AS seats FROM bookings WHERE status IN ('pending', 'confirmed') GROUP BY trip_id) l
        WHERE t.id = l.trip_id`,
    );
    await db.query('COMMIT');
    await db.query('ANALYZE');

    const { rows: [counts] } = await db.query(
      `SELECT (SELECT count(*) FROM trips)::int AS trips, (SELECT count(*) FROM bookings)::int AS bookings,
              (SELECT count(*) FROM booking_participants)::int AS participants, (SELECT count(*) FROM users)::int AS users,
              (SELECT count(*) FROM trips WHERE seats_booked <> (SELECT coalesce(sum(seats), 0) FROM bookings b WHERE b.trip_id = trips.id AND b.status IN ('pending', 'confirmed')))::int AS inconsistent`,
    );
    const { rows: statusRows } = await db.query(`SELECT status, count(*)::int AS n FROM bookings GROUP BY status ORDER BY status`);
    const manifest = {
      seededAt: new Date().toISOString(),
      seconds: (Date.now() - t0) / 1000,
      counts,
      bookingStatuses: Object.fromEntries(statusRows.map((r) => [r.status, r.n])),
      password: BENCH_PASSWORD,
      hotTrip: { id: hot.id, capacity: hot.capacity },
      hotTravelers: Array.from({ length: COUNTS.hotTravelers }, (_, i) => `bench-hot-${i + 1}@${EMAIL_DOMAIN}`),
    };
    if (counts.inconsistent !== 0) throw new Error(`seats_booked inconsistent on ${counts.inconsistent} trips`);
    log(`seeded in ${manifest.seconds.toFixed(1)} s: ${JSON.stringify(counts)} ${JSON.stringify(manifest.bookingStatuses)}`);
    return manifest;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await db.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { api: { type: 'string' }, db: { type: 'string' }, out: { type: 'string' } } });
  if (!values.api || !values.db) {
    console.error('usage: node bench/seed.mjs --api http://127.0.0.1:PORT --db postgres://…/tt_bench_x [--out manifest.json]');
    process.exit(2);
  }
  const manifest = await seed({ apiUrl: values.api, dbUrl: values.db });
  if (values.out) writeFileSync(values.out, JSON.stringify(manifest, null, 2));
  else console.log(JSON.stringify({ ...manifest, hotTravelers: `${manifest.hotTravelers.length} emails` }, null, 2));
}
