import { afterEach, describe, expect, it } from 'vitest';
import { LoopPressure } from './loop-pressure';

describe('LoopPressure', () => {
  const pressure = new LoopPressure();
  afterEach(() => pressure.onModuleDestroy());

  it('flags a batch job while it runs, also when it fails', async () => {
    pressure.onModuleInit();
    expect(pressure.batchRunning).toBe(false);
    let seen = false;
    await pressure.during(async () => {
      seen = pressure.batchRunning;
    });
    expect(seen).toBe(true);
    expect(pressure.batchRunning).toBe(false);
    await expect(pressure.during(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(pressure.batchRunning).toBe(false);
  });

  it('reads a saturated event loop as busy, and an idle one as calm', async () => {
    pressure.onModuleInit();
    // keep the loop working for most of two measuring windows
    const until = Date.now() + 600;
    while (Date.now() < until) {
      const spin = Date.now() + 40;
      while (Date.now() < spin);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(pressure.busy).toBeGreaterThan(0.85);
    // idle: calm() returns once a window shows room again
    await pressure.calm();
    expect(pressure.busy).toBeLessThanOrEqual(0.85);
  });
});
