import { Injectable, Logger } from '@nestjs/common';
import { UserDirectory, type Actor } from '@trektribe/auth';
import { Booking, BookingPayments, BookingsService, ConfirmOutcome, toBookingView } from '@trektribe/booking';
import { AuditService, Clock, DomainError, formatInr, offsetOf, Page, returnedRows } from '@trektribe/common';
import { OutboxDispatcher, OutboxService } from '@trektribe/notifications';
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { DataSource, EntityManager } from 'typeorm';
import { PaymentLedger } from '../payments/payment-ledger.service';
import { Refund } from '../refunds/refund.entity';
import { RefundsService } from '../refunds/refunds.service';
import { detectProofType } from './file-type';
import { PaymentProof } from './payment-proof.entity';
import { MAX_PROOF_BYTES, PendingVerificationsQuery, ReviewProofDto } from './proof.dto';
import { ProofStorage } from './proof-storage';

/** A rejected proof gives the traveler this long to upload another before the seats go. */
export const RESUBMIT_HOURS = 24;
/** An unverified proof goes to the support agents after this long. */
export const ESCALATE_AFTER_HOURS = 24;
const ESCALATION_BATCH = 100;

/**
 * What a viewer may see of a proof. Duplicate flags, escalation and reviewer ids are for the
 * organizer and staff: the traveler sees status and the organizer's note.
 */
export function toProofView(p: PaymentProof, forStaff: boolean) {
  return {
    id: p.id,
    bookingId: p.bookingId,
    status: p.status,
    mimeType: p.mimeType,
    sizeBytes: p.sizeBytes,
    sha256: p.sha256,
    upiReference: p.upiReference,
    reviewedAt: p.reviewedAt,
    reviewNote: p.reviewNote,
    createdAt: p.createdAt,
    fileUrl: `/api/v1/bookings/${p.bookingId}/payment-proof/file`,
    ...(forStaff
      ? {
          uploaderId: p.uploaderId,
          flaggedDuplicate: p.flaggedDuplicate,
          duplicateOfBookingId: p.duplicateOfBookingId,
          reviewedBy: p.reviewedBy,
          escalatedAt: p.escalatedAt,
        }
      : {}),
  };
}
export type ProofView = ReturnType<typeof toProofView>;

function bookingSummary(b: Booking) {
  return { id: b.id, status: b.status, paymentStatus: b.paymentStatus, holdExpiresAt: b.holdExpiresAt };
}

export interface UploadedProof {
  buffer: Buffer;
  size: number;
}

export interface PendingVerification {
  proofId: string;
  bookingId: string;
  tripId: string;
  tripTitle: string;
  travelerId: string;
  travelerName: string;
  seats: number;
  amount: number;
  currency: string;
  upiReference: string | null;
  uploadedAt: Date;
  flaggedDuplicate: boolean;
  duplicateOfBookingId: string | null;
  escalated: boolean;
}

/** Advisory-lock key (signed 64-bit) for a duplicate-detection key, so concurrent uploads see each other. */
function lockKey(kind: string, value: string): string {
  return createHash('sha256').update(`proof-dup:${kind}:${value}`).digest().readBigInt64BE(0).toString();
}

/**
 * Screenshot payments: the traveler uploads a proof (the hold pauses), the trip's organizer approves
 * (payment recorded, booking confirmed) or rejects it (the hold resumes for a new try), and a proof
 * nobody verified within 24 h goes to the support agents.
 */
@Injectable()
export class ProofsService {
  private readonly logger = new Logger(ProofsService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly bookings: BookingsService,
    private readonly bookingPayments: BookingPayments,
    private readonly refunds: RefundsService,
    private readonly ledger: PaymentLedger,
    private readonly users: UserDirectory,
    private readonly storage: ProofStorage,
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
    private readonly dispatcher: OutboxDispatcher,
    private readonly clock: Clock,
  ) {}

  /**
   * Stores the file first (random name, owner-only), then records the proof and pauses the hold in
   * one transaction; when that transaction fails the file is removed again.
   */
  async upload(actor: Actor, bookingId: string, file: UploadedProof, upiReference?: string) {
    const bytes = file.buffer;
    if (bytes.length === 0) {
      throw new DomainError('VALIDATION_ERROR', 'The file is empty', [{ field: 'file', message: 'file must not be empty' }]);
    }
    if (bytes.length > MAX_PROOF_BYTES) throw new DomainError('PAYLOAD_TOO_LARGE', 'A payment proof may be at most 5 MB');
    const type = detectProofType(bytes);
    if (!type) throw new DomainError('UNSUPPORTED_MEDIA_TYPE', 'A payment proof must be a PNG, JPEG or WebP image, or a PDF');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const upi = upiReference ? upiReference.toUpperCase() : null;

    const storageName = await this.storage.save(bytes, type.ext);
    let result: ProofView & { booking: ReturnType<typeof bookingSummary> };
    try {
      result = await this.dataSource.transaction(async (m) => {
        const now = this.clock.now();
        const current = await this.bookings.findVisible(m, actor, bookingId, true);
        if (current.status === 'pending' && current.holdExpiresAt !== null && current.holdExpiresAt <= now) {
          throw new DomainError('INVALID_STATE', 'The hold on this booking has expired; book again');
        }
        const booking = await this.bookings.pauseHoldForVerification(m, bookingId, actor);
        const pending = await m.findOne(PaymentProof, { where: { bookingId, status: 'pending' } });
        if (pending) throw new DomainError('DUPLICATE_PROOF', 'A payment proof for this booking is already awaiting verification');

        const duplicate = await this.findDuplicate(m, bookingId, sha256, upi);
        const proof = m.create(PaymentProof, {
          bookingId,
          uploaderId: actor.id,
          storageName,
          mimeType: type.mimeType,
          sizeBytes: bytes.length,
          sha256,
          upiReference: upi,
          status: 'pending',
          flaggedDuplicate: duplicate !== undefined,
          duplicateOfBookingId: duplicate?.bookingId ?? null,
          reviewedBy: null,
          reviewedAt: null,
          reviewNote: null,
          escalatedAt: null,
          createdAt: now,
        });
        await m.save(proof);
        await this.audit.record(m, {
          actor,
          action: 'payment_proof.uploaded',
          entityType: 'payment_proof',
          entityId: proof.id,
          after: { ...toProofView(proof, true), duplicateBy: duplicate?.by ?? null },
        });
        await this.notifyOrganizer(m, booking, proof, duplicate);
        return { ...toProofView(proof, false), booking: bookingSummary(booking) };
      });
    } catch (err) {
      await this.storage.remove(storageName);
      throw err;
    }
    this.dispatcher.kick();
    return result;
  }

  /**
   * The same image (hash) or UPI reference already sent for another booking. Advisory locks on both
   * keys, taken in a fixed order, make two simultaneous uploads of one image see each other.
   */
  private async findDuplicate(
    m: EntityManager,
    bookingId: string,
    sha256: string,
    upi: string | null,
  ): Promise<{ bookingId: string; organizerId: string; by: 'image' | 'upi_reference' } | undefined> {
    const keys = [lockKey('sha256', sha256), ...(upi ? [lockKey('upi', upi)] : [])].sort();
    for (const key of keys) await m.query(`SELECT pg_advisory_xact_lock($1::bigint)`, [key]);
    const [row] = (await m.query(
      `SELECT p.booking_id, b.organizer_id, p.sha256 = $2 AS same_image FROM payment_proofs p JOIN bookings b ON b.id = p.booking_id
        WHERE p.booking_id <> $1 AND (p.sha256 = $2 OR ($3::varchar IS NOT NULL AND p.upi_reference = $3))
        ORDER BY p.created_at, p.id LIMIT 1`,
      [bookingId, sha256, upi],
    )) as { booking_id: string; organizer_id: string; same_image: boolean }[];
    return row ? { bookingId: row.booking_id, organizerId: row.organizer_id, by: row.same_image ? 'image' : 'upi_reference' } : undefined;
  }

  private async notifyOrganizer(m: EntityManager, b: Booking, proof: PaymentProof, duplicate?: { organizerId: string; by: 'image' | 'upi_reference' }): Promise<void> {
    const [ctx] = (await m.query(
      `SELECT o.name AS organizer_name, o.email AS organizer_email, tr.name AS traveler_name, t.title
         FROM bookings b JOIN trips t ON t.id = b.trip_id JOIN users o ON o.id = b.organizer_id JOIN users tr ON tr.id = b.traveler_id
        WHERE b.id = $1`,
      [b.id],
    )) as { organizer_name: string; organizer_email: string; traveler_name: string; title: string }[];
    if (!ctx) return;
    const title = 'A payment proof awaits your verification';
    const where = duplicate?.organizerId === b.organizerId ? `another booking (${proof.duplicateOfBookingId})` : "a booking on another organizer's trip";
    const warning = duplicate
      ? `Warning: the same ${duplicate.by === 'image' ? 'image' : 'UPI reference'} was already used for ${where}. Check your account statement before approving.`
      : '';
    const body =
      `${ctx.traveler_name} uploaded a payment proof of ${formatInr(b.totalAmount)} for ${b.seats} seat(s) on ${ctx.title}` +
      (proof.upiReference ? ` (UPI reference ${proof.upiReference})` : '') +
      '. Approve it once the money is in your account, or reject it with a note.' +
      (warning ? ` ${warning}` : '');
    await this.outbox.enqueueRealtime(m, {
      rooms: [`user:${b.organizerId}`],
      event: 'notification',
      payload: {
        id: proof.id,
        type: 'payment_proof.submitted',
        title,
        body,
        createdAt: proof.createdAt.toISOString(),
        bookingId: b.id,
        flaggedDuplicate: proof.flaggedDuplicate,
      },
    });
    await this.outbox.enqueueEmail(m, {
      to: ctx.organizer_email,
      topic: 'payment_proof.submitted',
      subject: `${title}: ${ctx.title}`,
      body: `Hi ${ctx.organizer_name},\n\n${body}\n\nBooking: ${b.id}\n`,
      dedupeKey: `proof-submitted:${proof.id}`,
    });
  }

  /** The latest proof of a booking the actor may see (traveler: own; organizer: own trips; staff: all). */
  async latest(actor: Actor, bookingId: string): Promise<ProofView> {
    const m = this.dataSource.manager;
    await this.bookings.findVisible(m, actor, bookingId);
    const proof = await this.latestProof(m, bookingId);
    return this.withoutForeignBookingId(m, actor, toProofView(proof, actor.role !== 'traveler'));
  }

  /** An organizer sees that a proof was reused, but not the id of a booking on another organizer's trip. */
  private async withoutForeignBookingId(m: EntityManager, actor: Actor, view: ProofView): Promise<ProofView> {
    if (actor.role !== 'organizer' || !view.duplicateOfBookingId) return view;
    const [other] = (await m.query(`SELECT organizer_id FROM bookings WHERE id = $1`, [view.duplicateOfBookingId])) as { organizer_id: string }[];
    return other?.organizer_id === actor.id ? view : { ...view, duplicateOfBookingId: null };
  }

  /** Opens the latest proof's file for streaming, under the same visibility rule. */
  async openFile(actor: Actor, bookingId: string): Promise<{ handle: FileHandle; size: number; mimeType: string; fileName: string }> {
    const m = this.dataSource.manager;
    await this.bookings.findVisible(m, actor, bookingId);
    const proof = await this.latestProof(m, bookingId);
    const opened = await this.storage.open(proof.storageName);
    if (!opened) {
      this.logger.error({ proofId: proof.id, storageName: proof.storageName }, 'payment proof file is missing from the uploads directory');
      throw DomainError.notFound('Payment proof file');
    }
    const ext = proof.storageName.slice(proof.storageName.lastIndexOf('.') + 1);
    return { ...opened, mimeType: proof.mimeType, fileName: `payment-proof-${bookingId}.${ext}` };
  }

  private async latestProof(m: EntityManager, bookingId: string): Promise<PaymentProof> {
    const proof = await m.findOne(PaymentProof, { where: { bookingId }, order: { createdAt: 'DESC', id: 'DESC' } });
    if (!proof) throw DomainError.notFound('Payment proof');
    return proof;
  }

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
      if (!proof) throw new DomainError('INVALID_STATE', 'This booking has no payment proof awaiting verification');
      const before = toProofView(proof, true);
      proof.status = dto.approve ? 'approved' : 'rejected';
      proof.reviewedBy = actor.id;
      proof.reviewedAt = now;
      proof.reviewNote = dto.note || null;
      await m.save(proof);
      const outcome = dto.approve ? await this.approveLocked(m, actor, booking, proof, now) : await this.rejectLocked(m, actor, booking, proof);
      await this.audit.record(m, {
        actor,
        action: dto.approve ? 'payment_proof.approved' : 'payment_proof.rejected',
        entityType: 'payment_proof',
        entityId: proof.id,
        before,
        after: { ...toProofView(proof, true), ...outcome },
      });
      const after = await m.findOneOrFail(Booking, { where: { id: bookingId } });
      return { proof: await this.withoutForeignBookingId(m, actor, toProofView(proof, true)), booking: toBookingView(after), ...outcome };
    });
    this.dispatcher.kick();
    return result;
  }

  private async approveLocked(
    m: EntityManager,
    actor: Actor,
    booking: Booking,
    proof: PaymentProof,
    now: Date,
  ): Promise<{ outcome: ConfirmOutcome; paymentId: string; refund: { id: string; amount: number; status: string } | null }> {
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
      payload: { bookingId: booking.id, paymentId: payment.id, method: 'screenshot', status: 'captured', amount: payment.amount, currency: payment.currency },
    });
    if (outcome === 'confirmed' || payment.amount <= 0) return { outcome, paymentId: payment.id, refund: null };

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
    const refund = await m.findOneOrFail(Refund, { where: refundId ? { id: refundId } : { idempotencyKey: `proof_${proof.id}` } });
    // A confirmed booking keeps its own payment status: this refund is of a second payment.
    if (outcome !== 'already_confirmed') {
      await this.bookingPayments.markRefundPending(m, booking.id, actor, 'booking.refund_due');
    }
    const traveler = await this.users.contactOf(m, booking.travelerId);
    if (traveler) {
      await this.outbox.enqueueEmail(m, {
        to: traveler.email,
        topic: 'payment_proof.refund_due',
        subject: 'Your payment will be refunded',
        body:
          `Hi ${traveler.name},\n\nWe received your payment of ${formatInr(payment.amount)} for booking ${booking.id}, but ${why}.\n` +
          `The full amount will be paid back to you; our team will contact you about the transfer.\n`,
        dedupeKey: `proof-refund-due:${proof.id}`,
      });
    }
    return { outcome, paymentId: payment.id, refund: { id: refund.id, amount: refund.amount, status: refund.status } };
  }

  private async rejectLocked(m: EntityManager, actor: Actor, booking: Booking, proof: PaymentProof): Promise<{ holdExpiresAt: Date | null }> {
    // A booking cancelled meanwhile has no hold to resume: the proof is only marked rejected.
    let holdExpiresAt: Date | null = null;
    if (booking.status === 'pending' && booking.paymentStatus === 'awaiting_verification') {
      const resumed = await this.bookings.resumeHoldAfterRejection(m, booking.id, actor, RESUBMIT_HOURS);
      holdExpiresAt = resumed.holdExpiresAt;
    }
    const [ctx] = (await m.query(
      `SELECT u.name, u.email, t.title FROM users u JOIN trips t ON t.id = $2 WHERE u.id = $1`,
      [booking.travelerId, booking.tripId],
    )) as { name: string; email: string; title: string }[];
    const reason = proof.reviewNote ? `The organizer's note: "${proof.reviewNote}"` : 'The organizer gave no reason.';
    const next = holdExpiresAt
      ? `Your seats stay held until ${holdExpiresAt.toISOString()} (UTC): upload a new proof before then, or they will be released.`
      : '';
    const body = `Your payment proof for booking ${booking.id}${ctx ? ` on ${ctx.title}` : ''} was not accepted. ${reason}${next ? ` ${next}` : ''}`;
    await this.outbox.enqueueRealtime(m, {
      rooms: [`user:${booking.travelerId}`],
      event: 'notification',
      payload: {
        id: proof.id,
        type: 'payment_proof.rejected',
        title: 'Your payment proof was not accepted',
        body,
        createdAt: (proof.reviewedAt ?? this.clock.now()).toISOString(),
        bookingId: booking.id,
      },
    });
    if (ctx) {
      await this.outbox.enqueueEmail(m, {
        to: ctx.email,
        topic: 'payment_proof.rejected',
        subject: `Payment proof not accepted: ${ctx.title}`,
        body: `Hi ${ctx.name},\n\n${body}\n`,
        dedupeKey: `proof-rejected:${proof.id}`,
      });
    }
    return { holdExpiresAt };
  }

  /** Pending proofs on the organizer's own trips, oldest first. */
  async pendingForOrganizer(actor: Actor, q: PendingVerificationsQuery): Promise<Page<PendingVerification>> {
    const [{ total }] = (await this.dataSource.query(
      `SELECT count(*)::int AS total FROM payment_proofs p JOIN bookings b ON b.id = p.booking_id
        WHERE p.status = 'pending' AND b.organizer_id = $1`,
      [actor.id],
    )) as { total: number }[];
    const rows = (await this.dataSource.query(
      `SELECT p.id AS "proofId", b.id AS "bookingId", b.trip_id AS "tripId", t.title AS "tripTitle",
              b.traveler_id AS "travelerId", u.name AS "travelerName", b.seats, b.total_amount AS amount, b.currency,
              p.upi_reference AS "upiReference", p.created_at AS "uploadedAt", p.flagged_duplicate AS "flaggedDuplicate",
              CASE WHEN d.organizer_id = b.organizer_id THEN p.duplicate_of_booking_id END AS "duplicateOfBookingId",
              (p.escalated_at IS NOT NULL) AS escalated
         FROM payment_proofs p
         JOIN bookings b ON b.id = p.booking_id
         LEFT JOIN bookings d ON d.id = p.duplicate_of_booking_id
         JOIN trips t ON t.id = b.trip_id
         JOIN users u ON u.id = b.traveler_id
        WHERE p.status = 'pending' AND b.organizer_id = $1
        ORDER BY p.created_at ASC, p.id ASC
        LIMIT $2 OFFSET $3`,
      [actor.id, q.limit, offsetOf(q)],
    )) as PendingVerification[];
    return Page.of(rows, total, q);
  }

  /**
   * Hourly job: proofs pending for more than 24 h go to the support agents (a realtime event to
   * `role:agent` and an email to every active agent), once per proof: each is claimed by a
   * conditional update on `escalated_at IS NULL`, so overlapping runs escalate it once.
   * Returns how many proofs this run escalated.
   */
  async escalateStaleProofs(): Promise<number> {
    const now = this.clock.now();
    const cutoff = new Date(now.getTime() - ESCALATE_AFTER_HOURS * 3_600_000);
    let escalated = 0;
    let after: { createdAt: Date; id: string } | undefined;
    for (;;) {
      const due = (await this.dataSource.query(
        `SELECT id, created_at FROM payment_proofs
          WHERE status = 'pending' AND escalated_at IS NULL AND created_at <= $1
            AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
          ORDER BY created_at, id LIMIT $4`,
        [cutoff, after?.createdAt ?? null, after?.id ?? null, ESCALATION_BATCH],
      )) as { id: string; created_at: Date }[];
      for (const { id } of due) {
        if (await this.dataSource.transaction((m) => this.escalateOne(m, id, now, cutoff))) escalated++;
      }
      if (due.length < ESCALATION_BATCH) break;
      const last = due[due.length - 1];
      after = { createdAt: last.created_at, id: last.id };
    }
    if (escalated) this.dispatcher.kick();
    return escalated;
  }

  private async escalateOne(m: EntityManager, proofId: string, now: Date, cutoff: Date): Promise<boolean> {
    const [claimed] = returnedRows<{ booking_id: string; created_at: Date }>(
      await m.query(
        `UPDATE payment_proofs SET escalated_at = $2, updated_at = now()
          WHERE id = $1 AND status = 'pending' AND escalated_at IS NULL AND created_at <= $3
          RETURNING booking_id, created_at`,
        [proofId, now, cutoff],
      ),
    );
    if (!claimed) return false; // verified meanwhile, or another run got there first
    const bookingId = claimed.booking_id;
    const [ctx] = (await m.query(
      `SELECT t.title, o.name AS organizer_name, o.email AS organizer_email, b.total_amount, tr.name AS traveler_name
         FROM bookings b JOIN trips t ON t.id = b.trip_id JOIN users o ON o.id = b.organizer_id JOIN users tr ON tr.id = b.traveler_id
        WHERE b.id = $1`,
      [bookingId],
    )) as { title: string; organizer_name: string; organizer_email: string; total_amount: number; traveler_name: string }[];
    await this.audit.record(m, {
      actor: null,
      action: 'payment_proof.escalated',
      entityType: 'payment_proof',
      entityId: proofId,
      after: { bookingId, escalatedAt: now, uploadedAt: claimed.created_at },
    });
    await this.outbox.enqueueRealtime(m, { rooms: ['role:agent'], event: 'proof.escalated', payload: { bookingId, proofId } });
    const agents = await this.users.activeAgents(m);
    const uploadedAt = new Date(claimed.created_at).toISOString();
    for (const agent of agents) {
      await this.outbox.enqueueEmail(m, {
        to: agent.email,
        topic: 'payment_proof.escalated',
        subject: `Payment proof unverified for ${ESCALATE_AFTER_HOURS} h: booking ${bookingId}`,
        body:
          `Hi ${agent.name},\n\nA payment proof uploaded at ${uploadedAt} (UTC) is still waiting for the organizer's verification.\n` +
          (ctx
            ? `Trip: ${ctx.title}\nOrganizer: ${ctx.organizer_name} <${ctx.organizer_email}>\nTraveler: ${ctx.traveler_name}\nAmount: ${formatInr(Number(ctx.total_amount))}\n`
            : '') +
          `Booking: ${bookingId}\nProof: ${proofId}\n\nPlease follow up with the organizer.\n`,
        dedupeKey: `proof-escalated:${proofId}:${agent.id}`,
      });
    }
    return true;
  }
}
