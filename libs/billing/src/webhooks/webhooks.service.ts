import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { DomainError, returnedRows } from '@trektribe/common';
import { OutboxDispatcher } from '@trektribe/notifications';
import { DataSource, EntityManager } from 'typeorm';
import { GatewayPayment, GatewayToken, RazorpayGateway } from '../gateway/razorpay.gateway';
import { higher, movesForward, ObservedStatus, observedStatus, PaymentLedger } from '../payments/payment-ledger.service';
import type { PaymentRowStatus } from '../payments/payment.entity';
import { SubscriptionPaymentHandler } from '../ports';
import { RefundsService } from '../refunds/refunds.service';

interface RazorpayEvent {
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

/** A payment event for one of our orders that may move it forward, as the pre-check read it. */
interface PaymentNews {
  orderId: string;
  entity: GatewayPayment;
  observed: ObservedStatus;
}

/** Event types with an effect beyond the payment ledger. */
const HANDLED = new Set(['refund.processed', 'refund.failed', 'token.confirmed']);

export interface WebhookAck {
  received: true;
  duplicate: boolean;
}

/**
 * Razorpay webhooks: verified over the raw bytes, deduplicated by event id in the same transaction
 * as the effect, applied through the same ledger as checkout and reconciliation. No gateway calls
 * here: the answer comes well within Razorpay's 5 s.
 */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly gateway: RazorpayGateway,
    private readonly ledger: PaymentLedger,
    private readonly refunds: RefundsService,
    private readonly dispatcher: OutboxDispatcher,
    @Optional() @Inject(SubscriptionPaymentHandler) private readonly subscriptions?: SubscriptionPaymentHandler,
  ) {}

  async receiveRazorpay(input: { rawBody: Buffer | undefined; signature: string | undefined; eventId: string | undefined; body: unknown }): Promise<WebhookAck> {
    if (!input.rawBody || !this.gateway.verifyWebhookSignature(input.rawBody, input.signature)) {
      throw new DomainError('INVALID_SIGNATURE', 'The webhook signature is missing or invalid');
    }
    const eventId = input.eventId?.trim();
    if (!eventId || eventId.length > 100) {
      throw new DomainError('BAD_REQUEST', 'The x-razorpay-event-id header is required', [{ field: 'x-razorpay-event-id', message: 'required, at most 100 characters' }]);
    }
    const body = input.body && typeof input.body === 'object' ? input.body : {};
    // JSON can only carry NUL escaped, so the raw bytes tell whether the (rare) cleanup is needed.
    const event = (input.rawBody.includes('\\u0000') ? withoutNul(body) : body) as RazorpayEvent;
    const type = typeof event.event === 'string' && event.event ? event.event.slice(0, 60) : 'unknown';

    const settled = await this.answerWithoutEffect(type, event);
    const result =
      settled.outcome !== undefined ? await this.recordOnly(eventId, type, event, settled.outcome) : await this.applyOnce(eventId, type, event, settled.payment);
    if (!result.duplicate) {
      if (settled.outcome === undefined) this.dispatcher.kick();
      this.logger.log({ eventId, type, outcome: result.outcome }, 'webhook applied');
    }
    return { received: true, duplicate: result.duplicate };
  }

  /**
   * Events whose outcome is known without touching anything: types we do not handle, payments of
   * orders we do not have, and payment news our row already has (order.paid after payment.captured,
   * retries). States only move forward, so a committed row that is already as far along stays so,
   * and no lock is needed to say "unchanged". Anything else goes through the ledger, with the order's id.
   */
  private async answerWithoutEffect(type: string, event: RazorpayEvent): Promise<{ outcome?: string; payment?: PaymentNews }> {
    if (!(type in IMPLIED)) {
      return HANDLED.has(type) ? {} : { outcome: 'ignored: unhandled event type' };
    }
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

  /** One statement: the event id is claimed and its (lack of) effect recorded together. */
  private async recordOnly(eventId: string, type: string, event: RazorpayEvent, outcome: string): Promise<{ duplicate: boolean; outcome: string }> {
    const stored = await storeEvent(this.dataSource.manager, eventId, type, event, outcome);
    return stored ? { duplicate: false, outcome } : { duplicate: true, outcome: 'duplicate' };
  }

  /**
   * The effect, then the event id under its unique key, in one transaction: if another delivery of
   * this event committed first, the INSERT finds it and the whole transaction (this delivery's
   * effect included) rolls back. A concurrent delivery waits on the unique key (or on the rows the
   * effect locks) until the first one commits. An effect our rules refuse is stored with the reason,
   * so Razorpay does not retry it for a day.
   */
  private async applyOnce(eventId: string, type: string, event: RazorpayEvent, payment: PaymentNews | undefined): Promise<{ duplicate: boolean; outcome: string }> {
    try {
      return await this.dataSource.transaction(async (m) => {
        const outcome = await this.apply(m, type, event, payment);
        if (!(await storeEvent(m, eventId, type, event, outcome))) throw new AlreadyReceived();
        return { duplicate: false, outcome };
      });
    } catch (err) {
      if (err instanceof AlreadyReceived) return { duplicate: true, outcome: 'duplicate' };
      if (err instanceof DomainError) return this.recordOnly(eventId, type, event, `rejected: ${err.code}: ${err.message}`);
      throw err;
    }
  }

  private async apply(m: EntityManager, type: string, event: RazorpayEvent, payment: PaymentNews | undefined): Promise<string> {
    if (payment) return (await this.ledger.apply(m, payment.orderId, payment.entity, payment.observed, null)).detail;
    if (type === 'refund.processed' || type === 'refund.failed') {
      const refund = event.payload?.refund?.entity;
      if (!refund || typeof refund !== 'object') return 'ignored: malformed refund';
      return this.refunds.settleFromWebhook(m, refund, type === 'refund.processed' ? 'processed' : 'failed');
    }
    if (type === 'token.confirmed') {
      const token = event.payload?.token?.entity as (GatewayToken & { customer_id?: string | null }) | undefined;
      if (!token || typeof token.id !== 'string') return 'ignored: malformed token';
      if (!this.subscriptions) return 'no subscription handler';
      return `subscription: ${await this.subscriptions.onTokenConfirmed(m, token)}`;
    }
    return 'ignored: unhandled event type';
  }
}

/** Stores the event under its unique id with its outcome; false when another delivery stored it first. */
async function storeEvent(m: EntityManager, eventId: string, type: string, event: RazorpayEvent, outcome: string): Promise<boolean> {
  const inserted = returnedRows<{ id: string }>(
    await m.query(
      `INSERT INTO webhook_events (event_id, event_type, payload, outcome) VALUES ($1, $2, $3, $4)
       ON CONFLICT (event_id) DO NOTHING RETURNING id`,
      [eventId, type, JSON.stringify(event), outcome.slice(0, 200)],
    ),
  );
  return inserted.length > 0;
}

/**
 * PostgreSQL refuses NUL in text and jsonb: a signed event carrying one (in an error description,
 * say) would fail with a 500 on every retry. It is stored with U+FFFD instead.
 */
function withoutNul(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => withoutNul(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [withoutNul(k) as string, withoutNul(v, depth + 1)]));
}

/** Rolls back a delivery whose event id another delivery stored first. */
class AlreadyReceived extends Error {}

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
