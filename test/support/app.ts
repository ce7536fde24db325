import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { AdjustableClock, AppConfig, loadConfig } from '@trektribe/common';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { DataSource } from 'typeorm';
import { createApp } from '../../apps/api/src/bootstrap';
import { createTestDatabase } from './database';

/** The real app, booted but not listening: what the service-level specs (test/medium) drive directly. */
export interface ServiceApp {
  app: INestApplication;
  clock: AdjustableClock;
  config: AppConfig;
  db: DataSource;
  close(): Promise<void>;
}

/** A ServiceApp also serving HTTP on a real port: what the e2e specs drive. */
export interface TestApp extends ServiceApp {
  http: TestAgent;
  baseUrl: string;
}

/**
 * Boots the real app (same bootstrap as main.ts) on its own fresh database, without a port.
 * `env` overrides settings the way an operator would, through environment names.
 */
export async function bootTestApp(env: Record<string, string> = {}): Promise<ServiceApp> {
  const database = await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: database.dataDir,
    DATABASE_URL: database.databaseUrl,
    REDIS_URL: process.env.REDIS_URL,
    REDIS_KEY_PREFIX: `tt-test:${randomBytes(6).toString('hex')}:`,
    THROTTLE_LIMIT: '100000',
    AUTH_THROTTLE_LIMIT: '100000',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const clock = new AdjustableClock();
  const running = await createApp(config, { clock });
  try {
    await running.app.init();
  } catch (err) {
    await running.close().catch(() => undefined);
    await database.drop();
    rmSync(database.dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    app: running.app,
    clock,
    config,
    db: running.app.get(DataSource),
    async close() {
      await running.close();
      await database.drop();
      rmSync(database.dataDir, { recursive: true, force: true });
    },
  };
}

/** The real app (bootTestApp) listening on a real port. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const t = await bootTestApp(env);
  await t.app.listen(0, '127.0.0.1');
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return Object.assign(t, { http: request(baseUrl), baseUrl });
}

let seq = 0;
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}.${Date.now().toString(36)}.${(seq++).toString(36)}.${randomBytes(3).toString('hex')}@example.com`;
}

export const PASSWORD = 'Trek2026!ok';

export interface SignedIn {
  id: string;
  email: string;
  role: string;
  accessToken: string;
  refreshToken: string;
  auth: { Authorization: string };
}

export async function register(
  t: TestApp,
  role: 'traveler' | 'organizer' = 'traveler',
  extra: Record<string, unknown> = {},
): Promise<SignedIn> {
  const email = uniqueEmail(role);
  const res = await t.http
    .post('/api/v1/auth/register')
    .send({ name: `Test ${role}`, email, password: PASSWORD, phone: '+919812345678', role, ...extra })
    .expect(201);
  const d = res.body.data;
  return {
    id: d.user.id,
    email,
    role,
    accessToken: d.accessToken,
    refreshToken: d.refreshToken,
    auth: { Authorization: `Bearer ${d.accessToken}` },
  };
}

/** Agents and admins cannot self-register: tests create them the way an admin would, in the database. */
export async function createStaff(t: TestApp, role: 'agent' | 'admin'): Promise<SignedIn> {
  const user = await register(t, 'traveler');
  await t.db.query(`UPDATE users SET role = $2 WHERE id = $1`, [user.id, role]);
  const res = await t.http
    .post('/api/v1/auth/login')
    .send({ email: user.email, password: PASSWORD })
    .expect(200);
  const d = res.body.data;
  return {
    ...user,
    role,
    accessToken: d.accessToken,
    refreshToken: d.refreshToken,
    auth: { Authorization: `Bearer ${d.accessToken}` },
  };
}
