import { Injectable, Logger, Optional } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { MetricsService } from '../observability/metrics.service';

/**
 * One run per slot across instances: a session-level PostgreSQL advisory lock, held on a dedicated
 * connection while the job works through the pool; another instance (or an overlapping tick) skips
 * the slot. Jobs are resumable (conditional updates, unique rows), so a crash mid-run neither skips
 * nor repeats work: the next run picks up what is left.
 */
@Injectable()
export class JobLock {
  private readonly logger = new Logger(JobLock.name);
  private readonly running = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async runExclusive<T>(job: string, fn: () => Promise<T>): Promise<T | undefined> {
    if (this.running.has(job)) {
      this.metrics?.observeJob(job, 'skipped');
      return undefined; // an overlapping tick in this process
    }
    this.running.add(job);
    try {
      // Embedded PGlite is a single process with one pooled connection (and one session, where
      // advisory locks are re-entrant): the in-process guard is the whole story there.
      if (this.dataSource.driver.options.poolSize === 1) return await this.measured(job, fn);
      return await this.withAdvisoryLock(job, fn);
    } catch (err) {
      this.logger.error({ job, err }, 'job failed');
      throw err;
    } finally {
      this.running.delete(job);
    }
  }

  private async withAdvisoryLock<T>(job: string, fn: () => Promise<T>): Promise<T | undefined> {
    const key = createHash('sha256').update(`trektribe:job:${job}`).digest().readBigInt64BE(0).toString();
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query(`SELECT pg_try_advisory_lock($1::bigint) AS locked`, [
        key,
      ])) as { locked: boolean }[];
      if (!locked) {
        this.logger.debug({ job }, 'another instance holds this job; skipping the slot');
        this.metrics?.observeJob(job, 'skipped');
        return undefined;
      }
      try {
        return await this.measured(job, fn);
      } finally {
        await runner.query(`SELECT pg_advisory_unlock($1::bigint)`, [key]);
      }
    } finally {
      await runner.release();
    }
  }

  /**
   * A job that needs no lock (its rows are claimed with SKIP LOCKED) still counts in the job metrics;
   * a failure is logged and rethrown like runExclusive's.
   */
  async run<T>(job: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.measured(job, fn);
    } catch (err) {
      this.logger.error({ job, err }, 'job failed');
      throw err;
    }
  }

  /** Runs and counts one job run: trektribe_job_runs_total, _duration_seconds, _last_success. */
  private async measured<T>(job: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await fn();
      this.metrics?.observeJob(job, 'ok', (performance.now() - started) / 1000);
      return result;
    } catch (err) {
      this.metrics?.observeJob(job, 'failed', (performance.now() - started) / 1000);
      throw err;
    }
  }
}
