// Runs only with DATABASE_URL (see vitest.config.mts): two instances need a shared PostgreSQL server.
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataSourceOptions } from '../apps/api/src/database/data-source';
import { JobLock } from '../apps/api/src/scheduler/job-lock';
import { startTestApp, TestApp } from './support/app';

describe('a job runs once per slot across instances', () => {
  let t: TestApp;
  let second: DataSource;
  beforeAll(async () => {
    t = await startTestApp();
    second = new DataSource(dataSourceOptions(t.config.databaseUrl!, { poolSize: 4 }));
    await second.initialize();
  });
  afterAll(async () => {
    await second?.destroy();
    await t?.close();
  });

  it('lets only one of two instances take the advisory lock for a job', async () => {
    const a = t.app.get(JobLock);
    const b = new JobLock(second); // another process's lock, on its own connections
    let runs = 0;
    const slow = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 200));
      return 'ran';
    };
    const results = await Promise.all([
      a.runExclusive('charge-subscriptions', slow),
      b.runExclusive('charge-subscriptions', slow),
    ]);
    expect(results.filter((r) => r === 'ran')).toHaveLength(1);
    expect(runs).toBe(1);
    expect(await b.runExclusive('charge-subscriptions', slow)).toBe('ran'); // released afterwards
  });
});
