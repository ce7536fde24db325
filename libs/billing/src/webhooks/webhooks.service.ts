import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { DomainError, returnedRows } from '@trektribe/common';
import { OutboxDispatcher } from '@trektribe/notifications';
import { DataSource, EntityManager } from 'typeorm';
import { GatewayPayment, GatewayToken, RazorpayGateway } from '../gateway/razorpay.gateway';
import { PaymentLedger, higher, ObservedStatus, observedStatus } from '../payments/payment-ledger.service';
import { PaymentOrder } from '../payments/payment-order.entity';
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
    const event = (input.body && typeof input.body === 'object' ? input.body : {}) as RazorpayEvent;
    const type = typeof event.event === 'string' && event.event ? event.event.slice(0, 60) : 'unknown';

    const result = await this.dataSource.transaction(async (m) => {
      const inserted = returnedRows<{ id: string }>(
        await m.query(
          `INSERT INTO webhook_events (event_id, event_type, payload) VALUES ($1, $2, $3)
           ON CONFLICT (event_id) DO NOTHING RETURNING id`,
          [eventId, type, JSON.stringify(event)],
        ),
      );
      if (!inserted.length) return { duplicate: true, outcome: 'duplicate' };
      let outcome: string;
      try {
        // A savepoint: an event our rules refuse is stored with the reason instead of being retried for a day.
        outcome = await m.transaction((inner) => this.apply(inner, type, event));
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        outcome = `rejected: ${err.code}: ${err.message}`;
      }
      await m.query(`UPDATE webhook_events SET outcome = $2 WHERE id = $1`, [inserted[0].id, outcome.slice(0, 200)]);
      return { duplicate: false, outcome };
    });
    if (!result.duplicate) {
      this.dispatcher.kick();
      this.logger.log({ eventId, type, outcome: result.outcome }, 'webhook applied');
    }
    return { received: true, duplicate: result.duplicate };
  }

  private async apply(m: EntityManager, type: string, event: RazorpayEvent): Promise<string> {
    if (type in IMPLIED) {
      const p = event.payload?.payment?.entity as GatewayPayment | undefined;
      if (!isPayment(p)) return 'ignored: malformed payment';
      if (!p.order_id) return 'ignored: payment without an order';
      const order = await m.findOne(PaymentOrder, { where: { gatewayOrderId: p.order_id } });
      if (!order) return 'ignored: unknown order';
      const observed = higher(IMPLIED[type], observedStatus(p))!;
      return (await this.ledger.apply(m, order.id, p, observed, null)).detail;
    }
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
