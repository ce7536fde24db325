import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import {
  APP_CONFIG,
  AppConfig,
  LeasedQueue,
  LoopPressure,
  QueueRunner,
  RequestContext,
} from '@trektribe/common';
import { ClsService } from 'nestjs-cls';
import { AsyncResource } from 'node:async_hooks';
import { DataSource } from 'typeorm';
import { Applied, WebhookEffects } from './webhook-effects';
import { StoredWebhookEvent, WebhookEventStore } from './webhook-event-store';

/** Events held in memory, waiting for their turn; beyond this they wait in the table instead. */
const MAX_QUEUED = 2_000;
/** Rows claimed from the table per pull. */
const PULL_BATCH = 200;
/** Lock and serialization conflicts between concurrent applications are retried at once, this often. */
const CONFLICT_RETRIES = 3;
const CONFLICT_CODES = new Set(['40001', '40P01', '55P03']);
/** More deliveries than this being stored at once is a burst: storing them comes first. */
const BUSY_INTAKE = 8;
/** During a burst, events nobody waits for still start one per this many ms, so the queue never stalls. */
const BURST_PACE_MS = 250;

interface Queued {
  stored: StoredWebhookEvent;
  /** The delivering request's ids, for the audit rows the effect writes (not its req/res). */
  context: Pick<RequestContext, 'requestId' | 'ip' | 'userAgent'>;
  done(result: Applied | undefined): void;
}

/**
 * Applies stored webhook events in the background of this process, a few at a time, in the order
 * they arrived. A delivery is answered once its event is stored; the answer also waits for the
 * effect while the queue is short (WebhooksService decides), so in normal traffic Razorpay (and a
 * test) sees the effect done when it gets its 200, and in a burst the backlog drains here instead of
 * holding Razorpay's connections. Events this process could not take (queue full, crash, restart)
 * stay unprocessed in the table and are pulled again: when the queue drains, and by the scheduler.
 */
@Injectable()
export class WebhookApplier
  implements
    OnApplicationBootstrap,
    BeforeApplicationShutdown,
    LeasedQueue<StoredWebhookEvent, { taken: number }>
{
  readonly name = 'webhooks';
  private readonly logger = new Logger(WebhookApplier.name);
  private readonly queue: Queued[] = [];
  /** Events a delivery waits on: applied before the others, also during a burst. */
  private readonly awaitedQueue: Queued[] = [];
  private active = 0;
  private readonly concurrency: number;
  private storing = 0;
  private lastStart = 0;
  private paceTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Some events were left in the table for want of room: pull them once the queue drains. */
  private leftInTable = false;
  /** Pulls events nobody is applying from the table into the in-memory queue. */
  private readonly puller = new QueueRunner(this);
  private idleWaiters: (() => void)[] = [];
  private readonly detached = new AsyncResource('webhook-apply');

  constructor(
    dataSource: DataSource,
    private readonly store: WebhookEventStore,
    private readonly effects: WebhookEffects,
    private readonly cls: ClsService<RequestContext>,
    private readonly pressure: LoopPressure,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    // Leave the pool room for the intake and for the API's other requests.
    const pool = (dataSource.driver.options as { poolSize?: number }).poolSize ?? 10;
    this.concurrency = Math.max(1, Math.min(config.webhookApplyConcurrency, pool - 4));
  }

  /** Events in memory waiting or being applied. */
  get backlog(): number {
    return this.queue.length + this.awaitedQueue.length + this.active;
  }

  /** Whether this process takes a new event now; if not, it stays in the table for a later pull. */
  hasRoom(): boolean {
    return !this.stopped && this.queue.length < MAX_QUEUED;
  }

  /** Runs the storing of a delivery; how many are under way tells the applier a burst is on. */
  async whileStoring<T>(store: () => Promise<T>): Promise<T> {
    this.storing++;
    try {
      return await store();
    } finally {
      this.storing--;
      this.pump();
    }
  }

  /**
   * Queues a stored event; resolves with what it did, or undefined if it is left for a retry.
   * `awaited`: a delivery waits for it (it is not held back by a burst).
   */
  submit(
    stored: StoredWebhookEvent,
    context: Queued['context'] = {},
    awaited = false,
  ): Promise<Applied | undefined> {
    return new Promise((done) => {
      if (this.stopped) return done(undefined); // stopping: the row stays in the table for the next pull
      (awaited ? this.awaitedQueue : this.queue).push({ stored, context, done });
      this.pump();
    });
  }

  /**
   * `submit` for an event a request brought (a delivery, an admin's retry): the audit rows its effect
   * writes name that request.
   */
  submitFromRequest(stored: StoredWebhookEvent, awaited: boolean): Promise<Applied | undefined> {
    const ctx = this.cls.isActive() ? this.cls.get() : undefined;
    return this.submit(
      stored,
      { requestId: ctx?.requestId, ip: ctx?.ip, userAgent: ctx?.userAgent },
      awaited,
    );
  }

  /** Remembers that an event was stored for later because the queue was full. */
  leftForLater(): void {
    this.leftInTable = true;
  }

  /**
   * Applies events nobody is applying: left by a full queue, by a crashed or stopped instance, or
   * waiting for a retry after an error. Returns how many it took. The scheduler calls it every minute.
   */
  async applyUnclaimed(): Promise<number> {
    return (await this.puller.runPass()).taken;
  }

  /** Resolves when nothing is queued or being applied (tests and shutdown wait on it). */
  idle(): Promise<void> {
    if (this.backlog === 0 && !this.puller.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  onApplicationBootstrap(): void {
    // What a previous run of this instance stored but did not apply (its lease may still run).
    this.puller.kick();
  }

  /** Finish what is being applied; give what waits back to the table for the next instance. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    const waiting = [...this.awaitedQueue.splice(0), ...this.queue.splice(0)];
    for (const q of waiting) q.done(undefined);
    await this.puller.stop();
    if (this.active > 0) await this.idle();
    await this.store
      .release(waiting.map((q) => q.stored.rowId))
      .catch((err: unknown) => this.logger.warn({ err }, 'could not release queued webhooks'));
  }

  newTally(): { taken: number } {
    return { taken: 0 };
  }

  /** Room in the in-memory queue; none ends the pull (the cron during a burst: the rows stay in the table until it drains). */
  batchSize(): number {
    const room = Math.min(PULL_BATCH, MAX_QUEUED - this.queue.length);
    if (this.stopped) return 0;
    this.leftInTable = room <= 0;
    return Math.max(0, room);
  }

  claim(limit: number): Promise<StoredWebhookEvent[]> {
    return this.store.claimUnprocessed(limit);
  }

  async handle(rows: StoredWebhookEvent[], tally: { taken: number }): Promise<'continue'> {
    tally.taken += rows.length;
    await Promise.all(rows.map((stored) => this.submit(stored)));
    return 'continue';
  }

  afterPass(): void {
    // Deliveries left rows in the table while this pass ran: pull again (pump only does while idle).
    if (this.leftInTable && this.backlog === 0 && !this.stopped) this.puller.kick();
    this.wakeIfIdle();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.limit()) {
      const next = this.awaitedQueue.shift() ?? this.queue.shift();
      if (!next) break;
      this.active++;
      this.lastStart = Date.now();
      // In the applier's own async context: the queue must not keep delivering requests alive.
      this.detached.runInAsyncScope(
        () =>
          void this.cls
            .runWith({ ...next.context }, () => this.applyOne(next.stored))
            .then(next.done)
            .finally(() => {
              this.active--;
              this.pump();
            }),
      );
    }
    if (!this.stopped && this.queue.length && this.active === 0 && !this.paceTimer) {
      // held back by a burst: look again when the next paced start is due
      this.paceTimer = setTimeout(() => {
        this.paceTimer = undefined;
        this.pump();
      }, BURST_PACE_MS);
      this.paceTimer.unref();
    }
    if (this.backlog === 0 && this.leftInTable && !this.puller.busy && !this.stopped) this.puller.kick();
    this.wakeIfIdle();
  }

  /**
   * How many applications may run now. While a burst of deliveries is being stored, answering
   * Razorpay comes first (a late answer is a failed delivery, retried: more load), and while a batch
   * job runs here (the 02:00 charge run) it does: one at a time for effects a delivery waits on,
   * otherwise one start per BURST_PACE_MS; the backlog catches up after.
   */
  private limit(): number {
    if (this.storing <= BUSY_INTAKE && !this.pressure.batchRunning) return this.concurrency;
    if (this.awaitedQueue.length > 0) return 1;
    return Date.now() - this.lastStart >= BURST_PACE_MS ? 1 : 0;
  }

  private wakeIfIdle(): void {
    if (this.backlog === 0 && !this.puller.busy) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private async applyOne(stored: StoredWebhookEvent): Promise<Applied | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.effects.apply(stored);
        if (result.applied)
          this.logger.log(
            { eventId: stored.eventId, type: stored.type, outcome: result.outcome },
            'webhook applied',
          );
        return result;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && CONFLICT_CODES.has(code) && attempt < CONFLICT_RETRIES) continue;
        this.logger.error(
          { err, eventId: stored.eventId, type: stored.type },
          'webhook application failed; it will be retried',
        );
        const message = err instanceof Error ? err.message : String(err);
        await this.store
          .markFailed(stored.rowId, message)
          .catch((e: unknown) => this.logger.error({ err: e }, 'could not record the webhook failure'));
        return undefined;
      }
    }
  }
}
