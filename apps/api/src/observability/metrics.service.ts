import { Injectable, OnModuleInit } from '@nestjs/common';
import { AuditEntry, AuditService } from '@trektribe/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

/** Seconds; from a cached answer (~1 ms) to a slow report or gateway call. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds; cron jobs run from milliseconds (nothing due) to minutes (the 02:00 charge run). */
const JOB_BUCKETS = [0.01, 0.05, 0.25, 1, 5, 15, 60, 300, 900];

/** Audit actions that are a booking's outcome, a payment's or a refund's status (see observe()). */
const BOOKING_OUTCOMES: Record<string, string> = {
  'booking.created': 'held',
  'booking.confirmed': 'confirmed',
  'booking.cancelled': 'cancelled',
  'booking.expired': 'expired',
  'booking.completed': 'completed',
};
const PAYMENT_STATUSES: Record<string, string> = {
  'payment.captured': 'captured',
  'payment.failed': 'failed',
  'payment.amount_mismatch': 'amount_mismatch',
};
const REFUND_STATUSES: Record<string, string> = {
  'refund.requested': 'requested',
  'refund.processed': 'processed',
  'refund.failed': 'failed',
  'refund.manual_due': 'manual_due',
  'refund.manual_paid': 'manual_paid',
};

/**
 * Runs `query` once for all the gauges collected in one scrape: the first caller starts it, the others
 * (collected concurrently) share its promise, and the next scrape runs it again.
 */
function perScrape<T>(query: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= query().finally(() => {
      running = undefined;
    });
    return running;
  };
}

export type JobOutcome = 'ok' | 'failed' | 'skipped';

/**
 * The Prometheus metrics of this process (docs/OPERATIONS.md lists them with the alerts to set).
 * Counters and histograms count what this instance did; the backlog gauges (webhooks, outbox) are
 * read from the database when scraped, one indexed query each, so every instance reports the same
 * value for them. Each app has its own registry (tests boot several apps in one process).
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  readonly registry = new Registry();

  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status, with their latency',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });

  private readonly bookings = new Counter({
    name: 'trektribe_bookings_total',
    help: 'Bookings by outcome: held (created, seats held), confirmed, cancelled, expired, completed',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly bookingSeats = new Counter({
    name: 'trektribe_booking_seats_total',
    help: 'Seats of those bookings, by the same outcomes',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly payments = new Counter({
    name: 'trektribe_payments_total',
    help: 'Payments recorded, by status (captured, failed, amount_mismatch) and method (online, screenshot, recurring)',
    labelNames: ['status', 'method'] as const,
    registers: [this.registry],
  });

  private readonly refunds = new Counter({
    name: 'trektribe_refunds_total',
    help: 'Refunds by status reached: requested, processed, failed, manual_due, manual_paid',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  private readonly jobRuns = new Counter({
    name: 'trektribe_job_runs_total',
    help: 'Cron job runs by job and outcome: ok, failed, skipped (another instance or tick held the slot)',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly jobDuration = new Histogram({
    name: 'trektribe_job_duration_seconds',
    help: 'Duration of cron job runs that did the work (ok or failed), by job',
    labelNames: ['job'] as const,
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });

  private readonly jobLastSuccess = new Gauge({
    name: 'trektribe_job_last_success_timestamp_seconds',
    help: 'Unix time of the last successful run of each job in this process',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {
    const db = this.dataSource;
    // Registered before the gauges that query, so it shows the pool as the scrape found it.
    new Gauge({
      name: 'trektribe_db_pool_connections',
      help: 'Database pool of this process: total open, idle, waiting (callers queued for a connection) and max',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const pool = (
          db.driver as unknown as {
            master?: {
              totalCount: number;
              idleCount: number;
              waitingCount: number;
              options: { max: number };
            };
          }
        ).master;
        if (!pool) return;
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
        this.set({ state: 'max' }, pool.options.max);
      },
    });
    // One query per table per scrape, shared by the gauges it feeds (the registry collects them together).
    const webhooks = perScrape(async () => {
      const [row] = (await db.query(
        `SELECT count(*) FILTER (WHERE attempts = 0)::int AS waiting, count(*) FILTER (WHERE attempts > 0)::int AS failing,
                COALESCE(EXTRACT(EPOCH FROM now() - min(received_at)), 0)::float8 AS oldest
           FROM webhook_events WHERE processed_at IS NULL`,
      )) as { waiting: number; failing: number; oldest: number }[];
      return row ?? { waiting: 0, failing: 0, oldest: 0 };
    });
    new Gauge({
      name: 'trektribe_webhook_events_backlog',
      help: 'Stored Razorpay webhook events not yet applied, by state: waiting (never tried) or failing (an attempt failed, retried with backoff)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const row = await webhooks();
        this.set({ state: 'waiting' }, row.waiting);
        this.set({ state: 'failing' }, row.failing);
      },
    });
    new Gauge({
      name: 'trektribe_webhook_events_oldest_unapplied_seconds',
      help: 'Age of the oldest stored webhook event not yet applied (0 when none)',
      registers: [this.registry],
      async collect() {
        this.set(Math.max(0, (await webhooks()).oldest));
      },
    });
    const outbox = perScrape(async () => {
      const rows = (await db.query(
        `SELECT channel, status, count(*)::int AS n,
                COALESCE(EXTRACT(EPOCH FROM now() - min(next_attempt_at)), 0)::float8 AS overdue
           FROM notification_outbox WHERE status IN ('pending', 'failed') GROUP BY channel, status`,
      )) as { channel: string; status: string; n: number; overdue: number }[];
      return (channel: string, status: string) =>
        rows.find((r) => r.channel === channel && r.status === status);
    });
    const CHANNELS = ['email', 'sms', 'whatsapp', 'realtime'];
    new Gauge({
      name: 'trektribe_outbox_pending',
      help: 'Outbox messages waiting to be delivered, by channel (email, sms, whatsapp, realtime)',
      labelNames: ['channel'] as const,
      registers: [this.registry],
      async collect() {
        const row = await outbox();
        for (const channel of CHANNELS) this.set({ channel }, row(channel, 'pending')?.n ?? 0);
      },
    });
    new Gauge({
      name: 'trektribe_outbox_oldest_due_seconds',
      help: 'How long the most overdue pending outbox message of each channel has been due (0 when none)',
      labelNames: ['channel'] as const,
      registers: [this.registry],
      async collect() {
        const row = await outbox();
        for (const channel of CHANNELS)
          this.set({ channel }, Math.max(0, row(channel, 'pending')?.overdue ?? 0));
      },
    });
    new Gauge({
      name: 'trektribe_outbox_failed',
      help: 'Outbox messages that gave up after their retries, by channel (an admin can retry them)',
      labelNames: ['channel'] as const,
      registers: [this.registry],
      async collect() {
        const row = await outbox();
        for (const channel of CHANNELS) this.set({ channel }, row(channel, 'failed')?.n ?? 0);
      },
    });
    // Every outcome exists from the start (at 0), so rate() and absent-series alerts work at once.
    for (const outcome of Object.values(BOOKING_OUTCOMES)) {
      this.bookings.inc({ outcome }, 0);
      this.bookingSeats.inc({ outcome }, 0);
    }
    for (const status of Object.values(REFUND_STATUSES)) this.refunds.inc({ status }, 0);
    // process_cpu_*, process_resident_memory_bytes, nodejs_eventloop_lag_seconds (and its p50/p90/p99),
    // nodejs_heap_*, nodejs_gc_duration_seconds, ...
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
  }

  onModuleInit(): void {
    this.audit.observe((entries) => this.countAudited(entries));
  }

  /** One finished HTTP request; `route` is the template (`/api/v1/bookings/:id`), never the raw path. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status: String(status) }, seconds);
  }

  /** One cron job slot: `skipped` when another instance (or an overlapping tick) had it. */
  observeJob(job: string, outcome: JobOutcome, seconds?: number): void {
    this.jobRuns.inc({ job, outcome });
    if (outcome !== 'skipped' && seconds !== undefined) this.jobDuration.observe({ job }, seconds);
    if (outcome === 'ok') this.jobLastSuccess.set({ job }, Date.now() / 1000);
  }

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private countAudited(entries: readonly AuditEntry[]): void {
    for (const e of entries) {
      const after = (e.after ?? {}) as { seats?: unknown; method?: unknown };
      const outcome = BOOKING_OUTCOMES[e.action];
      if (outcome) {
        this.bookings.inc({ outcome });
        if (typeof after.seats === 'number') this.bookingSeats.inc({ outcome }, after.seats);
        continue;
      }
      const paymentStatus = PAYMENT_STATUSES[e.action];
      if (paymentStatus) {
        const method = typeof after.method === 'string' ? after.method : 'unknown';
        this.payments.inc({ status: paymentStatus, method });
        continue;
      }
      const refundStatus = REFUND_STATUSES[e.action];
      if (refundStatus) this.refunds.inc({ status: refundStatus });
    }
  }
}
