// Runs only with DATABASE_URL (see vitest.config.mts): instances migrating at once need a shared server.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import { dataSourceOptions } from '../apps/api/src/database/data-source';
import { MIGRATION_LOCK_KEY, runMigrations } from '../apps/api/src/database/migrate';
import { MIGRATIONS } from '../apps/api/src/database/migrations';
import { withDatabase } from './support/database';

const serverUrl = process.env.DATABASE_URL!;

/** A fresh, empty database (no template): what a first deploy meets. */
async function emptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tt_migrate_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  return {
    url: withDatabase(serverUrl, name),
    async drop() {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
      await c.end();
    },
  };
}

/** An instance's DataSource, as the app opens it (without migrating). */
async function instance(url: string): Promise<DataSource> {
  return new DataSource(dataSourceOptions(url, { poolSize: 2 })).initialize();
}

describe('migrations on deploy: one instance migrates, the others wait (advisory lock)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  it('applies every migration exactly once when three instances start together', async () => {
    const db = await emptyDatabase();
    cleanup.push(() => db.drop());
    const instances = await Promise.all([instance(db.url), instance(db.url), instance(db.url)]);
    cleanup.push(() => Promise.all(instances.map((ds) => ds.destroy())));

    const ran = await Promise.all(instances.map((ds) => runMigrations(ds, { embedded: false })));

    // one instance applied them all; the others found nothing left to do
    expect(ran.map((r) => r.length).sort((a, b) => a - b)).toEqual([0, 0, MIGRATIONS.length]);
    const [row] = (await instances[0].query(
      `SELECT count(*)::int AS n, count(DISTINCT name)::int AS names FROM migrations`,
    )) as { n: number; names: number }[];
    expect(row).toEqual({ n: MIGRATIONS.length, names: MIGRATIONS.length });
    // and nobody holds the lock afterwards
    const held = (await instances[0].query(
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
      [MIGRATION_LOCK_KEY],
    )) as unknown[];
    expect(held).toHaveLength(0);
  });

  it('waits while another instance holds the lock, then migrates', async () => {
    const db = await emptyDatabase();
    cleanup.push(() => db.drop());
    const other = new Client({ connectionString: db.url });
    await other.connect();
    cleanup.push(() => other.end());
    await other.query(`SELECT pg_advisory_lock($1::bigint)`, [MIGRATION_LOCK_KEY]);

    const ds = await instance(db.url);
    cleanup.push(() => ds.destroy());
    const waitingLine: string[] = [];
    let done = false;
    const migrating = runMigrations(ds, {
      embedded: false,
      logger: { log: (m: string) => waitingLine.push(m) },
    }).then((ran) => {
      done = true;
      return ran;
    });

    // the instance is queued on the lock (a backend waiting for an advisory lock), and has applied nothing
    for (let i = 0; i < 200; i++) {
      const waiting = (await other.query(
        `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      )) as { rowCount: number };
      if (waiting.rowCount) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const waiting = await other.query(
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    expect(waiting.rowCount).toBe(1);
    expect(done).toBe(false);
    expect(waitingLine).toEqual(['another instance is migrating the database: waiting for it']);
    const tables = await other.query(`SELECT to_regclass('public.migrations') AS t`);
    expect(tables.rows[0].t).toBeNull();

    await other.query(`SELECT pg_advisory_unlock($1::bigint)`, [MIGRATION_LOCK_KEY]);
    expect(await migrating).toHaveLength(MIGRATIONS.length);
  });
});
