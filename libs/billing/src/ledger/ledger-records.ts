import { Injectable } from '@nestjs/common';
import { Clock, returnedRows } from '@trektribe/common';
import { EntityManager } from 'typeorm';
import type { GatewayPayment } from '../gateway/razorpay.gateway';
import { isCaptured } from '../subscriptions/subscription-plan';
import { PaymentOrder } from './payment-order.entity';
import { Payment } from './payment.entity';

/** A booking's gateway order, as checkout stores it. Amounts in paise. */
export interface BookingOrderInput {
  bookingId: string;
  payerId: string;
  amount: number;
  currency: string;
  receipt: string;
  gatewayOrderId: string;
}

/** A subscription cycle's gateway order (receipt `sub:<id>:<cycle>`), or a mandate's authorisation order. Amounts in paise. */
export interface SubscriptionOrderInput {
  subscriptionId: string;
  cycleId: string | null;
  payerId: string;
  amount: number;
  currency: string;
  receipt: string;
  gatewayOrderId: string;
}

/** When reconciliation asks the gateway about an order still `created`/`attempted`. */
export interface ReconcilePolicy {
  /** Left to its webhooks this long first (ms). */
  afterMs: number;
  /** Orders older than this are abandoned checkouts, no longer polled (days). */
  windowDays: number;
}

// Due: old enough, young enough, and not polled within a quarter of its age (at least 10 minutes).
const DUE = `status IN ('created', 'attempted') AND created_at <= $1::timestamptz - make_interval(secs => $2)
       AND created_at > $1::timestamptz - make_interval(days => $3)
       AND (last_reconciled_at IS NULL OR last_reconciled_at <= $1::timestamptz - greatest(interval '10 minutes', ($1::timestamptz - created_at) / 4))`;

/**
 * The ledger's plain row writes: with PaymentLedger (which applies a gateway or screenshot payment),
 * the only code that writes `payment_orders` and `payments` (architecture.spec.ts checks it). It
 * needs nothing but the clock, so the code PaymentLedger itself calls into (refunds, the
 * subscription side) can use it without a dependency cycle. Every method runs in the caller's
 * transaction (`m`) and takes no locks beyond the ones named; amounts are integers in paise.
 */
@Injectable()
export class LedgerRecords {
  constructor(private readonly clock: Clock) {}

  /**
   * Stores a booking's new gateway order (`created`), unless the booking already has a live one
   * (unique `uq_orders_live_booking`, or the gateway id or receipt taken): then null, and nothing is
   * written. Returns the stored row.
   */
  async openBookingOrder(m: EntityManager, o: BookingOrderInput): Promise<PaymentOrder | null> {
    const inserted = returnedRows<{ id: string }>(
      await m.query(
        `INSERT INTO payment_orders (purpose, booking_id, payer_id, amount, currency, receipt, gateway_order_id, status)
         VALUES ('booking', $1, $2, $3, $4, $5, $6, 'created')
         ON CONFLICT DO NOTHING RETURNING id`,
        [o.bookingId, o.payerId, o.amount, o.currency, o.receipt, o.gatewayOrderId],
      ),
    );
    return inserted.length ? m.findOneByOrFail(PaymentOrder, { id: inserted[0].id }) : null;
  }

  /** The booking's amount changed: its live order is retired (`superseded_at`), so a new one may be opened. */
  async supersede(m: EntityManager, order: PaymentOrder): Promise<void> {
    order.supersededAt = this.clock.now();
    await m.save(order);
  }

  /**
   * Stores the charge run's cycle orders (`created`) in one statement; a receipt already stored (by
   * another runner) is left as it is. Read the rows back by receipt.
   */
  async openCycleOrders(
    m: EntityManager,
    orders: (SubscriptionOrderInput & { cycleId: string })[],
  ): Promise<void> {
    await m
      .createQueryBuilder()
      .insert()
      .into(PaymentOrder)
      .values(
        orders.map((o) => ({
          purpose: 'subscription' as const,
          bookingId: null,
          status: 'created' as const,
          ...o,
        })),
      )
      .orIgnore()
      .execute();
  }

  /** Stores a mandate's authorisation order (`created`). Throws the unique violation if the receipt or gateway id is taken. */
  async openAuthorizationOrder(
    m: EntityManager,
    o: SubscriptionOrderInput & { cycleId: null },
  ): Promise<void> {
    await m.insert(
      PaymentOrder,
      m.create(PaymentOrder, {
        purpose: 'subscription_authorization',
        bookingId: null,
        status: 'created',
        ...o,
      }),
    );
  }

  /** Ids of up to `limit` orders due for reconciliation at `now`, oldest first. */
  async dueForReconciliation(
    m: EntityManager,
    now: Date,
    policy: ReconcilePolicy,
    limit: number,
  ): Promise<string[]> {
    const rows = (await m.query(
      `SELECT id FROM payment_orders WHERE ${DUE} ORDER BY created_at, id LIMIT ${Number(limit)}`,
      reconcileParams(now, policy),
    )) as {
      id: string;
    }[];
    return rows.map((r) => r.id);
  }

  /**
   * Claims one order for a reconciliation poll (stamps `last_reconciled_at`), if it is still due: one
   * conditional update, so two instances never poll the same order. The gateway order id, or null
   * when another instance claimed it or it stopped being due.
   */
  async claimForReconciliation(
    m: EntityManager,
    orderId: string,
    now: Date,
    policy: ReconcilePolicy,
  ): Promise<string | null> {
    const claimed = returnedRows<{ gateway_order_id: string }>(
      await m.query(
        `UPDATE payment_orders SET last_reconciled_at = $1, updated_at = now() WHERE id = $4 AND ${DUE} RETURNING gateway_order_id`,
        [...reconcileParams(now, policy), orderId],
      ),
    );
    return claimed.length ? claimed[0].gateway_order_id : null;
  }

  /**
   * The order is paid (now, unless it already had a paid time); a paid order is left alone. The
   * caller holds the order row (order → subscription → cycle).
   */
  async markOrderPaid(m: EntityManager, orderId: string): Promise<void> {
    await m.query(
      `UPDATE payment_orders SET status = 'paid', paid_at = COALESCE(paid_at, $2), updated_at = now() WHERE id = $1 AND status <> 'paid'`,
      [orderId, this.clock.now()],
    );
  }

  /**
   * A recurring (subscription) payment the charge run learned of from the gateway, in the bills:
   * once per gateway payment id, and it only moves forward (authorized/failed → captured), so it is
   * safe alongside PaymentLedger.apply recording the same payment from a webhook. Captured means
   * `isCaptured` of the subscription side (a refunded payment counts). The amount is the gateway's,
   * in paise; it is not compared with the order's (see ChargeOrders.settleFromGateway).
   */
  async recordRecurringPayment(
    m: EntityManager,
    order: PaymentOrder,
    payment: GatewayPayment,
  ): Promise<void> {
    const captured = isCaptured(payment);
    const status = captured ? 'captured' : payment.status === 'authorized' ? 'authorized' : 'failed';
    await m.query(
      `INSERT INTO payments (order_id, subscription_id, payer_id, method, gateway_payment_id, amount, currency, status, gateway_method,
                             error_code, error_description, captured_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (gateway_payment_id) WHERE gateway_payment_id IS NOT NULL DO UPDATE
          SET status = EXCLUDED.status, captured_at = EXCLUDED.captured_at, error_code = NULL, error_description = NULL, updated_at = now()
        WHERE payments.status IN ('authorized', 'failed') AND EXCLUDED.status = 'captured'`,
      [
        order.id,
        order.subscriptionId,
        order.payerId,
        'recurring',
        payment.id,
        payment.amount,
        payment.currency,
        status,
        payment.method?.slice(0, 30) ?? null,
        captured ? null : (payment.error_code?.slice(0, 100) ?? null),
        captured ? null : (payment.error_description?.slice(0, 500) ?? null),
        captured ? this.clock.now() : null,
      ],
    );
  }

  /**
   * A processed refund of `amount` paise comes off its payment: `amount_refunded` grows (never past
   * the payment's amount) and the status becomes `partially_refunded` or `refunded`. Locks the
   * payment row (FOR UPDATE). The updated payment, or null when there is no such payment.
   */
  async creditRefund(m: EntityManager, paymentId: string, amount: number): Promise<Payment | null> {
    const p = await m.findOne(Payment, { where: { id: paymentId }, lock: { mode: 'pessimistic_write' } });
    if (!p) return null;
    p.amountRefunded = Math.min(p.amount, p.amountRefunded + amount);
    p.status = p.amountRefunded >= p.amount ? 'refunded' : 'partially_refunded';
    await m.save(p);
    return p;
  }
}

function reconcileParams(now: Date, policy: ReconcilePolicy): unknown[] {
  return [now, policy.afterMs / 1000, policy.windowDays];
}
