import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { Booking, BookingPayments, BookingsService } from '@trektribe/booking';
import { AuditService, Clock, UnitOfWork } from '@trektribe/common';
import { OutboxService } from '@trektribe/notifications';
import { EntityManager } from 'typeorm';
import type { GatewayPayment } from '../gateway/razorpay.gateway';
import '../billing.events';
import { LedgerRecords } from './ledger-records';
import { SubscriptionPayments } from './subscription-payments';
import { PaymentOrder } from './payment-order.entity';
import { Payment, PaymentRowStatus } from './payment.entity';
import { toPaymentUpdated, toPaymentView } from './payment-views';
import { UnkeptPayments } from './unkept-payments';

/** The states a gateway payment can be seen in, lowest first: a payment only ever moves up. */
export type ObservedStatus = 'failed' | 'authorized' | 'captured';
const RANK: Record<PaymentRowStatus, number> = {
  failed: 0,
  authorized: 1,
  captured: 2,
  partially_refunded: 3,
  refunded: 3,
};

export function isCaptured(p: Pick<GatewayPayment, 'captured'>): boolean {
  // Razorpay's samples are not consistently typed: true, 1, "1", "true".
  return p.captured === true || p.captured === 1 || p.captured === '1' || p.captured === 'true';
}

/** What a payment entity says about itself; null for `created` or a released (never captured) authorisation. */
export function observedStatus(p: Pick<GatewayPayment, 'status' | 'captured'>): ObservedStatus | null {
  if (p.status === 'captured' || (p.status === 'refunded' && isCaptured(p))) return 'captured';
  if (p.status === 'authorized') return 'authorized';
  if (p.status === 'failed') return 'failed';
  return isCaptured(p) && p.status !== 'refunded' ? 'captured' : null;
}

/** False when a payment row already in `current` makes an observation of `observed` old news. */
export function movesForward(observed: ObservedStatus, current: PaymentRowStatus | null): boolean {
  return current === null || RANK[observed] > RANK[current];
}

export function higher(a: ObservedStatus | null, b: ObservedStatus | null): ObservedStatus | null {
  if (!a) return b;
  if (!b) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

export type ApplyKind =
  | 'confirmed'
  | 'already_confirmed'
  | 'refund_initiated'
  | 'authorized'
  | 'failed'
  | 'unchanged'
  | 'subscription'
  | 'ignored';

export interface ApplyResult {
  kind: ApplyKind;
  /** Short text for webhook_events.outcome and logs. */
  detail: string;
  payment: Payment | null;
}

/**
 * The one code path that records a gateway payment against one of our orders: checkout verify,
 * every payment webhook and reconciliation all come here, inside their transaction. The order row
 * is locked first, so everything about one order is serialized; the payment row is unique on its
 * gateway id; its state only moves forward (failed < authorized < captured), so duplicates, late and
 * out-of-order events change nothing, and only the first capture confirms the booking.
 * With LedgerRecords (the plain row writes others ask for) it is the only writer of `payments` and
 * `payment_orders`. Handles `refund.processed` (the refunded amount comes off its payment).
 */
@Injectable()
export class PaymentLedger implements OnModuleInit {
  private readonly logger = new Logger(PaymentLedger.name);

  constructor(
    private readonly bookings: BookingsService,
    private readonly bookingPayments: BookingPayments,
    private readonly unkept: UnkeptPayments,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly outbox: OutboxService,
    private readonly subscriptions: SubscriptionPayments,
    private readonly records: LedgerRecords,
    private readonly uow: UnitOfWork,
  ) {}

  onModuleInit(): void {
    this.uow.on('refund.processed', async ({ manager: m }, e) => {
      const p = await this.records.creditRefund(m, e.paymentId, e.amount);
      if (p)
        await this.outbox.enqueueRealtime(m, {
          rooms: [`user:${p.payerId}`],
          event: 'payment.updated',
          payload: toPaymentUpdated(p),
        });
    });
  }

  /**
   * `p` is the gateway's payment (checkout verify and reconciliation fetch it; a webhook's entity
   * when it agrees with our order, else the gateway's own record). A capture for another amount or
   * currency than the order's is never kept: what the gateway holds is refunded in full and the
   * mismatch recorded for admins (`payment.amount_mismatch` audit row).
   */
  async apply(
    m: EntityManager,
    orderId: string,
    p: GatewayPayment,
    observed: ObservedStatus,
    actor: Actor | null,
  ): Promise<ApplyResult> {
    const order = await m.findOne(PaymentOrder, {
      where: { id: orderId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!order) return { kind: 'ignored', detail: 'ignored: unknown order', payment: null };
    if (p.order_id !== order.gatewayOrderId)
      return { kind: 'ignored', detail: 'ignored: payment of another order', payment: null };

    let row = await m.findOne(Payment, {
      where: { gatewayPaymentId: p.id },
      lock: { mode: 'pessimistic_write' },
    });
    const existing = row !== null;
    if (row && !movesForward(observed, row.status)) {
      return { kind: 'unchanged', detail: `unchanged (${row.status})`, payment: row };
    }
    const now = this.clock.now();
    const before = row ? toPaymentView(row, order.gatewayOrderId) : null;
    if (!row) {
      row = m.create(Payment, {
        orderId: order.id,
        bookingId: order.bookingId,
        subscriptionId: order.subscriptionId,
        payerId: order.payerId,
        method: order.purpose === 'subscription' ? 'recurring' : 'online',
        gatewayPaymentId: p.id,
        amountRefunded: 0,
      });
    }
    row.status = observed;
    row.amount = p.amount;
    row.currency = p.currency;
    row.gatewayMethod = typeof p.method === 'string' ? p.method.slice(0, 30) : null;
    if (observed === 'failed') {
      row.errorCode = p.error_code?.slice(0, 100) ?? null;
      row.errorDescription = p.error_description?.slice(0, 500) ?? null;
    }
    if (observed === 'captured') row.capturedAt = now;
    // Both rows are locked by this transaction: write them back without save()'s re-read.
    if (existing) {
      row.updatedAt = now;
      const { status, amount, currency, gatewayMethod, errorCode, errorDescription, capturedAt, updatedAt } =
        row;
      await m.update(
        Payment,
        { id: row.id },
        { status, amount, currency, gatewayMethod, errorCode, errorDescription, capturedAt, updatedAt },
      );
    } else {
      await m.insert(Payment, row);
    }

    if (observed === 'captured') {
      order.status = 'paid';
      order.paidAt = now;
    } else if (order.status === 'created') {
      order.status = 'attempted';
    }
    await m.update(PaymentOrder, { id: order.id }, { status: order.status, paidAt: order.paidAt });

    if (observed !== 'authorized') {
      await this.audit.record(m, {
        actor,
        action: observed === 'captured' ? 'payment.captured' : 'payment.failed',
        entityType: 'payment',
        entityId: row.id,
        before,
        after: toPaymentView(row, order.gatewayOrderId),
      });
    }
    await this.outbox.enqueueRealtime(m, {
      rooms: [`user:${row.payerId}`],
      event: 'payment.updated',
      payload: toPaymentUpdated(row),
    });

    if (observed === 'captured' && (p.amount !== order.amount || p.currency !== order.currency)) {
      return this.unkept.refuseMismatch(m, order, row, p);
    }
    if (order.purpose !== 'booking') return this.applySubscription(m, order, row, p, observed);
    if (observed === 'captured') return this.onBookingCaptured(m, order, row, p, actor);
    if (observed === 'failed') {
      await this.bookingPayments.markFailed(m, order.bookingId!, actor);
      return { kind: 'failed', detail: 'failed', payment: row };
    }
    return { kind: 'authorized', detail: 'authorized (awaiting capture)', payment: row };
  }

  /**
   * A screenshot payment an organizer approved: the money is in the organizer's account, so it is
   * recorded as captured at once (no gateway id). The caller (proofs) then lets the booking decide.
   */
  async recordScreenshotPayment(
    m: EntityManager,
    p: {
      bookingId: string;
      payerId: string;
      amount: number;
      currency: string;
      proofId: string;
      capturedAt: Date;
      actor: Actor;
    },
  ): Promise<Payment> {
    const payment = m.create(Payment, {
      orderId: null,
      bookingId: p.bookingId,
      subscriptionId: null,
      payerId: p.payerId,
      method: 'screenshot',
      gatewayPaymentId: null,
      amount: p.amount,
      currency: p.currency,
      status: 'captured',
      amountRefunded: 0,
      capturedAt: p.capturedAt,
    });
    await m.save(payment);
    await this.audit.record(m, {
      actor: p.actor,
      action: 'payment.captured',
      entityType: 'payment',
      entityId: payment.id,
      after: {
        bookingId: p.bookingId,
        method: 'screenshot',
        amount: payment.amount,
        currency: payment.currency,
        proofId: p.proofId,
      },
    });
    return payment;
  }

  private async applySubscription(
    m: EntityManager,
    order: PaymentOrder,
    row: Payment,
    p: GatewayPayment,
    observed: ObservedStatus,
  ): Promise<ApplyResult> {
    const handler = this.subscriptions;
    if (observed === 'captured')
      return {
        kind: 'subscription',
        detail: `subscription: ${await handler.onOrderPaid(m, order, p)}`,
        payment: row,
      };
    if (observed === 'failed')
      return {
        kind: 'subscription',
        detail: `subscription: ${await handler.onPaymentFailed(m, order, p)}`,
        payment: row,
      };
    return { kind: 'authorized', detail: 'authorized (awaiting capture)', payment: row };
  }

  /**
   * The first capture of a booking payment. The booking decides (confirmPaid): confirmed, or the
   * seats are gone / the booking was cancelled meanwhile, and then the money goes back in full.
   * A second payment for a booking already paid is a double charge: refunded in full too.
   */
  private async onBookingCaptured(
    m: EntityManager,
    order: PaymentOrder,
    row: Payment,
    p: GatewayPayment,
    actor: Actor | null,
  ): Promise<ApplyResult> {
    const booking = await m.findOne(Booking, { where: { id: order.bookingId! } });
    if (!booking)
      return this.unkept.refundInFull(m, row, p, null, 'booking not found', 'refund: booking missing');
    if (order.amount !== booking.totalAmount || order.currency !== booking.currency) {
      this.logger.error(
        { paymentId: row.id, paid: p.amount, order: order.amount, booking: booking.totalAmount },
        'the order does not match its booking',
      );
      return this.unkept.refundInFull(
        m,
        row,
        p,
        booking,
        'the amount paid does not match the booking',
        'refund: amount mismatch',
      );
    }
    const outcome = await this.bookings.confirmPaid(m, booking.id, actor);
    switch (outcome) {
      case 'confirmed':
        return { kind: 'confirmed', detail: 'captured: booking confirmed', payment: row };
      case 'already_confirmed': {
        const other = (await m.query(
          `SELECT 1 FROM payments WHERE booking_id = $1 AND id <> $2 AND status IN ('captured', 'partially_refunded') LIMIT 1`,
          [booking.id, row.id],
        )) as unknown[];
        if (other.length)
          return this.unkept.refundInFull(
            m,
            row,
            p,
            booking,
            'the booking was already paid: duplicate payment',
            'refund: duplicate payment',
          );
        return { kind: 'already_confirmed', detail: 'captured: booking already confirmed', payment: row };
      }
      case 'seats_gone':
        return this.unkept.refundInFull(
          m,
          row,
          p,
          booking,
          'the seat hold expired and the seats were taken',
          'refund: seats gone',
        );
      case 'booking_cancelled':
        return this.unkept.refundInFull(
          m,
          row,
          p,
          booking,
          'the booking was cancelled before the payment arrived',
          'refund: booking cancelled',
        );
    }
  }
}
