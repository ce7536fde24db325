import type { TicketStatus } from './ticket.entity';

/**
 * The ticket status graph (API.md, Support desk): open → pending (waiting on the customer) →
 * resolved → closed; a customer message on a pending or resolved ticket moves it back to open.
 * Anything else is 409 INVALID_STATE.
 */
export const TICKET_MOVES: Readonly<Record<TicketStatus, readonly TicketStatus[]>> = {
  open: ['pending', 'resolved', 'closed'],
  // The customer answered, or the agent resolved or closed it.
  pending: ['open', 'resolved', 'closed'],
  // The customer wrote again, or it is closed for good.
  resolved: ['open', 'closed'],
  closed: [],
};

export function canMoveTicket(from: TicketStatus, to: TicketStatus): boolean {
  return TICKET_MOVES[from].includes(to);
}
