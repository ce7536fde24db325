import { Injectable, Logger } from '@nestjs/common';
import { AuditService, LoopPressure } from '@trektribe/common';
import { DataSource, In } from 'typeorm';
import { GatewayOrder, GatewayPayment, RazorpayGateway } from '../gateway/razorpay.gateway';
import { LedgerRecords } from '../ledger/ledger-records';
import { PaymentOrder } from '../ledger/payment-order.entity';
import { SubscriptionCycle } from './subscription-cycle.entity';
import { cycleReceipt, isCaptured } from './subscription-plan';
import { SubscriptionLifecycle } from './subscription-lifecycle';
import { SubscriptionStore } from './subscription-store';
import {
  assertCycleOrder,
  ChargeOutcome,
  ChargePlan,
  CONCURRENCY,
  eachLimit,
  Outcomes,
  stepFailed,
} from './charge-run-shared';

/**
 * Step b of the charge run: each cycle's gateway order, stored under its unique receipt before any
 * charge. A cycle whose order already exists is first asked for its payments: captured → settled,
 * in flight → wait, failures not yet counted → counted. Never charges twice.
 */
@Injectable()
export class ChargeOrders {
  private readonly logger = new Logger(ChargeOrders.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly gateway: RazorpayGateway,
    private readonly store: SubscriptionStore,
    private readonly records: LedgerRecords,
    private readonly lifecycle: SubscriptionLifecycle,
    private readonly audit: AuditService,
    private readonly pressure: LoopPressure,
  ) {}

  /** Gateway calls wait while this process is busy answering requests (its own webhooks among them). */
  private readonly pace = () => this.pressure.calm();

  async findCycleOrder(plan: ChargePlan): Promise<PaymentOrder | null> {
    return (await this.findCycleOrders([plan])).get(plan.cycleId) ?? null;
  }

  /** Single-subscription form of step b: the cycle's stored order, created if absent. */
  async ensureCycleOrder(plan: ChargePlan): Promise<PaymentOrder> {
    const existing = await this.findCycleOrder(plan);
    if (existing) return existing;
    const out: Outcomes = new Map();
    const [pair] = await this.ensureCycleOrders([plan], out);
    if (!pair)
      throw new Error(
        `could not create the order of cycle ${plan.cycle} of subscription ${plan.subscriptionId}`,
      );
    return pair[1];
  }

  /** Orders of the plans' cycles, by cycle id (looked up by their unique receipts). */
  async findCycleOrders(plans: ChargePlan[]): Promise<Map<string, PaymentOrder>> {
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
  async ensureCycleOrders(plans: ChargePlan[], out: Outcomes): Promise<[ChargePlan, PaymentOrder][]> {
    const created: { plan: ChargePlan; order: GatewayOrder }[] = [];
    await eachLimit(
      plans,
      CONCURRENCY,
      async (plan) => {
        try {
          const order = await this.gateway.createOrder({
            amount: plan.amount,
            currency: plan.currency,
            receipt: cycleReceipt(plan.subscriptionId, plan.cycle),
            notes: {
              purpose: 'subscription',
              subscription_id: plan.subscriptionId,
              cycle: String(plan.cycle),
              organizer_id: plan.organizerId,
            },
          });
          created.push({ plan, order });
        } catch (err) {
          out.set(plan.subscriptionId, stepFailed(this.logger, plan, err));
        }
      },
      this.pace,
    );
    if (created.length === 0) return [];
    created.sort((a, b) => (a.plan.cycleId < b.plan.cycleId ? -1 : 1));

    return this.dataSource.transaction(async (m) => {
      await this.records.openCycleOrders(
        m,
        created.map(({ plan, order }) => ({
          subscriptionId: plan.subscriptionId,
          cycleId: plan.cycleId,
          payerId: plan.organizerId,
          amount: plan.amount,
          currency: plan.currency,
          receipt: cycleReceipt(plan.subscriptionId, plan.cycle),
          gatewayOrderId: order.id,
        })),
      );
      const rows = await m.find(PaymentOrder, {
        where: { receipt: In(created.map(({ plan }) => cycleReceipt(plan.subscriptionId, plan.cycle))) },
      });
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
        await this.audit.recordMany(
          m,
          ours.map(({ plan, gatewayOrderId }) => ({
            actor: null,
            action: 'subscription.cycle_order_created',
            entityType: 'subscription_cycle',
            entityId: plan.cycleId,
            after: {
              subscriptionId: plan.subscriptionId,
              cycle: plan.cycle,
              gatewayOrderId,
              receipt: cycleReceipt(plan.subscriptionId, plan.cycle),
            },
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
      this.logger.warn(
        { subscriptionId: plan.subscriptionId, cycle: plan.cycle, err },
        'could not fetch the cycle order payments; trying next run',
      );
      return 'unknown';
    }
    return this.settleFromGateway(plan, order, payments);
  }

  /** Applies what the gateway knows about the cycle's order, locking order → subscription → cycle. */
  async settleFromGateway(
    plan: ChargePlan,
    order: PaymentOrder,
    payments: GatewayPayment[],
    declined?: { key: string; reason: string },
  ): Promise<ChargeOutcome | 'open'> {
    return this.dataSource.transaction(async (m): Promise<ChargeOutcome | 'open'> => {
      await this.store.lockOrder(m, order);
      const sub = await this.store.lock(m, plan.subscriptionId);
      const cycle = await m.findOne(SubscriptionCycle, {
        where: { id: plan.cycleId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!sub || !cycle) return 'notDue';
      if (cycle.status === 'paid') return 'settled';
      const captured = payments.find((p) => isCaptured(p));
      // Not PaymentLedger's amount check (a capture for another amount than the order's is refunded
      // and its cycle left unpaid): here that cycle's paid order could never be charged again, and
      // what it should do next (dun, charge on a new order) is not decided. The charge run sends
      // order.amount itself, so a mismatch would be the gateway's; a webhook for it is refused by
      // the ledger, and this path would then pay the cycle (issue 11 follow-up).
      if (captured) {
        await this.lifecycle.applyPaid(m, sub, cycle, order, captured, 'reconciliation');
        return 'settled';
      }
      if (payments.some((p) => p.status === 'created' || p.status === 'authorized')) return 'pending';
      let counted = false;
      // Oldest first (the gateway lists newest first), so the failure count follows the attempts.
      for (const p of [...payments].reverse().filter((x) => x.status === 'failed')) {
        const reason = (p.error_description ?? p.error_code ?? 'payment failed').slice(0, 500);
        if ((await this.lifecycle.applyFailure(m, sub, cycle, p.id, reason, p.id)) === 'applied')
          counted = true;
      }
      if (
        declined &&
        (await this.lifecycle.applyFailure(m, sub, cycle, declined.key, declined.reason)) === 'applied'
      )
        counted = true;
      return counted ? 'failureRecorded' : 'open';
    });
  }
}
