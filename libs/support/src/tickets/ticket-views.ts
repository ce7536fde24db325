import { TicketMessage } from './ticket-message.entity';
import { Ticket } from './ticket.entity';

/**
 * Overdue: waiting on us (`open`; a `pending` ticket waits on the customer), no first response yet,
 * and past `firstResponseDueAt` (API.md: `SUPPORT_FIRST_RESPONSE_HOURS`). The SQL form is
 * overdueSql; keep the two equal.
 */
export function isOverdue(t: Ticket, now: Date): boolean {
  return t.status === 'open' && t.firstResponseAt === null && t.firstResponseDueAt.getTime() <= now.getTime();
}

/**
 * isOverdue in SQL over `support_tickets` named `alias`, with the current instant as `nowParam`.
 * The one definition: the desk's queue, stats and SLA job and the agent dashboard all use it.
 */
export const overdueSql = (nowParam: string, alias = 't') =>
  `(${alias}.status = 'open' AND ${alias}.first_response_at IS NULL AND ${alias}.first_response_due_at <= ${nowParam})`;

export type TicketView = ReturnType<typeof toTicketView>;
/** A ticket as its customer and the agents see it (dates are ISO instants). */
export function toTicketView(t: Ticket, now: Date) {
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
    overdue: isOverdue(t, now),
    resolvedAt: t.resolvedAt,
    /** True for a ticket the platform opened itself (e.g. a payment screenshot left unverified). */
    openedBySystem: t.sourceKey !== null,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

/** A ticket as its customer sees it: whether someone has it, not who (staff ids stay inside). */
export function toCustomerTicketView(t: Ticket, now: Date) {
  const { assigneeId, ...rest } = toTicketView(t, now);
  return { ...rest, assigned: assigneeId !== null };
}
export type CustomerTicketView = ReturnType<typeof toCustomerTicketView>;

/** A message as the customer sees it (never an internal note; a staff author's id is not shown). */
export const toPublicMessageView = (m: TicketMessage) => ({
  id: m.id,
  authorId: m.authorRole === 'traveler' || m.authorRole === 'organizer' ? m.authorId : null,
  authorRole: m.authorRole,
  body: m.body,
  createdAt: m.createdAt,
});

/** A message as agents see it: every author, internal notes too, and how a reply was delivered. */
export const toAgentMessageView = (m: TicketMessage) => ({
  id: m.id,
  authorId: m.authorId,
  authorRole: m.authorRole,
  body: m.body,
  internal: m.internal,
  channel: m.channel,
  delivery: m.delivery,
  createdAt: m.createdAt,
});
