import { Injectable } from '@nestjs/common';
import { AuditService, Clock, returnedRows, UnitOfWork } from '@trektribe/common';
import { OutboxService } from '@trektribe/notifications';
import { DataSource, EntityManager } from 'typeorm';

/** An unverified proof goes to the support desk after this long (issue 13). */
export const ESCALATE_AFTER_HOURS = 24;
const ESCALATION_BATCH = 100;

/** The hourly job that hands proofs an organizer left unverified to the support desk. */
@Injectable()
export class ProofEscalation {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
  ) {
    this.uow.requireHandler('payment_proof.stale', 'an unverified payment would reach no agent');
  }

  /**
   * Hourly job: proofs pending for more than 24 h go to the support desk (`payment_proof.stale`, on
   * which support opens one ticket per booking, and a realtime event to `role:agent`), once per proof:
   * each is claimed by a conditional update on `escalated_at IS NULL`, so overlapping runs escalate it once.
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
      `SELECT b.traveler_id, b.organizer_id, b.total_amount, t.title
         FROM bookings b JOIN trips t ON t.id = b.trip_id WHERE b.id = $1`,
      [bookingId],
    )) as { traveler_id: string; organizer_id: string; total_amount: number; title: string }[];
    await this.audit.record(m, {
      actor: null,
      action: 'payment_proof.escalated',
      entityType: 'payment_proof',
      entityId: proofId,
      after: { bookingId, escalatedAt: now, uploadedAt: claimed.created_at },
    });
    await this.outbox.enqueueRealtime(m, {
      rooms: ['role:agent'],
      event: 'proof.escalated',
      payload: { bookingId, proofId },
    });
    await this.uow.of(m).emit({
      type: 'payment_proof.stale',
      proofId,
      bookingId,
      travelerId: ctx.traveler_id,
      organizerId: ctx.organizer_id,
      tripTitle: ctx.title,
      amount: Number(ctx.total_amount),
      uploadedAt: new Date(claimed.created_at).toISOString(),
      hours: ESCALATE_AFTER_HOURS,
    });
    return true;
  }
}
