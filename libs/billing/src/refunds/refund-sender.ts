import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AuditService, Clock, DomainError, returnedRows } from '@trektribe/common';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { GatewayRefund, RazorpayGateway } from '../gateway/razorpay.gateway';
import { Payment } from '../payments/payment.entity';
import { toRefundView } from '../payments/payment-views';
import { MAX_REFUND_ATTEMPTS, refundBackoffMs } from './refund-policy';
import { RefundSettlement } from './refund-settlement';
import { Refund } from './refund.entity';

/** A claimed refund is pushed this far into the future, so a crash mid-call brings it back by itself. */
const CLAIM_LEASE_MS = 2 * 60_000;
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

/**
 * Sends recorded refunds to the gateway: after the recording transaction commits, and as the refund
 * retry job. Each refund is claimed by a conditional update (a lease), so no two workers send one
 * refund at once; the gateway's answer is settled by RefundSettlement.
 */
@Injectable()
export class RefundSender implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RefundSender.name);
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
    private readonly settlement: RefundSettlement,
  ) {}

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


  /** Sends the refunds a transaction recorded once it commits (at once outside a transaction). */
  afterCommit(m: EntityManager): void {
    const qr = m.queryRunner;
    if (qr?.isTransactionActive) this.awaitingCommit.add(qr);
    else this.kick();
  }


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
      const outcome = await this.settlement.settle(m, id, answer, null);
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
}
