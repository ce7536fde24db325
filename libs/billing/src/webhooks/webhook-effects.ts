import { Injectable } from '@nestjs/common';
import { AuditService, DomainError } from '@trektribe/common';
import { DataSource, EntityManager } from 'typeorm';
import { GatewayPayment, GatewayRefund, GatewayToken, RazorpayGateway } from '../gateway/razorpay.gateway';
import {
  higher,
  movesForward,
  ObservedStatus,
  observedStatus,
  PaymentLedger,
} from '../ledger/payment-ledger.service';
import type { PaymentRowStatus } from '../ledger/payment.entity';
import { SubscriptionPayments } from '../ledger/subscription-payments';
import { RefundSettlement } from '../refunds/refund-settlement';
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
  /** Null when the gateway's record shows nothing to record (a payment still `created`). */
  observed: ObservedStatus | null;
  /** Set when the event's amount or currency disagreed with our order: recorded for admins, never applied. */
  claim?: { order: { amount: number; currency: string }; event: { amount: number; currency: string } };
}

/** A refund event whose amount differs from our refund's, with the gateway's own record of that refund. */
interface RefundNews {
  refundId: string;
  ours: { amount: number; currency: string };
  claimed: { amount: number };
  held: GatewayRefund;
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
    private readonly refunds: RefundSettlement,
    private readonly gateway: RazorpayGateway,
    private readonly audit: AuditService,
    private readonly subscriptions: SubscriptionPayments,
  ) {}

  async apply(stored: StoredWebhookEvent): Promise<Applied> {
    const event = (
      stored.payload && typeof stored.payload === 'object' ? stored.payload : {}
    ) as RazorpayEvent;
    const settled = await this.answerWithoutEffect(stored.type, event);
    if (settled.outcome !== undefined) return this.recordOnly(stored.rowId, settled.outcome);
    try {
      return await this.dataSource.transaction(async (m) => {
        const outcome = settled.refund
          ? await this.settleCheckedRefund(m, stored, settled.refund)
          : await this.effect(m, stored, event, settled.payment);
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
  ): Promise<{ outcome?: string; payment?: PaymentNews; refund?: RefundNews }> {
    const ignored = outcomeOnReceipt(type);
    if (ignored !== undefined) return { outcome: ignored };
    if (type === 'refund.processed' || type === 'refund.failed') return this.checkRefundAmount(event);
    if (!(type in IMPLIED)) return {};
    const p = event.payload?.payment?.entity as GatewayPayment | undefined;
    if (!isPayment(p)) return { outcome: 'ignored: malformed payment' };
    if (!p.order_id) return { outcome: 'ignored: payment without an order' };
    const [found] = (await this.dataSource.query(
      `SELECT o.id, o.amount, o.currency, p.status FROM payment_orders o LEFT JOIN payments p ON p.gateway_payment_id = $2 WHERE o.gateway_order_id = $1`,
      [p.order_id, p.id],
    )) as { id: string; amount: number; currency: string; status: PaymentRowStatus | null }[];
    if (!found) return { outcome: 'ignored: unknown order' };
    if (p.amount !== found.amount || p.currency !== found.currency) return this.askGatewayAbout(found, p);
    const observed = higher(IMPLIED[type], observedStatus(p))!;
    if (!movesForward(observed, found.status)) return { outcome: `unchanged (${found.status})` };
    return { payment: { orderId: found.id, entity: p, observed } };
  }

  /**
   * An event whose amount or currency differs from our order's. Its figures are not money we hold:
   * the gateway's own record of the payment is fetched and applied instead, so the outcome is the
   * same as when checkout's verify (which fetches it too) comes first. A capture the gateway holds for
   * another amount is refused and refunded by the ledger; one that matches the order is kept. Either
   * way the event's claim is recorded for admins (`webhook.amount_mismatch`). Unreachable gateway:
   * thrown, so the event is retried with its backoff. A payment the gateway will not show (unknown
   * id) or shows on another order: rejected, nothing moves.
   */
  private async askGatewayAbout(
    order: { id: string; amount: number; currency: string },
    p: GatewayPayment,
  ): Promise<{ outcome?: string; payment?: PaymentNews }> {
    const asked = await askGateway(() => this.gateway.fetchPayment(p.id), 'amount differs from the order');
    if ('outcome' in asked) return asked;
    const held = asked.held;
    if (held.order_id !== p.order_id)
      return {
        outcome: 'rejected: amount differs from the order and the gateway shows the payment on another order',
      };
    const claim = {
      order: { amount: order.amount, currency: order.currency },
      event: { amount: p.amount, currency: p.currency },
    };
    return { payment: { orderId: order.id, entity: held, observed: observedStatus(held), claim } };
  }

  /**
   * A refund event for one of our refunds that names another amount than ours. Our row is never
   * settled on the event's figure: the gateway's record of that refund is fetched; when it agrees
   * with our amount it settles the refund, otherwise nothing is settled and admins see the
   * difference (`refund.amount_mismatch`). Unknown at the gateway: rejected. Unreachable: retried.
   */
  private async checkRefundAmount(event: RazorpayEvent): Promise<{ outcome?: string; refund?: RefundNews }> {
    const entity = event.payload?.refund?.entity as
      (Partial<GatewayRefund> & { notes?: unknown }) | undefined;
    if (!entity || typeof entity.id !== 'string' || typeof entity.amount !== 'number') return {};
    const ours = await this.refunds.findForEvent(this.dataSource.manager, {
      id: entity.id,
      notes: entity.notes,
    });
    if (!ours || ours.amount === entity.amount) return {};
    const asked = await askGateway(
      () => this.gateway.fetchRefund(entity.id!),
      'refund amount differs from ours',
    );
    if ('outcome' in asked) return asked;
    return {
      refund: {
        refundId: ours.id,
        ours: { amount: ours.amount, currency: ours.currency },
        claimed: { amount: entity.amount },
        held: asked.held,
      },
    };
  }

  /** A signed event that misstated a payment: admins see what it said, what we expected and what the gateway holds. */
  private async recordClaim(
    m: EntityManager,
    stored: StoredWebhookEvent,
    payment: PaymentNews,
  ): Promise<void> {
    await this.audit.record(m, {
      actor: null,
      action: 'webhook.amount_mismatch',
      entityType: 'webhook_event',
      entityId: stored.rowId,
      after: {
        eventId: stored.eventId,
        eventType: stored.type,
        gatewayPaymentId: payment.entity.id,
        orderId: payment.orderId,
        expected: payment.claim!.order,
        claimedByEvent: payment.claim!.event,
        heldAtGateway: {
          amount: payment.entity.amount,
          currency: payment.entity.currency,
          status: payment.entity.status,
        },
      },
    });
  }

  private async settleCheckedRefund(
    m: EntityManager,
    stored: StoredWebhookEvent,
    news: RefundNews,
  ): Promise<string> {
    if (news.held.amount === news.ours.amount) {
      return `${await this.refunds.settle(m, news.refundId, news.held, null)} (the event's amount was not ours; the gateway's record applied)`;
    }
    await this.audit.record(m, {
      actor: null,
      action: 'refund.amount_mismatch',
      entityType: 'refund',
      entityId: news.refundId,
      after: {
        refundId: news.refundId,
        eventId: stored.eventId,
        gatewayRefundId: news.held.id,
        expected: news.ours,
        claimedByEvent: news.claimed,
        heldAtGateway: { amount: news.held.amount, currency: news.held.currency, status: news.held.status },
      },
    });
    return 'rejected: the gateway refunded another amount than ours; left for an admin';
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
    stored: StoredWebhookEvent,
    event: RazorpayEvent,
    payment: PaymentNews | undefined,
  ): Promise<string> {
    const type = stored.type;
    if (payment) {
      if (payment.claim) await this.recordClaim(m, stored, payment);
      if (!payment.observed) return `ignored: the gateway shows the payment ${payment.entity.status}`;
      const detail = (await this.ledger.apply(m, payment.orderId, payment.entity, payment.observed, null))
        .detail;
      return payment.claim
        ? `${detail} (the event's amount was not the order's; the gateway's record applied)`
        : detail;
    }
    if (type === 'refund.processed' || type === 'refund.failed') {
      const refund = event.payload?.refund?.entity;
      if (!refund || typeof refund !== 'object') return 'ignored: malformed refund';
      return this.refunds.settleFromWebhook(m, refund, type === 'refund.processed' ? 'processed' : 'failed');
    }
    if (type === 'token.confirmed') {
      const token = event.payload?.token?.entity as
        (GatewayToken & { customer_id?: string | null }) | undefined;
      if (!token || typeof token.id !== 'string') return 'ignored: malformed token';
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

/**
 * The gateway's own record of something an event misstated. A refusal (unknown id) is the event's
 * outcome, recorded and not retried; no answer is thrown, so the event is retried with its backoff.
 */
async function askGateway<T>(
  fetch: () => Promise<T>,
  why: string,
): Promise<{ held: T } | { outcome: string }> {
  try {
    return { held: await fetch() };
  } catch (err) {
    if (err instanceof DomainError && err.code === 'GATEWAY_ERROR')
      return { outcome: `rejected: ${why} and ${err.message}` };
    throw new Error(
      `${why}; the gateway could not be asked: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
