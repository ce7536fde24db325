import { describe, expect, it } from 'vitest';
import { SUBSCRIPTION_STATUSES } from './subscription.entity';
import { canMoveSubscription, SUBSCRIPTION_MOVES, subscriptionMove } from './subscription-state';

describe('the subscription status moves', () => {
  it('names every status of the entity, and only moves between them', () => {
    expect(Object.keys(SUBSCRIPTION_MOVES).sort()).toEqual([...SUBSCRIPTION_STATUSES].sort());
    for (const targets of Object.values(SUBSCRIPTION_MOVES))
      for (const to of targets) expect(SUBSCRIPTION_STATUSES).toContain(to);
  });

  it('has no final status: a cancelled plan comes back by a payment or a new mandate', () => {
    for (const from of SUBSCRIPTION_STATUSES) expect(SUBSCRIPTION_MOVES[from].length).toBeGreaterThan(0);
    expect(canMoveSubscription('cancelled', 'active')).toBe(true);
    expect(canMoveSubscription('cancelled', 'past_due')).toBe(true);
    expect(canMoveSubscription('cancelled', 'suspended')).toBe(false);
  });

  it('never goes back to trial: the trial is only where a subscription starts', () => {
    for (const from of SUBSCRIPTION_STATUSES) expect(canMoveSubscription(from, 'trial')).toBe(false);
  });

  it('lets a payment make any other status active', () => {
    for (const from of SUBSCRIPTION_STATUSES)
      if (from !== 'active') expect(canMoveSubscription(from, 'active')).toBe(true);
  });

  it('keeps a suspended plan suspended through failures: only a payment or a cancellation moves it', () => {
    expect([...SUBSCRIPTION_MOVES.suspended].sort()).toEqual(['active', 'cancelled']);
    expect(canMoveSubscription('suspended', 'past_due')).toBe(false);
  });

  it('suspends only a live plan (trial, active, past due), never a cancelled one', () => {
    for (const from of ['trial', 'active', 'past_due'] as const)
      expect(canMoveSubscription(from, 'suspended')).toBe(true);
    expect(canMoveSubscription('cancelled', 'suspended')).toBe(false);
  });

  it('cancels any plan that is not cancelled already', () => {
    for (const from of ['trial', 'active', 'past_due', 'suspended'] as const)
      expect(canMoveSubscription(from, 'cancelled')).toBe(true);
  });

  it('subscriptionMove allows staying put and the table moves, and throws on any other', () => {
    expect(subscriptionMove('active', 'active')).toBe('active');
    expect(subscriptionMove('past_due', 'past_due')).toBe('past_due');
    expect(subscriptionMove('trial', 'past_due')).toBe('past_due');
    expect(() => subscriptionMove('suspended', 'past_due')).toThrow(
      expect.objectContaining({ code: 'SUBSCRIPTION_STATE_CONFLICT' }),
    );
    expect(() => subscriptionMove('suspended', 'past_due')).toThrow(
      /suspended subscription cannot become past_due/,
    );
    expect(() => subscriptionMove('active', 'trial')).toThrow();
  });
});
