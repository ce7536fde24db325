import { TicketMessage } from './ticket-message.entity';
import { Ticket } from './ticket.entity';

/**
 * Overdue: no first response yet, still waiting on us, and past `firstResponseDueAt`
 * (API.md: `SUPPORT_FIRST_RESPONSE_HOURS`). The SQL form is OVERDUE_SQL; keep the two equal.
 */
export function isOverdue(t: Ticket, now: Date): boolean {
  return (
    (t.status === 'open' || t.status === 'pending') &&
    t.firstResponseAt === null &&
    t.firstResponseDueAt.getTime() <= now.getTime()
  );
}

/** isOverdue in SQL over `support_tickets t`, with the current instant as parameter `nowParam`. */
export const overdueSql = (nowParam: string) =>
  `(t.status IN ('open', 'pending') AND t.first_response_at IS NULL AND t.first_response_due_at <= ${nowParam})`;

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

/** A message as the customer sees it (never an internal note). */
export const toPublicMessageView = (m: TicketMessage) => ({
  id: m.id,
  authorId: m.authorId,
  authorRole: m.authorRole,
  body: m.body,
  createdAt: m.createdAt,
});

/** A message as agents see it: internal notes too, and how a reply was delivered. */
export const toAgentMessageView = (m: TicketMessage) => ({
  ...toPublicMessageView(m),
  internal: m.internal,
  channel: m.channel,
  delivery: m.delivery,
});
