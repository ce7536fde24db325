// Runs only when REDIS_URL is set (see vitest.config.mts): it needs a Redis server by nature.
import { RealtimePublisher } from '@trektribe/notifications';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { register, startTestApp, TestApp } from './support/app';
import { nextEvent, SocketPool } from './support/sockets';

describe('real time across instances through the Redis adapter', () => {
  let t: TestApp;
  let other: TestApp;
  const sockets = new SocketPool();

  beforeAll(async () => {
    t = await startTestApp();
    // A second instance on the same Redis namespace, as two API processes behind a load balancer.
    other = await startTestApp({ REDIS_KEY_PREFIX: t.config.redisKeyPrefix });
  });
  afterEach(() => sockets.closeAll());
  afterAll(async () => {
    await other?.close();
    await t?.close();
  });

  it('delivers an event published on one instance to a socket connected to another', async () => {
    const user = await register(t);
    const socket = await sockets.connectReady(t.baseUrl, user.accessToken);
    const received = nextEvent(socket, 'notification');
    other.app.get(RealtimePublisher).publish([`user:${user.id}`], 'notification', { id: 'cross-instance' });
    await expect(received).resolves.toEqual({ id: 'cross-instance' });
  });
});
