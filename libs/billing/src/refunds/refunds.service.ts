import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { Booking, BookingPayments, RefundRequest, RefundRequester } from '@trektribe/booking';
import { AuditService, Clock, DomainError, formatInr, returnedRows } from '@trektribe/common';
import { OutboxDispatcher, OutboxService } from '@trektribe/notifications';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { GatewayRefund, RazorpayGateway } from '../gateway/razorpay.gateway';
import { Payment } from '../payments/payment.entity';
import { toRefundView } from '../payments/payment-views';
import { MAX_REFUND_ATTEMPTS, refundBackoffMs } from './refund-policy';
import { Refund } from './refund.entity';

/** A claimed refund is pushed this far into the future, so a crash mid-call brings it back by itself. */
const CLAIM_LEASE_MS = 2 * 60_000;
/** How long to wait for a refund the gateway accepted as `pending` before asking it again (reconcile). */
const GATEWAY_PENDING_RECHECK_MS = 15 * 60_000;
const BATCH = 50;

/**
 * The X-Refund-Idempotency value for the next request. The stored key as long as no gateway refund
 * has definitively failed (a lost answer or an error is retried with the same key, so the gateway
 * replays instead of refunding twice). After the gateway reported a refund `failed` (no money moved),
 * the same key would only replay that failure, so the retry uses a key derived from the failed
 * refund's id: still deterministic, so a retry of the retry is again deduplicated.
 */
export function refundRequestKey(r: Pick<Refund, 'idempotencyKey' | 'status' | 'gatewayRefundId'>): string {
  if (r.status !== 'failed' || !r.gatewayRefundId) return r.idempotencyKey;
  const derived = `${r.idempotencyKey}_${r.gatewayRefundId}`;
  if (derived.length <= 64 && /^[A-Za-z0-9_-]+$/.test(derived)) return derived;
  return `rk_${createHash('sha256').update(derived).digest('hex').slice(0, 48)}`;
}

export interface RefundRunResult {
  processed: number;
  pending: number;
  failed: number;
  deferred: number;
}

interface NewRefund {
  payment: Payment | null;
  bookingId: string | null;
  amount: number;
  currency: string;
  reason: string;
  idempotencyKey: string;
  actor: Actor | null;
}

/**
 * Refunds: recorded in the caller's transaction (a cancellation, or a payment that cannot be kept),
 * sent to the gateway after commit, settled by the gateway's answer, `refund.*` webhooks or
 * reconciliation, and retried with backoff. Implements booking's RefundRequester port.
 */
@Injectable()
export class RefundsService extends RefundRequester implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RefundsService.name);
  private running: Promise<RefundRunResult> | undefined;
  private kicked = false;
  private stopping = false;
  /** Transactions that recorded a gateway refund: kick the processor once they commit. */
  private readonly awaitingCommit = new WeakSet<QueryRunner>();
  private readonly commitHook: EntitySubscriberInterface = {
    afterTransactionCommit: ({ queryRunner }) => {
      if (queryRunner.isTransactionActive || !this.awaitingCommit.has(queryRunner)) return; // a savepoint, or not ours
      this.awaitingCommit.delete(queryRunner);
      this.kick();
    },
    afterTransactionRollback: ({ queryRunner }) => {
      if (!queryRunner.isTransactionActive) this.awaitingCommit.delete(queryRunner);
    },
  };

  constructor(
    private readonly dataSource: DataSource,
    private readonly gateway: RazorpayGateway,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly outbox: OutboxService,
    private readonly dispatcher: OutboxDispatcher,
    private readonly bookingPayments: BookingPayments,
  ) {
    super();
  }

  onModuleInit(): void {
    (this.dataSource.subscribers as EntitySubscriberInterface[]).push(this.commitHook);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    const subs = this.dataSource.subscribers as EntitySubscriberInterface[];
    const i = subs.indexOf(this.commitHook);
    if (i >= 0) subs.splice(i, 1);
    await this.running?.catch(() => undefined);
  }

  // ---------------------------------------------------------------------------------------------
  // Recording (inside the caller's transaction)
  // ---------------------------------------------------------------------------------------------

  /**
   * RefundRequester: called inside the cancellation's transaction (the booking row is locked).
   * Online payments get a `pending` refund sent to the gateway after commit; screenshot payments (or
   * a paid booking without a gateway payment) get `manual_due` for an admin to pay out by hand.
   * The idempotency key is unique, so a repeated request records nothing new.
   */
  async requestRefund(m: EntityManager, req: RefundRequest): Promise<void> {
    const booking = await m.findOne(Booking, { where: { id: req.bookingId } });
    if (!booking) throw DomainError.notFound('Booking');
    const seen = (await m.query(`SELECT 1 FROM refunds WHERE idempotency_key = $1`, [req.idempotencyKey])) as unknown[];
    if (seen.length) return;
    // Normally one captured payment covers it; should a booking hold several (a duplicate payment being
    // refunded on its own), the amount is taken from what is still refundable on each, and anything
    // no payment can cover is recorded for a manual payout rather than dropped.
    let remaining = req.amount;
    let part = 0;
    const key = () => (part === 0 ? req.idempotencyKey : `${req.idempotencyKey}_${part + 1}`);
    for (const payment of await this.refundablePayments(m, booking)) {
      if (remaining <= 0) break;
      const left = await this.refundableLeft(m, payment);
      if (left <= 0) continue;
      const amount = Math.min(left, remaining);
      await this.createRefund(m, { payment, bookingId: booking.id, amount, currency: payment.currency, reason: req.reason, idempotencyKey: key(), actor: req.actor });
      remaining -= amount;
      part++;
    }
    if (remaining > 0) {
      if (part > 0) this.logger.warn({ bookingId: booking.id, asked: req.amount, uncovered: remaining }, 'refund larger than the captured payments; the rest is due by hand');
      await this.createRefund(m, { payment: null, bookingId: booking.id, amount: remaining, currency: booking.currency, reason: req.reason, idempotencyKey: key(), actor: req.actor });
    }
  }

  /**
   * Records a refund once per idempotency key. Gateway refunds are due at once and sent after the
   * surrounding transaction commits. Returns the refund id, or null when the key was already used.
   */
  async createRefund(m: EntityManager, r: NewRefund): Promise<string | null> {
    const viaGateway = Boolean(r.payment?.gatewayPaymentId) && r.payment?.method !== 'screenshot';
    const now = this.clock.now();
    const rows = returnedRows<{ id: string }>(
      await m.query(
        `INSERT INTO refunds (payment_id, booking_id, amount, currency, status, idempotency_key, reason, next_attempt_at, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
        [
          r.payment?.id ?? null,
          r.bookingId,
          r.amount,
          r.currency,
          viaGateway ? 'pending' : 'manual_due',
          r.idempotencyKey,
          r.reason.slice(0, 500),
          viaGateway ? now : null,
          r.actor?.id ?? null,
        ],
      ),
    );
    if (!rows.length) return null;
    const refund = await m.findOneOrFail(Refund, { where: { id: rows[0].id } });
    await this.audit.record(m, { actor: r.actor, action: 'refund.requested', entityType: 'refund', entityId: refund.id, after: toRefundView(refund) });
    if (viaGateway) this.afterCommit(m);
    return refund.id;
  }

  /** The captured payments a booking's refund comes out of: the booking's own method first, oldest first. */
  private refundablePayments(m: EntityManager, booking: Booking): Promise<Payment[]> {
    return m
      .getRepository(Payment)
      .createQueryBuilder('p')
      .where('p.booking_id = :id AND p.status IN (:...s)', { id: booking.id, s: ['captured', 'partially_refunded'] })
      .orderBy(`CASE WHEN p.method = :method THEN 0 ELSE 1 END`)
      .addOrderBy('p.created_at', 'ASC')
      .addOrderBy('p.id', 'ASC')
      .setParameter('method', booking.paymentMethod)
      .getMany();
  }

  /**
   * What may still be refunded of a payment, in paise: its amount less what was refunded and what
   * open refunds (pending, failed, due by hand) will refund. Whatever key asked for the refunds.
   */
  async refundableLeft(m: EntityManager, payment: Pick<Payment, 'id' | 'amount' | 'amountRefunded'>): Promise<number> {
    return Math.max(0, payment.amount - payment.amountRefunded - (await this.openRefundTotal(m, payment.id)));
  }

  private async openRefundTotal(m: EntityManager, paymentId: string): Promise<number> {
    const [row] = (await m.query(
      `SELECT coalesce(sum(amount), 0)::int AS total FROM refunds WHERE payment_id = $1 AND status IN ('pending', 'failed', 'manual_due')`,
      [paymentId],
    )) as { total: number }[];
    return row.total;
  }

  private afterCommit(m: EntityManager): void {
    const qr = m.queryRunner;
    if (qr?.isTransactionActive) this.awaitingCommit.add(qr);
    else this.kick();
  }

  // ---------------------------------------------------------------------------------------------
  // Sending (after commit; job entry point)
  // ---------------------------------------------------------------------------------------------

  /** Send due refunds soon, after the caller's commit; kicks that arrive while one waits collapse into it. */
  kick(): void {
    if (this.kicked || this.stopping) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      if (this.stopping) return;
      this.processPendingRefunds().catch((err: unknown) => this.logger.error({ err }, 'refund processing failed'));
    });
  }

  /**
   * Job entry point (refund retries) and what kick() runs: sends every refund that is due — new
   * `pending` ones and `failed` ones whose backoff has passed — in batches. One pass at a time per
   * process; across instances each refund is claimed by a conditional update (a lease), so no two
   * workers send the same refund at once, and a crash mid-call brings it back after the lease.
   */
  async processPendingRefunds(): Promise<RefundRunResult> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.drain();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  private async drain(): Promise<RefundRunResult> {
    const total: RefundRunResult = { processed: 0, pending: 0, failed: 0, deferred: 0 };
    if (!this.gateway.configured) return total;
    for (;;) {
      if (this.stopping) return total;
      const now = this.clock.now();
      const due = (await this.dataSource.query(
        `SELECT id FROM refunds
          WHERE next_attempt_at <= $1 AND ((status = 'pending' AND gateway_refund_id IS NULL) OR status = 'failed')
          ORDER BY next_attempt_at, id LIMIT $2`,
        [now, BATCH],
      )) as { id: string }[];
      for (const { id } of due) {
        const outcome = await this.attempt(id, now);
        if (outcome === 'unreachable') {
          total.deferred++;
          return total; // the gateway is down: the rest stay due for the next run
        }
        if (outcome) total[outcome]++;
      }
      if (due.length < BATCH) return total;
    }
  }

  private async attempt(id: string, now: Date): Promise<keyof RefundRunResult | 'unreachable' | undefined> {
    const claimed = returnedRows<{ id: string }>(
      await this.dataSource.query(
        `UPDATE refunds SET next_attempt_at = $2, attempts = attempts + 1, updated_at = now()
          WHERE id = $1 AND next_attempt_at <= $3 AND ((status = 'pending' AND gateway_refund_id IS NULL) OR status = 'failed')
          RETURNING id`,
        [id, new Date(now.getTime() + CLAIM_LEASE_MS), now],
      ),
    );
    if (!claimed.length) return undefined; // another worker has it, or it settled meanwhile
    const refund = await this.dataSource.getRepository(Refund).findOneByOrFail({ id });
    const payment = refund.paymentId ? await this.dataSource.getRepository(Payment).findOneBy({ id: refund.paymentId }) : null;
    if (!payment?.gatewayPaymentId) {
      await this.dataSource.transaction((m) => this.toManual(m, id, 'no gateway payment to refund'));
      return 'deferred';
    }
    let answer: GatewayRefund;
    try {
      answer = await this.gateway.refund(
        payment.gatewayPaymentId,
        { amount: refund.amount, notes: { refund_id: refund.id, ...(refund.bookingId ? { booking_id: refund.bookingId } : {}) } },
        refundRequestKey(refund),
      );
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      const outcome = await this.dataSource.transaction((m) => this.recordAttemptError(m, id, err));
      return err.code === 'GATEWAY_ERROR' ? outcome : 'unreachable';
    }
    return this.dataSource.transaction(async (m) => {
      const outcome = await this.settle(m, id, answer, null);
      return outcome === 'processed' ? 'processed' : outcome === 'pending' ? 'pending' : outcome === 'failed' ? 'failed' : undefined;
    });
  }

  /**
   * A request that got no refund back. GATEWAY_ERROR: the gateway refused it (`failed`, same key next
   * time, given up after MAX_REFUND_ATTEMPTS). No answer at all: the outcome is unknown, so the status
   * is kept and it is retried with the same key (which the gateway deduplicates) on the capped
   * backoff for as long as it takes; an outage never drops a refund.
   */
  private async recordAttemptError(m: EntityManager, id: string, err: DomainError): Promise<keyof RefundRunResult | undefined> {
    const r = await m.findOne(Refund, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!r || !(r.status === 'failed' || (r.status === 'pending' && !r.gatewayRefundId))) return undefined;
    const before = toRefundView(r);
    const refused = err.code === 'GATEWAY_ERROR';
    const giveUp = refused && r.attempts >= MAX_REFUND_ATTEMPTS;
    r.lastError = `${err.code}: ${err.message}`.slice(0, 500);
    if (refused) r.status = 'failed';
    r.nextAttemptAt = giveUp ? null : new Date(this.clock.now().getTime() + refundBackoffMs(r.attempts));
    await m.save(r);
    if (refused) {
      await this.audit.record(m, { actor: null, action: 'refund.failed', entityType: 'refund', entityId: r.id, before, after: toRefundView(r) });
    }
    this.logger.warn({ refundId: r.id, attempts: r.attempts, err: r.lastError, giveUp }, 'refund attempt failed');
    return refused ? 'failed' : 'deferred';
  }

  private async toManual(m: EntityManager, id: string, why: string): Promise<void> {
    const r = await m.findOne(Refund, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!r || (r.status !== 'pending' && r.status !== 'failed')) return;
    const before = toRefundView(r);
    r.status = 'manual_due';
    r.nextAttemptAt = null;
    r.lastError = why;
    await m.save(r);
    await this.audit.record(m, { actor: null, action: 'refund.manual_due', entityType: 'refund', entityId: r.id, before, after: toRefundView(r) });
  }

  // ---------------------------------------------------------------------------------------------
  // Settling (gateway answer, webhook, reconciliation): one code path, state only moves forward
  // ---------------------------------------------------------------------------------------------

  /** `refund.processed` / `refund.failed`: finds our row by the gateway id, else by the notes we sent. */
  async settleFromWebhook(m: EntityManager, entity: Partial<GatewayRefund> & { notes?: unknown }, status: 'processed' | 'failed'): Promise<string> {
    if (typeof entity?.id !== 'string' || typeof entity.amount !== 'number') return 'ignored: malformed refund';
    let id: string | undefined = (await m.findOne(Refund, { where: { gatewayRefundId: entity.id } }))?.id;
    const notes = entity.notes as { refund_id?: unknown } | undefined;
    if (!id && notes && typeof notes === 'object' && typeof notes.refund_id === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(notes.refund_id)) {
      id = (await m.findOne(Refund, { where: { id: notes.refund_id } }))?.id;
    }
    if (!id) return 'ignored: unknown refund';
    return this.settle(m, id, { ...(entity as GatewayRefund), status }, null);
  }

  /**
   * Applies what the gateway says about one of our refunds. `processed` is final; a `failed` about an
   * older attempt (not the one the row is waiting for) changes nothing.
   */
  async settle(m: EntityManager, id: string, gw: GatewayRefund, actor: Actor | null): Promise<string> {
    const r = await m.findOne(Refund, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!r) return 'ignored: unknown refund';
    if (r.status === 'processed' || r.status === 'manual_due' || r.status === 'manual_paid') return `unchanged (${r.status})`;
    const before = toRefundView(r);
    const now = this.clock.now();
    if (gw.status === 'processed') {
      if (gw.amount !== r.amount) {
        // Our row keeps our amount (the event's figure is not applied); admins see the difference.
        this.logger.error({ refundId: r.id, ours: r.amount, gateway: gw.amount }, 'refund amount differs at the gateway');
        await this.audit.record(m, {
          actor: null,
          action: 'refund.amount_mismatch',
          entityType: 'refund',
          entityId: r.id,
          after: { refundId: r.id, gatewayRefundId: gw.id, expected: { amount: r.amount, currency: r.currency }, reported: { amount: gw.amount, currency: gw.currency } },
        });
      }
      r.status = 'processed';
      r.gatewayRefundId = gw.id;
      r.processedAt = now;
      r.nextAttemptAt = null;
      r.lastError = null;
      await m.save(r);
      await this.audit.record(m, { actor, action: 'refund.processed', entityType: 'refund', entityId: r.id, before, after: toRefundView(r) });
      await this.applyToPayment(m, r);
      await this.notifyProcessed(m, r);
      return 'processed';
    }
    if (gw.status === 'pending') {
      if (r.status === 'pending' && r.gatewayRefundId === gw.id) return 'unchanged (pending)';
      // A refund.failed webhook for this very attempt may have landed first: never move back.
      if (r.status === 'failed' && r.gatewayRefundId === gw.id) return 'unchanged (already failed)';
      r.status = 'pending';
      r.gatewayRefundId = gw.id;
      r.lastError = null;
      r.nextAttemptAt = new Date(now.getTime() + GATEWAY_PENDING_RECHECK_MS);
      await m.save(r);
      return 'pending';
    }
    // failed
    const current = r.gatewayRefundId === null || r.gatewayRefundId === gw.id || r.status === 'failed';
    if (!current) return 'ignored: failure of an earlier attempt';
    if (r.status === 'failed' && r.gatewayRefundId === gw.id) return 'unchanged (failed)';
    const giveUp = r.attempts >= MAX_REFUND_ATTEMPTS;
    r.status = 'failed';
    r.gatewayRefundId = gw.id;
    r.lastError = 'The gateway reported the refund as failed';
    r.nextAttemptAt = giveUp ? null : new Date(now.getTime() + refundBackoffMs(Math.max(1, r.attempts)));
    await m.save(r);
    await this.audit.record(m, { actor, action: 'refund.failed', entityType: 'refund', entityId: r.id, before, after: toRefundView(r) });
    return 'failed';
  }

  /** The money left: the payment row's refunded amount and status, then the booking's payment status. */
  private async applyToPayment(m: EntityManager, r: Refund): Promise<void> {
    if (r.paymentId) {
      const p = await m.findOne(Payment, { where: { id: r.paymentId }, lock: { mode: 'pessimistic_write' } });
      if (p) {
        p.amountRefunded = Math.min(p.amount, p.amountRefunded + r.amount);
        p.status = p.amountRefunded >= p.amount ? 'refunded' : 'partially_refunded';
        await m.save(p);
        await this.outbox.enqueueRealtime(m, {
          rooms: [`user:${p.payerId}`],
          event: 'payment.updated',
          payload: { paymentId: p.id, bookingId: p.bookingId, status: p.status, amount: p.amount, amountRefunded: p.amountRefunded, currency: p.currency },
        });
      }
    }
    if (r.bookingId) await this.settleBookingPaymentStatus(m, r.bookingId);
  }

  /**
   * A booking waiting for its refund (`refund_pending`) becomes `refunded` or `partially_refunded`
   * once none of its refunds is open. Bookings in any other state (e.g. a duplicate payment refunded
   * while the booking stays paid) keep their status.
   */
  private async settleBookingPaymentStatus(m: EntityManager, bookingId: string): Promise<void> {
    const b = await m.findOne(Booking, { where: { id: bookingId } });
    if (!b || b.paymentStatus !== 'refund_pending') return;
    const [open] = (await m.query(
      `SELECT count(*)::int AS n FROM refunds WHERE booking_id = $1 AND status IN ('pending', 'failed', 'manual_due')`,
      [bookingId],
    )) as { n: number }[];
    if (open.n > 0) return;
    const [paid] = (await m.query(
      `SELECT count(*)::int AS n, coalesce(sum(amount), 0)::bigint AS amount, coalesce(sum(amount_refunded), 0)::bigint AS refunded
         FROM payments WHERE booking_id = $1 AND status IN ('captured', 'partially_refunded', 'refunded')`,
      [bookingId],
    )) as { n: number; amount: string; refunded: string }[];
    let full: boolean;
    if (paid.n > 0) {
      full = Number(paid.refunded) >= Number(paid.amount);
    } else {
      const [done] = (await m.query(
        `SELECT coalesce(sum(amount), 0)::bigint AS total FROM refunds WHERE booking_id = $1 AND status IN ('processed', 'manual_paid')`,
        [bookingId],
      )) as { total: string }[];
      full = Number(done.total) >= b.totalAmount;
    }
    await this.bookingPayments.markRefunded(m, bookingId, full);
  }

  private async notifyProcessed(m: EntityManager, r: Refund): Promise<void> {
    if (!r.bookingId) return;
    const [u] = (await m.query(
      `SELECT u.name, u.email, t.title FROM bookings b JOIN users u ON u.id = b.traveler_id JOIN trips t ON t.id = b.trip_id WHERE b.id = $1`,
      [r.bookingId],
    )) as { name: string; email: string; title: string }[];
    if (!u) return;
    await this.outbox.enqueueEmail(m, {
      to: u.email,
      topic: 'refund.processed',
      subject: `Refund processed: ${u.title}`,
      body: `Hi ${u.name},\n\nYour refund of ${formatInr(r.amount)} for ${u.title} has been processed. Banks usually take 5–7 working days to show it.\n`,
      dedupeKey: `refund-processed:${r.id}`,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Reconciliation of refunds the gateway left pending
  // ---------------------------------------------------------------------------------------------

  /** Refunds the gateway accepted as `pending` whose outcome never arrived: ask the gateway. */
  async reconcilePending(): Promise<{ checked: number; settled: number }> {
    const out = { checked: 0, settled: 0 };
    for (;;) {
      const now = this.clock.now();
      const due = (await this.dataSource.query(
        `SELECT id FROM refunds WHERE status = 'pending' AND gateway_refund_id IS NOT NULL AND next_attempt_at <= $1
          ORDER BY next_attempt_at, id LIMIT $2`,
        [now, BATCH],
      )) as { id: string }[];
      for (const { id } of due) {
        const claimed = returnedRows<{ gateway_refund_id: string }>(
          await this.dataSource.query(
            `UPDATE refunds SET next_attempt_at = $2, updated_at = now()
              WHERE id = $1 AND status = 'pending' AND gateway_refund_id IS NOT NULL AND next_attempt_at <= $3
              RETURNING gateway_refund_id`,
            [id, new Date(now.getTime() + GATEWAY_PENDING_RECHECK_MS), now],
          ),
        );
        if (!claimed.length) continue;
        out.checked++;
        let gw: GatewayRefund;
        try {
          gw = await this.gateway.fetchRefund(claimed[0].gateway_refund_id);
        } catch (err) {
          if (err instanceof DomainError && err.code !== 'GATEWAY_ERROR') return out; // gateway down: next run
          this.logger.warn({ refundId: id, err }, 'could not fetch a pending refund');
          continue;
        }
        const outcome = await this.dataSource.transaction((m) => this.settle(m, id, gw, null));
        if (outcome === 'processed' || outcome === 'failed') out.settled++;
      }
      if (due.length < BATCH) break;
    }
    if (out.settled) this.dispatcher.kick();
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Admin actions
  // ---------------------------------------------------------------------------------------------

  /** Sends a failed refund again now (the attempt counter starts over). */
  async retry(actor: Actor, id: string) {
    const view = await this.dataSource.transaction(async (m) => {
      const r = await m.findOne(Refund, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!r) throw DomainError.notFound('Refund');
      if (r.status !== 'failed') throw new DomainError('INVALID_STATE', `A ${r.status} refund cannot be retried`);
      const before = toRefundView(r);
      r.attempts = 0;
      r.nextAttemptAt = this.clock.now();
      await m.save(r);
      await this.audit.record(m, { actor, action: 'refund.retry_requested', entityType: 'refund', entityId: r.id, before, after: toRefundView(r) });
      return toRefundView(r);
    });
    this.kick();
    return view;
  }

  /** An admin paid a refund out by hand (screenshot payments, or a gateway refund given up on). */
  async markManualPaid(actor: Actor, id: string, note?: string) {
    const view = await this.dataSource.transaction(async (m) => {
      const r = await m.findOne(Refund, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!r) throw DomainError.notFound('Refund');
      if (!(r.status === 'manual_due' || (r.status === 'failed' && r.nextAttemptAt === null))) {
        throw new DomainError('INVALID_STATE', `A ${r.status} refund cannot be marked as paid by hand`);
      }
      const before = toRefundView(r);
      r.status = 'manual_paid';
      r.processedAt = this.clock.now();
      r.nextAttemptAt = null;
      await m.save(r);
      await this.audit.record(m, { actor, action: 'refund.manual_paid', entityType: 'refund', entityId: r.id, before, after: { ...toRefundView(r), note: note ?? null } });
      await this.applyToPayment(m, r);
      await this.notifyProcessed(m, r);
      return toRefundView(r);
    });
    this.dispatcher.kick();
    return view;
  }
}
