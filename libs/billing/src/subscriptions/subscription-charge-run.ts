import { Injectable, Logger } from '@nestjs/common';
import { AuditService, Clock, DomainError, LoopPressure, returnedRows } from '@trektribe/common';
import { OutboxDispatcher } from '@trektribe/notifications';
import { DataSource, EntityManager, In } from 'typeorm';
import { GatewayOrder, GatewayPayment, RazorpayGateway } from '../gateway/razorpay.gateway';
import { PaymentOrder } from '../payments/payment-order.entity';
import { SubscriptionCycle } from './subscription-cycle.entity';
import { CHARGE_LEASE_MS, cycleReceipt, isCaptured, PLAN } from './subscription-plan';
import { SubscriptionLifecycle } from './subscription-lifecycle';
import { SubscriptionStore } from './subscription-store';

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

interface DueRow {
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

interface OpenCycleRow {
  id: string;
  subscription_id: string;
  cycle: number;
  amount: number;
  status: string;
  attempts: number;
  last_attempt_at: Date | null;
}

interface AuditRow {
  action: string;
  entityType: string;
  entityId: string;
  after: Record<string, unknown>;
}

type Outcomes = Map<string, ChargeOutcome>;

const BATCH = 200;
/** Gateway requests in flight at once; the database work of a batch is a handful of set-based statements. */
const CONCURRENCY = 16;
const CHARGEABLE = ['trial', 'active', 'past_due', 'suspended'];

/**
 * The 02:00 IST charge run (`processDueSubscriptions`), safe to run twice at once and to resume after
 * a crash at any point. Due subscriptions are taken in keyset batches; each batch goes through:
 *   a. `openCycles`: with the subscription rows locked, re-check each is due, then reuse its unpaid
 *      cycle or insert the next one (unique (subscription_id, cycle), ON CONFLICT DO NOTHING);
 *   b. `ensureCycleOrders`: each cycle's gateway order, stored under its unique receipt before any
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
    private readonly lifecycle: SubscriptionLifecycle,
    private readonly dispatcher: OutboxDispatcher,
    private readonly clock: Clock,
    private readonly pressure: LoopPressure,
    private readonly audit: AuditService,
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
    this.dispatcher.kick();
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
      const plans = await this.openCycles(ids, out);
      const existing = await this.findCycleOrders(plans);
      const ready: [ChargePlan, PaymentOrder][] = [];
      const fresh: ChargePlan[] = [];
      for (const plan of plans) {
        const order = existing.get(plan.cycleId);
        if (order) ready.push([plan, order]);
        else fresh.push(plan);
      }
      // An order that exists was (maybe) charged before: ask the gateway first (rare: retries, crashes).
      const reconciled: [ChargePlan, PaymentOrder][] = [];
      await eachLimit(ready, CONCURRENCY, async ([plan, order]) => {
        const outcome = await this.reconcile(plan, order).catch((err: unknown) => this.failed(plan, err));
        if (outcome === 'open') reconciled.push([plan, order]);
        else out.set(plan.subscriptionId, outcome);
      }, this.pace);
      const created = await this.ensureCycleOrders(fresh, out);
      const claimed = await this.claimCycles([...reconciled, ...created], out);
      await this.charge(claimed, out);
    } catch (err) {
      this.logger.error({ err, batch: ids.length }, 'subscription charge batch failed; the next run resumes it');
    }
    for (const id of ids) if (!out.has(id)) out.set(id, 'error');
    return out;
  }

  // ------------------------------------------------------------------------------------------------
  // Step a
  // ------------------------------------------------------------------------------------------------

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
        const due = CHARGEABLE.includes(row.status) && row.next_charge_at !== null && row.next_charge_at.getTime() <= now.getTime();
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
      await this.auditMany(
        m,
        opened.map((c) => ({
          action: 'subscription.cycle_opened',
          entityType: 'subscription_cycle',
          entityId: c.id,
          after: { subscriptionId: c.subscription_id, cycle: c.cycle, amount: c.amount, periodStart: c.period_start, periodEnd: c.period_end },
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
        const claimedByOther = cycle.status === 'charging' && cycle.last_attempt_at !== null && cycle.last_attempt_at.getTime() >= now.getTime() - CHARGE_LEASE_MS;
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

  // ------------------------------------------------------------------------------------------------
  // Step b
  // ------------------------------------------------------------------------------------------------

  async findCycleOrder(plan: ChargePlan): Promise<PaymentOrder | null> {
    return (await this.findCycleOrders([plan])).get(plan.cycleId) ?? null;
  }

  /** Single-subscription form of step b: the cycle's stored order, created if absent. */
  async ensureCycleOrder(plan: ChargePlan): Promise<PaymentOrder> {
    const existing = await this.findCycleOrder(plan);
    if (existing) return existing;
    const out: Outcomes = new Map();
    const [pair] = await this.ensureCycleOrders([plan], out);
    if (!pair) throw new Error(`could not create the order of cycle ${plan.cycle} of subscription ${plan.subscriptionId}`);
    return pair[1];
  }

  /** Orders of the plans' cycles, by cycle id (looked up by their unique receipts). */
  private async findCycleOrders(plans: ChargePlan[]): Promise<Map<string, PaymentOrder>> {
    const found = new Map<string, PaymentOrder>();
    if (plans.length === 0) return found;
    const orders = await this.dataSource
      .getRepository(PaymentOrder)
      .find({ where: { receipt: In(plans.map((p) => cycleReceipt(p.subscriptionId, p.cycle))) } });
    const byReceipt = new Map(orders.map((o) => [o.receipt, o]));
    for (const plan of plans) {
      const order = byReceipt.get(cycleReceipt(plan.subscriptionId, plan.cycle));
      if (order) found.set(plan.cycleId, assertCycleOrder(order, plan));
    }
    return found;
  }

  /**
   * Creates each cycle's gateway order, then stores them all (unique receipt) in one transaction,
   * before any charge. Two runners creating the same one leave an unused gateway order behind (an
   * unpaid order debits nothing) and share the stored row.
   */
  private async ensureCycleOrders(plans: ChargePlan[], out: Outcomes): Promise<[ChargePlan, PaymentOrder][]> {
    const created: { plan: ChargePlan; order: GatewayOrder }[] = [];
    await eachLimit(plans, CONCURRENCY, async (plan) => {
      try {
        const order = await this.gateway.createOrder({
          amount: plan.amount,
          currency: plan.currency,
          receipt: cycleReceipt(plan.subscriptionId, plan.cycle),
          notes: { purpose: 'subscription', subscription_id: plan.subscriptionId, cycle: String(plan.cycle), organizer_id: plan.organizerId },
        });
        created.push({ plan, order });
      } catch (err) {
        out.set(plan.subscriptionId, this.failed(plan, err));
      }
    }, this.pace);
    if (created.length === 0) return [];
    created.sort((a, b) => (a.plan.cycleId < b.plan.cycleId ? -1 : 1));

    return this.dataSource.transaction(async (m) => {
      await m
        .createQueryBuilder()
        .insert()
        .into(PaymentOrder)
        .values(
          created.map(({ plan, order }) => ({
            purpose: 'subscription' as const,
            bookingId: null,
            subscriptionId: plan.subscriptionId,
            cycleId: plan.cycleId,
            payerId: plan.organizerId,
            amount: plan.amount,
            currency: plan.currency,
            receipt: cycleReceipt(plan.subscriptionId, plan.cycle),
            gatewayOrderId: order.id,
            status: 'created' as const,
          })),
        )
        .orIgnore()
        .execute();
      const rows = await m.find(PaymentOrder, { where: { receipt: In(created.map(({ plan }) => cycleReceipt(plan.subscriptionId, plan.cycle))) } });
      const byReceipt = new Map(rows.map((o) => [o.receipt, o]));
      const pairs: [ChargePlan, PaymentOrder][] = [];
      const ours: { plan: ChargePlan; gatewayOrderId: string }[] = [];
      for (const { plan, order } of created) {
        const row = byReceipt.get(cycleReceipt(plan.subscriptionId, plan.cycle));
        if (!row) {
          out.set(plan.subscriptionId, 'error');
          continue;
        }
        pairs.push([plan, assertCycleOrder(row, plan)]);
        if (row.gatewayOrderId === order.id) ours.push({ plan, gatewayOrderId: order.id });
      }
      if (ours.length > 0) {
        await m.query(
          `UPDATE subscription_cycles c SET gateway_order_id = v.gid, updated_at = now()
             FROM unnest($1::uuid[], $2::text[]) AS v(id, gid) WHERE c.id = v.id`,
          [ours.map((o) => o.plan.cycleId), ours.map((o) => o.gatewayOrderId)],
        );
        await this.auditMany(
          m,
          ours.map(({ plan, gatewayOrderId }) => ({
            action: 'subscription.cycle_order_created',
            entityType: 'subscription_cycle',
            entityId: plan.cycleId,
            after: { subscriptionId: plan.subscriptionId, cycle: plan.cycle, gatewayOrderId, receipt: cycleReceipt(plan.subscriptionId, plan.cycle) },
          })),
        );
      }
      return pairs;
    });
  }

  /**
   * Before charging on an order that already exists, ask the gateway what happened to it: a paid
   * order is never charged again. 'open' means: nothing captured, nothing in flight, nothing new.
   */
  async reconcile(plan: ChargePlan, order: PaymentOrder): Promise<ChargeOutcome | 'open'> {
    let payments: GatewayPayment[];
    try {
      payments = (await this.gateway.fetchOrderPayments(order.gatewayOrderId)).items;
    } catch (err) {
      this.logger.warn({ subscriptionId: plan.subscriptionId, cycle: plan.cycle, err }, 'could not fetch the cycle order payments; trying next run');
      return 'unknown';
    }
    return this.settleFromGateway(plan, order, payments);
  }

  // ------------------------------------------------------------------------------------------------
  // Step c
  // ------------------------------------------------------------------------------------------------

  /** Single-subscription form of the claim: the new attempt number, or null when another runner has it. */
  async claim(plan: ChargePlan, order: PaymentOrder): Promise<number | null> {
    const [won] = await this.claimCycles([[plan, order]], new Map());
    return won ? won.attempt : null;
  }

  /** The claim only one runner can win, for a whole batch; losers are 'skipped'. */
  private async claimCycles(pairs: [ChargePlan, PaymentOrder][], out: Outcomes): Promise<{ plan: ChargePlan; order: PaymentOrder; attempt: number }[]> {
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
        const claimable = c.status === 'pending' || c.status === 'failed' || (c.status === 'charging' && (!c.last_attempt_at || c.last_attempt_at.getTime() < leaseStart));
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
      const winners = sorted.filter(([p]) => attempts.has(p.cycleId)).map(([plan, order]) => ({ plan, order, attempt: attempts.get(plan.cycleId)! }));
      await this.auditMany(
        m,
        winners.map(({ plan, order, attempt }) => ({
          action: 'subscription.charge_attempted',
          entityType: 'subscription_cycle',
          entityId: plan.cycleId,
          after: { subscriptionId: plan.subscriptionId, cycle: plan.cycle, attempt, gatewayOrderId: order.gatewayOrderId, amount: order.amount, at: now },
        })),
      );
      return winners;
    });
    const winning = new Set(won.map((w) => w.plan.cycleId));
    for (const [plan] of pairs) if (!winning.has(plan.cycleId)) out.set(plan.subscriptionId, 'skipped');
    return won;
  }

  /** Requests the recurring debits of the claimed cycles, outside any transaction. */
  private async charge(claimed: { plan: ChargePlan; order: PaymentOrder; attempt: number }[], out: Outcomes): Promise<void> {
    const requested: { cycleId: string; attempt: number; paymentId: string }[] = [];
    await eachLimit(claimed, CONCURRENCY, async ({ plan, order, attempt }) => {
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
        out.set(plan.subscriptionId, await this.afterChargeError(plan, order, attempt, err).catch((e: unknown) => this.failed(plan, e)));
      }
    }, this.pace);
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

  private async afterChargeError(plan: ChargePlan, order: PaymentOrder, attempt: number, err: unknown): Promise<ChargeOutcome> {
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
    if (err instanceof DomainError && err.code === 'GATEWAY_ERROR') {
      // Refused outright, so nothing was debited now; but "already paid" means an earlier attempt went through.
      const payments = await this.gateway
        .fetchOrderPayments(order.gatewayOrderId)
        .then((r) => r.items)
        .catch(() => null);
      if (payments) {
        const outcome = await this.settleFromGateway(plan, order, payments, { key: `declined:${plan.cycleId}:${attempt}`, reason: message });
        return outcome === 'settled' || outcome === 'pending' ? outcome : 'declined';
      }
    }
    // No answer: the debit may or may not exist. The claim stands until its lease ends; then the next
    // run asks the gateway for the order's payments before anything else.
    this.logger.warn({ subscriptionId: plan.subscriptionId, cycle: plan.cycle, err: message }, 'recurring charge outcome unknown');
    await this.dataSource.query(`UPDATE subscription_cycles SET last_error = $3, updated_at = now() WHERE id = $1 AND attempts = $2 AND status = 'charging'`, [
      plan.cycleId,
      attempt,
      message,
    ]);
    return 'unknown';
  }

  /** Applies what the gateway knows about the cycle's order, locking order → subscription → cycle. */
  private async settleFromGateway(
    plan: ChargePlan,
    order: PaymentOrder,
    payments: GatewayPayment[],
    declined?: { key: string; reason: string },
  ): Promise<ChargeOutcome | 'open'> {
    return this.dataSource.transaction(async (m): Promise<ChargeOutcome | 'open'> => {
      await this.store.lockOrder(m, order);
      const sub = await this.store.lock(m, plan.subscriptionId);
      const cycle = await m.findOne(SubscriptionCycle, { where: { id: plan.cycleId }, lock: { mode: 'pessimistic_write' } });
      if (!sub || !cycle) return 'notDue';
      if (cycle.status === 'paid') return 'settled';
      const captured = payments.find((p) => isCaptured(p));
      if (captured) {
        await this.lifecycle.applyPaid(m, sub, cycle, order, captured, 'reconciliation');
        return 'settled';
      }
      if (payments.some((p) => p.status === 'created' || p.status === 'authorized')) return 'pending';
      let counted = false;
      // Oldest first (the gateway lists newest first), so the failure count follows the attempts.
      for (const p of [...payments].reverse().filter((x) => x.status === 'failed')) {
        const reason = (p.error_description ?? p.error_code ?? 'payment failed').slice(0, 500);
        if ((await this.lifecycle.applyFailure(m, sub, cycle, p.id, reason, p.id)) === 'applied') counted = true;
      }
      if (declined && (await this.lifecycle.applyFailure(m, sub, cycle, declined.key, declined.reason)) === 'applied') counted = true;
      return counted ? 'failureRecorded' : 'open';
    });
  }

  /** A batch's audit rows in one statement, through AuditService like every audit row. */
  private auditMany(m: EntityManager, rows: AuditRow[]): Promise<void> {
    return this.audit.recordMany(
      m,
      rows.map((r) => ({ actor: null, action: r.action, entityType: r.entityType, entityId: r.entityId, after: r.after })),
    );
  }

  private failed(plan: ChargePlan, err: unknown): ChargeOutcome {
    this.logger.error({ subscriptionId: plan.subscriptionId, cycle: plan.cycle, err }, 'subscription charge step failed; the next run resumes it');
    return 'error';
  }
}

/** A receipt shared by two subscriptions (a 96-bit prefix collision) must never be charged as ours. */
function assertCycleOrder(order: PaymentOrder, plan: ChargePlan): PaymentOrder {
  if (order.subscriptionId !== plan.subscriptionId || order.cycleId !== plan.cycleId || order.purpose !== 'subscription') {
    throw new Error(`receipt ${order.receipt} belongs to another subscription cycle`);
  }
  return order;
}

/** `fn` over `items`, `limit` at a time; `pace` is awaited before each item starts. */
async function eachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>, pace?: () => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      await pace?.();
      if (next < items.length) await fn(items[next++]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
