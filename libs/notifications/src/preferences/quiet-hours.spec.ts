import { describe, expect, it } from 'vitest';
import { isValidTimeZone } from '@trektribe/common';
import { isHhMm, nextAllowedAt } from './quiet-hours';

const Q = { start: '22:00', end: '07:00' };
const ist = (iso: string) => new Date(`${iso}+05:30`);

describe('quiet hours', () => {
  it('lets a text go at once outside the window', () => {
    expect(nextAllowedAt(ist('2026-12-01T21:59:00'), Q, 'Asia/Kolkata')).toEqual(ist('2026-12-01T21:59:00'));
    expect(nextAllowedAt(ist('2026-12-01T07:00:00'), Q, 'Asia/Kolkata')).toEqual(ist('2026-12-01T07:00:00'));
  });

  it('holds one sent inside a window across midnight until its end, the next morning', () => {
    expect(nextAllowedAt(ist('2026-12-01T22:00:00'), Q, 'Asia/Kolkata')).toEqual(ist('2026-12-02T07:00:00'));
    expect(nextAllowedAt(ist('2026-12-01T23:30:45'), Q, 'Asia/Kolkata')).toEqual(ist('2026-12-02T07:00:00'));
    expect(nextAllowedAt(ist('2026-12-02T03:15:00'), Q, 'Asia/Kolkata')).toEqual(ist('2026-12-02T07:00:00'));
  });

  it('reads the window in the user’s own timezone', () => {
    // 23:00 in London is 04:30 the next day in India: quiet for a London user, not for an Indian one.
    const at = new Date('2026-12-01T23:00:00Z');
    expect(nextAllowedAt(at, Q, 'Europe/London')).toEqual(new Date('2026-12-02T07:00:00Z'));
    expect(nextAllowedAt(at, Q, 'Asia/Kolkata')).toEqual(ist('2026-12-02T07:00:00'));
  });

  it('handles a daytime window and none at all', () => {
    const day = { start: '13:00', end: '15:30' };
    expect(nextAllowedAt(ist('2026-12-01T14:00:00'), day, 'Asia/Kolkata')).toEqual(
      ist('2026-12-01T15:30:00'),
    );
    expect(nextAllowedAt(ist('2026-12-01T16:00:00'), day, 'Asia/Kolkata')).toEqual(
      ist('2026-12-01T16:00:00'),
    );
    expect(nextAllowedAt(ist('2026-12-01T23:00:00'), null, 'Asia/Kolkata')).toEqual(
      ist('2026-12-01T23:00:00'),
    );
  });

  it('validates its inputs', () => {
    expect(['07:00', '23:59', '00:00'].every(isHhMm)).toBe(true);
    expect(['7:00', '24:00', '12:60', '', null].some(isHhMm)).toBe(false);
    expect(isValidTimeZone('Asia/Kolkata')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});
