import { Injectable } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { Clock, DomainError, offsetOf, Page } from '@trektribe/common';
import { DataSource, EntityManager } from 'typeorm';
import { TicketMessage } from './ticket-message.entity';
import { Ticket } from './ticket.entity';
import { CreateTicketDto, MyTicketsQuery } from './ticket.dto';
import { CustomerTicketView, toCustomerTicketView, toPublicMessageView } from './ticket-views';
import { TicketWorkflow } from './ticket-workflow';

/**
 * The customer's side of the support desk (API.md, Support desk): travelers and organizers open
 * tickets about their own bookings and payments, read them with the public messages, write, close.
 */
@Injectable()
export class TicketsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly workflow: TicketWorkflow,
    private readonly clock: Clock,
  ) {}

  /** 201 with the ticket and its first message; a booking or payment that is not the customer's → 404. */
  async open(actor: Actor, dto: CreateTicketDto) {
    return this.dataSource.transaction(async (m) => {
      const bookingId = await this.checkOwnership(m, actor, dto);
      const now = this.clock.now();
      const trip = await this.workflow.tripDatesOf(m, bookingId);
      const ticket = await m.save(
        m.create(Ticket, {
          customerId: actor.id,
          subject: dto.subject,
          category: dto.category,
          status: 'open',
          priority: this.workflow.priorityFor(dto.category, trip, now),
          bookingId,
          paymentId: dto.paymentId ?? null,
          firstResponseDueAt: this.workflow.firstResponseDueAt(now),
          sourceKey: null,
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
      await this.workflow.record(m, actor, 'ticket.opened', ticket);
      await this.workflow.tell(m, ticket);
      return { ...toCustomerTicketView(ticket, now), messages: [toPublicMessageView(first)] };
    });
  }

  async mine(actor: Actor, q: MyTicketsQuery): Promise<Page<CustomerTicketView>> {
    const [rows, total] = await this.dataSource.getRepository(Ticket).findAndCount({
      where: { customerId: actor.id },
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: offsetOf(q),
      take: q.limit,
    });
    const now = this.clock.now();
    return Page.of(
      rows.map((t) => toCustomerTicketView(t, now)),
      total,
      q,
    );
  }

  /** One of the customer's tickets with its public messages (internal notes never); else 404. */
  async mineOne(actor: Actor, id: string) {
    const m = this.dataSource.manager;
    const ticket = await this.own(m, actor, id);
    const messages = await m.find(TicketMessage, {
      where: { ticketId: id, internal: false },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return { ...toCustomerTicketView(ticket, this.clock.now()), messages: messages.map(toPublicMessageView) };
  }

  /** The customer writes; a pending or resolved ticket is open again. A closed one: 409 INVALID_STATE. */
  async write(actor: Actor, id: string, body: string) {
    return this.dataSource.transaction(async (m) => {
      const ticket = await this.own(m, actor, id, true);
      if (ticket.status === 'closed')
        throw new DomainError('INVALID_STATE', 'This ticket is closed: open a new one');
      const msg = await m.save(
        m.create(TicketMessage, { ticketId: id, authorId: actor.id, authorRole: actor.role, body }),
      );
      if (ticket.status !== 'open') await this.workflow.move(m, actor, ticket, 'open');
      else await this.workflow.tell(m, ticket);
      return toPublicMessageView(msg);
    });
  }

  /** The customer closes it (a second close changes nothing). */
  async close(actor: Actor, id: string): Promise<CustomerTicketView> {
    return this.dataSource.transaction(async (m) => {
      const ticket = await this.own(m, actor, id, true);
      if (ticket.status !== 'closed') await this.workflow.move(m, actor, ticket, 'closed');
      return toCustomerTicketView(ticket, this.clock.now());
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
   * a payment: theirs as payer), else 404; both given, the payment must be for that booking (400).
   * Returns the booking the ticket is about, if any.
   */
  private async checkOwnership(m: EntityManager, actor: Actor, dto: CreateTicketDto): Promise<string | null> {
    let bookingId = dto.bookingId ?? null;
    if (dto.paymentId) {
      const [p] = (await m.query(`SELECT booking_id FROM payments WHERE id = $1 AND payer_id = $2`, [
        dto.paymentId,
        actor.id,
      ])) as { booking_id: string | null }[];
      if (!p) throw DomainError.notFound('Payment');
      if (bookingId && p.booking_id !== bookingId)
        throw new DomainError('VALIDATION_ERROR', 'The payment is not for this booking', [
          { field: 'paymentId', message: 'must be a payment for bookingId' },
        ]);
      bookingId ??= p.booking_id;
    }
    if (!bookingId) return null;
    const [b] = (await m.query(
      `SELECT 1 FROM bookings WHERE id = $1 AND (traveler_id = $2 OR organizer_id = $2)`,
      [bookingId, actor.id],
    )) as unknown[];
    if (!b) throw DomainError.notFound('Booking');
    return bookingId;
  }
}
