import { Logger } from '@nestjs/common';
import { DataSource, Migration, MigrationExecutor } from 'typeorm';

/**
 * The advisory lock key every instance takes around its migrations (a constant: any 64-bit number
 * nobody else uses; the job locks hash their names into the same space, see scheduler/job-lock.ts).
 */
export const MIGRATION_LOCK_KEY = '7451239887310541057';

/**
 * Applies pending migrations, each in its own transaction. On a PostgreSQL server it first takes a
 * session-level advisory lock, so when several instances start at once (a deploy, a scale-out) one
 * migrates and the others wait for it, then find nothing left to do, instead of racing through the
 * same CREATE TABLEs. The lock lives on the connection that runs the migrations and ends with it
 * (a crashed migrator releases it). Embedded PGlite is one process: no lock there.
 */
export async function runMigrations(
  dataSource: DataSource,
  opts: { embedded: boolean; logger?: Pick<Logger, 'log'> },
): Promise<Migration[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    if (!opts.embedded) {
      const [{ locked }] = (await runner.query(`SELECT pg_try_advisory_lock($1::bigint) AS locked`, [
        MIGRATION_LOCK_KEY,
      ])) as { locked: boolean }[];
      if (!locked) {
        opts.logger?.log('another instance is migrating the database: waiting for it');
        await runner.query(`SELECT pg_advisory_lock($1::bigint)`, [MIGRATION_LOCK_KEY]);
      }
    }
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      const ran = await executor.executePendingMigrations();
      if (ran.length)
        opts.logger?.log(`applied ${ran.length} migration(s): ${ran.map((m) => m.name).join(', ')}`);
      return ran;
    } finally {
      if (!opts.embedded) await runner.query(`SELECT pg_advisory_unlock($1::bigint)`, [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
