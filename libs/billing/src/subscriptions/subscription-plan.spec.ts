import { describe, expect, it } from 'vitest';
import {
  authorizationReceipt,
  cycleReceipt,
  DAY_MS,
  isCaptured,
  reminderDue,
  shortId,
} from './subscription-plan';

describe('subscription plan rules', () => {
  const id = '3f2b8c1e-9d4a-4b7e-8a21-0c5d6e7f8a9b';

  it('receipts fit Razorpay’s 40 characters and name the subscription by its first 24 hex digits', () => {
    expect(shortId(id)).toBe('3f2b8c1e9d4a4b7e8a210c5d');
    expect(cycleReceipt(id, 1)).toBe('sub:3f2b8c1e9d4a4b7e8a210c5d:1');
    expect(cycleReceipt(id, 99_999_999_999).length).toBeLessThanOrEqual(40);
    expect(authorizationReceipt(id, 'a1b2c3')).toHaveLength(39);
  });

  it('sends the 7-day reminder 4–7 days ahead and the 3-day one 0–3 days ahead, in rounded whole days', () => {
    const now = new Date('2026-03-01T04:30:00Z');
    const at = (days: number) => new Date(now.getTime() + days * DAY_MS);
    expect(reminderDue(at(8), now)).toBeNull();
    expect(reminderDue(at(7.4), now)).toBe(7);
    expect(reminderDue(at(4), now)).toBe(7);
    expect(reminderDue(at(3.4), now)).toBe(3);
    expect(reminderDue(at(0.2), now)).toBe(3);
    expect(reminderDue(at(0), now)).toBeNull();
    expect(reminderDue(at(-1), now)).toBeNull();
  });

  it('reads "captured" however Razorpay types it', () => {
    expect(isCaptured({ status: 'captured', captured: true })).toBe(true);
    expect(isCaptured({ status: 'authorized', captured: '1' })).toBe(true);
    expect(isCaptured({ status: 'failed', captured: false })).toBe(false);
    expect(isCaptured({ status: 'created', captured: 0 })).toBe(false);
  });
});
