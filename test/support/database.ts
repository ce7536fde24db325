import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { inject } from 'vitest';

/**
 * Every test app gets its own database, cloned from one migrated template made by global-setup:
 * a copy of the template PGlite data dir by default, or `CREATE DATABASE … TEMPLATE` on the server
 * when DATABASE_URL is set. Nothing is wrapped in rolled-back transactions: locking stays real.
 */
export interface TestDatabase {
  /** DATABASE_URL for the app, or undefined for embedded PGlite in dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  drop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tt-test-'));
  const serverUrl = process.env.DATABASE_URL;
  const template = inject('ttTemplate');
  if (!template) throw new Error('global-setup did not prepare a template database');
  if (!serverUrl) {
    cpSync(template, join(dataDir, 'pgdata'), { recursive: true });
    return { databaseUrl: undefined, dataDir, drop: async () => undefined };
  }
  const name = `tt_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        break;
      } catch (err) {
        // two workers cloning the same template at once: the loser retries
        if (attempt >= 10 || !/being accessed by other users/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  return {
    databaseUrl: withDatabase(serverUrl, name),
    dataDir,
    drop: async () => {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
      await c.end();
    },
  };
}
