import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { EventLoopUtilization, performance } from 'node:perf_hooks';

/** How often the utilisation is read. */
const WINDOW_MS = 250;
/** A batch step waits while the event loop was busier than this over the last window... */
const MAX_UTILIZATION = 0.85;
/** ...checking this often... */
const RECHECK_MS = 50;
/** ...but never longer than this in one go, so a saturated process still makes progress. */
const MAX_WAIT_MS = 2_000;

/**
 * Priorities inside one process: requests first, then a batch job, then deferrable work. A batch job
 * (the 02:00 charge run) asks `calm()` before each step, so that when it shares the process with
 * requests (its own webhooks among them: Razorpay counts an answer after 5 s as a failed delivery)
 * the requests are answered in time and the batch takes the slack; work that can wait (applying
 * stored webhooks) holds back while `batchRunning`.
 */
@Injectable()
export class LoopPressure implements OnModuleInit, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private last: EventLoopUtilization | undefined;
  private utilization = 0;
  private batches = 0;

  onModuleInit(): void {
    this.last = performance.eventLoopUtilization();
    this.timer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      this.utilization = performance.eventLoopUtilization(now, this.last).utilization;
      this.last = now;
    }, WINDOW_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Share of the last window the event loop spent working (0..1). */
  get busy(): number {
    return this.utilization;
  }

  /** True while a batch job (`during`) runs in this process: deferrable work should wait its turn. */
  get batchRunning(): boolean {
    return this.batches > 0;
  }

  /** Runs a batch job, flagged so that deferrable work (applying stored webhooks) yields to it. */
  async during<T>(job: () => Promise<T>): Promise<T> {
    this.batches++;
    try {
      return await job();
    } finally {
      this.batches--;
    }
  }

  /** Resolves once the loop has room again (or after MAX_WAIT_MS). */
  async calm(): Promise<void> {
    const started = Date.now();
    while (this.utilization > MAX_UTILIZATION && Date.now() - started < MAX_WAIT_MS) {
      await new Promise((resolve) => setTimeout(resolve, RECHECK_MS));
    }
  }
}
