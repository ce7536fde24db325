import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { Booking } from '@trektribe/booking';
import {
  AuditService,
  Clock,
  CsvExport,
  CsvFile,
  csvQueryFrom,
  DomainError,
  offsetOf,
  Page,
  returnedRows,
  UnitOfWork,
} from '@trektribe/common';
import { DataSource, EntityManager } from 'typeorm';
import { Payment } from '../ledger/payment.entity';
import { RefundView, toRefundView } from '../ledger/payment-views';
import { refundNeedsAttentionSql } from './refund-policy';
import { AdminRefundsQuery } from './refund.dto';
import { REFUNDS_QUEUE, RefundRunResult, RefundSender } from './refund-sender';
import { RefundSettlement } from './refund-settlement';
import { Refund } from './refund.entity';

interface NewRefund {
  payment: Payment | null;
  bookingId: string | null;
  amount: number;
  currency: string;
  reason: string;
  idempotencyKey: string;
  actor: Actor | null;
}

/** What a cancellation owes back (booking's `booking.cancelled` event). */
export interface RefundRequest {
  bookingId: string;
  /** Paise; > 0. */
  amount: number;
  reason: string;
  /** Stable per cancellation, so a retried request never refunds twice. */
  idempotencyKey: string;
  actor: Actor | null;
}

/**
 * Refunds: recorded here, in the caller's transaction (a cancellation, or a payment that cannot be
 * kept), the one writer of new `refunds` rows; sent after commit by RefundSender; settled by
 * RefundSettlement (the gateway's answer, `refund.*` webhooks, reconciliation); retried with
 * backoff. Admins retry failed ones and record payouts made by hand. Handles booking's
 * `booking.cancelled` event (the refund a cancellation owes).
 */
@Injectable()
export class RefundsService implements OnModuleInit {
  private readonly logger = new Logger(RefundsService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly sender: RefundSender,
    private readonly settlement: RefundSettlement,
    private readonly uow: UnitOfWork,
    private readonly csv: CsvExport,
  ) {}

  onModuleInit(): void {
    this.uow.requireHandler('refund.processed', 'a processed refund would not be credited to its payment');
    this.uow.on('booking.cancelled', (tx, e) =>
      this.requestRefund(tx.manager, { bookingId: e.bookingId, ...e.refundDue, actor: e.actor }),
    );
  }

  /**
   * A cancellation's refund, inside its transaction (the booking row is locked).
   * Online payments get a `pending` refund sent to the gateway after commit; screenshot payments (or
   * a paid booking without a gateway payment) get `manual_due` for an admin to pay out by hand.
   * The idempotency key is unique, so a repeated request records nothing new.
   */
  async requestRefund(m: EntityManager, req: RefundRequest): Promise<void> {
    const booking = await m.findOne(Booking, { where: { id: req.bookingId } });
    if (!booking) throw DomainError.notFound('Booking');
    const seen = (await m.query(`SELECT 1 FROM refunds WHERE idempotency_key = $1`, [
      req.idempotencyKey,
    ])) as unknown[];
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
      await this.createRefund(m, {
        payment,
        bookingId: booking.id,
        amount,
        currency: payment.currency,
        reason: req.reason,
        idempotencyKey: key(),
        actor: req.actor,
      });
      remaining -= amount;
      part++;
    }
    if (remaining > 0) {
      if (part > 0)
        this.logger.warn(
          { bookingId: booking.id, asked: req.amount, uncovered: remaining },
          'refund larger than the captured payments; the rest is due by hand',
        );
      await this.createRefund(m, {
        payment: null,
        bookingId: booking.id,
        amount: remaining,
        currency: booking.currency,
        reason: req.reason,
        idempotencyKey: key(),
        actor: req.actor,
      });
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
    await this.audit.record(m, {
      actor: r.actor,
      action: 'refund.requested',
      entityType: 'refund',
      entityId: refund.id,
      after: toRefundView(refund),
    });
    if (viaGateway) this.uow.kickAfterCommit(m, REFUNDS_QUEUE);
    return refund.id;
  }

  /** The captured payments a booking's refund comes out of: the booking's own method first, oldest first. */
  private refundablePayments(m: EntityManager, booking: Booking): Promise<Payment[]> {
    return m
      .getRepository(Payment)
      .createQueryBuilder('p')
      .where('p.booking_id = :id AND p.status IN (:...s)', {
        id: booking.id,
        s: ['captured', 'partially_refunded'],
      })
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
  async refundableLeft(
    m: EntityManager,
    payment: Pick<Payment, 'id' | 'amount' | 'amountRefunded'>,
  ): Promise<number> {
    return Math.max(0, payment.amount - payment.amountRefunded - (await this.openRefundTotal(m, payment.id)));
  }

  private async openRefundTotal(m: EntityManager, paymentId: string): Promise<number> {
    const [row] = (await m.query(
      `SELECT coalesce(sum(amount), 0)::int AS total FROM refunds WHERE payment_id = $1 AND status IN ('pending', 'failed', 'manual_due')`,
      [paymentId],
    )) as { total: number }[];
    return row.total;
  }

  /** Job entry point (refund retries) and the tests' way to send what is due now: see RefundSender. */
  processPendingRefunds(): Promise<RefundRunResult> {
    return this.sender.processPendingRefunds();
  }

  /** Sends a failed refund again now (the attempt counter starts over). */
  async retry(actor: Actor, id: string) {
    return this.uow.run(async ({ manager: m }) => {
      const r = await m.findOne(Refund, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!r) throw DomainError.notFound('Refund');
      if (r.status !== 'failed')
        throw new DomainError('REFUND_NOT_RETRYABLE', `A ${r.status} refund cannot be retried`);
      const before = toRefundView(r);
      r.attempts = 0;
      r.nextAttemptAt = this.clock.now();
      await m.save(r);
      await this.audit.record(m, {
        actor,
        action: 'refund.retry_requested',
        entityType: 'refund',
        entityId: r.id,
        before,
        after: toRefundView(r),
      });
      this.uow.kickAfterCommit(m, REFUNDS_QUEUE);
      return toRefundView(r);
    });
  }

  /** An admin paid a refund out by hand (screenshot payments, or a gateway refund given up on). */
  async markManualPaid(actor: Actor, id: string, note?: string) {
    const view = await this.dataSource.transaction(async (m) => {
      const r = await m.findOne(Refund, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!r) throw DomainError.notFound('Refund');
      if (!(r.status === 'manual_due' || (r.status === 'failed' && r.nextAttemptAt === null))) {
        throw new DomainError('REFUND_NOT_MANUAL', `A ${r.status} refund cannot be marked as paid by hand`);
      }
      const before = toRefundView(r);
      r.status = 'manual_paid';
      r.processedAt = this.clock.now();
      r.nextAttemptAt = null;
      await m.save(r);
      await this.audit.record(m, {
        actor,
        action: 'refund.manual_paid',
        entityType: 'refund',
        entityId: r.id,
        before,
        after: { ...toRefundView(r), note: note ?? null },
      });
      await this.settlement.applyToPayment(m, r);
      await this.settlement.notifyProcessed(m, r);
      return toRefundView(r);
    });
    return view;
  }

  /** The admin's list: newest first, filtered by status, booking, payment or needing a person. */
  async listForAdmin(q: AdminRefundsQuery): Promise<Page<RefundView>> {
    const qb = this.adminRefunds(q);
    qb.orderBy('r.created_at', 'DESC').addOrderBy('r.id', 'DESC').skip(offsetOf(q)).take(q.limit);
    const [rows, total] = await qb.getManyAndCount();
    return Page.of(rows.map(toRefundView), total, q);
  }

  /** Every refund `listForAdmin` would page through, as a CSV download. */
  listForAdminCsv(q: AdminRefundsQuery): CsvFile {
    return this.csv.file(
      csvQueryFrom(this.adminRefunds(q), REFUND_CSV, [
        ['createdAt', 'DESC'],
        ['id', 'DESC'],
      ]),
      'refunds',
    );
  }

  private adminRefunds(q: AdminRefundsQuery) {
    const qb = this.dataSource.getRepository(Refund).createQueryBuilder('r');
    if (q.status) qb.andWhere('r.status = :status', { status: q.status });
    if (q.bookingId) qb.andWhere('r.booking_id = :bookingId', { bookingId: q.bookingId });
    if (q.paymentId) qb.andWhere('r.payment_id = :paymentId', { paymentId: q.paymentId });
    if (q.needsAttention === 'true') qb.andWhere(refundNeedsAttentionSql('r'));
    if (q.needsAttention === 'false') qb.andWhere(`NOT ${refundNeedsAttentionSql('r')}`);
    return qb;
  }
}

/** The CSV columns of the admin's refunds list: the JSON view. */
const REFUND_CSV = {
  id: 'r.id',
  createdAt: 'r.created_at',
  status: 'r.status',
  needsAttention: refundNeedsAttentionSql('r'),
  amount: 'r.amount',
  currency: 'r.currency',
  paymentId: 'r.payment_id',
  bookingId: 'r.booking_id',
  reason: 'r.reason',
  gatewayRefundId: 'r.gateway_refund_id',
  attempts: 'r.attempts',
  nextAttemptAt: 'r.next_attempt_at',
  lastError: 'r.last_error',
  processedAt: 'r.processed_at',
  requestedBy: 'r.requested_by',
};
