import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { TestProject } from 'vitest/node';
import { dataSourceOptions } from '../../apps/api/src/database/data-source';
import { startEmbeddedPostgres } from '../../apps/api/src/database/embedded-postgres';
import { withDatabase } from './database';

/** Migrates one template database per run; each test app clones it (see database.ts). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'tt-template-'));
    const pg = await startEmbeddedPostgres(dir, 3);
    const ds = new DataSource(dataSourceOptions(pg.url, { poolSize: 1 }));
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    await ds.destroy();
    await pg.stop();
    project.provide('ttTemplate', join(dir, 'pgdata'));
    return async () => rmSync(dir, { recursive: true, force: true });
  }
  const name = `tt_template_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const ds = new DataSource(dataSourceOptions(withDatabase(serverUrl, name), { poolSize: 1 }));
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
  project.provide('ttTemplate', name);
  return async () => {
    const c = new Client({ connectionString: serverUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
    await c.end();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    ttTemplate: string;
  }
}
