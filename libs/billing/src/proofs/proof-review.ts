import { Injectable } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { Booking, BookingPayments, BookingsService, ConfirmOutcome, toBookingView } from '@trektribe/booking';
import { AuditService, Clock, DomainError } from '@trektribe/common';
import { Notifier, OutboxService } from '@trektribe/notifications';
import { DataSource, EntityManager } from 'typeorm';
import { PaymentLedger } from '../ledger/payment-ledger.service';
import { toPaymentUpdated } from '../ledger/payment-views';
import { Refund } from '../refunds/refund.entity';
import { RefundsService } from '../refunds/refunds.service';
import { PaymentProof } from './payment-proof.entity';
import { ReviewProofDto } from './proof.dto';
import { toProofView, withoutForeignBookingId } from './proofs.service';

/** A rejected proof gives the traveler this long to upload another before the seats go. */
export const RESUBMIT_HOURS = 24;

/** The organizer's decision on a screenshot payment (API.md: POST /bookings/:id/verify-payment). */
@Injectable()
export class ProofReview {
  constructor(
    private readonly dataSource: DataSource,
    private readonly bookings: BookingsService,
    private readonly bookingPayments: BookingPayments,
    private readonly refunds: RefundsService,
    private readonly ledger: PaymentLedger,
    private readonly notifier: Notifier,
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
    private readonly clock: Clock,
  ) {}

  /**
   * The trip's organizer (or an admin) decides on the pending proof. Approve: a captured screenshot
   * payment for the booking's amount, then the booking is confirmed; if its seats are gone or it was
   * cancelled meanwhile, the money is still recorded and a manual refund falls due. Reject: the
   * traveler is told why and gets 24 h to try again.
   */
  async verify(actor: Actor, bookingId: string, dto: ReviewProofDto) {
    const result = await this.dataSource.transaction(async (m) => {
      const now = this.clock.now();
      const booking = await this.bookings.findVisible(m, actor, bookingId, true);
      const proof = await m.findOne(PaymentProof, {
        where: { bookingId, status: 'pending' },
        order: { createdAt: 'DESC', id: 'DESC' },
        lock: { mode: 'pessimistic_write' },
      });
      if (!proof)
        throw new DomainError('NO_PENDING_PROOF', 'This booking has no payment proof awaiting verification');
      const before = toProofView(proof, true);
      proof.status = dto.approve ? 'approved' : 'rejected';
      proof.reviewedBy = actor.id;
      proof.reviewedAt = now;
      proof.reviewNote = dto.note || null;
      await m.save(proof);
      const outcome = dto.approve
        ? await this.approveLocked(m, actor, booking, proof, now)
        : await this.rejectLocked(m, actor, booking, proof);
      await this.audit.record(m, {
        actor,
        action: dto.approve ? 'payment_proof.approved' : 'payment_proof.rejected',
        entityType: 'payment_proof',
        entityId: proof.id,
        before,
        after: { ...toProofView(proof, true), ...outcome },
      });
      const after = await m.findOneOrFail(Booking, { where: { id: bookingId } });
      return {
        proof: await withoutForeignBookingId(m, actor, toProofView(proof, true)),
        booking: toBookingView(after),
        ...outcome,
      };
    });
    return result;
  }

  private async approveLocked(
    m: EntityManager,
    actor: Actor,
    booking: Booking,
    proof: PaymentProof,
    now: Date,
  ): Promise<{
    outcome: ConfirmOutcome;
    paymentId: string;
    refund: { id: string; amount: number; status: string } | null;
  }> {
    const payment = await this.ledger.recordScreenshotPayment(m, {
      bookingId: booking.id,
      payerId: booking.travelerId,
      amount: booking.totalAmount,
      currency: booking.currency,
      proofId: proof.id,
      capturedAt: now,
      actor,
    });
    const outcome = await this.bookings.confirmPaid(m, booking.id, actor);
    await this.outbox.enqueueRealtime(m, {
      rooms: [`user:${booking.travelerId}`, `user:${booking.organizerId}`],
      event: 'payment.updated',
      payload: toPaymentUpdated(payment),
    });
    if (outcome === 'confirmed' || payment.amount <= 0)
      return { outcome, paymentId: payment.id, refund: null };

    // The money is in the organizer's account but the booking cannot take it: pay it back by hand.
    const why =
      outcome === 'seats_gone'
        ? 'the seats were released before the payment was verified and are no longer available'
        : outcome === 'booking_cancelled'
          ? 'the booking was cancelled before the payment was verified'
          : 'the booking had already been paid';
    // Recorded by the refunds recorder like every refund: a screenshot payment is refunded by hand (manual_due).
    const refundId = await this.refunds.createRefund(m, {
      payment,
      bookingId: booking.id,
      amount: payment.amount,
      currency: payment.currency,
      reason: `Screenshot payment approved but ${why}`,
      idempotencyKey: `proof_${proof.id}`,
      actor,
    });
    const refund = await m.findOneOrFail(Refund, {
      where: refundId ? { id: refundId } : { idempotencyKey: `proof_${proof.id}` },
    });
    // A confirmed booking keeps its own payment status: this refund is of a second payment.
    if (outcome !== 'already_confirmed') {
      await this.bookingPayments.markRefundPending(m, booking.id, actor, 'booking.refund_due');
    }
    await this.notifier.notify(m, {
      type: 'payment.proof_refund_due',
      userId: booking.travelerId,
      data: {
        bookingId: booking.id,
        amount: payment.amount,
        why: outcome === 'already_confirmed' ? 'already_paid' : outcome,
      },
      dedupeKey: `proof-refund-due:${proof.id}`,
    });
    return {
      outcome,
      paymentId: payment.id,
      refund: { id: refund.id, amount: refund.amount, status: refund.status },
    };
  }

  private async rejectLocked(
    m: EntityManager,
    actor: Actor,
    booking: Booking,
    proof: PaymentProof,
  ): Promise<{ holdExpiresAt: Date | null }> {
    // A booking cancelled meanwhile has no hold to resume: the proof is only marked rejected.
    let holdExpiresAt: Date | null = null;
    if (booking.status === 'pending' && booking.paymentStatus === 'awaiting_verification') {
      const resumed = await this.bookings.resumeHoldAfterRejection(m, booking.id, actor, RESUBMIT_HOURS);
      holdExpiresAt = resumed.holdExpiresAt;
    }
    const [trip] = (await m.query(`SELECT title FROM trips WHERE id = $1`, [booking.tripId])) as {
      title: string;
    }[];
    await this.notifier.notify(m, {
      type: 'payment.proof_rejected',
      userId: booking.travelerId,
      data: {
        bookingId: booking.id,
        tripTitle: trip?.title ?? '',
        note: proof.reviewNote,
        holdExpiresAt: holdExpiresAt?.toISOString() ?? null,
      },
      dedupeKey: `proof-rejected:${proof.id}`,
    });
    return { holdExpiresAt };
  }
}
