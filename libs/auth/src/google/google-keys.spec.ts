import { describe, expect, it } from 'vitest';
import { cacheLifetimeSeconds } from './google-keys';

describe('cacheLifetimeSeconds (how long Google signing keys are kept)', () => {
  it.each([
    ['public, max-age=19982, must-revalidate, no-transform', null, 19982],
    ['public, max-age=19982', '82', 19900],
    ['max-age="600"', null, 600],
    ['public, max-age=100', '500', 0],
    ['public, max-age=999999', null, 86_400],
    ['no-store', null, 0],
    ['private, no-cache', null, 0],
    [null, null, 300],
    ['public', 'abc', 300],
  ])('Cache-Control %s with Age %s → %i s', (cacheControl, age, seconds) => {
    expect(cacheLifetimeSeconds(cacheControl, age)).toBe(seconds);
  });
});
