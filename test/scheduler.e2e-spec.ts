import { SchedulerRegistry } from '@nestjs/schedule';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobLock } from '../apps/api/src/scheduler/job-lock';
import { startTestApp, TestApp } from './support/app';

describe('scheduler', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SCHEDULER_ENABLED: 'true' });
  });
  afterAll(async () => t?.close());

  it('registers the jobs in Asia/Kolkata', () => {
    const jobs = t.app.get(SchedulerRegistry).getCronJobs();
    expect([...jobs.keys()]).toEqual(
      expect.arrayContaining([
        'expire-holds',
        'deliver-outbox',
        'complete-trips',
        'trip-reminders',
        'escalate-stale-proofs',
        'ticket-sla',
        'reconcile-payments',
        'retry-refunds',
        'charge-subscriptions',
        'trial-ending-notices',
        'payment-reminders',
        'fold-report-summaries',
      ]),
    );
    // 02:00 IST is 20:30 UTC the day before
    const charge = jobs.get('charge-subscriptions')!.nextDate().toJSDate();
    expect([charge.getUTCHours(), charge.getUTCMinutes()]).toEqual([20, 30]);
    // 00:30 IST is 19:00 UTC the day before
    const next = jobs.get('complete-trips')!.nextDate().toJSDate();
    expect(next.getUTCHours()).toBe(19);
    expect(next.getUTCMinutes()).toBe(0);
  });

  it('skips a slot that is already running in this instance', async () => {
    const lock = t.app.get(JobLock);
    let runs = 0;
    const slow = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 100));
      return 'done';
    };
    const results = await Promise.all([
      lock.runExclusive('test-job', slow),
      lock.runExclusive('test-job', slow),
    ]);
    expect(results.sort()).toEqual(['done', undefined].sort());
    expect(runs).toBe(1);
    // and the slot is free again afterwards
    expect(await lock.runExclusive('test-job', slow)).toBe('done');
  });
});
