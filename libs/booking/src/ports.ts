import type { EntityManager } from 'typeorm';
import type { Actor } from '@trektribe/auth';

export interface RefundRequest {
  bookingId: string;
  /** Paise owed back under the booking's cancellation policy; > 0. */
  amount: number;
  reason: string;
  /** Stable per cancellation, so a retried request never refunds twice. */
  idempotencyKey: string;
  actor: Actor | null;
}

/**
 * How a cancellation asks for money back. Billing implements it (gateway refund for online payments,
 * a manual payout row for screenshot payments); without billing the amount is only recorded as due.
 * Called inside the cancellation's transaction: implementations record intent there and call the
 * gateway after commit.
 */
export abstract class RefundRequester {
  abstract requestRefund(manager: EntityManager, request: RefundRequest): Promise<void>;
}

/** Whether an organizer may create or activate trips (billing: subscription not suspended). */
export abstract class ListingPolicy {
  abstract assertMayList(manager: EntityManager, organizerId: string): Promise<void>;
}
