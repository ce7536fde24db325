import { Injectable, OnModuleInit } from '@nestjs/common';
import type { PaymentProofStale } from '@trektribe/billing';
import { Clock, returnedRows, UnitOfWork } from '@trektribe/common';
import { staleProofTicketText } from '@trektribe/notifications';
import { EntityManager } from 'typeorm';
import { TicketMessage } from './ticket-message.entity';
import { Ticket } from './ticket.entity';
import { TicketWorkflow } from './ticket-workflow';

/**
 * A payment screenshot the organizer left unverified (billing's hourly escalation,
 * `payment_proof.stale`) opens a `payment` ticket in the traveler's name, once per booking
 * (`source_key` is unique), so it sits in the agents' queue under the SLA instead of in their email.
 */
@Injectable()
export class ProofTickets implements OnModuleInit {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly workflow: TicketWorkflow,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.uow.on('payment_proof.stale', ({ manager }, e) => this.open(manager, e));
  }

  private async open(m: EntityManager, e: PaymentProofStale): Promise<void> {
    const now = this.clock.now();
    const text = staleProofTicketText(e);
    const trip = await this.workflow.tripDatesOf(m, e.bookingId);
    const [row] = returnedRows<{ id: string }>(
      await m.query(
        `INSERT INTO support_tickets (customer_id, subject, category, status, priority, booking_id, first_response_due_at, source_key)
         VALUES ($1, $2, 'payment', 'open', $3, $4, $5, $6)
         ON CONFLICT (source_key) WHERE source_key IS NOT NULL DO NOTHING RETURNING id`,
        [
          e.travelerId,
          text.subject,
          this.workflow.priorityFor('payment', trip, now),
          e.bookingId,
          this.workflow.firstResponseDueAt(now),
          `proof-stale:${e.bookingId}`,
        ],
      ),
    );
    if (!row) return; // this booking already has its ticket
    await m.insert(TicketMessage, {
      ticketId: row.id,
      authorId: null,
      authorRole: 'system',
      body: text.body,
    });
    const ticket = await m.findOneByOrFail(Ticket, { id: row.id });
    await this.workflow.record(m, null, 'ticket.opened', ticket, undefined, { proofId: e.proofId });
    await this.workflow.tell(m, ticket);
  }
}
