import { Inject, Injectable, Optional } from '@nestjs/common';
import { DomainError } from '@trektribe/common';
import { DataSource, EntityManager } from 'typeorm';
import { GatewayPayment, GatewayToken, RazorpayGateway } from '../gateway/razorpay.gateway';
import {
  higher,
  movesForward,
  ObservedStatus,
  observedStatus,
  PaymentLedger,
  PaymentClaim,
} from '../payments/payment-ledger.service';
import type { PaymentRowStatus } from '../payments/payment.entity';
import { SubscriptionPaymentHandler } from '../ports';
import { RefundsService } from '../refunds/refunds.service';
import { StoredWebhookEvent, WebhookEventStore } from './webhook-event-store';

export interface RazorpayEvent {
  event?: unknown;
  payload?: Partial<Record<'payment' | 'order' | 'refund' | 'token', { entity?: unknown }>>;
}

/** The state an event name vouches for (the payload is a snapshot and may say the same or more). */
const IMPLIED: Record<string, ObservedStatus> = {
  'payment.authorized': 'authorized',
  'payment.captured': 'captured',
  'payment.failed': 'failed',
  'order.paid': 'captured',
};

/** Event types with an effect beyond the payment ledger. */
const HANDLED = new Set(['refund.processed', 'refund.failed', 'token.confirmed']);

/** Types that never have an effect: stored with their outcome on receipt, nothing to apply. */
export function outcomeOnReceipt(type: string): string | undefined {
  return type in IMPLIED || HANDLED.has(type) ? undefined : 'ignored: unhandled event type';
}

/** A payment event for one of our orders that may move it forward, as the pre-check read it. */
interface PaymentNews {
  orderId: string;
  /** The event's entity, or the gateway's own record of the payment when the event disagreed with our order. */
  entity: GatewayPayment;
  observed: ObservedStatus;
  /** What the event said, when it disagreed with our order (the ledger then refuses the payment). */
  claimed?: PaymentClaim;
}

export interface Applied {
  outcome: string;
  /** False when another delivery or instance had already applied this event: nothing was done. */
  applied: boolean;
  /** True when the effect wrote rows (and so, perhaps, messages for the outbox). */
  changed: boolean;
}

/**
 * What a stored Razorpay event does, applied through the same ledger as checkout and reconciliation.
 * The event is marked processed in the effect's own transaction, so it takes effect exactly once.
 */
@Injectable()
export class WebhookEffects {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: WebhookEventStore,
    private readonly ledger: PaymentLedger,
    private readonly refunds: RefundsService,
    private readonly gateway: RazorpayGateway,
    @Optional()
    @Inject(SubscriptionPaymentHandler)
    private readonly subscriptions?: SubscriptionPaymentHandler,
  ) {}

  async apply(stored: StoredWebhookEvent): Promise<Applied> {
    const event = (
      stored.payload && typeof stored.payload === 'object' ? stored.payload : {}
    ) as RazorpayEvent;
    const settled = await this.answerWithoutEffect(stored.type, event);
    if (settled.outcome !== undefined) return this.recordOnly(stored.rowId, settled.outcome);
    try {
      return await this.dataSource.transaction(async (m) => {
        const outcome = await this.effect(m, stored.type, event, settled.payment);
        if (!(await this.store.markProcessed(m, stored.rowId, outcome))) throw new AlreadyProcessed();
        return { outcome, applied: true, changed: true };
      });
    } catch (err) {
      if (err instanceof AlreadyProcessed) return { outcome: 'duplicate', applied: false, changed: false };
      // A rule refusing the event is its outcome: stored, not retried.
      if (err instanceof DomainError)
        return this.recordOnly(stored.rowId, `rejected: ${err.code}: ${err.message}`);
      throw err;
    }
  }

  /**
   * Events whose outcome is known without touching anything: types we do not handle (normally
   * settled on receipt already), payments of orders we do not have,
   * and payment news our row already has (order.paid after payment.captured, retries). States only
   * move forward, so a committed row that is already as far along stays so, and no lock is needed
   * to say "unchanged". Anything else goes through the ledger, with the order's id.
   */
  private async answerWithoutEffect(
    type: string,
    event: RazorpayEvent,
  ): Promise<{ outcome?: string; payment?: PaymentNews }> {
    const ignored = outcomeOnReceipt(type);
    if (ignored !== undefined) return { outcome: ignored };
    if (!(type in IMPLIED)) return {};
    const p = event.payload?.payment?.entity as GatewayPayment | undefined;
    if (!isPayment(p)) return { outcome: 'ignored: malformed payment' };
    if (!p.order_id) return { outcome: 'ignored: payment without an order' };
    const [found] = (await this.dataSource.query(
      `SELECT o.id, o.amount, o.currency, p.status FROM payment_orders o LEFT JOIN payments p ON p.gateway_payment_id = $2 WHERE o.gateway_order_id = $1`,
      [p.order_id, p.id],
    )) as { id: string; amount: number; currency: string; status: PaymentRowStatus | null }[];
    if (!found) return { outcome: 'ignored: unknown order' };
    const observed = higher(IMPLIED[type], observedStatus(p))!;
    if (!movesForward(observed, found.status)) return { outcome: `unchanged (${found.status})` };
    if (p.amount === found.amount && p.currency === found.currency) return { payment: { orderId: found.id, entity: p, observed } };
    return this.askGateway(found.id, p, found.status);
  }

  /**
   * An event whose amount or currency differs from our order's. The event's figures are not money we
   * hold: the gateway's own record of the payment is fetched, and it is what the ledger records and
   * refunds (the ledger refuses the payment and records the mismatch for admins). Unreachable gateway:
   * thrown, so the event is retried with its backoff. A payment the gateway refuses to show (unknown
   * id, another order): rejected, nothing moves.
   */
  private async askGateway(orderId: string, p: GatewayPayment, current: PaymentRowStatus | null): Promise<{ outcome?: string; payment?: PaymentNews }> {
    let held: GatewayPayment;
    try {
      held = await this.gateway.fetchPayment(p.id);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'GATEWAY_ERROR') return { outcome: `rejected: amount differs from the order and ${err.message}` };
      throw new Error(`amount differs from the order; the gateway could not be asked: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (held.order_id !== p.order_id) return { outcome: 'rejected: amount differs from the order and the gateway shows the payment on another order' };
    const observed = observedStatus(held);
    if (!observed) return { outcome: `ignored: amount differs from the order; the gateway shows the payment ${held.status}` };
    if (!movesForward(observed, current)) return { outcome: `unchanged (${current})` };
    return { payment: { orderId, entity: held, observed, claimed: { amount: p.amount, currency: p.currency } } };
  }

  /** One statement: the outcome of an event without an effect. */
  private async recordOnly(rowId: string, outcome: string): Promise<Applied> {
    const marked = await this.store.markProcessed(this.dataSource.manager, rowId, outcome);
    return marked
      ? { outcome, applied: true, changed: false }
      : { outcome: 'duplicate', applied: false, changed: false };
  }

  private async effect(
    m: EntityManager,
    type: string,
    event: RazorpayEvent,
    payment: PaymentNews | undefined,
  ): Promise<string> {
    if (payment)
      return (await this.ledger.apply(m, payment.orderId, payment.entity, payment.observed, null, payment.claimed)).detail;
    if (type === 'refund.processed' || type === 'refund.failed') {
      const refund = event.payload?.refund?.entity;
      if (!refund || typeof refund !== 'object') return 'ignored: malformed refund';
      return this.refunds.settleFromWebhook(m, refund, type === 'refund.processed' ? 'processed' : 'failed');
    }
    if (type === 'token.confirmed') {
      const token = event.payload?.token?.entity as
        (GatewayToken & { customer_id?: string | null }) | undefined;
      if (!token || typeof token.id !== 'string') return 'ignored: malformed token';
      if (!this.subscriptions) return 'no subscription handler';
      return `subscription: ${await this.subscriptions.onTokenConfirmed(m, token)}`;
    }
    return 'ignored: unhandled event type';
  }
}

/** Rolls back an application of an event that was processed meanwhile. */
class AlreadyProcessed extends Error {}

function isPayment(p: unknown): p is GatewayPayment {
  if (!p || typeof p !== 'object') return false;
  const x = p as Record<string, unknown>;
  return (
    typeof x.id === 'string' &&
    x.id.length <= 64 &&
    Number.isInteger(x.amount) &&
    typeof x.currency === 'string' &&
    typeof x.status === 'string' &&
    (x.order_id === null || x.order_id === undefined || typeof x.order_id === 'string')
  );
}
