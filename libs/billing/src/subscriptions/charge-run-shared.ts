import { Logger } from '@nestjs/common';
import { PaymentOrder } from '../ledger/payment-order.entity';

/** What one subscription's turn in the charge run did. */
export type ChargeOutcome =
  | 'notDue' //               nothing to do any more (paid, moved, cancelled meanwhile, organizer deactivated)
  | 'cancelled' //            cancel_at_period_end reached the period end
  | 'noPaymentMethod' //      due without a mandate: dunned, not charged
  | 'inProgress' //           another runner holds the cycle's claim
  | 'settled' //              the gateway already had a captured payment: recorded, not charged again
  | 'pending' //              the gateway has a payment still in flight: wait for its outcome
  | 'failureRecorded' //      failed payments the webhook had not reported were counted; retry tomorrow
  | 'charged' //              a recurring payment was requested; its outcome comes by webhook
  | 'declined' //             the gateway refused the request: counted as a failed attempt
  | 'unknown' //              no answer from the gateway: the claim stands, the next run asks the gateway
  | 'skipped' //              lost the claim to another runner
  | 'error'; //               unexpected; logged, retried by the next run

export type ChargeRunSummary = { paymentsConfigured: boolean; due: number } & Record<ChargeOutcome, number>;

/** The state one charge works from, read with the subscription row locked. */
export interface ChargePlan {
  subscriptionId: string;
  organizerId: string;
  customerId: string;
  tokenId: string;
  amount: number;
  currency: string;
  email: string;
  contact: string;
  cycleId: string;
  cycle: number;
  /** The cycle's attempt counter when read: the claim succeeds only if nobody claimed since. */
  attempts: number;
}

export interface DueRow {
  id: string;
  organizer_id: string;
  status: string;
  next_charge_at: Date | null;
  current_period_end: Date;
  cancel_at_period_end: boolean;
  gateway_customer_id: string | null;
  gateway_token_id: string | null;
  amount: number;
  currency: string;
  email: string;
  phone: string | null;
  is_active: boolean;
}

export interface OpenCycleRow {
  id: string;
  subscription_id: string;
  cycle: number;
  amount: number;
  status: string;
  attempts: number;
  last_attempt_at: Date | null;
}

export type Outcomes = Map<string, ChargeOutcome>;

export const BATCH = 200;
/** Gateway requests in flight at once; the database work of a batch is a handful of set-based statements. */
export const CONCURRENCY = 16;
export const CHARGEABLE = ['trial', 'active', 'past_due', 'suspended'];

/** A step that threw: logged; the next run resumes the subscription from where it stopped. */
export function stepFailed(logger: Logger, plan: ChargePlan, err: unknown): ChargeOutcome {
  logger.error(
    { subscriptionId: plan.subscriptionId, cycle: plan.cycle, err },
    'subscription charge step failed; the next run resumes it',
  );
  return 'error';
}

/** A receipt shared by two subscriptions (a 96-bit prefix collision) must never be charged as ours. */
export function assertCycleOrder(order: PaymentOrder, plan: ChargePlan): PaymentOrder {
  if (
    order.subscriptionId !== plan.subscriptionId ||
    order.cycleId !== plan.cycleId ||
    order.purpose !== 'subscription'
  ) {
    throw new Error(`receipt ${order.receipt} belongs to another subscription cycle`);
  }
  return order;
}

/** `fn` over `items`, `limit` at a time; `pace` is awaited before each item starts. */
export async function eachLimit<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
  pace?: () => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      await pace?.();
      if (next < items.length) await fn(items[next++]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
