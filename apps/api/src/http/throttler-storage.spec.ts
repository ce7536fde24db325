import { describe, expect, it } from 'vitest';
import { FixedWindowThrottlerStorage } from './throttler-storage';

describe('FixedWindowThrottlerStorage', () => {
  const make = () => {
    let now = 1_000_000;
    const store = new FixedWindowThrottlerStorage(() => now);
    return { store, advance: (ms: number) => (now += ms) };
  };

  it('counts hits per key and throttler within the window, then blocks for blockDuration', async () => {
    const { store, advance } = make();
    for (let i = 1; i <= 3; i++) {
      expect(await store.increment('ip:a', 60_000, 3, 30_000, 'default')).toEqual({
        totalHits: i,
        timeToExpire: 60,
        isBlocked: false,
        timeToBlockExpire: 0,
      });
    }
    expect((await store.increment('ip:b', 60_000, 3, 30_000, 'default')).totalHits).toBe(1);
    expect((await store.increment('ip:a', 60_000, 3, 30_000, 'auth')).totalHits).toBe(1);
    advance(10_000);
    expect(await store.increment('ip:a', 60_000, 3, 30_000, 'default')).toEqual({
      totalHits: 4,
      timeToExpire: 50,
      isBlocked: true,
      timeToBlockExpire: 30,
    });
    advance(20_000);
    expect(await store.increment('ip:a', 60_000, 3, 30_000, 'default')).toMatchObject({
      isBlocked: true,
      timeToBlockExpire: 10,
    });
  });

  it('starts a fresh window once both the window and any block have passed', async () => {
    const { store, advance } = make();
    for (let i = 0; i < 5; i++) await store.increment('k', 1_000, 2, 5_000, 'default');
    advance(1_500); // window over, block (5 s) still on
    expect(await store.increment('k', 1_000, 2, 5_000, 'default')).toMatchObject({
      totalHits: 1,
      isBlocked: true,
    });
    advance(5_000);
    expect(await store.increment('k', 1_000, 2, 5_000, 'default')).toEqual({
      totalHits: 1,
      timeToExpire: 1,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('without a block duration, blocks until the window ends', async () => {
    const { store, advance } = make();
    await store.increment('k', 10_000, 1, 0, 'default');
    advance(4_000);
    expect(await store.increment('k', 10_000, 1, 0, 'default')).toEqual({
      totalHits: 2,
      timeToExpire: 6,
      isBlocked: true,
      timeToBlockExpire: 6,
    });
    advance(6_000);
    expect((await store.increment('k', 10_000, 1, 0, 'default')).isBlocked).toBe(false);
  });
});
