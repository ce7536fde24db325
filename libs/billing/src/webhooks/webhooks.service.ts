import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig, DomainError } from '@trektribe/common';
import { RazorpayGateway } from '../gateway/razorpay.gateway';
import { WebhookApplier } from './webhook-applier';
import { outcomeOnReceipt, RazorpayEvent } from './webhook-effects';
import { WebhookEventStore } from './webhook-event-store';

const INLINE_WAIT_MS = 3_000;

export interface WebhookAck {
  received: true;
  duplicate: boolean;
  /** True when answered before the effect was applied (a burst, or a retry after an error): it follows shortly. */
  queued: boolean;
}

/**
 * Razorpay webhooks: verified over the raw bytes, stored under their event id (the receipt), then
 * applied once by the WebhookApplier. While the applier has little to do, the answer waits for the
 * effect; in a burst it comes as soon as the event is stored, well within Razorpay's 5 s. No
 * gateway calls here.
 */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly gateway: RazorpayGateway,
    private readonly store: WebhookEventStore,
    private readonly applier: WebhookApplier,
  ) {}

  async receiveRazorpay(input: {
    rawBody: Buffer | undefined;
    signature: string | undefined;
    eventId: string | undefined;
    body: unknown;
  }): Promise<WebhookAck> {
    if (!input.rawBody || !this.gateway.verifyWebhookSignature(input.rawBody, input.signature)) {
      throw new DomainError('INVALID_SIGNATURE', 'The webhook signature is missing or invalid');
    }
    const eventId = input.eventId?.trim();
    if (!eventId || eventId.length > 100) {
      throw new DomainError('BAD_REQUEST', 'The x-razorpay-event-id header is required', [
        { field: 'x-razorpay-event-id', message: 'required, at most 100 characters' },
      ]);
    }
    const body = input.body && typeof input.body === 'object' ? input.body : {};
    // JSON carries NUL and lone surrogates only escaped, so the raw bytes tell whether the (rare) cleanup is needed.
    const raw = input.rawBody;
    const event = (
      raw.includes('\\u0000') || raw.includes('\\ud') || raw.includes('\\uD') ? storable(body) : body
    ) as RazorpayEvent;
    const type = typeof event.event === 'string' && event.event ? event.event.slice(0, 60) : 'unknown';

    const onReceipt = outcomeOnReceipt(type);
    const waitForEffect = onReceipt === undefined && this.applier.backlog < this.config.webhookInlineBacklog;
    const leased = onReceipt === undefined && this.applier.hasRoom();
    const rowId = await this.applier.whileStoring(() =>
      this.store.receive({
        eventId,
        type,
        payload: event,
        leased,
        outcome: onReceipt,
      }),
    );
    if (rowId === null) return { received: true, duplicate: true, queued: false };
    if (onReceipt !== undefined) {
      this.logger.log({ eventId, type, outcome: onReceipt }, 'webhook stored');
      return { received: true, duplicate: false, queued: false };
    }
    if (!leased) {
      this.applier.leftForLater();
      return { received: true, duplicate: false, queued: true };
    }
    const applying = this.applier.submitFromRequest({ rowId, eventId, type, payload: event }, waitForEffect);
    if (!waitForEffect) return { received: true, duplicate: false, queued: true };
    // Razorpay counts an answer after 5 s as a failure: the effect gets 3 s, then it follows the answer.
    let timer: NodeJS.Timeout | undefined;
    const applied = await Promise.race([
      applying,
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), INLINE_WAIT_MS))),
    ]);
    clearTimeout(timer);
    return { received: true, duplicate: false, queued: applied === undefined };
  }
}

// eslint-disable-next-line no-control-regex -- NUL is exactly what is looked for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * PostgreSQL refuses NUL and unpaired surrogates in text and jsonb: a signed event carrying one (in
 * an error description, say) would fail with a 500 on every retry. It is stored with U+FFFD instead.
 */
function storable(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(UNSTORABLE, '\uFFFD');
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => storable(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [storable(k) as string, storable(v, depth + 1)]),
  );
}
