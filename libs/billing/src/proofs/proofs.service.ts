import { Injectable, Logger } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { Booking, BookingsService } from '@trektribe/booking';
import { AuditService, Clock, DomainError, offsetOf, Page } from '@trektribe/common';
import { Notifier } from '@trektribe/notifications';
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { DataSource, EntityManager } from 'typeorm';
import { detectProofType } from './file-type';
import { PaymentProof } from './payment-proof.entity';
import { MAX_PROOF_BYTES, PendingVerificationsQuery } from './proof.dto';
import { ProofStorage } from './proof-storage';

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
/** An organizer sees that a proof was reused, but not the id of a booking on another organizer's trip. */
export async function withoutForeignBookingId(
  m: EntityManager,
  actor: Actor,
  view: ProofView,
): Promise<ProofView> {
  if (actor.role !== 'organizer' || !view.duplicateOfBookingId) return view;
  const [other] = (await m.query(`SELECT organizer_id FROM bookings WHERE id = $1`, [
    view.duplicateOfBookingId,
  ])) as { organizer_id: string }[];
  return other?.organizer_id === actor.id ? view : { ...view, duplicateOfBookingId: null };
}

/** The booking's latest proof, or 404. */
export async function latestProof(m: EntityManager, bookingId: string): Promise<PaymentProof> {
  const proof = await m.findOne(PaymentProof, {
    where: { bookingId },
    order: { createdAt: 'DESC', id: 'DESC' },
  });
  if (!proof) throw DomainError.notFound('Payment proof');
  return proof;
}

function lockKey(kind: string, value: string): string {
  return createHash('sha256').update(`proof-dup:${kind}:${value}`).digest().readBigInt64BE(0).toString();
}

/**
 * Screenshot payments, the traveler's side and the views: the traveler uploads a proof (the hold
 * pauses; reuse of an image or UPI reference is flagged to the organizer), and the people who may
 * see it read it. The organizer's decision is ProofReview; the escalation of proofs nobody verified
 * within 24 h is ProofEscalation.
 */
@Injectable()
export class ProofsService {
  private readonly logger = new Logger(ProofsService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly bookings: BookingsService,
    private readonly storage: ProofStorage,
    private readonly audit: AuditService,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
  ) {}

  /**
   * Stores the file first (random name, owner-only), then records the proof and pauses the hold in
   * one transaction; when that transaction fails the file is removed again.
   */
  async upload(actor: Actor, bookingId: string, file: UploadedProof, upiReference?: string) {
    const bytes = file.buffer;
    if (bytes.length === 0) {
      throw new DomainError('VALIDATION_ERROR', 'The file is empty', [
        { field: 'file', message: 'file must not be empty' },
      ]);
    }
    if (bytes.length > MAX_PROOF_BYTES)
      throw new DomainError('PAYLOAD_TOO_LARGE', 'A payment proof may be at most 5 MB');
    const type = detectProofType(bytes);
    if (!type)
      throw new DomainError(
        'UNSUPPORTED_MEDIA_TYPE',
        'A payment proof must be a PNG, JPEG or WebP image, or a PDF',
      );
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const upi = upiReference ? upiReference.toUpperCase() : null;

    const storageName = await this.storage.save(bytes, type.ext);
    let result: ProofView & { booking: ReturnType<typeof bookingSummary> };
    try {
      result = await this.dataSource.transaction(async (m) => {
        const now = this.clock.now();
        const current = await this.bookings.findVisible(m, actor, bookingId, true);
        if (current.status === 'pending' && current.holdExpiresAt !== null && current.holdExpiresAt <= now) {
          throw new DomainError('HOLD_EXPIRED', 'The hold on this booking has expired; book again');
        }
        const booking = await this.bookings.pauseHoldForVerification(m, bookingId, actor);
        const pending = await m.findOne(PaymentProof, { where: { bookingId, status: 'pending' } });
        if (pending)
          throw new DomainError(
            'DUPLICATE_PROOF',
            'A payment proof for this booking is already awaiting verification',
          );

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
    return row
      ? {
          bookingId: row.booking_id,
          organizerId: row.organizer_id,
          by: row.same_image ? 'image' : 'upi_reference',
        }
      : undefined;
  }

  private async notifyOrganizer(
    m: EntityManager,
    b: Booking,
    proof: PaymentProof,
    duplicate?: { organizerId: string; by: 'image' | 'upi_reference' },
  ): Promise<void> {
    const [ctx] = (await m.query(
      `SELECT tr.name AS traveler_name, t.title FROM bookings b JOIN trips t ON t.id = b.trip_id JOIN users tr ON tr.id = b.traveler_id
        WHERE b.id = $1`,
      [b.id],
    )) as { traveler_name: string; title: string }[];
    if (!ctx) return;
    const sameOrganizer = duplicate?.organizerId === b.organizerId;
    await this.notifier.notify(m, {
      type: 'payment.proof_submitted',
      userId: b.organizerId,
      data: {
        bookingId: b.id,
        proofId: proof.id,
        tripTitle: ctx.title,
        travelerName: ctx.traveler_name,
        amount: b.totalAmount,
        seats: b.seats,
        upiReference: proof.upiReference,
        // Another organizer's booking id is theirs to know, not this organizer's.
        duplicateOf: duplicate
          ? { sameOrganizer, bookingId: sameOrganizer ? proof.duplicateOfBookingId : null, by: duplicate.by }
          : null,
      },
      dedupeKey: `proof-submitted:${proof.id}`,
    });
  }

  /** The latest proof of a booking the actor may see (traveler: own; organizer: own trips; staff: all). */
  async latest(actor: Actor, bookingId: string): Promise<ProofView> {
    const m = this.dataSource.manager;
    await this.bookings.findVisible(m, actor, bookingId);
    const proof = await latestProof(m, bookingId);
    return withoutForeignBookingId(m, actor, toProofView(proof, actor.role !== 'traveler'));
  }

  /** Opens the latest proof's file for streaming, under the same visibility rule. */
  async openFile(
    actor: Actor,
    bookingId: string,
  ): Promise<{ handle: FileHandle; size: number; mimeType: string; fileName: string }> {
    const m = this.dataSource.manager;
    await this.bookings.findVisible(m, actor, bookingId);
    const proof = await latestProof(m, bookingId);
    const opened = await this.storage.open(proof.storageName);
    if (!opened) {
      this.logger.error(
        { proofId: proof.id, storageName: proof.storageName },
        'payment proof file is missing from the uploads directory',
      );
      throw DomainError.notFound('Payment proof file');
    }
    const ext = proof.storageName.slice(proof.storageName.lastIndexOf('.') + 1);
    return { ...opened, mimeType: proof.mimeType, fileName: `payment-proof-${bookingId}.${ext}` };
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
}
