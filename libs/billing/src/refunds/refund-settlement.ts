import { Injectable, Logger } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { Booking, BookingPayments } from '@trektribe/booking';
import { AuditService, Clock, DomainError, returnedRows, UnitOfWork } from '@trektribe/common';
import { Notifier } from '@trektribe/notifications';
import { DataSource, EntityManager } from 'typeorm';
import { GatewayRefund, RazorpayGateway } from '../gateway/razorpay.gateway';
import '../billing.events';
import { toRefundView } from '../ledger/payment-views';
import { MAX_REFUND_ATTEMPTS, refundBackoffMs } from './refund-policy';
import { Refund } from './refund.entity';

/** How long to wait for a refund the gateway accepted as `pending` before asking it again (reconcile). */
const GATEWAY_PENDING_RECHECK_MS = 15 * 60_000;
const BATCH = 50;

/**
 * What the gateway says about our refunds, from its answer, a `refund.*` webhook or reconciliation:
 * one code path, the state only moves forward; a processed refund is credited to its payment and
 * the booking's payment status, and the traveler is told.
 */
@Injectable()
export class RefundSettlement {
  private readonly logger = new Logger(RefundSettlement.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly gateway: RazorpayGateway,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly notifier: Notifier,
    private readonly bookingPayments: BookingPayments,
    private readonly uow: UnitOfWork,
  ) {}

  /** `refund.processed` / `refund.failed`: finds our row by the gateway id, else by the notes we sent. */
  async settleFromWebhook(
    m: EntityManager,
    entity: Partial<GatewayRefund> & { notes?: unknown },
    status: 'processed' | 'failed',
  ): Promise<string> {
    if (typeof entity?.id !== 'string' || typeof entity.amount !== 'number')
      return 'ignored: malformed refund';
    const ours = await this.findForEvent(m, entity as GatewayRefund & { notes?: unknown });
    if (!ours) return 'ignored: unknown refund';
    return this.settle(m, ours.id, { ...(entity as GatewayRefund), status }, null);
  }

  /** The refund a gateway refund entity is about: by its gateway id, else by the `refund_id` we put in its notes. */
  async findForEvent(
    m: EntityManager,
    entity: Pick<GatewayRefund, 'id'> & { notes?: unknown },
  ): Promise<Refund | null> {
    const byGatewayId = await m.findOne(Refund, { where: { gatewayRefundId: entity.id } });
    if (byGatewayId) return byGatewayId;
    const notes = entity.notes as { refund_id?: unknown } | undefined;
    const noted =
      notes && typeof notes === 'object' && typeof notes.refund_id === 'string' ? notes.refund_id : null;
    if (!noted || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(noted)) return null;
    return m.findOne(Refund, { where: { id: noted } });
  }

  /**
   * Applies what the gateway says about one of our refunds. `processed` is final; a `failed` about an
   * older attempt (not the one the row is waiting for) changes nothing.
   */
  async settle(m: EntityManager, id: string, gw: GatewayRefund, actor: Actor | null): Promise<string> {
    const r = await m.findOne(Refund, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!r) return 'ignored: unknown refund';
    if (r.status === 'processed' || r.status === 'manual_due' || r.status === 'manual_paid')
      return `unchanged (${r.status})`;
    const before = toRefundView(r);
    const now = this.clock.now();
    if (gw.status === 'processed') {
      if (gw.amount !== r.amount) {
        // Our row keeps our amount (the event's figure is not applied); admins see the difference.
        this.logger.error(
          { refundId: r.id, ours: r.amount, gateway: gw.amount },
          'refund amount differs at the gateway',
        );
        await this.audit.record(m, {
          actor: null,
          action: 'refund.amount_mismatch',
          entityType: 'refund',
          entityId: r.id,
          after: {
            refundId: r.id,
            gatewayRefundId: gw.id,
            expected: { amount: r.amount, currency: r.currency },
            reported: { amount: gw.amount, currency: gw.currency },
          },
        });
      }
      r.status = 'processed';
      r.gatewayRefundId = gw.id;
      r.processedAt = now;
      r.nextAttemptAt = null;
      r.lastError = null;
      await m.save(r);
      await this.audit.record(m, {
        actor,
        action: 'refund.processed',
        entityType: 'refund',
        entityId: r.id,
        before,
        after: toRefundView(r),
      });
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
    await this.audit.record(m, {
      actor,
      action: 'refund.failed',
      entityType: 'refund',
      entityId: r.id,
      before,
      after: toRefundView(r),
    });
    return 'failed';
  }

  /** The money left: the payment row's refunded amount and status, then the booking's payment status. */
  async applyToPayment(m: EntityManager, r: Refund): Promise<void> {
    if (r.paymentId) {
      await this.uow
        .of(m)
        .emit({ type: 'refund.processed', refundId: r.id, paymentId: r.paymentId, amount: r.amount });
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

  async notifyProcessed(m: EntityManager, r: Refund): Promise<void> {
    if (!r.bookingId) return;
    const [b] = (await m.query(
      `SELECT b.traveler_id, t.title FROM bookings b JOIN trips t ON t.id = b.trip_id WHERE b.id = $1`,
      [r.bookingId],
    )) as { traveler_id: string; title: string }[];
    if (!b) return;
    await this.notifier.notify(m, {
      type: 'refund.processed',
      userId: b.traveler_id,
      data: { bookingId: r.bookingId, tripTitle: b.title, amount: r.amount },
      dedupeKey: `refund-processed:${r.id}`,
    });
  }

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
    return out;
  }
}
