import { Inject, Injectable, Optional } from '@nestjs/common';
import { DomainError } from '@trektribe/common';
import { DataSource, EntityManager } from 'typeorm';
import { GatewayPayment, GatewayToken } from '../gateway/razorpay.gateway';
import {
  higher,
  movesForward,
  ObservedStatus,
  observedStatus,
  PaymentLedger,
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
  entity: GatewayPayment;
  observed: ObservedStatus;
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
      `SELECT o.id, p.status FROM payment_orders o LEFT JOIN payments p ON p.gateway_payment_id = $2 WHERE o.gateway_order_id = $1`,
      [p.order_id, p.id],
    )) as { id: string; status: PaymentRowStatus | null }[];
    if (!found) return { outcome: 'ignored: unknown order' };
    const observed = higher(IMPLIED[type], observedStatus(p))!;
    if (!movesForward(observed, found.status)) return { outcome: `unchanged (${found.status})` };
    return { payment: { orderId: found.id, entity: p, observed } };
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
      return (await this.ledger.apply(m, payment.orderId, payment.entity, payment.observed, null)).detail;
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
