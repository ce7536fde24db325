import { Injectable, Logger } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { AuditService } from '@trektribe/common';
import { EntityManager } from 'typeorm';
import { BookingEvents } from '../booking-events';
import { Booking, PaymentStatus } from './booking.entity';
import { toBookingView } from './booking-view';
import { canMovePayment } from './payment-status';

/**
 * What billing may change about a booking's payment (booking owns the `bookings` table): each
 * method is one move of PAYMENT_MOVES, made with the booking row locked, audited and pushed to the
 * traveler and organizer. A move the table does not allow changes nothing and is logged as a bug;
 * the methods answer whether the status moved.
 */
@Injectable()
export class BookingPayments {
  private readonly logger = new Logger(BookingPayments.name);

  constructor(
    private readonly audit: AuditService,
    private readonly events: BookingEvents,
  ) {}

  /** An online payment attempt failed on a pending, unpaid booking; the traveler may try again. */
  markFailed(m: EntityManager, bookingId: string, actor: Actor | null): Promise<boolean> {
    // A late failure after a capture, or on a booking no longer waiting for payment, is old news.
    return this.move(
      m,
      bookingId,
      'failed',
      actor,
      'booking.payment_failed',
      (b) => b.status === 'pending' && b.paymentStatus === 'unpaid',
    );
  }

  /** Money is owed back on this booking: a refund has been recorded for it. */
  markRefundPending(
    m: EntityManager,
    bookingId: string,
    actor: Actor | null,
    action: string,
  ): Promise<boolean> {
    return this.move(m, bookingId, 'refund_pending', actor, action);
  }

  /** Every refund of the booking is settled: refunded in full, or in part. */
  markRefunded(m: EntityManager, bookingId: string, full: boolean): Promise<boolean> {
    const to = full ? 'refunded' : 'partially_refunded';
    return this.move(m, bookingId, to, null, `booking.${to}`);
  }

  private async move(
    m: EntityManager,
    bookingId: string,
    to: PaymentStatus,
    actor: Actor | null,
    action: string,
    when: (b: Booking) => boolean = () => true,
  ): Promise<boolean> {
    const b = await m.findOne(Booking, { where: { id: bookingId }, lock: { mode: 'pessimistic_write' } });
    if (!b || b.paymentStatus === to || !when(b)) return false;
    if (!canMovePayment(b.paymentStatus, to)) {
      this.logger.error(
        { bookingId, from: b.paymentStatus, to, action },
        'refused a payment status move the table does not allow',
      );
      return false;
    }
    const before = toBookingView(b);
    b.paymentStatus = to;
    await m.save(b);
    await this.audit.record(m, {
      actor,
      action,
      entityType: 'booking',
      entityId: b.id,
      before,
      after: toBookingView(b),
    });
    await this.events.bookingChanged(m, 'booking.updated', b);
    return true;
  }
}
