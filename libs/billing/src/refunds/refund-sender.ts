import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import {
  AuditService,
  Clock,
  DomainError,
  LeasedQueue,
  QueueRunner,
  returnedRows,
  UnitOfWork,
} from '@trektribe/common';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { GatewayRefund, RazorpayGateway } from '../gateway/razorpay.gateway';
import { Payment } from '../ledger/payment.entity';
import { toRefundView } from '../ledger/payment-views';
import { MAX_REFUND_ATTEMPTS, refundBackoffMs } from './refund-policy';
import { RefundSettlement } from './refund-settlement';
import { Refund } from './refund.entity';

/** A claimed refund is pushed this far into the future, so a crash mid-call brings it back by itself. */
const CLAIM_LEASE_MS = 2 * 60_000;
const BATCH = 50;
/** The name RefundsService kicks after a refund is recorded. */
export const REFUNDS_QUEUE = 'refunds';

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
export class RefundSender
  implements OnModuleInit, OnModuleDestroy, LeasedQueue<{ id: string }, RefundRunResult>
{
  readonly name = REFUNDS_QUEUE;
  private readonly logger = new Logger(RefundSender.name);
  private readonly runner = new QueueRunner(this);
  /** The pass being run: `attempt` needs its start time. */
  private passStartedAt = new Date(0);

  constructor(
    private readonly dataSource: DataSource,
    private readonly gateway: RazorpayGateway,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly settlement: RefundSettlement,
    private readonly uow: UnitOfWork,
  ) {}

  onModuleInit(): void {
    this.uow.registerQueue(this.runner);
  }

  onModuleDestroy(): Promise<void> {
    return this.runner.stop();
  }

  /** Send due refunds soon (kicks collapse; see QueueRunner). Recorded refunds kick it after commit. */
  kick(): void {
    this.runner.kick();
  }

  /**
   * Job entry point (refund retries) and what a kick runs: sends every refund that is due — new
   * `pending` ones and `failed` ones whose backoff has passed — in batches. One pass at a time per
   * process; across instances each refund is claimed by a conditional update (a lease), so no two
   * workers send the same refund at once, and a crash mid-call brings it back after the lease.
   */
  processPendingRefunds(): Promise<RefundRunResult> {
    return this.runner.runPass();
  }

  newTally(): RefundRunResult {
    this.passStartedAt = this.clock.now();
    return { processed: 0, pending: 0, failed: 0, deferred: 0 };
  }

  batchSize(): number {
    return this.gateway.configured ? BATCH : 0;
  }

  /** The due refunds, oldest first; each is leased one at a time by `attempt`, just before its call. */
  async claim(limit: number): Promise<{ id: string }[]> {
    return (await this.dataSource.query(
      `SELECT id FROM refunds
        WHERE next_attempt_at <= $1 AND ((status = 'pending' AND gateway_refund_id IS NULL) OR status = 'failed')
        ORDER BY next_attempt_at, id LIMIT $2`,
      [this.passStartedAt, limit],
    )) as { id: string }[];
  }

  async handle(due: { id: string }[], total: RefundRunResult): Promise<'continue' | 'stop'> {
    for (const { id } of due) {
      if (this.runner.stopping) return 'stop';
      const outcome = await this.attempt(id, this.passStartedAt);
      if (outcome === 'unreachable') {
        total.deferred++;
        return 'stop'; // the gateway is down: the rest stay due for the next run
      }
      if (outcome) total[outcome]++;
    }
    return 'continue';
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
    const payment = refund.paymentId
      ? await this.dataSource.getRepository(Payment).findOneBy({ id: refund.paymentId })
      : null;
    if (!payment?.gatewayPaymentId) {
      await this.dataSource.transaction((m) => this.toManual(m, id, 'no gateway payment to refund'));
      return 'deferred';
    }
    let answer: GatewayRefund;
    try {
      answer = await this.gateway.refund(
        payment.gatewayPaymentId,
        {
          amount: refund.amount,
          notes: { refund_id: refund.id, ...(refund.bookingId ? { booking_id: refund.bookingId } : {}) },
        },
        refundRequestKey(refund),
      );
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      const outcome = await this.dataSource.transaction((m) => this.recordAttemptError(m, id, err));
      return err.code === 'GATEWAY_ERROR' ? outcome : 'unreachable';
    }
    return this.dataSource.transaction(async (m) => {
      const outcome = await this.settlement.settle(m, id, answer, null);
      return outcome === 'processed'
        ? 'processed'
        : outcome === 'pending'
          ? 'pending'
          : outcome === 'failed'
            ? 'failed'
            : undefined;
    });
  }

  /**
   * A request that got no refund back. GATEWAY_ERROR: the gateway refused it (`failed`, same key next
   * time, given up after MAX_REFUND_ATTEMPTS). No answer at all: the outcome is unknown, so the status
   * is kept and it is retried with the same key (which the gateway deduplicates) on the capped
   * backoff for as long as it takes; an outage never drops a refund.
   */
  private async recordAttemptError(
    m: EntityManager,
    id: string,
    err: DomainError,
  ): Promise<keyof RefundRunResult | undefined> {
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
      await this.audit.record(m, {
        actor: null,
        action: 'refund.failed',
        entityType: 'refund',
        entityId: r.id,
        before,
        after: toRefundView(r),
      });
    }
    this.logger.warn(
      { refundId: r.id, attempts: r.attempts, err: r.lastError, giveUp },
      'refund attempt failed',
    );
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
    await this.audit.record(m, {
      actor: null,
      action: 'refund.manual_due',
      entityType: 'refund',
      entityId: r.id,
      before,
      after: toRefundView(r),
    });
  }
}
