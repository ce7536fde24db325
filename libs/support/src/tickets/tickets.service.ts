import { Inject, Injectable } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { startOfLocalDate } from '@trektribe/booking';
import { APP_CONFIG, AppConfig, AuditService, Clock, DomainError, offsetOf, Page } from '@trektribe/common';
import { OutboxService } from '@trektribe/notifications';
import { DataSource, EntityManager } from 'typeorm';
import { TicketMessage } from './ticket-message.entity';
import { canMoveTicket } from './ticket-state';
import { Ticket, TicketPriority, TicketStatus } from './ticket.entity';
import { CreateTicketDto, MyTicketsQuery } from './ticket.dto';

/** Payment and refund tickets about a trip starting within this long are `high` (issue 13). */
const URGENT_MS = 72 * 3600_000;

export type TicketView = ReturnType<typeof toTicketView>;
export function toTicketView(t: Ticket) {
  return {
    id: t.id,
    subject: t.subject,
    category: t.category,
    status: t.status,
    priority: t.priority,
    bookingId: t.bookingId,
    paymentId: t.paymentId,
    assigneeId: t.assigneeId,
    firstResponseDueAt: t.firstResponseDueAt,
    firstResponseAt: t.firstResponseAt,
    resolvedAt: t.resolvedAt,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

const toMessageView = (m: TicketMessage) => ({
  id: m.id,
  authorId: m.authorId,
  authorRole: m.authorRole,
  body: m.body,
  createdAt: m.createdAt,
});

/**
 * The customer's side of the support desk (API.md, Support desk): travelers and organizers open
 * tickets about their own bookings and payments, read them with the public messages, write, close.
 * Status changes follow TICKET_MOVES; each change tells the customer and the assignee
 * (`ticket.updated`).
 */
@Injectable()
export class TicketsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** 201 with the ticket and its first message; a booking or payment that is not the customer's → 404. */
  async open(actor: Actor, dto: CreateTicketDto) {
    return this.dataSource.transaction(async (m) => {
      const tripStart = await this.checkOwnership(m, actor, dto);
      const now = this.clock.now();
      const urgent =
        (dto.category === 'payment' || dto.category === 'refund') &&
        tripStart !== null &&
        tripStart.getTime() - now.getTime() <= URGENT_MS;
      const ticket = await m.save(
        m.create(Ticket, {
          customerId: actor.id,
          subject: dto.subject,
          category: dto.category,
          status: 'open',
          priority: (urgent ? 'high' : 'normal') as TicketPriority,
          bookingId: dto.bookingId ?? null,
          paymentId: dto.paymentId ?? null,
          firstResponseDueAt: new Date(now.getTime() + this.config.support.firstResponseHours * 3600_000),
        }),
      );
      const first = await m.save(
        m.create(TicketMessage, {
          ticketId: ticket.id,
          authorId: actor.id,
          authorRole: actor.role,
          body: dto.message,
        }),
      );
      await this.audit.record(m, {
        actor,
        action: 'ticket.opened',
        entityType: 'ticket',
        entityId: ticket.id,
        after: toTicketView(ticket),
      });
      await this.tell(m, ticket);
      return { ...toTicketView(ticket), messages: [toMessageView(first)] };
    });
  }

  async mine(actor: Actor, q: MyTicketsQuery): Promise<Page<TicketView>> {
    const [rows, total] = await this.dataSource.getRepository(Ticket).findAndCount({
      where: { customerId: actor.id },
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: offsetOf(q),
      take: q.limit,
    });
    return Page.of(rows.map(toTicketView), total, q);
  }

  /** One of the customer's tickets with its public messages (internal notes never); else 404. */
  async mineOne(actor: Actor, id: string) {
    const m = this.dataSource.manager;
    const ticket = await this.own(m, actor, id);
    const messages = await m.find(TicketMessage, {
      where: { ticketId: id, internal: false },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return { ...toTicketView(ticket), messages: messages.map(toMessageView) };
  }

  /** The customer writes; a pending or resolved ticket is open again. A closed one: 409 INVALID_STATE. */
  async write(actor: Actor, id: string, body: string) {
    return this.dataSource.transaction(async (m) => {
      const ticket = await this.own(m, actor, id, true);
      if (ticket.status === 'closed')
        throw new DomainError('INVALID_STATE', 'This ticket is closed: open a new one');
      if (ticket.status !== 'open') await this.move(m, actor, ticket, 'open');
      const msg = await m.save(
        m.create(TicketMessage, { ticketId: id, authorId: actor.id, authorRole: actor.role, body }),
      );
      return toMessageView(msg);
    });
  }

  /** The customer closes it (a second close changes nothing). */
  async close(actor: Actor, id: string): Promise<TicketView> {
    return this.dataSource.transaction(async (m) => {
      const ticket = await this.own(m, actor, id, true);
      if (ticket.status !== 'closed') await this.move(m, actor, ticket, 'closed');
      return toTicketView(ticket);
    });
  }

  private async move(m: EntityManager, actor: Actor, ticket: Ticket, to: TicketStatus): Promise<void> {
    if (!canMoveTicket(ticket.status, to)) {
      throw new DomainError('INVALID_STATE', `A ${ticket.status} ticket cannot become ${to}`);
    }
    const before = toTicketView(ticket);
    ticket.status = to;
    if (to === 'resolved') ticket.resolvedAt = this.clock.now();
    if (to === 'open') ticket.resolvedAt = null;
    await m.save(ticket);
    await this.audit.record(m, {
      actor,
      action: 'ticket.status_changed',
      entityType: 'ticket',
      entityId: ticket.id,
      before,
      after: toTicketView(ticket),
    });
    await this.tell(m, ticket);
  }

  private async tell(m: EntityManager, ticket: Ticket): Promise<void> {
    const rooms = [`user:${ticket.customerId}`, ...(ticket.assigneeId ? [`user:${ticket.assigneeId}`] : [])];
    await this.outbox.enqueueRealtime(m, {
      rooms,
      event: 'ticket.updated',
      payload: { ticketId: ticket.id, status: ticket.status },
    });
  }

  private async own(m: EntityManager, actor: Actor, id: string, lock = false): Promise<Ticket> {
    const ticket = await m.findOne(Ticket, {
      where: { id, customerId: actor.id },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    if (!ticket) throw DomainError.notFound('Ticket');
    return ticket;
  }

  /**
   * The booking and payment must be the customer's own (traveler: theirs; organizer: on their trips;
   * a payment: theirs as payer), else 404. Returns when the booking's trip starts, if any.
   */
  private async checkOwnership(m: EntityManager, actor: Actor, dto: CreateTicketDto): Promise<Date | null> {
    let bookingId = dto.bookingId ?? null;
    if (dto.paymentId) {
      const [p] = (await m.query(`SELECT booking_id FROM payments WHERE id = $1 AND payer_id = $2`, [
        dto.paymentId,
        actor.id,
      ])) as {
        booking_id: string | null;
      }[];
      if (!p) throw DomainError.notFound('Payment');
      bookingId ??= p.booking_id;
    }
    if (!bookingId) return null;
    const [b] = (await m.query(
      `SELECT to_char(t.start_date, 'YYYY-MM-DD') AS start_date, t.timezone
         FROM bookings b JOIN trips t ON t.id = b.trip_id
        WHERE b.id = $1 AND (b.traveler_id = $2 OR b.organizer_id = $2)`,
      [bookingId, actor.id],
    )) as { start_date: string; timezone: string }[];
    if (!b) throw DomainError.notFound('Booking');
    return startOfLocalDate(b.start_date, b.timezone);
  }
}
