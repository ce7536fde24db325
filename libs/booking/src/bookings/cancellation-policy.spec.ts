import { describe, expect, it } from 'vitest';
import { refundDue, STANDARD_POLICY } from './cancellation-policy';

const start = new Date('2026-12-20T18:30:00Z'); // 00:00 IST on 21 Dec
const before = (hours: number) => new Date(start.getTime() - hours * 3_600_000);
const due = (hours: number, by: Parameters<typeof refundDue>[0]['by'] = 'traveler', paid = 299_900) =>
  refundDue({ policy: STANDARD_POLICY, paidAmount: paid, tripStartsAt: start, now: before(hours), by });

describe('refundDue', () => {
  it('refunds a traveler in full a week or more before the start', () => {
    expect(due(8 * 24)).toBe(299_900);
    expect(due(7 * 24)).toBe(299_900);
  });
  it('refunds half between 24 hours and 7 days, rounding down to whole paise', () => {
    expect(due(3 * 24)).toBe(149_950);
    expect(due(24)).toBe(149_950);
    expect(due(3 * 24, 'traveler', 99_999)).toBe(49_999);
  });
  it('refuses a traveler inside the last 24 hours with CANCELLATION_WINDOW_CLOSED', () => {
    expect(() => due(12)).toThrow(expect.objectContaining({ code: 'CANCELLATION_WINDOW_CLOSED' }));
    expect(() => due(-5)).toThrow(expect.objectContaining({ code: 'CANCELLATION_WINDOW_CLOSED' }));
  });
  it('refunds in full when the organizer, an admin or a cancelled trip cancels, at any time', () => {
    expect(due(1, 'organizer')).toBe(299_900);
    expect(due(1, 'admin')).toBe(299_900);
    expect(due(1, 'trip_cancelled')).toBe(299_900);
  });
  it('owes nothing when nothing was paid, even inside the window', () => {
    expect(due(2, 'traveler', 0)).toBe(0);
  });
});
