import { Injectable } from '@nestjs/common';
import { AuditService, Clock, returnedRows } from '@trektribe/common';
import { DataSource } from 'typeorm';
import { CHARGE_LEASE_MS, PLAN } from './subscription-plan';
import { SubscriptionLifecycle } from './subscription-lifecycle';
import { SubscriptionStore } from './subscription-store';
import { CHARGEABLE, ChargeOutcome, ChargePlan, DueRow, OpenCycleRow, Outcomes } from './charge-run-shared';

/**
 * Step a of the charge run: with the subscription rows locked (in id order), re-check that each is
 * due, then reuse its unpaid cycle or insert the next one (unique (subscription_id, cycle)). Due
 * without a mandate: dunned; cancelled at the period end: ended.
 */
@Injectable()
export class ChargeCycles {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: SubscriptionStore,
    private readonly lifecycle: SubscriptionLifecycle,
    private readonly clock: Clock,
    private readonly audit: AuditService,
  ) {}

  /** Single-subscription form of step a: the plan, or why there is nothing to charge. */
  async openCycle(subscriptionId: string): Promise<ChargePlan | ChargeOutcome> {
    const out: Outcomes = new Map();
    const [plan] = await this.openCycles([subscriptionId], out);
    return plan ?? out.get(subscriptionId) ?? 'notDue';
  }

  async openCycles(ids: string[], out: Outcomes): Promise<ChargePlan[]> {
    return this.dataSource.transaction(async (m) => {
      const now = this.clock.now();
      const rows = (await m.query(
        `SELECT s.id, s.organizer_id, s.status, s.next_charge_at, s.current_period_end, s.cancel_at_period_end,
                s.gateway_customer_id, s.gateway_token_id, s.amount, s.currency, u.email, u.phone, u.is_active
           FROM subscriptions s JOIN users u ON u.id = s.organizer_id
          WHERE s.id = ANY($1::uuid[]) ORDER BY s.id FOR UPDATE OF s`,
        [ids],
      )) as DueRow[];
      const chargeable: DueRow[] = [];
      for (const row of rows) {
        const due =
          CHARGEABLE.includes(row.status) &&
          row.next_charge_at !== null &&
          row.next_charge_at.getTime() <= now.getTime();
        if (!due || !row.is_active) {
          out.set(row.id, 'notDue');
        } else if (row.cancel_at_period_end) {
          if (row.current_period_end.getTime() > now.getTime()) {
            out.set(row.id, 'notDue');
          } else {
            await this.lifecycle.endCancelled(m, (await this.store.lock(m, row.id))!);
            out.set(row.id, 'cancelled');
          }
        } else if (!row.gateway_token_id || !row.gateway_customer_id) {
          await this.lifecycle.recordMissingPaymentMethod(m, (await this.store.lock(m, row.id))!);
          out.set(row.id, 'noPaymentMethod');
        } else {
          chargeable.push(row);
        }
      }
      if (chargeable.length === 0) return [];
      const subIds = chargeable.map((r) => r.id);

      // The next cycle (paid cycles + 1) for every subscription without an unpaid one.
      const opened = returnedRows<OpenCycleRow & { period_start: Date; period_end: Date }>(
        await m.query(
          `INSERT INTO subscription_cycles (subscription_id, cycle, amount, period_start, period_end)
           SELECT s.id,
                  (SELECT count(*) FROM subscription_cycles p WHERE p.subscription_id = s.id AND p.status = 'paid') + 1,
                  s.amount, s.current_period_end, s.current_period_end + make_interval(days => $2::int)
             FROM subscriptions s
            WHERE s.id = ANY($1::uuid[])
              AND NOT EXISTS (SELECT 1 FROM subscription_cycles c WHERE c.subscription_id = s.id AND c.status <> 'paid')
            ORDER BY s.id
           ON CONFLICT (subscription_id, cycle) DO NOTHING
           RETURNING id, subscription_id, cycle, amount, period_start, period_end`,
          [subIds, PLAN.periodDays],
        ),
      );
      await this.audit.recordMany(
        m,
        opened.map((c) => ({
          actor: null,
          action: 'subscription.cycle_opened',
          entityType: 'subscription_cycle',
          entityId: c.id,
          after: {
            subscriptionId: c.subscription_id,
            cycle: c.cycle,
            amount: c.amount,
            periodStart: c.period_start,
            periodEnd: c.period_end,
          },
        })),
      );

      const cycles = (await m.query(
        `SELECT id, subscription_id, cycle, amount, status, attempts, last_attempt_at FROM subscription_cycles
          WHERE subscription_id = ANY($1::uuid[]) AND status <> 'paid' ORDER BY id FOR UPDATE`,
        [subIds],
      )) as OpenCycleRow[];
      const latest = new Map<string, OpenCycleRow>();
      for (const c of cycles) {
        const seen = latest.get(c.subscription_id);
        if (!seen || c.cycle > seen.cycle) latest.set(c.subscription_id, c);
      }

      const plans: ChargePlan[] = [];
      for (const row of chargeable) {
        const cycle = latest.get(row.id);
        if (!cycle) {
          out.set(row.id, 'error'); // cannot happen: inserted above under the same lock
          continue;
        }
        const claimedByOther =
          cycle.status === 'charging' &&
          cycle.last_attempt_at !== null &&
          cycle.last_attempt_at.getTime() >= now.getTime() - CHARGE_LEASE_MS;
        if (claimedByOther) {
          out.set(row.id, 'inProgress');
          continue;
        }
        plans.push({
          subscriptionId: row.id,
          organizerId: row.organizer_id,
          customerId: row.gateway_customer_id!,
          tokenId: row.gateway_token_id!,
          amount: cycle.amount,
          currency: row.currency,
          email: row.email,
          contact: row.phone ?? '',
          cycleId: cycle.id,
          cycle: cycle.cycle,
          attempts: cycle.attempts,
        });
      }
      return plans;
    });
  }
}
