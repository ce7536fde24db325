import { DomainError } from '@trektribe/common';
import type { SubscriptionStatus } from './subscription.entity';

/**
 * The moves of an organizer subscription's status (API.md, Auto-pay), from `trial`, where
 * SubscriptionStore creates every subscription (the trial from registration). Staying put is not a move: a
 * renewal keeps `active`, a retry that fails again keeps `past_due`, a failure while suspended keeps
 * `suspended`. No status is final: a payment or a new mandate brings a cancelled plan back.
 */
export const SUBSCRIPTION_MOVES: Readonly<Record<SubscriptionStatus, readonly SubscriptionStatus[]>> = {
  // First payment (SubscriptionLifecycle.applyPaid); a failed or impossible charge (applyFailure,
  // recordMissingPaymentMethod), suspending at the third; its trial ended after a cancellation request.
  trial: ['active', 'past_due', 'suspended', 'cancelled'],
  // A failed or impossible charge, suspending at the third; its period ended after a cancellation request.
  active: ['past_due', 'suspended', 'cancelled'],
  // A retry paid; the third failure (suspend); cancelled at once by AutoPayService.cancel, or at the period end.
  past_due: ['active', 'suspended', 'cancelled'],
  // A payment through a new mandate reactivates it (trips listed again); cancelled at once by AutoPayService.cancel.
  suspended: ['active', 'cancelled'],
  // Paid after cancelling (honoured, then stops: cancel_at_period_end); a new mandate (Mandates.storeToken) restarts it.
  cancelled: ['active', 'past_due'],
};

export function canMoveSubscription(from: SubscriptionStatus, to: SubscriptionStatus): boolean {
  return SUBSCRIPTION_MOVES[from].includes(to);
}

/**
 * `to`, when the subscription may go there from `from` (a move of the table, or staying put); a
 * refused move throws, and the caller's transaction rolls back: it is a bug in the caller, whose own
 * rules pick the target.
 */
export function subscriptionMove(from: SubscriptionStatus, to: SubscriptionStatus): SubscriptionStatus {
  if (from !== to && !canMoveSubscription(from, to))
    throw new DomainError('SUBSCRIPTION_STATE_CONFLICT', `A ${from} subscription cannot become ${to}`);
  return to;
}
