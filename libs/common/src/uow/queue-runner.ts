import { Logger } from '@nestjs/common';
import { AsyncResource } from 'node:async_hooks';

/**
 * One worker over a table used as a queue (outbox messages, refunds to send, webhook events to
 * apply). The table holds the truth: rows are claimed with a lease (a conditional update pushing
 * their next attempt into the future, or `FOR UPDATE SKIP LOCKED`), so two instances never take the
 * same row and a crash brings a row back once its lease ends. The runner only decides when a pass
 * runs in this process.
 */
export interface LeasedQueue<T, R> {
  /** Names the queue in logs and in `UnitOfWork.kickAfterCommit`. */
  readonly name: string;
  /** A pass's tally, filled in by `handle`. */
  newTally(): R;
  /** Rows to claim in the next batch; 0 ends the pass (no room, or stopping). */
  batchSize(): number;
  /** Claims up to `limit` due rows (leased), in the order they are due. */
  claim(limit: number): Promise<T[]>;
  /** Handles a claimed batch; `'stop'` ends the pass early (the gateway is down, ...). */
  handle(batch: T[], tally: R): Promise<'continue' | 'stop'>;
  /** After each pass, once the runner is no longer busy. */
  afterPass?(): void;
}

/**
 * Runs passes over a LeasedQueue: kicks collapse (while a pass runs, any number of kicks become one
 * more pass after it, never a queue of waiters); one pass at a time per process; a pass claims
 * batches until one comes back short. Passes run in the runner's own async context, so a kicking
 * request (its CLS store, req, res) is not kept alive by them.
 */
export class QueueRunner<T, R> {
  private readonly logger: Logger;
  private running: Promise<R> | undefined;
  private kicked = false;
  private again = false;
  private stopped = false;
  private readonly detached: AsyncResource;

  constructor(private readonly queue: LeasedQueue<T, R>) {
    this.logger = new Logger(`QueueRunner:${queue.name}`);
    this.detached = new AsyncResource(`queue:${queue.name}`);
  }

  get name(): string {
    return this.queue.name;
  }

  get stopping(): boolean {
    return this.stopped;
  }

  /** A pass runs or is about to. */
  get busy(): boolean {
    return this.running !== undefined || this.kicked;
  }

  /** A pass soon (after the current one if one runs). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.kicked) return;
    this.kicked = true;
    this.detached.runInAsyncScope(() =>
      setImmediate(() => {
        this.kicked = false;
        if (this.running) {
          this.again = true;
          return;
        }
        this.runPass().catch((err: unknown) => this.logger.error({ err }, `${this.queue.name} pass failed`));
      }),
    );
  }

  /**
   * Resolves with its tally once everything that was due when it was called has been handled (it
   * waits for a pass under way, then runs its own). Jobs and tests call it.
   */
  async runPass(): Promise<R> {
    while (this.running) await this.running.catch(() => undefined);
    if (this.stopped) return this.queue.newTally();
    this.again = false;
    this.running = this.drain();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
      if (this.again) this.kick();
      this.queue.afterPass?.();
    }
  }

  /** Finishes the pass under way and starts no other; what is left stays due in the table. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.running) await this.running.catch(() => undefined);
  }

  private async drain(): Promise<R> {
    const tally = this.queue.newTally();
    for (;;) {
      const limit = this.stopped ? 0 : this.queue.batchSize();
      if (limit <= 0) return tally;
      const batch = await this.queue.claim(limit);
      if (batch.length && (await this.queue.handle(batch, tally)) === 'stop') return tally;
      if (batch.length < limit) return tally;
    }
  }
}
