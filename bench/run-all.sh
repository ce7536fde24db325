#!/usr/bin/env bash
# The whole benchmark, end to end, on loopback only:
#   build → fresh database tt_bench_<ts> → built API (migrations at start) → seed → bare server →
#   search app/bare in alternating rounds → hot-trip bookings → summary → stop both servers → drop the database.
#
#   bench/run-all.sh                      # defaults below; every step has a time limit
#   SKIP_BUILD=1 ROUNDS=1 bench/run-all.sh
#
# Environment (all optional):
#   PG_ADMIN_URL       server to create/drop the bench database on   postgres://postgres@127.0.0.1:5432/postgres
#   API_PORT, BARE_PORT                                                 38110, 38111
#   CONNECTIONS        autocannon connections                           50
#   SEARCH_DURATION    seconds per measured search run (after a 5 s warm-up)  20
#   BOOKINGS_DURATION  seconds for the booking storm (stops early when sold out)  15
#   ROUNDS             app/bare search rounds, alternating (the median is reported)  3
#   QUIET_WAIT         seconds to wait for the (shared) machine to go idle before each run  90
#   SKIP_BUILD=1       use the existing dist/ instead of `npx nest build`
#   BOOKINGS_ONLY=1    only the hot-trip booking run after the seed (no bare server, no search rounds)
#   PGBENCH=1          then pgbench bench/hot-trip-hold.sql on the same trip and concurrency (the SQL floor)
#   SYNC_COMMIT=off    the bench database without the WAL flush per commit (a diagnostic of the locked work)
#   SNAPSHOT=<git ref> benchmark that commit instead of the working tree: `git archive <ref>` into a
#                      temp dir (node_modules symlinked), `npx nest build` there, run that build.
#                      Use it while the working tree is being edited; the repository is not touched.
#
# Raw autocannon outputs go to bench/results/search-{app,bare}-r<N>.json and bench/results/bookings.json;
# bench/results/summary-search-bookings.json has the figures (req/s, p50/p99, ratio, bookings/s, oversell, RSS).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
API_PORT="${API_PORT:-38110}"
BARE_PORT="${BARE_PORT:-38111}"
CONNECTIONS="${CONNECTIONS:-50}"
SEARCH_DURATION="${SEARCH_DURATION:-20}"
BOOKINGS_DURATION="${BOOKINGS_DURATION:-15}"
ROUNDS="${ROUNDS:-3}"
QUIET_WAIT="${QUIET_WAIT:-90}"

TS="$(date -u +%Y%m%d%H%M%S)"
DB="tt_bench_${TS}"
DB_URL="${PG_ADMIN_URL%/*}/${DB}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tt-bench.XXXXXX")"
RESULTS="$ROOT/bench/results"
mkdir -p "$RESULTS"
API_PID=""
BARE_PID=""
DB_CREATED=0

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

pgexec() { # one statement against the admin database
  PG_ADMIN_URL="$PG_ADMIN_URL" SQL="$1" timeout 60 node --input-type=module -e '
    import pg from "pg";
    const c = new pg.Client({ connectionString: process.env.PG_ADMIN_URL });
    await c.connect();
    try { await c.query(process.env.SQL); } finally { await c.end(); }'
}

stop_pid() { # stop one process we started: SIGTERM, then SIGKILL after 10 s
  local pid="$1"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  stop_pid "$BARE_PID"
  stop_pid "$API_PID"
  if [ "$DB_CREATED" = 1 ]; then
    pgexec "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" && log "dropped $DB" || log "could not drop $DB"
  fi
  if [ $rc -ne 0 ] && [ -f "$WORK/api.log" ]; then log "API log tail:"; tail -20 "$WORK/api.log" >&2; fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_http() { # url, seconds
  local url="$1" deadline=$((SECONDS + $2))
  until curl -sf -o /dev/null "$url"; do
    [ $SECONDS -lt $deadline ] || { log "timed out waiting for $url"; return 1; }
    sleep 0.3
  done
}

APP_ROOT="$ROOT"
if [ -n "${SNAPSHOT:-}" ]; then
  APP_ROOT="$WORK/app"
  mkdir -p "$APP_ROOT"
  COMMIT="$(git rev-parse --short "$SNAPSHOT^{commit}")"
  log "snapshot of $SNAPSHOT ($COMMIT) in $APP_ROOT"
  git archive "$COMMIT" | tar -x -C "$APP_ROOT"
  ln -s "$ROOT/node_modules" "$APP_ROOT/node_modules"
else
  COMMIT="$(git rev-parse --short HEAD)"
  if [ -n "$(git status --porcelain -- apps libs)" ]; then COMMIT="$COMMIT+uncommitted"; fi
fi
if [ "${SKIP_BUILD:-0}" != 1 ] || [ -n "${SNAPSHOT:-}" ]; then
  log "building (npx nest build) in $APP_ROOT"
  (cd "$APP_ROOT" && timeout 300 npx nest build)
fi

log "creating database $DB"
pgexec "CREATE DATABASE \"$DB\""
DB_CREATED=1
if [ -n "${SYNC_COMMIT:-}" ]; then
  # A diagnostic: synchronous_commit=off takes the WAL flush out of each commit, so what is left is
  # the work done while the hot trip's row is locked. Never the setting the product runs with.
  log "synchronous_commit = $SYNC_COMMIT for $DB"
  pgexec "ALTER DATABASE \"$DB\" SET synchronous_commit = $SYNC_COMMIT"
fi

log "starting the API on 127.0.0.1:$API_PORT (migrations run at start)"
DATABASE_URL="$DB_URL" PORT="$API_PORT" NODE_ENV=production \
  JWT_ACCESS_SECRET="bench-access-secret-0123456789abcdefghijkl" \
  JWT_REFRESH_SECRET="bench-refresh-secret-9876543210zyxwvutsrqpo" \
  LOG_LEVEL=warn THROTTLE_LIMIT=100000000 AUTH_THROTTLE_LIMIT=100000000 \
  node "$APP_ROOT/dist/apps/api/src/main.js" >"$WORK/api.log" 2>&1 &
API_PID=$!
wait_http "http://127.0.0.1:$API_PORT/api/v1/health" 90
API="http://127.0.0.1:$API_PORT"

log "seeding"
timeout 300 node bench/seed.mjs --api "$API" --db "$DB_URL" --out "$WORK/manifest.json"

if [ "${BOOKINGS_ONLY:-0}" = 1 ]; then ROUNDS=0; else
log "starting the bare node:http + pg server on 127.0.0.1:$BARE_PORT"
DATABASE_URL="$DB_URL" PORT="$BARE_PORT" node bench/bare-search-server.mjs >"$WORK/bare.log" 2>&1 &
BARE_PID=$!
wait_http "http://127.0.0.1:$BARE_PORT/api/v1/health" 30
BARE="http://127.0.0.1:$BARE_PORT"
fi

SEARCH_LIMIT=$((SEARCH_DURATION + QUIET_WAIT + 60))
for r in $(seq 1 "$ROUNDS"); do
  compare=()
  [ "$r" = 1 ] && compare=(--compare "$BARE")
  log "search round $r/$ROUNDS: app"
  timeout "$SEARCH_LIMIT" node bench/search.mjs --url "$API" --label "app-r$r" --pid "$API_PID" --connections "$CONNECTIONS" \
    --duration "$SEARCH_DURATION" --quiet-wait "$QUIET_WAIT" "${compare[@]}" >"$WORK/search-app-r$r.summary.json"
  log "search round $r/$ROUNDS: bare"
  timeout "$SEARCH_LIMIT" node bench/search.mjs --url "$BARE" --label "bare-r$r" --pid "$BARE_PID" --connections "$CONNECTIONS" \
    --duration "$SEARCH_DURATION" --quiet-wait "$QUIET_WAIT" >"$WORK/search-bare-r$r.summary.json"
done
stop_pid "$BARE_PID"
BARE_PID=""

log "bookings: hot trip, $CONNECTIONS connections, up to ${BOOKINGS_DURATION} s or sold out"
timeout $((BOOKINGS_DURATION + QUIET_WAIT + 300)) node bench/bookings.mjs --api "$API" --db "$DB_URL" --manifest "$WORK/manifest.json" \
  --pid "$API_PID" --connections "$CONNECTIONS" --duration "$BOOKINGS_DURATION" --quiet-wait "$QUIET_WAIT" \
  --label "bookings${BOOKINGS_ONLY:+-$COMMIT}" >"$WORK/bookings.summary.json" || BOOKINGS_RC=$?

if [ "${PGBENCH:-0}" = 1 ]; then
  # The same hold transaction in bare SQL on the same trip at the same concurrency: the floor.
  stop_pid "$API_PID"
  API_PID=""
  IDS=$(psql "$DB_URL" -Atc "UPDATE trips SET capacity = 10000000 WHERE id = '$(node -p "require('$WORK/manifest.json').hotTrip.id")'
    RETURNING '''' || id || ''' ''' || organizer_id || ''' ''' || (SELECT id FROM users WHERE role = 'traveler' LIMIT 1) || ''''")
  read -r TRIP_ID ORG_ID TRAVELER_ID <<<"$IDS"
  log "pgbench: $CONNECTIONS clients, ${BOOKINGS_DURATION} s, bench/hot-trip-hold.sql"
  pgbench -n -c "$CONNECTIONS" -j 2 -T "$BOOKINGS_DURATION" -r -f bench/hot-trip-hold.sql \
    -D trip="$TRIP_ID" -D organizer="$ORG_ID" -D traveler="$TRAVELER_ID" "$DB_URL" >"$WORK/pgbench.txt" 2>&1 || log "pgbench failed: $(tail -3 "$WORK/pgbench.txt")"
  cp "$WORK/pgbench.txt" "$RESULTS/pgbench-hot-trip-$COMMIT.txt"
  grep -E '^(latency average|tps)' "$WORK/pgbench.txt" >&2 || true
fi

WORK="$WORK" RESULTS="$RESULTS" DB="$DB" COMMIT="$COMMIT" node --input-type=module -e '
  import { readFileSync, readdirSync, writeFileSync } from "node:fs";
  import { cpus, totalmem } from "node:os";
  const w = process.env.WORK;
  const read = (f) => JSON.parse(readFileSync(`${w}/${f}`, "utf8"));
  const runs = readdirSync(w).filter((f) => f.startsWith("search-")).sort().map(read);
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  const CLEAN = 0.1; // a run is "clean" when other processes used at most 0.1 core during it
  const side = (label) => {
    const rs = runs.filter((r) => r.label.startsWith(label));
    const clean = rs.filter((r) => r.machine.foreignCoresDuringRun !== null && r.machine.foreignCoresDuringRun <= CLEAN);
    return {
      rounds: rs.map((r) => ({ label: r.label, reqPerSec: r.reqPerSecMean, p50: r.latencyMs.p50, p99: r.latencyMs.p99, non2xx: r.non2xx, errors: r.errors,
        serverCpuMsPerRequest: r.serverCpu?.msPerRequest, serverCoresBusy: r.serverCpu?.coresBusy, rssKb: r.rssKb, quiet: r.machine.quiet, foreignCores: r.machine.foreignCoresDuringRun })),
      reqPerSecMedian: median(rs.map((r) => r.reqPerSecMean)),
      p50Median: median(rs.map((r) => r.latencyMs.p50)),
      p99Median: median(rs.map((r) => r.latencyMs.p99)),
      cpuMsPerRequestMedian: median(rs.map((r) => r.serverCpu?.msPerRequest ?? NaN)),
      clean: clean.length ? { rounds: clean.map((r) => r.label), reqPerSecMedian: median(clean.map((r) => r.reqPerSecMean)),
        p50Median: median(clean.map((r) => r.latencyMs.p50)), p99Median: median(clean.map((r) => r.latencyMs.p99)) } : null,
      non2xxTotal: rs.reduce((a, r) => a + r.non2xx + r.errors, 0),
    };
  };
  if (!runs.length) {
    const b = read("bookings.summary.json");
    writeFileSync(`${process.env.RESULTS}/summary-bookings-${process.env.COMMIT}.json`, JSON.stringify({ date: new Date().toISOString(), commit: process.env.COMMIT,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model }, bookings: b }, null, 2));
    console.log(`bookings: ${b.bookingsPerSec} bookings/s, 201 p50 ${b.latencyMs.created201.p50} ms p99 ${b.latencyMs.created201.p99} ms, all p99 ${b.latencyMs.all?.p99} ms, statuses ${JSON.stringify(b.statuses)}, sold out ${b.soldOut} after ${b.soldOutAfterS} s`);
    console.log(`oversell: ${b.oversell.oversell} (seats_booked ${b.oversell.seatsBooked} = sold ${b.oversell.soldPendingOrConfirmed}: ${b.oversell.seatsBookedMatchesSold}); other processes ${b.machine.foreignCoresDuringRun} cores`);
    process.exit(0);
  }
  const app = side("app"), bare = side("bare");
  const bookings = read("bookings.summary.json");
  const first = runs.find((r) => r.variants);
  const summary = {
    date: new Date().toISOString(), commit: process.env.COMMIT, database: process.env.DB, machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    search: { app, bare, ratio: Math.round((100 * app.reqPerSecMedian) / bare.reqPerSecMedian) / 100,
      ratioClean: app.clean && bare.clean ? Math.round((100 * app.clean.reqPerSecMedian) / bare.clean.reqPerSecMedian) / 100 : null,
      cpuCostRatio: Math.round((100 * bare.cpuMsPerRequestMedian) / app.cpuMsPerRequestMedian) / 100,
      roundRatios: app.rounds.map((a, i) => Math.round((100 * a.reqPerSec) / bare.rounds[i].reqPerSec) / 100), variants: first?.variants },
    bookings,
  };
  writeFileSync(`${process.env.RESULTS}/summary-search-bookings.json`, JSON.stringify(summary, null, 2));
  const b = bookings;
  console.log(`search app : ${app.reqPerSecMedian} req/s (median of ${app.rounds.length}), p50 ${app.p50Median} ms, p99 ${app.p99Median} ms, non-2xx+errors ${app.non2xxTotal}`);
  console.log(`search bare: ${bare.reqPerSecMedian} req/s, p50 ${bare.p50Median} ms, p99 ${bare.p99Median} ms, non-2xx+errors ${bare.non2xxTotal}`);
  console.log(`ratio app/bare: ${summary.search.ratio} (rounds: ${summary.search.roundRatios.join(", ")}; clean rounds only: ${summary.search.ratioClean}; target >= 0.8)`);
  console.log(`server CPU per search request: app ${app.cpuMsPerRequestMedian} ms, bare ${bare.cpuMsPerRequestMedian} ms (bare/app ${summary.search.cpuCostRatio})`);
  const fg = (s) => s.rounds.map((r) => r.foreignCores).join("/");
  console.log(`other processes during the runs (cores): app ${fg(app)}, bare ${fg(bare)}, bookings ${bookings.machine.foreignCoresDuringRun}`);
  console.log(`bookings: ${b.bookingsPerSec} bookings/s, 201 p50 ${b.latencyMs.created201.p50} ms p99 ${b.latencyMs.created201.p99} ms, statuses ${JSON.stringify(b.statuses)}, sold out ${b.soldOut} after ${b.soldOutAfterS} s`);
  console.log(`oversell: ${b.oversell.oversell} (seats_booked ${b.oversell.seatsBooked} = sold ${b.oversell.soldPendingOrConfirmed}: ${b.oversell.seatsBookedMatchesSold}; capacity ${b.oversell.capacity})`);
  console.log(`API RSS kB: ${JSON.stringify(app.rounds.map((r) => r.rssKb))} bookings ${JSON.stringify(b.rssKb)}`);
'
log "done; figures in bench/results/summary-search-bookings.json"
[ "${BOOKINGS_RC:-0}" = 0 ] || { log "bookings check FAILED (oversell or inconsistent seat count), exit ${BOOKINGS_RC}"; exit "$BOOKINGS_RC"; }
