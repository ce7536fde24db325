import { Inject, Injectable } from '@nestjs/common';
import { startOfLocalDate } from '@trektribe/booking';
import { APP_CONFIG, AppConfig, AuditService, Clock, DomainError } from '@trektribe/common';
import { OutboxService } from '@trektribe/notifications';
import { EntityManager } from 'typeorm';
import { canMoveTicket } from './ticket-state';
import { Ticket, TicketCategory, TicketPriority, TicketStatus } from './ticket.entity';
import { toTicketView } from './ticket-views';

/** Payment and refund tickets about a trip starting within this long are `high` (issue 13). */
const URGENT_MS = 72 * 3600_000;

export interface TripDates {
  startsAt: Date;
  endsAt: Date;
}

/** Who did it, for the audit log: a user, or null for the platform itself. */
export type TicketActor = { id: string; role: string } | null;

/**
 * The rules every ticket change follows, whoever makes it (customer, agent, the platform): the
 * status graph (TICKET_MOVES, else 409 INVALID_STATE), the audit entry with the actor, and
 * `ticket.updated` {ticketId, status} to the customer and the assignee (API.md, Support desk).
 */
@Injectable()
export class TicketWorkflow {
  constructor(
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** When a ticket opened now must have its first answer (`SUPPORT_FIRST_RESPONSE_HOURS`). */
  firstResponseDueAt(openedAt: Date): Date {
    return new Date(openedAt.getTime() + this.config.support.firstResponseHours * 3600_000);
  }

  /**
   * `high` for a payment or refund ticket about a trip that starts within 72 h or is under way
   * (money trouble on the road); once the trip has ended it is `normal` again.
   */
  priorityFor(category: TicketCategory, trip: TripDates | null, now: Date): TicketPriority {
    const urgent =
      (category === 'payment' || category === 'refund') &&
      trip !== null &&
      trip.startsAt.getTime() - now.getTime() <= URGENT_MS &&
      now.getTime() < trip.endsAt.getTime();
    return urgent ? 'high' : 'normal';
  }

  /**
   * When the booking's trip starts (its first day, 00:00 in the trip's time zone) and ends (the
   * day after its last, 00:00); null without a booking.
   */
  async tripDatesOf(m: EntityManager, bookingId: string | null): Promise<TripDates | null> {
    if (!bookingId) return null;
    const [b] = (await m.query(
      `SELECT to_char(t.start_date, 'YYYY-MM-DD') AS start_date, to_char(t.end_date + 1, 'YYYY-MM-DD') AS after_end,
              t.timezone
         FROM bookings b JOIN trips t ON t.id = b.trip_id WHERE b.id = $1`,
      [bookingId],
    )) as { start_date: string; after_end: string; timezone: string }[];
    return b
      ? {
          startsAt: startOfLocalDate(b.start_date, b.timezone),
          endsAt: startOfLocalDate(b.after_end, b.timezone),
        }
      : null;
  }

  /** Moves the (locked) ticket along the status graph, audited and told; else 409 INVALID_STATE. */
  async move(m: EntityManager, actor: TicketActor, ticket: Ticket, to: TicketStatus): Promise<void> {
    if (!canMoveTicket(ticket.status, to)) {
      throw new DomainError('INVALID_STATE', `A ${ticket.status} ticket cannot become ${to}`);
    }
    const now = this.clock.now();
    const before = toTicketView(ticket, now);
    ticket.status = to;
    if (to === 'resolved') ticket.resolvedAt = now;
    if (to === 'open') ticket.resolvedAt = null;
    await m.save(ticket);
    await this.record(m, actor, 'ticket.status_changed', ticket, before);
    await this.tell(m, ticket);
  }

  /** An audit entry about the ticket, with its view after the change (and before, when given). */
  async record(
    m: EntityManager,
    actor: TicketActor,
    action: string,
    ticket: Ticket,
    before?: object,
    extra?: object,
  ): Promise<void> {
    await this.audit.record(m, {
      actor,
      action,
      entityType: 'ticket',
      entityId: ticket.id,
      ...(before ? { before } : {}),
      after: { ...toTicketView(ticket, this.clock.now()), ...extra },
    });
  }

  /** `ticket.updated` to the customer, the assignee, and anyone else who should know (a former assignee). */
  async tell(m: EntityManager, ticket: Ticket, alsoUserIds: (string | null)[] = []): Promise<void> {
    const users = new Set(
      [ticket.customerId, ticket.assigneeId, ...alsoUserIds].filter((id): id is string => !!id),
    );
    await this.outbox.enqueueRealtime(m, {
      rooms: [...users].map((id) => `user:${id}`),
      event: 'ticket.updated',
      payload: { ticketId: ticket.id, status: ticket.status },
    });
  }
}
