/**
 * A Razorpay-compatible HTTP server for tests and local runs (see /work/shared/RAZORPAY.md).
 *
 * It answers the subset of the REST API that billing and booking use, with Razorpay's field names and
 * error shapes, so the OFFICIAL `razorpay` SDK can be pointed at it:
 *
 *   const rzp = new Razorpay({ key_id, key_secret });
 *   rzp.api.rq.defaults.baseURL = emulator.url; // NOT url + '/v1': the SDK puts '/v1' in every path itself
 *
 * Besides the API it offers test controls that stand in for what happens outside our server in real life
 * (checkout.js paying an order, the bank declining, a mandate being confirmed, Razorpay sending webhooks,
 * the network going down).
 *
 * Only node:http and node:crypto are used; all state lives in memory and dies with the instance.
 */
import { createHmac, randomInt } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// ---------------------------------------------------------------------------------------------------
// Entities (Razorpay's real, snake_case field names)
// ---------------------------------------------------------------------------------------------------

/** Razorpay returns an empty notes object as `[]` (a PHP quirk), a non-empty one as an object. */
export type Notes = Record<string, string | number> | [];

export type OrderStatus = 'created' | 'attempted' | 'paid';
export type PaymentStatus = 'created' | 'authorized' | 'captured' | 'refunded' | 'failed';
export type RefundStatus = 'pending' | 'processed' | 'failed';
export type TokenRecurringStatus = 'initiated' | 'confirmed' | 'rejected' | 'cancelled' | 'paused';

/** The `token` request of an authorisation order (auto-pay mandate). */
export interface OrderTokenRequest {
  max_amount?: number;
  expire_at?: number;
  frequency?: string;
}

export interface OrderEntity {
  id: string;
  entity: 'order';
  amount: number;
  amount_paid: number;
  amount_due: number;
  currency: string;
  receipt: string | null;
  offer_id: null;
  status: OrderStatus;
  attempts: number;
  notes: Notes;
  created_at: number;
  /** Present only on authorisation orders (created with customer_id / method / token). */
  customer_id?: string;
  method?: string;
  token?: OrderTokenRequest;
}

export interface PaymentEntity {
  id: string;
  entity: 'payment';
  amount: number;
  currency: string;
  status: PaymentStatus;
  order_id: string;
  invoice_id: null;
  international: boolean;
  method: string;
  amount_refunded: number;
  refund_status: null | 'partial' | 'full';
  captured: boolean;
  description: string | null;
  email: string;
  contact: string;
  customer_id: string | null;
  token_id: string | null;
  notes: Notes;
  error_code: string | null;
  error_description: string | null;
  error_source: string | null;
  error_step: string | null;
  error_reason: string | null;
  created_at: number;
}

export interface RefundEntity {
  id: string;
  entity: 'refund';
  amount: number;
  currency: string;
  payment_id: string;
  notes: Notes;
  receipt: string | null;
  acquirer_data: { arn: string | null };
  batch_id: null;
  status: RefundStatus;
  speed_requested: 'normal' | 'optimum';
  speed_processed: 'normal' | 'instant';
  created_at: number;
}

export interface CustomerEntity {
  id: string;
  entity: 'customer';
  name: string;
  email: string | null;
  contact: string | null;
  gstin: null;
  notes: Notes;
  created_at: number;
}

export interface TokenEntity {
  id: string;
  entity: 'token';
  token: string;
  bank: string | null;
  wallet: string | null;
  method: string;
  recurring: true;
  recurring_details: { status: TokenRecurringStatus; failure_reason: string | null };
  auth_type: string | null;
  max_amount: number | null;
  expired_at: number | null;
  frequency: string | null;
  customer_id: string;
  used_at: number | null;
  created_at: number;
}

export interface Collection<T> {
  entity: 'collection';
  count: number;
  items: T[];
}

/** The `error` object of a non-2xx answer; the SDK rejects with `{ statusCode, error }`. */
export interface RazorpayErrorBody {
  code: string;
  description: string;
  source?: string;
  step?: string;
  reason?: string;
  metadata?: Record<string, unknown>;
  field?: string;
}

/** The three fields checkout.js hands the client after a successful payment. */
export interface CheckoutResult {
  razorpay_order_id: string;
  razorpay_payment_id: string;
  razorpay_signature: string;
}

export interface WebhookEvent {
  entity: 'event';
  account_id: string;
  event: string;
  contains: string[];
  payload: Partial<Record<'payment' | 'order' | 'refund' | 'token', { entity: unknown }>>;
  created_at: number;
}

/** One webhook POST the emulator made (explicit `sendWebhook` or an automatic one after a recurring charge). */
export interface WebhookDelivery {
  eventId: string;
  event: string;
  /** HTTP status of the receiver's answer; 0 when the delivery failed at the network level. */
  status: number;
  error?: string;
}

export interface EmulatorOptions {
  keyId: string;
  keySecret: string;
  webhookSecret: string;
  webhookUrl?: string;
  port?: number;
}

/**
 * Thrown by the test controls (payOrder, failOrder, ...) when Razorpay would refuse the action; it has the
 * same `{ statusCode, error }` shape the SDK rejects with, so assertions can be shared.
 */
export class EmulatorApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: RazorpayErrorBody,
  ) {
    super(error.description);
    this.name = 'EmulatorApiError';
  }
}

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Razorpay ids are a type prefix plus 14 alphanumerics, e.g. `order_NZx3kQe1r8Wq2P`. */
function newId(prefix: string): string {
  let s = '';
  for (let i = 0; i < 14; i++) s += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return prefix ? `${prefix}_${s}` : s;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

const hmacHex = (secret: string, data: string): string =>
  createHmac('sha256', secret).update(data).digest('hex');

/** 400 in Razorpay's validation-error shape. */
function badRequest(description: string, field?: string): EmulatorApiError {
  return new EmulatorApiError(400, {
    code: 'BAD_REQUEST_ERROR',
    description,
    source: 'business',
    step: 'payment_initiation',
    reason: 'input_validation_failed',
    metadata: {},
    ...(field ? { field } : {}),
  });
}

const notFoundId = (field = 'id'): EmulatorApiError => badRequest('The id provided does not exist', field);

const orderAlreadyPaid = (): EmulatorApiError => badRequest('Order has already been paid', 'order_id');

/** Amounts are integers in paise; Razorpay also accepts them as digit strings. */
function parseAmount(value: unknown, field = 'amount'): number {
  if (value === undefined || value === null || value === '')
    throw badRequest(`The ${field} field is required.`, field);
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw badRequest(`The ${field} must be an integer.`, field);
  return n;
}

function optionalString(value: unknown, field: string, maxLength: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw badRequest(`The ${field} must be a string.`, field);
  if (value.length > maxLength)
    throw badRequest(`The ${field} may not be greater than ${maxLength} characters.`, field);
  return value;
}

function parseNotes(value: unknown, field = 'notes'): Notes {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) {
    if (value.length === 0) return [];
    throw badRequest('The notes should be an object of key-value pairs.', field);
  }
  if (typeof value !== 'object') throw badRequest('The notes should be an object of key-value pairs.', field);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 15)
    throw badRequest('Number of fields in notes should be less than or equal to 15', field);
  const notes: Record<string, string | number> = {};
  for (const [k, v] of entries) {
    if (typeof v !== 'string' && typeof v !== 'number')
      throw badRequest(`The notes.${k} must be a string or a number.`, field);
    if (String(v).length > 256)
      throw badRequest('Notes value should be less than or equal to 256 characters', field);
    notes[k] = v;
  }
  return entries.length === 0 ? [] : notes;
}

function collection<T>(items: T[], query?: URLSearchParams): Collection<T> {
  // Razorpay lists newest first; count/skip are honoured only when the caller sends them.
  let list = [...items].reverse();
  const skip = Number(query?.get('skip') ?? 0) || 0;
  const count = Number(query?.get('count') ?? 0) || 0;
  if (skip > 0) list = list.slice(skip);
  if (count > 0) list = list.slice(0, count);
  return { entity: 'collection', count: list.length, items: list };
}

const PAYMENT_METHODS = ['card', 'upi', 'emandate', 'nach', 'netbanking', 'wallet'];
const TOKEN_FREQUENCIES = [
  'as_presented',
  'daily',
  'weekly',
  'fortnightly',
  'monthly',
  'bimonthly',
  'quarterly',
  'half_yearly',
  'yearly',
];
/** X-Refund-Idempotency: at least 10 characters of [A-Za-z0-9_-] (RAZORPAY.md). */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{10,}$/;
const MAX_BODY_BYTES = 1024 * 1024;
/** Razorpay treats a receiver that does not answer within 5 s as a failed delivery. */
const WEBHOOK_TIMEOUT_MS = 5_000;

// ---------------------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------------------

type Body = Record<string, unknown>;

interface RequestContext {
  params: Record<string, string>;
  body: Body;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

interface Route {
  method: 'GET' | 'POST';
  /** e.g. '/v1/orders/:id/payments'; also the key used in `calls`. */
  pattern: string;
  handle(ctx: RequestContext): unknown;
}

function matchRoute(
  routes: Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  const parts = path.split('/').filter(Boolean);
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.pattern.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((seg, i) => {
      if (seg.startsWith(':')) {
        params[seg.slice(1)] = decodeURIComponent(parts[i]);
        return true;
      }
      return seg === parts[i];
    });
    if (ok) return { route, params };
  }
  return undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(badRequest('The request body is too large.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Minimal POST over node:http (webhook deliveries). A fresh connection per call, like Razorpay's. */
function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    if (new URL(url).protocol !== 'http:') {
      reject(new Error(`The Razorpay emulator only delivers webhooks over http:, not ${url}`));
      return;
    }
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent: false,
        timeout: WEBHOOK_TIMEOUT_MS,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`Webhook receiver did not answer within ${WEBHOOK_TIMEOUT_MS} ms`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------------
// The emulator
// ---------------------------------------------------------------------------------------------------

export class RazorpayEmulator {
  /** Base URL without '/v1', e.g. http://127.0.0.1:41234 (what `rzp.api.rq.defaults.baseURL` takes). */
  readonly url: string;

  // Read-only state for assertions (insertion-ordered).
  readonly orders = new Map<string, OrderEntity>();
  readonly payments = new Map<string, PaymentEntity>();
  readonly refunds = new Map<string, RefundEntity>();
  readonly customers = new Map<string, CustomerEntity>();
  readonly tokens = new Map<string, TokenEntity>();
  /** Requests per "METHOD /path-pattern", e.g. 'POST /v1/payments/create/recurring'. Requests dropped by setOffline are not counted (they never reached "Razorpay"). Unknown paths count under their raw path. */
  readonly calls = new Map<string, number>();
  /** Every X-Refund-Idempotency value seen on refund requests, in arrival order, repeats included. */
  readonly refundIdempotencyKeys: string[] = [];
  /** Every webhook POST made, explicit or automatic, in order. */
  readonly webhookDeliveries: WebhookDelivery[] = [];

  private readonly accountId = newId('acc');
  private webhookUrl: string | undefined;
  private offline = false;
  private recurringOutcome: 'success' | 'fail' = 'success';
  private refundFailures: { remaining: number; mode: 'status' | 'error' } = { remaining: 0, mode: 'status' };
  /** `${payment_id} ${idempotency key}` → refund id: the same key on the same payment replays that refund. */
  private readonly idempotentRefunds = new Map<string, string>();
  /** Asynchronous work (recurring settlement + its webhooks) that stop() waits for. */
  private readonly pending = new Set<Promise<void>>();
  private readonly routes: Route[];

  private constructor(
    private readonly opts: EmulatorOptions,
    private readonly server: Server,
    port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.webhookUrl = opts.webhookUrl;
    this.routes = this.buildRoutes();
  }

  static async start(opts: EmulatorOptions): Promise<RazorpayEmulator> {
    // The instance needs the bound port, so it is created after listen(); nothing can connect before
    // the port is known, but drop the connection just in case rather than answer without state.
    const ready: { emulator?: RazorpayEmulator } = {};
    const server = createServer((req, res) =>
      ready.emulator ? ready.emulator.onRequest(req, res) : req.socket.destroy(),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    ready.emulator = new RazorpayEmulator(opts, server, (server.address() as AddressInfo).port);
    return ready.emulator;
  }

  setWebhookUrl(url: string): void {
    this.webhookUrl = url;
  }

  /** Waits for in-flight recurring settlements and their webhooks, then closes the server and its connections. */
  async stop(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    await new Promise<void>((resolve, reject) => {
      this.server.close((err) => (err ? reject(err) : resolve()));
      // close() only stops accepting; keep-alive sockets of SDK clients would hold it open.
      this.server.closeAllConnections();
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Test controls
  // -------------------------------------------------------------------------------------------------

  /**
   * Pays an order as checkout.js would: a payment that is 'captured' (auto-capture, the default) or
   * 'authorized' ({capture:false}); returns the three fields checkout hands the client, signed with
   * HMAC_SHA256(keySecret, order_id + "|" + payment_id). On an authorisation order (token request +
   * customer_id) it also creates the customer's token (recurring_details.status 'initiated').
   * Sends no webhook: tests send them with sendWebhook so they control order and duplicates.
   * `amount` pays less than is due, as on an order that accepts partial payments: the order stays
   * `attempted` with the rest due.
   */
  payOrder(
    orderId: string,
    opts: { capture?: boolean; method?: string; amount?: number } = {},
  ): CheckoutResult {
    const order = this.payableOrder(orderId);
    const customer = order.customer_id ? this.customers.get(order.customer_id) : undefined;
    const method = opts.method ?? order.method ?? 'card';
    let token: TokenEntity | undefined;
    if (order.token && order.customer_id) {
      token = {
        id: newId('token'),
        entity: 'token',
        token: newId(''),
        bank: null,
        wallet: null,
        method,
        recurring: true,
        recurring_details: { status: 'initiated', failure_reason: null },
        auth_type: null,
        max_amount: order.token.max_amount ?? null,
        expired_at: order.token.expire_at ?? null,
        frequency: order.token.frequency ?? null,
        customer_id: order.customer_id,
        used_at: null,
        created_at: nowSeconds(),
      };
      this.tokens.set(token.id, token);
    }
    const payment = this.newPayment(order, {
      method,
      email: customer?.email ?? 'void@razorpay.com',
      contact: customer?.contact ?? '+919000090000',
      customer_id: order.customer_id ?? null,
      token_id: token?.id ?? null,
      ...(opts.amount !== undefined ? { amount: opts.amount } : {}),
    });
    if (opts.capture === false) {
      payment.status = 'authorized';
    } else {
      this.markCaptured(payment, order);
    }
    return this.signedResult(order.id, payment.id);
  }

  /** Records a failed payment attempt on an order (order -> 'attempted') and returns the payment. */
  failOrder(orderId: string, opts: { code?: string; description?: string } = {}): PaymentEntity {
    const order = this.payableOrder(orderId);
    const payment = this.newPayment(order, { method: order.method ?? 'card' });
    this.markFailed(payment, opts.code ?? 'BAD_REQUEST_ERROR', opts.description ?? 'Payment failed');
    return payment;
  }

  /** Marks a token confirmed, as the bank/NPCI would once the mandate is registered. */
  confirmToken(tokenId: string): TokenEntity {
    const token = this.tokens.get(tokenId);
    if (!token) throw notFoundId('token');
    token.recurring_details = { status: 'confirmed', failure_reason: null };
    return token;
  }

  /** Outcome of recurring charges accepted from now on: 'success' (default) or 'fail'. */
  setRecurringOutcome(outcome: 'success' | 'fail'): void {
    this.recurringOutcome = outcome;
  }

  /** The next n refund calls yield a refund with status 'failed' ('status', default) or an HTTP 400 ('error'). */
  failNextRefunds(n: number, mode: 'status' | 'error' = 'status'): void {
    this.refundFailures = { remaining: n, mode };
  }

  /** While true, every API request is answered by destroying its socket (a network-level failure). */
  setOffline(offline: boolean): void {
    this.offline = offline;
  }

  /**
   * Builds a webhook envelope. `contains` follows the key order of `entities` (Razorpay sends
   * ['payment', 'order'] for order.paid and ['refund', 'payment'] for refund.processed). Entities are
   * deep-copied, so the event is a snapshot: later state changes do not leak into it (useful for
   * sending stale/out-of-order events).
   */
  buildEvent(
    event: string,
    entities: { payment?: PaymentEntity; order?: OrderEntity; refund?: RefundEntity; token?: TokenEntity },
  ): WebhookEvent {
    const payload: WebhookEvent['payload'] = {};
    const contains: string[] = [];
    for (const [name, entity] of Object.entries(entities) as [keyof WebhookEvent['payload'], unknown][]) {
      if (entity === undefined) continue;
      contains.push(name);
      payload[name] = { entity: structuredClone(entity) };
    }
    return {
      entity: 'event',
      account_id: this.accountId,
      event,
      contains,
      payload,
      created_at: nowSeconds(),
    };
  }

  /**
   * POSTs an event to the webhook URL the way Razorpay does: JSON body, `x-razorpay-signature` =
   * hex HMAC_SHA256(webhookSecret, raw body), `x-razorpay-event-id`. Reuse `eventId` to send a duplicate;
   * `badSignature` signs with the wrong secret; `omitSignature` drops the header. Rejects if the receiver
   * cannot be reached (or does not answer within 5 s).
   */
  async sendWebhook(
    event: object,
    opts: { eventId?: string; badSignature?: boolean; omitSignature?: boolean } = {},
  ): Promise<{ status: number; body: unknown; eventId: string }> {
    const url = this.webhookUrl;
    if (!url) throw new Error('RazorpayEmulator: no webhook URL set (setWebhookUrl)');
    const eventId = opts.eventId ?? newId('evt');
    const raw = JSON.stringify(event);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Razorpay-Webhook/v1',
      'x-razorpay-event-id': eventId,
    };
    if (!opts.omitSignature) {
      headers['x-razorpay-signature'] = hmacHex(
        opts.badSignature ? `not-${this.opts.webhookSecret}` : this.opts.webhookSecret,
        raw,
      );
    }
    const name = (event as { event?: unknown }).event;
    const delivery: WebhookDelivery = { eventId, event: typeof name === 'string' ? name : '', status: 0 };
    this.webhookDeliveries.push(delivery);
    try {
      const res = await postJson(url, raw, headers);
      delivery.status = res.status;
      let body: unknown = res.text;
      try {
        body = res.text ? JSON.parse(res.text) : res.text;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body, eventId };
    } catch (err) {
      delivery.error = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }

  // -------------------------------------------------------------------------------------------------
  // HTTP plumbing
  // -------------------------------------------------------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.offline) {
      // A network-level failure: no status line at all. The SDK then rejects with a TypeError.
      req.socket.destroy();
      return;
    }
    this.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, {
          error: { code: 'SERVER_ERROR', description: err instanceof Error ? err.message : String(err) },
        });
      }
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const match = matchRoute(this.routes, method, path);
    const callKey = `${method} ${match ? match.route.pattern : path}`;
    this.calls.set(callKey, (this.calls.get(callKey) ?? 0) + 1);

    if (path.startsWith('/v1/') && !this.authorized(req.headers.authorization)) {
      sendJson(res, 401, {
        error: { code: 'BAD_REQUEST_ERROR', description: 'The api key provided is invalid' },
      });
      return;
    }
    if (!match) {
      sendJson(res, 404, {
        error: { code: 'BAD_REQUEST_ERROR', description: 'The requested URL was not found on the server.' },
      });
      return;
    }
    try {
      const raw = await readBody(req);
      let body: Body = {};
      if (raw.length > 0) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw.toString('utf8'));
        } catch {
          throw badRequest('The request body is not valid JSON.');
        }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
          throw badRequest('The request body must be a JSON object.');
        body = parsed as Body;
      }
      const result = match.route.handle({
        params: match.params,
        body,
        query: url.searchParams,
        headers: req.headers,
      });
      sendJson(res, 200, result);
    } catch (err) {
      if (err instanceof EmulatorApiError) {
        sendJson(res, err.statusCode, { error: err.error });
        return;
      }
      throw err;
    }
  }

  private authorized(header: string | undefined): boolean {
    if (!header?.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
    return decoded === `${this.opts.keyId}:${this.opts.keySecret}`;
  }

  private buildRoutes(): Route[] {
    const r = (method: Route['method'], pattern: string, handle: Route['handle']): Route => ({
      method,
      pattern,
      handle,
    });
    // Literal routes before parameterised ones with the same shape.
    return [
      r('POST', '/v1/orders', ({ body }) => this.createOrder(body)),
      r('GET', '/v1/orders/:id', ({ params }) => this.order(params.id)),
      r('GET', '/v1/orders/:id/payments', ({ params }) => {
        const order = this.order(params.id);
        return collection([...this.payments.values()].filter((p) => p.order_id === order.id));
      }),
      r('POST', '/v1/payments/create/recurring', ({ body }) => this.createRecurringPayment(body)),
      r('GET', '/v1/payments/:id', ({ params }) => this.payment(params.id)),
      r('POST', '/v1/payments/:id/capture', ({ params, body }) => this.capture(params.id, body)),
      r('POST', '/v1/payments/:id/refund', ({ params, body, headers }) =>
        this.refund(params.id, body, headers),
      ),
      r('GET', '/v1/payments/:id/refunds', ({ params, query }) => {
        const payment = this.payment(params.id);
        return collection(
          [...this.refunds.values()].filter((f) => f.payment_id === payment.id),
          query,
        );
      }),
      r('GET', '/v1/payments/:id/refunds/:refund_id', ({ params }) => {
        const refund = this.refunds.get(params.refund_id);
        if (!refund || refund.payment_id !== this.payment(params.id).id) throw notFoundId();
        return refund;
      }),
      r('GET', '/v1/refunds/:id', ({ params }) => {
        const refund = this.refunds.get(params.id);
        if (!refund) throw notFoundId();
        return refund;
      }),
      r('POST', '/v1/customers', ({ body }) => this.createCustomer(body)),
      r('GET', '/v1/customers/:id', ({ params }) => this.customer(params.id)),
      r('GET', '/v1/customers/:id/tokens', ({ params }) => {
        const customer = this.customer(params.id);
        return collection([...this.tokens.values()].filter((t) => t.customer_id === customer.id));
      }),
      r('GET', '/v1/customers/:id/tokens/:token_id', ({ params }) => {
        const token = this.tokens.get(params.token_id);
        if (!token || token.customer_id !== this.customer(params.id).id) throw notFoundId();
        return token;
      }),
    ];
  }

  // -------------------------------------------------------------------------------------------------
  // API handlers
  // -------------------------------------------------------------------------------------------------

  private order(id: string): OrderEntity {
    const order = this.orders.get(id);
    if (!order) throw notFoundId();
    return order;
  }

  private payment(id: string): PaymentEntity {
    const payment = this.payments.get(id);
    if (!payment) throw notFoundId();
    return payment;
  }

  private customer(id: string): CustomerEntity {
    const customer = this.customers.get(id);
    if (!customer) throw notFoundId();
    return customer;
  }

  private createOrder(body: Body): OrderEntity {
    const amount = parseAmount(body.amount);
    const currency = body.currency ?? 'INR';
    if (currency !== 'INR') throw badRequest('The selected currency is invalid.', 'currency');
    const receipt = optionalString(body.receipt, 'receipt', 40);
    const notes = parseNotes(body.notes);

    let customerId: string | undefined;
    if (body.customer_id !== undefined) {
      if (typeof body.customer_id !== 'string' || !this.customers.has(body.customer_id))
        throw notFoundId('customer_id');
      customerId = body.customer_id;
    }
    let method: string | undefined;
    if (body.method !== undefined) {
      if (typeof body.method !== 'string' || !PAYMENT_METHODS.includes(body.method))
        throw badRequest('Invalid payment method given.', 'method');
      method = body.method;
    }
    let token: OrderTokenRequest | undefined;
    if (body.token !== undefined) {
      if (!customerId)
        throw badRequest('The customer_id field is required when token is present.', 'customer_id');
      token = this.parseTokenRequest(body.token);
    }
    // e-mandate authorisation orders are for 0 paise; every other order needs at least ₹1.
    const minimum = token && method === 'emandate' ? 0 : 100;
    if (amount < minimum) throw badRequest('The amount must be atleast INR 1.00', 'amount');

    const order: OrderEntity = {
      id: newId('order'),
      entity: 'order',
      amount,
      amount_paid: 0,
      amount_due: amount,
      currency,
      receipt,
      offer_id: null,
      status: 'created',
      attempts: 0,
      notes,
      created_at: nowSeconds(),
      ...(customerId ? { customer_id: customerId } : {}),
      ...(method ? { method } : {}),
      ...(token ? { token } : {}),
    };
    this.orders.set(order.id, order);
    return order;
  }

  private parseTokenRequest(value: unknown): OrderTokenRequest {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw badRequest('The token must be an object.', 'token');
    const t = value as Record<string, unknown>;
    const token: OrderTokenRequest = {};
    if (t.max_amount !== undefined) {
      token.max_amount = parseAmount(t.max_amount, 'token.max_amount');
      if (token.max_amount <= 0)
        throw badRequest('The token.max_amount must be at least 1.', 'token.max_amount');
    }
    if (t.expire_at !== undefined) token.expire_at = parseAmount(t.expire_at, 'token.expire_at');
    if (t.frequency !== undefined) {
      if (typeof t.frequency !== 'string' || !TOKEN_FREQUENCIES.includes(t.frequency)) {
        throw badRequest('The selected token.frequency is invalid.', 'token.frequency');
      }
      token.frequency = t.frequency;
    }
    return token;
  }

  private capture(paymentId: string, body: Body): PaymentEntity {
    const payment = this.payment(paymentId);
    const amount = parseAmount(body.amount);
    if (payment.captured) throw badRequest('This payment has already been captured');
    if (payment.status !== 'authorized')
      throw badRequest('Only payments which have been authorized and not yet captured can be captured');
    if (amount !== payment.amount)
      throw badRequest('Capture amount must be equal to the amount authorized', 'amount');
    if (body.currency !== undefined && body.currency !== payment.currency)
      throw badRequest('The currency should be same as the payment currency', 'currency');
    this.markCaptured(payment, this.order(payment.order_id));
    return payment;
  }

  private refund(paymentId: string, body: Body, headers: IncomingHttpHeaders): RefundEntity {
    const payment = this.payment(paymentId);

    const header = headers['x-refund-idempotency'];
    const key = Array.isArray(header) ? header[0] : header;
    if (key !== undefined) {
      this.refundIdempotencyKeys.push(key);
      if (!IDEMPOTENCY_KEY.test(key))
        throw badRequest('The X-Refund-Idempotency header must be at least 10 characters of [A-Za-z0-9_-].');
      // The same key on the same payment replays the first answer and creates nothing new.
      const previous = this.idempotentRefunds.get(`${payment.id} ${key}`);
      if (previous) return this.refunds.get(previous)!;
    }

    if (payment.status === 'refunded') throw badRequest('The payment has been fully refunded already');
    if (!payment.captured) throw badRequest('Only captured payments can be refunded');
    const refundable = payment.amount - payment.amount_refunded;
    const amount = body.amount === undefined ? refundable : parseAmount(body.amount);
    if (amount < 100) throw badRequest('The amount must be atleast INR 1.00', 'amount');
    if (amount > refundable)
      throw badRequest('The refund amount provided is greater than amount captured', 'amount');
    const speed = body.speed ?? 'normal';
    if (speed !== 'normal' && speed !== 'optimum')
      throw badRequest('The selected speed is invalid.', 'speed');
    const notes = parseNotes(body.notes);
    const receipt = optionalString(body.receipt, 'receipt', 40);

    let status: RefundStatus = 'processed';
    if (this.refundFailures.remaining > 0) {
      this.refundFailures.remaining--;
      if (this.refundFailures.mode === 'error') {
        throw new EmulatorApiError(400, {
          code: 'BAD_REQUEST_ERROR',
          description: 'Refund could not be processed. Please try again later.',
          source: 'business',
          step: 'refund_initiation',
          reason: 'refund_failed',
          metadata: {},
        });
      }
      status = 'failed';
    }

    const refund: RefundEntity = {
      id: newId('rfnd'),
      entity: 'refund',
      amount,
      currency: payment.currency,
      payment_id: payment.id,
      notes,
      receipt,
      acquirer_data: { arn: null },
      batch_id: null,
      status,
      speed_requested: speed,
      speed_processed: speed === 'optimum' ? 'instant' : 'normal',
      created_at: nowSeconds(),
    };
    this.refunds.set(refund.id, refund);
    if (key !== undefined) this.idempotentRefunds.set(`${payment.id} ${key}`, refund.id);

    // A failed refund gives the money back to the merchant balance: the payment is unchanged.
    if (status === 'processed') {
      payment.amount_refunded += amount;
      const full = payment.amount_refunded === payment.amount;
      payment.refund_status = full ? 'full' : 'partial';
      if (full) payment.status = 'refunded';
      // The order stays 'paid' after refunds.
    }
    return refund;
  }

  private createCustomer(body: Body): CustomerEntity {
    if (typeof body.name !== 'string' || body.name.trim() === '')
      throw badRequest('The name field is required.', 'name');
    const name = optionalString(body.name, 'name', 50)!;
    const email = optionalString(body.email, 'email', 64);
    if (email !== null && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
      throw badRequest('The email must be a valid email address.', 'email');
    const contact = optionalString(body.contact, 'contact', 15);
    const notes = parseNotes(body.notes);

    // Razorpay identifies a customer by email + contact; fail_existing defaults to '1' (error on duplicates).
    const existing = [...this.customers.values()].find((c) => c.email === email && c.contact === contact);
    if (existing) {
      const failExisting = body.fail_existing ?? '1';
      if (failExisting === '0' || failExisting === 0 || failExisting === false) return existing;
      throw badRequest('Customer already exists for the merchant');
    }
    const customer: CustomerEntity = {
      id: newId('cust'),
      entity: 'customer',
      name,
      email,
      contact,
      gstin: null,
      notes,
      created_at: nowSeconds(),
    };
    this.customers.set(customer.id, customer);
    return customer;
  }

  private createRecurringPayment(body: Body): CheckoutResult {
    if (body.recurring !== '1' && body.recurring !== 1 && body.recurring !== true)
      throw badRequest('The recurring field must be 1.', 'recurring');
    if (typeof body.email !== 'string' || body.email === '')
      throw badRequest('The email field is required.', 'email');
    if (typeof body.contact !== 'string' && typeof body.contact !== 'number')
      throw badRequest('The contact field is required.', 'contact');
    if (typeof body.order_id !== 'string') throw badRequest('The order_id field is required.', 'order_id');
    const order = this.orders.get(body.order_id);
    if (!order) throw notFoundId('order_id');
    if (order.status === 'paid') throw orderAlreadyPaid();
    if (typeof body.customer_id !== 'string' || !this.customers.has(body.customer_id))
      throw notFoundId('customer_id');
    const token = typeof body.token === 'string' ? this.tokens.get(body.token) : undefined;
    if (!token || token.customer_id !== body.customer_id)
      throw badRequest('The token provided does not belong to the customer', 'token');
    if (token.recurring_details.status !== 'confirmed')
      throw badRequest('The token is not confirmed for recurring payments', 'token');
    const amount = parseAmount(body.amount);
    if (amount !== order.amount) throw badRequest('The amount must be equal to the order amount', 'amount');
    if ((body.currency ?? 'INR') !== order.currency)
      throw badRequest('The currency should be same as the order currency', 'currency');
    if (token.max_amount !== null && amount > token.max_amount)
      throw badRequest('The amount exceeds the maximum amount of the token', 'amount');

    const payment = this.newPayment(order, {
      method: token.method,
      email: body.email,
      contact: String(body.contact),
      customer_id: body.customer_id,
      token_id: token.id,
      description: typeof body.description === 'string' ? body.description : null,
      notes: parseNotes(body.notes),
    });
    token.used_at = nowSeconds();
    this.scheduleRecurringSettlement(payment, this.recurringOutcome);
    return this.signedResult(order.id, payment.id);
  }

  /**
   * The debit is asynchronous in real life: the API answers at once with a 'created' payment and the
   * outcome arrives later by webhook. Here the outcome is applied right after the response is written
   * (setImmediate), then `payment.captured` + `order.paid` (or `payment.failed`) are sent if a webhook
   * URL is set. Delivery failures are recorded in webhookDeliveries, never thrown.
   */
  private scheduleRecurringSettlement(payment: PaymentEntity, outcome: 'success' | 'fail'): void {
    const work = (async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const order = this.order(payment.order_id);
      let events: WebhookEvent[];
      if (outcome === 'success' && order.status !== 'paid') {
        this.markCaptured(payment, order);
        events = [
          this.buildEvent('payment.captured', { payment }),
          this.buildEvent('order.paid', { payment, order }),
        ];
      } else {
        // A concurrent charge may have paid the order meanwhile: like Razorpay, never take a second payment.
        const [code, description] =
          outcome === 'success'
            ? ['BAD_REQUEST_ERROR', 'Order has already been paid']
            : ['BAD_REQUEST_ERROR', 'Payment failed due to insufficient balance in the account'];
        this.markFailed(payment, code, description);
        events = [this.buildEvent('payment.failed', { payment })];
      }
      if (!this.webhookUrl) return;
      for (const event of events) {
        await this.sendWebhook(event).catch(() => undefined); // recorded in webhookDeliveries
      }
    })().catch((err: unknown) => {
      // Only an emulator bug lands here; say so instead of leaving an unhandled rejection.
      process.stderr.write(
        `RazorpayEmulator: recurring settlement failed: ${err instanceof Error ? err.stack : String(err)}\n`,
      );
    });
    this.pending.add(work);
    void work.then(() => this.pending.delete(work));
  }

  // -------------------------------------------------------------------------------------------------
  // State transitions
  // -------------------------------------------------------------------------------------------------

  /** An order that can take a new payment attempt; throws Razorpay's error otherwise. */
  private payableOrder(orderId: string): OrderEntity {
    const order = this.orders.get(orderId);
    if (!order) throw notFoundId('order_id');
    if (order.status === 'paid') throw orderAlreadyPaid();
    return order;
  }

  /** A new payment attempt: order created → attempted, attempts + 1. */
  private newPayment(order: OrderEntity, fields: Partial<PaymentEntity> & { method: string }): PaymentEntity {
    const payment: PaymentEntity = {
      id: newId('pay'),
      entity: 'payment',
      amount: order.amount_due,
      currency: order.currency,
      status: 'created',
      order_id: order.id,
      invoice_id: null,
      international: false,
      amount_refunded: 0,
      refund_status: null,
      captured: false,
      description: null,
      email: 'void@razorpay.com',
      contact: '+919000090000',
      customer_id: null,
      token_id: null,
      notes: [],
      error_code: null,
      error_description: null,
      error_source: null,
      error_step: null,
      error_reason: null,
      created_at: nowSeconds(),
      ...fields,
    };
    this.payments.set(payment.id, payment);
    order.attempts += 1;
    order.status = 'attempted';
    return payment;
  }

  private markCaptured(payment: PaymentEntity, order: OrderEntity): void {
    payment.status = 'captured';
    payment.captured = true;
    order.amount_paid = Math.min(order.amount, order.amount_paid + payment.amount);
    order.amount_due = order.amount - order.amount_paid;
    if (order.amount_due === 0) order.status = 'paid';
  }

  private markFailed(payment: PaymentEntity, code: string, description: string): void {
    payment.status = 'failed';
    payment.captured = false;
    payment.error_code = code;
    payment.error_description = description;
    payment.error_source = 'customer';
    payment.error_step = 'payment_authorization';
    payment.error_reason = 'payment_failed';
  }

  private signedResult(orderId: string, paymentId: string): CheckoutResult {
    return {
      razorpay_order_id: orderId,
      razorpay_payment_id: paymentId,
      razorpay_signature: hmacHex(this.opts.keySecret, `${orderId}|${paymentId}`),
    };
  }
}
