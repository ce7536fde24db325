import { DomainError, percentOf } from '@trektribe/common';
import type { CancellationPolicy } from './booking.entity';

/** API.md: ≥ 7 days before start → 100 %; 24 h – 7 days → 50 %; under 24 h → closed. */
export const STANDARD_POLICY: CancellationPolicy = {
  tiers: [
    { minHoursBefore: 7 * 24, refundPercent: 100 },
    { minHoursBefore: 24, refundPercent: 50 },
  ],
};

export type CancelledBy = 'traveler' | 'organizer' | 'admin' | 'trip_cancelled' | 'system';

/**
 * The refund owed when a booking is cancelled. Organizers, admins and a cancelled trip refund in full;
 * a traveler follows the policy snapshotted on the booking, and is refused inside the last window.
 */
export function refundDue(opts: {
  policy: CancellationPolicy;
  paidAmount: number;
  tripStartsAt: Date;
  now: Date;
  by: CancelledBy;
}): number {
  if (opts.paidAmount <= 0) return 0;
  if (opts.by !== 'traveler') return opts.paidAmount;
  const hoursBefore = (opts.tripStartsAt.getTime() - opts.now.getTime()) / 3_600_000;
  const tier = [...opts.policy.tiers]
    .sort((a, b) => b.minHoursBefore - a.minHoursBefore)
    .find((t) => hoursBefore >= t.minHoursBefore);
  if (!tier) {
    throw new DomainError(
      'CANCELLATION_WINDOW_CLOSED',
      'Paid bookings can no longer be cancelled by the traveler within 24 hours of the start; contact the organizer',
    );
  }
  return percentOf(opts.paidAmount, tier.refundPercent);
}
