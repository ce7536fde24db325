#!/usr/bin/env node
// Search throughput: GET /api/v1/trips?q=<words>&destination=<prefix> at 50 connections, rotating
// six query variants (a setupRequest picks the next path for every request). Works against the app
// or against bench/bare-search-server.mjs (same URL, same SQL, same JSON).
//
//   node bench/search.mjs --url http://127.0.0.1:38110 --label app [--pid <server pid>] \
//        [--connections 50] [--duration 20] [--warmup 5] [--compare http://127.0.0.1:38111]
//
// --warmup runs an unrecorded pass first (JIT, pool connections, PostgreSQL caches).
// --compare fetches every variant from both servers and fails unless the bodies are byte-identical.
// Writes the raw autocannon result to bench/results/search-<label>.json and prints a summary line
// (JSON) on stdout.
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** Variants: some fill the 20-row page (TypeORM then runs the COUNT query too), some do not. */
export const VARIANTS = [
  '/api/v1/trips?q=snow&destination=Uttarakhand',
  '/api/v1/trips?q=lake%20trek&destination=Him',
  '/api/v1/trips?q=valley&destination=lad',
  '/api/v1/trips?q=summit&destination=Sik',
  '/api/v1/trips?q=forest%20camp&destination=Kar',
  '/api/v1/trips?q=glacier&destination=Kash',
];

export function rssKb(pid) {
  if (!pid) return null;
  try {
    return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim());
  } catch {
    return null;
  }
}

/** CPU seconds (user + system, all threads) a process has used so far; null where /proc is missing. */
export function cpuSeconds(pid) {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

/** Samples the RSS every 250 ms while a run is in progress; returns the peak. */
export function rssSampler(pid) {
  let peak = rssKb(pid) ?? 0;
  const timer = pid ? setInterval(() => (peak = Math.max(peak, rssKb(pid) ?? 0)), 250) : null;
  return () => {
    if (timer) clearInterval(timer);
    return pid ? peak : null;
  };
}

/** Machine-wide CPU busy % over `ms` (from /proc/stat; null where there is none). */
export async function cpuBusyPct(ms = 1000) {
  const read = async () => {
    try {
      const { readFileSync } = await import('node:fs');
      const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
      return { idle: f[3] + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
    } catch {
      return null;
    }
  };
  const a = await read();
  await new Promise((r) => setTimeout(r, ms));
  const b = await read();
  if (!a || !b || b.total === a.total) return null;
  return 100 * (1 - (b.idle - a.idle) / (b.total - a.total));
}

/**
 * This machine is shared: before a measured run, wait (at most maxWaitS) until the whole machine is
 * nearly idle, so other jobs' CPU does not end up in our figures. Returns what it saw.
 */
export async function waitForQuiet({ maxWaitS = 90, thresholdPct = 15 } = {}) {
  const started = Date.now();
  let busy = await cpuBusyPct();
  while (busy !== null && busy > thresholdPct && Date.now() - started < maxWaitS * 1000) busy = await cpuBusyPct();
  return { busyPctBeforeRun: busy === null ? null : Math.round(busy), waitedS: Math.round((Date.now() - started) / 1000), quiet: busy === null || busy <= thresholdPct };
}

/**
 * CPU used during a run by processes that are not part of the benchmark (not the server under test,
 * not this load generator, not PostgreSQL): /proc/<pid>/stat utime+stime, sampled every second.
 * Returns a stop() that gives the average number of cores those other processes used.
 */
export function foreignCpuSampler(ownPids) {
  const own = new Set([process.pid, ...ownPids.filter(Boolean).map(Number)]);
  const hz = 100;
  const last = new Map();
  let foreignTicks = 0;
  let fs;
  const sample = () => {
    let dirs;
    try {
      dirs = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
    } catch {
      return;
    }
    for (const d of dirs) {
      let stat;
      try {
        stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      } catch {
        continue;
      }
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' ');
      const ticks = Number(f[11]) + Number(f[12]);
      const prev = last.get(d);
      last.set(d, ticks);
      if (own.has(Number(d)) || comm === 'postgres') continue;
      if (prev !== undefined) foreignTicks += Math.max(0, ticks - prev);
    }
  };
  const started = Date.now();
  let timer;
  const ready = import('node:fs').then((m) => {
    fs = m;
    sample();
    timer = setInterval(sample, 1000);
  });
  return async () => {
    await ready;
    clearInterval(timer);
    sample();
    return Math.round((100 * foreignTicks) / hz / ((Date.now() - started) / 1000)) / 100;
  };
}

async function compare(a, b) {
  const out = [];
  for (const path of VARIANTS) {
    const [x, y] = await Promise.all([fetch(a + path).then((r) => r.text()), fetch(b + path).then((r) => r.text())]);
    const meta = JSON.parse(x).meta;
    out.push({ path, identical: x === y, bytes: x.length, rows: JSON.parse(x).data.length, total: meta.total });
  }
  return out;
}

function run(opts) {
  let i = 0;
  return autocannon({
    url: opts.url,
    connections: opts.connections,
    duration: opts.duration,
    timeout: 10,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: VARIANTS[i++ % VARIANTS.length] }) }],
  });
}

export async function searchBench({ url, label, pid, connections = 50, duration = 20, warmup = 5, compareWith, quietWaitS = 90 }) {
  const check = compareWith ? await compare(url, compareWith) : undefined;
  if (check && check.some((c) => !c.identical)) throw new Error(`responses differ from ${compareWith}: ${JSON.stringify(check)}`);
  const quiet = quietWaitS > 0 ? await waitForQuiet({ maxWaitS: quietWaitS }) : null;
  if (warmup > 0) await run({ url, connections, duration: warmup });
  const loadBefore = loadavg()[0];
  const rssBefore = rssKb(pid);
  const stopSampling = rssSampler(pid);
  const stopForeign = foreignCpuSampler([pid]);
  const cpuBefore = cpuSeconds(pid);
  const result = await run({ url, connections, duration });
  const cpuUsed = pid ? cpuSeconds(pid) - cpuBefore : null;
  const rssPeak = stopSampling();
  const foreignCores = await stopForeign();
  const rssAfter = rssKb(pid);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, `search-${label}.json`), JSON.stringify(result, null, 2));
  const summary = {
    bench: 'search',
    label,
    url,
    connections,
    durationS: duration,
    warmupS: warmup,
    requests: result.requests.total,
    reqPerSecMean: result.requests.average,
    latencyMs: { mean: result.latency.mean, p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    status2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    throughputMBps: result.throughput.average / 1e6,
    serverCpu: pid ? { seconds: cpuUsed, coresBusy: Math.round((100 * cpuUsed) / duration) / 100, msPerRequest: Math.round((100000 * cpuUsed) / result.requests.total) / 100 } : null,
    rssKb: { before: rssBefore, peak: rssPeak, after: rssAfter },
    machine: { quiet, foreignCoresDuringRun: foreignCores, loadavg1Before: loadBefore, loadavg1After: loadavg()[0], cpus: cpus().length },
    ...(check ? { identicalTo: compareWith, variants: check } : {}),
  };
  return summary;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      label: { type: 'string', default: 'app' },
      pid: { type: 'string' },
      connections: { type: 'string', default: '50' },
      duration: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '5' },
      compare: { type: 'string' },
      'quiet-wait': { type: 'string', default: '90' },
    },
  });
  if (!values.url) {
    console.error('usage: node bench/search.mjs --url http://127.0.0.1:PORT [--label app|bare] [--pid PID] [--connections 50] [--duration 20] [--warmup 5] [--compare URL]');
    process.exit(2);
  }
  const summary = await searchBench({
    url: values.url,
    label: values.label,
    pid: values.pid ? Number(values.pid) : undefined,
    connections: Number(values.connections),
    duration: Number(values.duration),
    warmup: Number(values.warmup),
    compareWith: values.compare,
    quietWaitS: Number(values['quiet-wait']),
  });
  console.log(JSON.stringify(summary));
}
