import { Injectable, Logger } from '@nestjs/common';
import { Clock, DomainError } from '@trektribe/common';
import { DataSource } from 'typeorm';
import { GatewayPayment, RazorpayGateway } from '../gateway/razorpay.gateway';
import { RefundSettlement } from '../refunds/refund-settlement';
import { LedgerRecords } from './ledger-records';
import { PaymentLedger, observedStatus } from './payment-ledger.service';

/** An order is left to its webhooks this long before we ask the gateway ourselves. */
export const RECONCILE_AFTER_MS = 15 * 60_000;
/** Orders older than this are abandoned checkouts: no longer polled. */
const RECONCILE_WINDOW_DAYS = 7;
const BATCH = 50;

export interface ReconcileResult {
  orders: number;
  payments: number;
  refundsChecked: number;
  refundsSettled: number;
  errors: number;
}

/**
 * A missed webhook loses nothing: orders left `created`/`attempted` past 15 minutes are asked for
 * their payments, and each is applied through the same ledger a webhook uses; refunds the gateway
 * left pending are fetched. Each order is re-polled with a backoff (a quarter of its age, at least
 * 10 minutes) for up to 7 days, claimed by a conditional update so two instances never poll one
 * order at once; everything it applies is idempotent anyway.
 */
@Injectable()
export class ReconciliationService {
  private readonly logger = new Logger(ReconciliationService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly gateway: RazorpayGateway,
    private readonly ledger: PaymentLedger,
    private readonly records: LedgerRecords,
    private readonly refundSettlement: RefundSettlement,
    private readonly clock: Clock,
  ) {}

  /** Job entry point (every 10 minutes). */
  async reconcile(): Promise<ReconcileResult> {
    const out: ReconcileResult = { orders: 0, payments: 0, refundsChecked: 0, refundsSettled: 0, errors: 0 };
    if (!this.gateway.configured) return out;
    const gatewayDown = await this.reconcileOrders(out);
    if (!gatewayDown) {
      const r = await this.refundSettlement.reconcilePending();
      out.refundsChecked = r.checked;
      out.refundsSettled = r.settled;
    }
    return out;
  }

  private async reconcileOrders(out: ReconcileResult): Promise<boolean> {
    const policy = { afterMs: RECONCILE_AFTER_MS, windowDays: RECONCILE_WINDOW_DAYS };
    const db = this.dataSource.manager;
    for (;;) {
      const now = this.clock.now();
      const batch = await this.records.dueForReconciliation(db, now, policy, BATCH);
      for (const id of batch) {
        const gatewayOrderId = await this.records.claimForReconciliation(db, id, now, policy);
        if (!gatewayOrderId) continue;
        out.orders++;
        let payments: GatewayPayment[];
        try {
          payments = (await this.gateway.fetchOrderPayments(gatewayOrderId)).items;
        } catch (err) {
          out.errors++;
          if (err instanceof DomainError && err.code !== 'GATEWAY_ERROR') {
            this.logger.warn(
              { err: err.message },
              'gateway unreachable; reconciliation stops until the next run',
            );
            return true;
          }
          this.logger.warn({ orderId: id, err }, 'could not fetch the payments of an order');
          continue;
        }
        // Oldest first, so a failed attempt is recorded before the capture that followed it.
        for (const p of [...payments].sort((a, b) => a.created_at - b.created_at)) {
          const observed = observedStatus(p);
          if (!observed) continue;
          const result = await this.dataSource.transaction((m) =>
            this.ledger.apply(m, id, p, observed, null),
          );
          if (result.kind !== 'unchanged' && result.kind !== 'ignored') {
            out.payments++;
            this.logger.log({ orderId: id, paymentId: p.id, outcome: result.detail }, 'reconciled a payment');
          }
        }
      }
      if (batch.length < BATCH) return false;
    }
  }
}
