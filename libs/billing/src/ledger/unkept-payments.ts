import { Injectable, Logger } from '@nestjs/common';
import { Booking, BookingPayments } from '@trektribe/booking';
import { AuditService } from '@trektribe/common';
import { Notifier } from '@trektribe/notifications';
import { EntityManager } from 'typeorm';
import type { GatewayPayment } from '../gateway/razorpay.gateway';
import { RefundsService } from '../refunds/refunds.service';
import type { ApplyResult } from './payment-ledger.service';
import { PaymentOrder } from './payment-order.entity';
import { Payment } from './payment.entity';

/**
 * Captured money the ledger cannot keep (an amount that is not the order's, a booking gone, paid
 * twice, or cancelled before the payment arrived): what the gateway holds for the payment goes back
 * in full, once per payment (the refund's idempotency key), and the traveler is told why.
 */
@Injectable()
export class UnkeptPayments {
  private readonly logger = new Logger(UnkeptPayments.name);

  constructor(
    private readonly refunds: RefundsService,
    private readonly bookingPayments: BookingPayments,
    private readonly audit: AuditService,
    private readonly notifier: Notifier,
  ) {}

  /**
   * A capture whose amount or currency is not the order's (a partial payment, say): whatever the
   * gateway holds for the payment goes back, the booking is not confirmed (a subscription cycle not
   * paid), and admins find the mismatch under `payment.amount_mismatch` in the audit log.
   */
  async refuseMismatch(
    m: EntityManager,
    order: PaymentOrder,
    row: Payment,
    p: GatewayPayment,
  ): Promise<ApplyResult> {
    this.logger.error(
      { paymentId: row.id, orderId: order.id, expected: order.amount, captured: p.amount },
      'captured amount does not match the order',
    );
    await this.audit.record(m, {
      actor: null,
      action: 'payment.amount_mismatch',
      entityType: 'payment',
      entityId: row.id,
      after: {
        paymentId: row.id,
        gatewayPaymentId: p.id,
        orderId: order.id,
        gatewayOrderId: order.gatewayOrderId,
        purpose: order.purpose,
        bookingId: order.bookingId,
        subscriptionId: order.subscriptionId,
        expected: { amount: order.amount, currency: order.currency },
        captured: { amount: p.amount, currency: p.currency },
      },
    });
    const booking = order.bookingId ? await m.findOne(Booking, { where: { id: order.bookingId } }) : null;
    return this.refundInFull(
      m,
      row,
      p,
      booking,
      'the amount paid does not match the booking',
      'refund: amount mismatch',
    );
  }

  /**
   * Money we cannot keep: a full refund of what the gateway holds for the payment (one per payment,
   * by key), and the traveler is told.
   */
  async refundInFull(
    m: EntityManager,
    row: Payment,
    p: GatewayPayment,
    booking: Booking | null,
    reason: string,
    detail: string,
  ): Promise<ApplyResult> {
    const heldAtGateway = p.amount - (Number.isInteger(p.amount_refunded) ? p.amount_refunded : 0);
    const amount = Math.min(await this.refunds.refundableLeft(m, row), heldAtGateway);
    if (amount > 0) {
      await this.refunds.createRefund(m, {
        payment: row,
        bookingId: booking?.id ?? row.bookingId,
        amount,
        currency: row.currency,
        reason: `Automatic full refund: ${reason}`,
        idempotencyKey: `auto_${row.gatewayPaymentId ?? row.id}`,
        actor: null,
      });
    }
    // A booking that was not paid (or failed) now waits for this money to go back; a paid one keeps its status.
    if (booking && (booking.paymentStatus === 'unpaid' || booking.paymentStatus === 'failed')) {
      await this.bookingPayments.markRefundPending(m, booking.id, null, 'booking.payment_refund_pending');
    }
    if (booking) {
      const [trip] = (await m.query(`SELECT title FROM trips WHERE id = $1`, [booking.tripId])) as {
        title: string;
      }[];
      await this.notifier.notify(m, {
        type: 'payment.auto_refund',
        userId: booking.travelerId,
        data: { tripTitle: trip?.title ?? '', paid: row.amount, refundAmount: amount, reason },
        dedupeKey: `payment-auto-refund:${row.id}`,
      });
    }
    return { kind: 'refund_initiated', detail, payment: row };
  }
}
