import { Injectable, Logger } from '@nestjs/common';
import { AuditService, Clock, DomainError, LoopPressure, returnedRows } from '@trektribe/common';
import { DataSource } from 'typeorm';
import { RazorpayGateway } from '../gateway/razorpay.gateway';
import { PaymentOrder } from '../ledger/payment-order.entity';
import { CHARGE_LEASE_MS } from './subscription-plan';
import { SubscriptionStore } from './subscription-store';
import {
  BATCH,
  CHARGEABLE,
  ChargeOutcome,
  ChargePlan,
  ChargeRunSummary,
  CONCURRENCY,
  eachLimit,
  OpenCycleRow,
  Outcomes,
  stepFailed,
} from './charge-run-shared';
import { ChargeCycles } from './charge-cycles';
import { ChargeOrders } from './charge-orders';

export type { ChargeOutcome, ChargeRunSummary, ChargePlan } from './charge-run-shared';

/**
 * The 02:00 IST charge run (`processDueSubscriptions`), safe to run twice at once and to resume after
 * a crash at any point. Due subscriptions are taken in keyset batches; each batch goes through:
 *   a. `openCycles` (ChargeCycles): with the subscription rows locked, re-check each is due, then reuse its unpaid
 *      cycle or insert the next one (unique (subscription_id, cycle), ON CONFLICT DO NOTHING);
 *   b. `ensureCycleOrders` (ChargeOrders): each cycle's gateway order, stored under its unique receipt before any
 *      charge. A cycle whose order already exists is first asked for its payments (`reconcile`):
 *      captured → settle, in flight → wait, failures not yet counted → count them; never charge twice;
 *   c. `claimCycles` + charge: with the cycles locked, each one whose attempt counter is unchanged and
 *      that is unclaimed (or whose claim's lease expired) is marked `charging`, attempts + 1; only the
 *      runner that did so calls `createRecurringPayment`, outside any transaction. The outcome arrives
 *      by webhook (SubscriptionPaymentHandler); the payment id is recorded if the attempt is still open.
 * Rows are locked in id order, so two runs never deadlock. The single-subscription steps
 * (`openCycle`, `ensureCycleOrder`, `claim`) are the same code on a batch of one, public so tests
 * can stop between them as a crash would. Emails and realtime events go out when the run ends.
 */
@Injectable()
export class SubscriptionChargeRun {
  private readonly logger = new Logger(SubscriptionChargeRun.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly gateway: RazorpayGateway,
    private readonly store: SubscriptionStore,
    private readonly clock: Clock,
    private readonly pressure: LoopPressure,
    private readonly audit: AuditService,
    private readonly cycles: ChargeCycles,
    private readonly orders: ChargeOrders,
  ) {}

  /** Gateway calls wait while this process is busy answering requests (its own webhooks among them). */
  private readonly pace = () => this.pressure.calm();

  /** Job entry point (02:00 IST, and admin `POST /auto-pay/process-scheduled`). */
  processDueSubscriptions(): Promise<ChargeRunSummary> {
    return this.pressure.during(() => this.chargeDue());
  }

  private async chargeDue(): Promise<ChargeRunSummary> {
    const summary: ChargeRunSummary = {
      paymentsConfigured: this.gateway.configured,
      due: 0,
      notDue: 0,
      cancelled: 0,
      noPaymentMethod: 0,
      inProgress: 0,
      settled: 0,
      pending: 0,
      failureRecorded: 0,
      charged: 0,
      declined: 0,
      unknown: 0,
      skipped: 0,
      error: 0,
    };
    // Without gateway credentials nobody can have a mandate: leave every subscription as it is.
    if (!this.gateway.configured) return summary;
    await this.store.ensureAll();
    const now = this.clock.now();
    let after: string | null = null;
    for (;;) {
      const rows = (await this.dataSource.query(
        `SELECT s.id FROM subscriptions s JOIN users u ON u.id = s.organizer_id
          WHERE s.status IN ('trial', 'active', 'past_due', 'suspended') AND s.next_charge_at <= $1 AND u.is_active
            AND ($2::uuid IS NULL OR s.id > $2::uuid)
          ORDER BY s.id LIMIT $3`,
        [now, after, BATCH],
      )) as { id: string }[];
      summary.due += rows.length;
      const outcomes = await this.chargeBatch(rows.map((r) => r.id));
      for (const outcome of outcomes.values()) summary[outcome] += 1;
      if (rows.length < BATCH) break;
      after = rows[rows.length - 1].id;
    }
    return summary;
  }

  /** One subscription's turn (a batch of one). */
  async chargeSubscription(subscriptionId: string): Promise<ChargeOutcome> {
    return (await this.chargeBatch([subscriptionId])).get(subscriptionId) ?? 'notDue';
  }

  /** The steps a → b → c for a batch; never throws, every id gets an outcome. */
  async chargeBatch(ids: string[]): Promise<Outcomes> {
    const out: Outcomes = new Map();
    if (ids.length === 0) return out;
    try {
      const plans = await this.cycles.openCycles(ids, out);
      const existing = await this.orders.findCycleOrders(plans);
      const ready: [ChargePlan, PaymentOrder][] = [];
      const fresh: ChargePlan[] = [];
      for (const plan of plans) {
        const order = existing.get(plan.cycleId);
        if (order) ready.push([plan, order]);
        else fresh.push(plan);
      }
      // An order that exists was (maybe) charged before: ask the gateway first (rare: retries, crashes).
      const reconciled: [ChargePlan, PaymentOrder][] = [];
      await eachLimit(
        ready,
        CONCURRENCY,
        async ([plan, order]) => {
          const outcome = await this.orders
            .reconcile(plan, order)
            .catch((err: unknown) => stepFailed(this.logger, plan, err));
          if (outcome === 'open') reconciled.push([plan, order]);
          else out.set(plan.subscriptionId, outcome);
        },
        this.pace,
      );
      const created = await this.orders.ensureCycleOrders(fresh, out);
      const claimed = await this.claimCycles([...reconciled, ...created], out);
      await this.charge(claimed, out);
    } catch (err) {
      this.logger.error(
        { err, batch: ids.length },
        'subscription charge batch failed; the next run resumes it',
      );
    }
    for (const id of ids) if (!out.has(id)) out.set(id, 'error');
    return out;
  }

  /** Single-subscription form of the claim: the new attempt number, or null when another runner has it. */
  async claim(plan: ChargePlan, order: PaymentOrder): Promise<number | null> {
    const [won] = await this.claimCycles([[plan, order]], new Map());
    return won ? won.attempt : null;
  }

  /** The claim only one runner can win, for a whole batch; losers are 'skipped'. */
  private async claimCycles(
    pairs: [ChargePlan, PaymentOrder][],
    out: Outcomes,
  ): Promise<{ plan: ChargePlan; order: PaymentOrder; attempt: number }[]> {
    if (pairs.length === 0) return [];
    const now = this.clock.now();
    const sorted = [...pairs].sort(([a], [b]) => (a.cycleId < b.cycleId ? -1 : 1));
    const won = await this.dataSource.transaction(async (m) => {
      // Lock the cycles in id order (two runs never deadlock), check each claim under the lock, take the free ones.
      const current = (await m.query(
        `SELECT c.id, c.attempts, c.status, c.last_attempt_at, s.gateway_token_id, s.cancel_at_period_end, s.status AS sub_status, s.next_charge_at
           FROM subscription_cycles c JOIN subscriptions s ON s.id = c.subscription_id
          WHERE c.id = ANY($1::uuid[]) ORDER BY c.id FOR UPDATE OF c`,
        [sorted.map(([p]) => p.cycleId)],
      )) as (Omit<OpenCycleRow, 'subscription_id' | 'cycle' | 'amount'> & {
        gateway_token_id: string | null;
        cancel_at_period_end: boolean;
        sub_status: string;
        next_charge_at: Date | null;
      })[];
      const byId = new Map(current.map((c) => [c.id, c]));
      const leaseStart = now.getTime() - CHARGE_LEASE_MS;
      const free = sorted.filter(([plan]) => {
        const c = byId.get(plan.cycleId);
        if (!c || c.attempts !== plan.attempts) return false;
        const claimable =
          c.status === 'pending' ||
          c.status === 'failed' ||
          (c.status === 'charging' && (!c.last_attempt_at || c.last_attempt_at.getTime() < leaseStart));
        const chargeable =
          c.gateway_token_id === plan.tokenId &&
          !c.cancel_at_period_end &&
          CHARGEABLE.includes(c.sub_status) &&
          c.next_charge_at !== null &&
          c.next_charge_at.getTime() <= now.getTime();
        return claimable && chargeable;
      });
      const rows =
        free.length === 0
          ? []
          : returnedRows<{ id: string; attempts: number }>(
              await m.query(
                `UPDATE subscription_cycles
                    SET status = 'charging', attempts = attempts + 1, last_attempt_at = $2, next_retry_at = NULL, last_error = NULL, updated_at = now()
                  WHERE id = ANY($1::uuid[])
                RETURNING id, attempts`,
                [free.map(([p]) => p.cycleId), now],
              ),
            );
      const attempts = new Map(rows.map((r) => [r.id, r.attempts]));
      const winners = sorted
        .filter(([p]) => attempts.has(p.cycleId))
        .map(([plan, order]) => ({ plan, order, attempt: attempts.get(plan.cycleId)! }));
      await this.audit.recordMany(
        m,
        winners.map(({ plan, order, attempt }) => ({
          actor: null,
          action: 'subscription.charge_attempted',
          entityType: 'subscription_cycle',
          entityId: plan.cycleId,
          after: {
            subscriptionId: plan.subscriptionId,
            cycle: plan.cycle,
            attempt,
            gatewayOrderId: order.gatewayOrderId,
            amount: order.amount,
            at: now,
          },
        })),
      );
      return winners;
    });
    const winning = new Set(won.map((w) => w.plan.cycleId));
    for (const [plan] of pairs) if (!winning.has(plan.cycleId)) out.set(plan.subscriptionId, 'skipped');
    return won;
  }

  /** Requests the recurring debits of the claimed cycles, outside any transaction. */
  private async charge(
    claimed: { plan: ChargePlan; order: PaymentOrder; attempt: number }[],
    out: Outcomes,
  ): Promise<void> {
    const requested: { cycleId: string; attempt: number; paymentId: string }[] = [];
    await eachLimit(
      claimed,
      CONCURRENCY,
      async ({ plan, order, attempt }) => {
        try {
          const res = await this.gateway.createRecurringPayment({
            email: plan.email,
            contact: plan.contact,
            amount: order.amount,
            currency: order.currency,
            order_id: order.gatewayOrderId,
            customer_id: plan.customerId,
            token: plan.tokenId,
            recurring: '1',
            description: `TrekTribe organizer plan, cycle ${plan.cycle}`,
            notes: { subscription_id: plan.subscriptionId, cycle: String(plan.cycle) },
          });
          requested.push({ cycleId: plan.cycleId, attempt, paymentId: res.razorpay_payment_id });
          out.set(plan.subscriptionId, 'charged');
        } catch (err) {
          out.set(
            plan.subscriptionId,
            await this.afterChargeError(plan, order, attempt, err).catch((e: unknown) =>
              stepFailed(this.logger, plan, e),
            ),
          );
        }
      },
      this.pace,
    );
    if (requested.length === 0) return;
    // The webhook may already have settled some: only fill in attempts that are still open.
    requested.sort((a, b) => (a.cycleId < b.cycleId ? -1 : 1));
    await this.dataSource.query(
      `UPDATE subscription_cycles c SET gateway_payment_id = v.pid, updated_at = now()
         FROM unnest($1::uuid[], $2::int[], $3::text[]) AS v(id, attempts, pid)
        WHERE c.id = v.id AND c.attempts = v.attempts AND c.status = 'charging'`,
      [requested.map((r) => r.cycleId), requested.map((r) => r.attempt), requested.map((r) => r.paymentId)],
    );
  }

  private async afterChargeError(
    plan: ChargePlan,
    order: PaymentOrder,
    attempt: number,
    err: unknown,
  ): Promise<ChargeOutcome> {
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
    if (err instanceof DomainError && err.code === 'GATEWAY_ERROR') {
      // Refused outright, so nothing was debited now; but "already paid" means an earlier attempt went through.
      const payments = await this.gateway
        .fetchOrderPayments(order.gatewayOrderId)
        .then((r) => r.items)
        .catch(() => null);
      if (payments) {
        const outcome = await this.orders.settleFromGateway(plan, order, payments, {
          key: `declined:${plan.cycleId}:${attempt}`,
          reason: message,
        });
        return outcome === 'settled' || outcome === 'pending' ? outcome : 'declined';
      }
    }
    // No answer: the debit may or may not exist. The claim stands until its lease ends; then the next
    // run asks the gateway for the order's payments before anything else.
    this.logger.warn(
      { subscriptionId: plan.subscriptionId, cycle: plan.cycle, err: message },
      'recurring charge outcome unknown',
    );
    await this.dataSource.query(
      `UPDATE subscription_cycles SET last_error = $3, updated_at = now() WHERE id = $1 AND attempts = $2 AND status = 'charging'`,
      [plan.cycleId, attempt, message],
    );
    return 'unknown';
  }
}
