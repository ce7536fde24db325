import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TestApp } from './support/app';

describe('health and docs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('reports the database (and Redis when configured) as up', async () => {
    const res = await t.http.get('/api/v1/health').expect(200);
    expect(res.body).toEqual({
      success: true,
      data: { status: 'ok', db: 'up', redis: process.env.REDIS_URL ? 'up' : 'not_configured' },
    });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
