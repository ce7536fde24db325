import { Injectable } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { Booking, BookingsService, BookingView } from '@trektribe/booking';
import { Clock, DomainError } from '@trektribe/common';
import { DataSource, EntityManager, IsNull, Not } from 'typeorm';
import { RazorpayGateway } from '../gateway/razorpay.gateway';
import { Refund } from '../refunds/refund.entity';
import { LedgerRecords } from '../ledger/ledger-records';
import { PaymentLedger, observedStatus } from '../ledger/payment-ledger.service';
import { PaymentOrder } from '../ledger/payment-order.entity';
import { Payment } from '../ledger/payment.entity';
import { CheckoutOrderView, PaymentView, toCheckoutOrderView, toPaymentView } from '../ledger/payment-views';
import { VerifyCheckoutDto } from './checkout.dto';

/** Razorpay's minimum order amount: ₹1. */
const MIN_ORDER_PAISE = 100;

export type VerifyOutcome = 'confirmed' | 'refund_initiated' | 'authorized' | 'failed' | 'pending';

export interface VerifyResult {
  outcome: VerifyOutcome;
  booking: BookingView;
  payment: PaymentView | null;
}

/** `bk_` + the booking id in base64url (22 characters): unique, and well inside Razorpay's 40. */
export function bookingReceipt(bookingId: string, previousOrders: number): string {
  const short = Buffer.from(bookingId.replace(/-/g, ''), 'hex').toString('base64url');
  return previousOrders === 0 ? `bk_${short}` : `bk_${short}_${previousOrders + 1}`;
}

/**
 * Checkout for bookings. Never holds a transaction across a gateway call: read and lock, commit,
 * call the gateway, then write in a second short transaction (the unique indexes referee races).
 */
@Injectable()
export class CheckoutService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly gateway: RazorpayGateway,
    private readonly bookings: BookingsService,
    private readonly ledger: PaymentLedger,
    private readonly records: LedgerRecords,
    private readonly clock: Clock,
  ) {}

  /**
   * The booking's live gateway order: reused while the amount is unchanged, otherwise created with
   * the amount from our records and stored before the client sees it.
   */
  async createOrder(actor: Actor, bookingId: string): Promise<CheckoutOrderView> {
    this.assertConfigured();
    const plan = await this.dataSource.transaction(async (m) => {
      const b = await this.bookings.findVisible(m, actor, bookingId, true);
      this.assertPayable(b);
      const live = await this.liveOrder(m, b.id);
      if (live && live.amount === b.totalAmount && live.currency === b.currency) return { existing: live };
      if (live) await this.records.supersede(m, live);
      const previous = await m.count(PaymentOrder, { where: { bookingId: b.id } });
      return { amount: b.totalAmount, currency: b.currency, receipt: bookingReceipt(b.id, previous) };
    });
    if (plan.existing) return toCheckoutOrderView(plan.existing, this.gateway.keyId!);

    const gw = await this.gateway.createOrder({
      amount: plan.amount,
      currency: plan.currency,
      receipt: plan.receipt,
      notes: { booking_id: bookingId, purpose: 'booking' },
    });
    if (gw.amount !== plan.amount || gw.currency !== plan.currency) {
      throw new DomainError('GATEWAY_ERROR', 'The payment gateway created an order for a different amount');
    }

    const stored = await this.dataSource.transaction(async (m) => {
      const b = await this.bookings.findVisible(m, actor, bookingId, true);
      this.assertPayable(b);
      if (b.totalAmount !== plan.amount || b.currency !== plan.currency) {
        throw new DomainError('CONFLICT', 'The booking changed while the order was being created; try again');
      }
      const opened = await this.records.openBookingOrder(m, {
        bookingId: b.id,
        payerId: actor.id,
        amount: plan.amount,
        currency: plan.currency,
        receipt: plan.receipt,
        gatewayOrderId: gw.id,
      });
      // Lost a race with a concurrent call for the same booking: answer with the order it stored
      // (the gateway order created here is never shown to anyone, so it is never paid).
      const row = opened ?? (await this.liveOrder(m, b.id));
      if (!row)
        throw new DomainError('CONFLICT', 'Another checkout for this booking is in progress; try again');
      return row;
    });
    return toCheckoutOrderView(stored, this.gateway.keyId!);
  }

  /**
   * Checkout's answer. The signature is checked against the order we stored for this booking, then
   * the payment is fetched from the gateway and must be for that order, amount and currency. The
   * payment is recorded through the same ledger as webhooks, so a racing webhook confirms once.
   */
  async verify(actor: Actor, bookingId: string, dto: VerifyCheckoutDto): Promise<VerifyResult> {
    this.assertConfigured();
    const booking = await this.bookings.findVisible(this.dataSource.manager, actor, bookingId);
    const order = await this.dataSource.getRepository(PaymentOrder).findOne({
      where: { bookingId: booking.id, purpose: 'booking', gatewayOrderId: dto.razorpay_order_id },
    });
    if (!order) {
      throw new DomainError('BAD_REQUEST', 'razorpay_order_id is not an order issued for this booking', [
        { field: 'razorpay_order_id', message: 'does not match the order of this booking' },
      ]);
    }
    if (
      !this.gateway.verifyCheckoutSignature(
        order.gatewayOrderId,
        dto.razorpay_payment_id,
        dto.razorpay_signature,
      )
    ) {
      throw new DomainError('INVALID_SIGNATURE', 'The payment signature is not valid');
    }
    const p = await this.gateway.fetchPayment(dto.razorpay_payment_id);
    if (p.order_id !== order.gatewayOrderId || p.amount !== order.amount || p.currency !== order.currency) {
      throw new DomainError(
        'AMOUNT_MISMATCH',
        'The payment does not match the amount and currency of this booking’s order',
      );
    }
    const observed = observedStatus(p);
    if (observed) {
      await this.dataSource.transaction((m) => this.ledger.apply(m, order.id, p, observed, actor));
    }
    const row = await this.dataSource.getRepository(Payment).findOne({ where: { gatewayPaymentId: p.id } });
    const view = await this.bookings.get(actor, bookingId);
    return {
      outcome: await this.describe(row, view),
      booking: view,
      payment: row ? toPaymentView(row, order.gatewayOrderId) : null,
    };
  }

  /** The state after verify, whichever request (this one, a webhook) recorded it. */
  private async describe(row: Payment | null, booking: BookingView): Promise<VerifyOutcome> {
    if (!row) return 'pending';
    if (row.status === 'failed') return 'failed';
    if (row.status === 'authorized') return 'authorized';
    const refund = await this.dataSource
      .getRepository(Refund)
      .findOne({ where: { paymentId: row.id, idempotencyKey: `auto_${row.gatewayPaymentId}` } });
    if (refund) return 'refund_initiated';
    return booking.status === 'confirmed' ||
      booking.status === 'completed' ||
      booking.paymentStatus === 'paid'
      ? 'confirmed'
      : 'refund_initiated';
  }

  private liveOrder(m: EntityManager, bookingId: string): Promise<PaymentOrder | null> {
    return m.findOne(PaymentOrder, { where: { bookingId, status: Not('paid'), supersededAt: IsNull() } });
  }

  private assertConfigured(): void {
    if (!this.gateway.configured)
      throw new DomainError('PAYMENTS_NOT_CONFIGURED', 'Online payments are not configured on this server');
  }

  private assertPayable(b: Booking): void {
    if (b.paymentMethod !== 'online')
      throw new DomainError('WRONG_PAYMENT_METHOD', 'This booking is paid by screenshot, not online');
    if (b.status !== 'pending' || (b.paymentStatus !== 'unpaid' && b.paymentStatus !== 'failed')) {
      throw new DomainError(
        'BOOKING_NOT_PAYABLE',
        b.paymentStatus === 'paid'
          ? 'This booking is already paid'
          : `A ${b.status} booking takes no payment`,
      );
    }
    if (
      b.seatsReleasedAt !== null ||
      (b.holdExpiresAt !== null && b.holdExpiresAt.getTime() <= this.clock.now().getTime())
    ) {
      throw new DomainError('HOLD_EXPIRED', 'The seat hold on this booking has expired; please book again');
    }
    if (b.totalAmount < MIN_ORDER_PAISE)
      throw new DomainError('BUSINESS_RULE', 'The amount is below the minimum for online payment');
  }
}
