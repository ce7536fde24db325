import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig, DomainError } from '@trektribe/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import Razorpay from 'razorpay';

/** Razorpay's entities as they arrive (snake_case); only the fields we read. */
export interface GatewayOrder {
  id: string;
  amount: number;
  amount_paid: number;
  amount_due: number;
  currency: string;
  receipt: string | null;
  status: 'created' | 'attempted' | 'paid';
  attempts: number;
  created_at: number;
}
export interface GatewayPayment {
  id: string;
  amount: number;
  currency: string;
  status: 'created' | 'authorized' | 'captured' | 'refunded' | 'failed';
  order_id: string | null;
  method: string | null;
  captured: boolean | string | number;
  amount_refunded: number;
  refund_status: string | null;
  email?: string | null;
  contact?: string | null;
  customer_id?: string | null;
  token_id?: string | null;
  error_code: string | null;
  error_description: string | null;
  created_at: number;
}
export interface GatewayRefund {
  id: string;
  amount: number;
  currency: string;
  payment_id: string;
  status: 'pending' | 'processed' | 'failed';
  created_at: number;
}
export interface GatewayCustomer {
  id: string;
  name?: string;
  email?: string;
  contact?: string;
}
export interface GatewayToken {
  id: string;
  method?: string;
  recurring?: boolean;
  recurring_details?: { status?: string };
}
export interface GatewayCollection<T> {
  entity: 'collection';
  count: number;
  items: T[];
}

interface AxiosLike {
  defaults: { baseURL?: string; timeout?: number };
  get<T>(url: string, config?: object): Promise<{ data: T }>;
  post<T>(url: string, data?: unknown, config?: object): Promise<{ data: T }>;
}

/**
 * The one door to Razorpay: the official SDK pointed at RAZORPAY_API_URL with a timeout, and its two
 * kinds of failure mapped to ours: a gateway 4xx/5xx answer → 502 GATEWAY_ERROR with its description;
 * no answer at all (the SDK then throws a TypeError) → 503 GATEWAY_UNAVAILABLE. Without credentials
 * every call answers 503 PAYMENTS_NOT_CONFIGURED and the rest of the platform works.
 */
@Injectable()
export class RazorpayGateway {
  private readonly logger = new Logger(RazorpayGateway.name);
  private readonly rq: AxiosLike | undefined;
  readonly keyId: string | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const { keyId, keySecret, apiUrl, timeoutMs } = config.razorpay;
    this.keyId = keyId;
    if (keyId && keySecret) {
      const sdk = new Razorpay({ key_id: keyId, key_secret: keySecret }) as unknown as {
        api: { rq: AxiosLike };
      };
      // The SDK has no base-URL option; its axios instance does (tests point it at the emulator).
      sdk.api.rq.defaults.baseURL = apiUrl;
      sdk.api.rq.defaults.timeout = timeoutMs;
      this.rq = sdk.api.rq;
    }
  }

  get configured(): boolean {
    return this.rq !== undefined;
  }

  createOrder(body: {
    amount: number;
    currency: string;
    receipt: string;
    notes?: Record<string, string>;
    customer_id?: string;
    method?: string;
    token?: { max_amount: number; expire_at: number; frequency: string };
    payment_capture?: boolean;
  }): Promise<GatewayOrder> {
    return this.call('POST /v1/orders', (rq) => rq.post<GatewayOrder>('/v1/orders', body));
  }

  fetchOrder(orderId: string): Promise<GatewayOrder> {
    return this.call('GET /v1/orders/:id', (rq) =>
      rq.get<GatewayOrder>(`/v1/orders/${encodeURIComponent(orderId)}`),
    );
  }

  fetchOrderPayments(orderId: string): Promise<GatewayCollection<GatewayPayment>> {
    return this.call('GET /v1/orders/:id/payments', (rq) =>
      rq.get<GatewayCollection<GatewayPayment>>(`/v1/orders/${encodeURIComponent(orderId)}/payments`),
    );
  }

  fetchPayment(paymentId: string): Promise<GatewayPayment> {
    return this.call('GET /v1/payments/:id', (rq) =>
      rq.get<GatewayPayment>(`/v1/payments/${encodeURIComponent(paymentId)}`),
    );
  }

  /** X-Refund-Idempotency makes a retried request return the first refund instead of a second one. */
  refund(
    paymentId: string,
    body: { amount: number; notes?: Record<string, string>; receipt?: string },
    idempotencyKey: string,
  ): Promise<GatewayRefund> {
    return this.call('POST /v1/payments/:id/refund', (rq) =>
      rq.post<GatewayRefund>(`/v1/payments/${encodeURIComponent(paymentId)}/refund`, body, {
        headers: { 'X-Refund-Idempotency': idempotencyKey },
      }),
    );
  }

  fetchRefund(refundId: string): Promise<GatewayRefund> {
    return this.call('GET /v1/refunds/:id', (rq) =>
      rq.get<GatewayRefund>(`/v1/refunds/${encodeURIComponent(refundId)}`),
    );
  }

  createCustomer(body: {
    name: string;
    email: string;
    contact?: string;
    fail_existing?: '0' | '1';
  }): Promise<GatewayCustomer> {
    return this.call('POST /v1/customers', (rq) => rq.post<GatewayCustomer>('/v1/customers', body));
  }

  fetchTokens(customerId: string): Promise<GatewayCollection<GatewayToken>> {
    return this.call('GET /v1/customers/:id/tokens', (rq) =>
      rq.get<GatewayCollection<GatewayToken>>(`/v1/customers/${encodeURIComponent(customerId)}/tokens`),
    );
  }

  createRecurringPayment(body: {
    email: string;
    contact: string;
    amount: number;
    currency: string;
    order_id: string;
    customer_id: string;
    token: string;
    recurring: '1';
    description?: string;
    notes?: Record<string, string>;
  }): Promise<{ razorpay_payment_id: string; razorpay_order_id: string; razorpay_signature?: string }> {
    return this.call('POST /v1/payments/create/recurring', (rq) =>
      rq.post<{ razorpay_payment_id: string; razorpay_order_id: string; razorpay_signature?: string }>(
        '/v1/payments/create/recurring',
        body,
      ),
    );
  }

  /** Checkout's signature: HMAC-SHA256(key_secret, order_id|payment_id), compared in constant time. */
  verifyCheckoutSignature(orderId: string, paymentId: string, signature: string): boolean {
    const secret = this.config.razorpay.keySecret;
    if (!secret) return false;
    return safeEqualHex(
      createHmac('sha256', secret).update(`${orderId}|${paymentId}`).digest('hex'),
      signature,
    );
  }

  /**
   * Webhook signature over the exact raw bytes with the webhook secret (not the key secret). While a
   * new secret is being rolled out, RAZORPAY_WEBHOOK_SECRET_PREVIOUS is accepted too, so deliveries
   * signed either way are taken whichever side switches first (docs/OPERATIONS.md).
   */
  verifyWebhookSignature(rawBody: Buffer, signature: string | undefined): boolean {
    const { webhookSecret, webhookSecretPrevious } = this.config.razorpay;
    if (!webhookSecret || !signature) return false;
    const signedWith = (secret: string) =>
      safeEqualHex(createHmac('sha256', secret).update(rawBody).digest('hex'), signature);
    return (
      signedWith(webhookSecret) || (webhookSecretPrevious !== undefined && signedWith(webhookSecretPrevious))
    );
  }

  private async call<T>(what: string, fn: (rq: AxiosLike) => Promise<{ data: T }>): Promise<T> {
    if (!this.rq)
      throw new DomainError('PAYMENTS_NOT_CONFIGURED', 'Online payments are not configured on this server');
    try {
      return (await fn(this.rq)).data;
    } catch (err: unknown) {
      const e = err as {
        response?: { status?: number; data?: { error?: { description?: string; code?: string } } };
        code?: string;
        message?: string;
      };
      if (e.response?.status) {
        const description = e.response.data?.error?.description ?? `HTTP ${e.response.status}`;
        this.logger.warn({ call: what, status: e.response.status, description }, 'gateway refused');
        throw new DomainError('GATEWAY_ERROR', `Payment gateway error: ${description}`);
      }
      this.logger.warn({ call: what, err: e.code ?? e.message }, 'gateway unreachable');
      throw new DomainError(
        'GATEWAY_UNAVAILABLE',
        'The payment gateway could not be reached; try again shortly',
      );
    }
  }
}

function safeEqualHex(expected: string, given: string): boolean {
  // Exactly 64 lower-case hex digits: Buffer.from(hex) would quietly drop a stray trailing nibble.
  if (!/^[0-9a-f]{64}$/.test(given)) return false;
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(given, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
