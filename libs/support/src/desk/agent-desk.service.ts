import { Injectable } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { UserDirectory, UserContact } from '@trektribe/auth';
import { Clock, DomainError, escapeLike, offsetOf, Page } from '@trektribe/common';
import { Notifier } from '@trektribe/notifications';
import { DataSource, EntityManager, In } from 'typeorm';
import { TicketMessage } from '../tickets/ticket-message.entity';
import { Ticket } from '../tickets/ticket.entity';
import { overdueSql, toAgentMessageView, toTicketView, TicketView } from '../tickets/ticket-views';
import { TicketWorkflow } from '../tickets/ticket-workflow';
import { AgentMessageDto, AgentTicketsQuery } from './agent.dto';
import { replyKey } from './reply-delivery';

type Person = Pick<UserContact, 'id' | 'name' | 'email' | 'phone'>;
export type QueueItem = TicketView & {
  customer: Person | null;
  assignee: Pick<Person, 'id' | 'name'> | null;
};

/**
 * The agents' side of the support desk (API.md, Support desk): the queue, a ticket with its
 * internal notes, assignment, replies and notes, status. Agents and admins only (the controller's
 * roles); what an agent does is audited with the actor.
 */
@Injectable()
export class AgentDeskService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly workflow: TicketWorkflow,
    private readonly users: UserDirectory,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
  ) {}

  /**
   * The queue: overdue first, then high priority, then the earliest due, then the oldest. `q`
   * matches the subject or any message (internal notes too) through the trigram indexes. `meta`
   * also counts the matching tickets that are overdue.
   */
  async queue(actor: Actor, q: AgentTicketsQuery): Promise<Page<QueueItem>> {
    const now = this.clock.now();
    const params: unknown[] = [now];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const where: string[] = [];
    if (q.status) where.push(`t.status = ${p(q.status)}`);
    if (q.category) where.push(`t.category = ${p(q.category)}`);
    if (q.assignee === 'unassigned') where.push('t.assignee_id IS NULL');
    else if (q.assignee) where.push(`t.assignee_id = ${p(q.assignee === 'me' ? actor.id : q.assignee)}`);
    if (q.overdue === 'true') where.push(overdueSql('$1'));
    if (q.overdue === 'false') where.push(`NOT ${overdueSql('$1')}`);
    if (q.q) {
      const like = p(`%${escapeLike(q.q)}%`);
      // A UNION of two trigram-indexed look-ups: an OR across the two tables could use neither index.
      where.push(`t.id IN (SELECT id FROM support_tickets WHERE subject ILIKE ${like}
                          UNION SELECT ticket_id FROM support_ticket_messages WHERE body ILIKE ${like})`);
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const m = this.dataSource.manager;
    const [{ total, overdue }] = (await m.query(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE ${overdueSql('$1')})::int AS overdue
         FROM support_tickets t ${filter}`,
      params,
    )) as { total: number; overdue: number }[];
    const ids = (await m.query(
      `SELECT t.id FROM support_tickets t ${filter}
        ORDER BY ${overdueSql('$1')} DESC, (t.priority = 'high') DESC, t.first_response_due_at, t.created_at, t.id
        LIMIT ${p(q.limit)} OFFSET ${p(offsetOf(q))}`,
      params,
    )) as { id: string }[];
    const tickets = ids.length ? await m.find(Ticket, { where: { id: In(ids.map((r) => r.id)) } }) : [];
    const byId = new Map(tickets.map((t) => [t.id, t]));
    const ordered = ids.map((r) => byId.get(r.id)).filter((t): t is Ticket => !!t);
    const people = await this.users.contactsOf(
      m,
      ordered.flatMap((t) => [t.customerId, ...(t.assigneeId ? [t.assigneeId] : [])]),
    );
    return Page.of(
      ordered.map((t) => this.withPeople(t, people, now)),
      total,
      q,
      { overdue },
    );
  }

  /** A ticket with every message (internal notes included), its customer and assignee; else 404. */
  async one(id: string) {
    const m = this.dataSource.manager;
    const ticket = await m.findOne(Ticket, { where: { id } });
    if (!ticket) throw DomainError.notFound('Ticket');
    const messages = await m.find(TicketMessage, {
      where: { ticketId: id },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    const people = await this.users.contactsOf(m, [
      ticket.customerId,
      ...(ticket.assigneeId ? [ticket.assigneeId] : []),
      ...messages.flatMap((msg) => (msg.authorId ? [msg.authorId] : [])),
    ]);
    return {
      ...this.withPeople(ticket, people, this.clock.now()),
      messages: messages.map((msg) => ({
        ...toAgentMessageView(msg),
        authorName: msg.authorId ? (people.get(msg.authorId)?.name ?? null) : 'TrekTribe',
      })),
    };
  }

  /**
   * Takes the ticket (no `agentId`, or one's own), or, for admins, gives it to an active agent
   * (anyone else → 400; an agent giving it to someone else → 403). An agent cannot take a ticket a
   * colleague on the desk holds (409 CONFLICT: only admins reassign); a closed ticket → 409.
   */
  async assign(actor: Actor, id: string, agentId?: string) {
    const target = agentId ?? actor.id;
    if (target !== actor.id && actor.role !== 'admin')
      throw new DomainError('FORBIDDEN', 'Only admins assign tickets to other agents');
    return this.dataSource.transaction(async (m) => {
      if (target !== actor.id && !(await this.users.activeAgent(m, target)))
        throw new DomainError('VALIDATION_ERROR', 'Tickets can only be assigned to an active agent', [
          { field: 'agentId', message: 'must be an active agent' },
        ]);
      const ticket = await this.lock(m, id);
      if (ticket.status === 'closed')
        throw new DomainError('INVALID_STATE', 'A closed ticket cannot be assigned');
      const now = this.clock.now();
      if (ticket.assigneeId === target) return toTicketView(ticket, now);
      if (ticket.assigneeId && actor.role !== 'admin') {
        // Taking a colleague's ticket is a reassignment, which is the admins' (two agents taking it at once: one wins).
        const holder = await this.users.contactOf(m, ticket.assigneeId);
        if (holder?.isActive && (holder.role === 'agent' || holder.role === 'admin'))
          throw new DomainError(
            'CONFLICT',
            `${holder.name} already has this ticket: an admin can reassign it`,
          );
      }
      const before = toTicketView(ticket, now);
      const previous = ticket.assigneeId;
      ticket.assigneeId = target;
      await m.save(ticket);
      await this.workflow.record(m, actor, 'ticket.assigned', ticket, before);
      await this.workflow.tell(m, ticket, [previous]);
      if (target !== actor.id) {
        const me = await this.users.contactOf(m, actor.id);
        await this.notifier.notify(m, {
          type: 'ticket.assigned',
          userId: target,
          data: { ticketId: ticket.id, subject: ticket.subject, assignedBy: me?.name ?? 'An admin' },
        });
      }
      return toTicketView(ticket, now);
    });
  }

  /**
   * A reply to the customer, or an internal note (audited; never shown or sent to the customer).
   * A reply goes in-app and by email whatever the customer's preferences (`ticket.reply`), and also
   * by SMS or WhatsApp when asked and the phone is verified; the message keeps that channel and its
   * delivery (`pending` → `sent`/`failed`/`skipped`, or `unverified`). The first reply answers the
   * SLA (`firstResponseAt`). A closed ticket takes notes only (a reply → 409 INVALID_STATE).
   */
  async write(actor: Actor, id: string, dto: AgentMessageDto) {
    const internal = dto.internal ?? false;
    if (internal && dto.channel)
      throw new DomainError('VALIDATION_ERROR', 'An internal note is not sent on any channel', [
        { field: 'channel', message: 'must be left out for an internal note' },
      ]);
    return this.dataSource.transaction(async (m) => {
      const ticket = await this.lock(m, id);
      if (!internal && ticket.status === 'closed')
        throw new DomainError('INVALID_STATE', 'This ticket is closed: the customer can open a new one');
      const channel = internal ? null : (dto.channel ?? 'email');
      const msg = await m.save(
        m.create(TicketMessage, {
          ticketId: id,
          authorId: actor.id,
          authorRole: actor.role,
          body: dto.body,
          internal,
          channel,
          delivery: null,
        }),
      );
      const now = this.clock.now();
      if (internal) {
        await this.workflow.record(m, actor, 'ticket.note_added', ticket, undefined, { noteId: msg.id });
        return toAgentMessageView(msg);
      }
      const before = toTicketView(ticket, now);
      if (!ticket.firstResponseAt) {
        ticket.firstResponseAt = now;
        await m.save(ticket);
        await this.workflow.record(m, actor, 'ticket.first_response', ticket, before);
      }
      const me = await this.users.contactOf(m, actor.id);
      const receipt = await this.notifier.send(m, {
        type: 'ticket.reply',
        userId: ticket.customerId,
        data: {
          ticketId: ticket.id,
          subject: ticket.subject,
          reply: dto.body,
          agentName: me?.name ?? 'TrekTribe',
        },
        dedupeKey: replyKey(msg.id),
        direct: true,
        texts: channel === 'sms' || channel === 'whatsapp' ? [channel] : [],
      });
      msg.delivery =
        channel === 'sms' || channel === 'whatsapp' ? (receipt.texts[channel] ?? 'skipped') : 'pending';
      await m.update(TicketMessage, { id: msg.id }, { delivery: msg.delivery });
      await this.workflow.tell(m, ticket);
      return toAgentMessageView(msg);
    });
  }

  /** Moves the ticket along the status graph (API.md); anything else → 409 INVALID_STATE. */
  async setStatus(actor: Actor, id: string, status: Ticket['status']): Promise<TicketView> {
    return this.dataSource.transaction(async (m) => {
      const ticket = await this.lock(m, id);
      if (ticket.status !== status) await this.workflow.move(m, actor, ticket, status);
      return toTicketView(ticket, this.clock.now());
    });
  }

  private async lock(m: EntityManager, id: string): Promise<Ticket> {
    const ticket = await m.findOne(Ticket, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!ticket) throw DomainError.notFound('Ticket');
    return ticket;
  }

  private withPeople(t: Ticket, people: Map<string, UserContact>, now: Date): QueueItem {
    const customer = people.get(t.customerId);
    const assignee = t.assigneeId ? people.get(t.assigneeId) : undefined;
    return {
      ...toTicketView(t, now),
      customer: customer
        ? { id: customer.id, name: customer.name, email: customer.email, phone: customer.phone }
        : null,
      assignee: assignee ? { id: assignee.id, name: assignee.name } : null,
    };
  }
}
