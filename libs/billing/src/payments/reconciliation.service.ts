import { Injectable, Logger } from '@nestjs/common';
import { Clock, DomainError, returnedRows } from '@trektribe/common';
import { DataSource } from 'typeorm';
import { GatewayPayment, RazorpayGateway } from '../gateway/razorpay.gateway';
import { RefundSettlement } from '../refunds/refund-settlement';
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
    const due = `status IN ('created', 'attempted') AND created_at <= $1::timestamptz - make_interval(secs => $2)
       AND created_at > $1::timestamptz - make_interval(days => $3)
       AND (last_reconciled_at IS NULL OR last_reconciled_at <= $1::timestamptz - greatest(interval '10 minutes', ($1::timestamptz - created_at) / 4))`;
    for (;;) {
      const now = this.clock.now();
      const params = [now, RECONCILE_AFTER_MS / 1000, RECONCILE_WINDOW_DAYS];
      const batch = (await this.dataSource.query(`SELECT id FROM payment_orders WHERE ${due} ORDER BY created_at, id LIMIT ${BATCH}`, params)) as {
        id: string;
      }[];
      for (const { id } of batch) {
        const claimed = returnedRows<{ gateway_order_id: string }>(
          await this.dataSource.query(`UPDATE payment_orders SET last_reconciled_at = $1, updated_at = now() WHERE id = $4 AND ${due} RETURNING gateway_order_id`, [
            ...params,
            id,
          ]),
        );
        if (!claimed.length) continue;
        out.orders++;
        let payments: GatewayPayment[];
        try {
          payments = (await this.gateway.fetchOrderPayments(claimed[0].gateway_order_id)).items;
        } catch (err) {
          out.errors++;
          if (err instanceof DomainError && err.code !== 'GATEWAY_ERROR') {
            this.logger.warn({ err: err.message }, 'gateway unreachable; reconciliation stops until the next run');
            return true;
          }
          this.logger.warn({ orderId: id, err }, 'could not fetch the payments of an order');
          continue;
        }
        // Oldest first, so a failed attempt is recorded before the capture that followed it.
        for (const p of [...payments].sort((a, b) => a.created_at - b.created_at)) {
          const observed = observedStatus(p);
          if (!observed) continue;
          const result = await this.dataSource.transaction((m) => this.ledger.apply(m, id, p, observed, null));
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
