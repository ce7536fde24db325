import { formatInr } from '@trektribe/common';
import { formatInstantIst, type MessageContent } from './message';

/** Support desk messages (API.md, Support desk): replies to customers, and the agents' queue. */
export const supportMessages = {
  'ticket.reply': (d: {
    ticketId: string;
    subject: string;
    reply: string;
    agentName: string;
  }): MessageContent => ({
    title: `Re: ${d.subject}`,
    paragraphs: [`${d.agentName} from TrekTribe support replied:`, d.reply],
    action: { label: 'Open the ticket', path: `/support/tickets/${d.ticketId}` },
    sms: `TrekTribe support replied to "${d.subject}": ${d.reply}`.slice(0, 300),
    inAppBody: d.reply,
  }),
  /** To the assignee, or to every agent when nobody has the ticket (the hourly SLA job). */
  'ticket.overdue': (d: {
    ticketId: string;
    subject: string;
    customerName: string;
    /** ISO instant the first response was due. */
    dueAt: string;
    priority: 'normal' | 'high';
    assigned: boolean;
  }): MessageContent => ({
    title: `Overdue${d.priority === 'high' ? ' (high priority)' : ''}: ${d.subject}`,
    paragraphs: [
      `${d.customerName}'s ticket has had no answer; the first response was due at ${formatInstantIst(d.dueAt)}.`,
      d.assigned ? 'It is assigned to you.' : 'Nobody has taken it yet: assign it to yourself and answer.',
    ],
    action: { label: 'Open the ticket', path: `/agent/tickets/${d.ticketId}` },
    sms: `TrekTribe: ticket "${d.subject}" is overdue (first response was due ${formatInstantIst(d.dueAt)}).`.slice(
      0,
      300,
    ),
  }),
  /** To an agent an admin assigned a ticket to. */
  'ticket.assigned': (d: { ticketId: string; subject: string; assignedBy: string }): MessageContent => ({
    title: `Assigned to you: ${d.subject}`,
    paragraphs: [`${d.assignedBy} assigned you this ticket.`],
    action: { label: 'Open the ticket', path: `/agent/tickets/${d.ticketId}` },
    sms: `TrekTribe: ${d.assignedBy} assigned you the ticket "${d.subject}".`.slice(0, 300),
  }),
};

/** The subject and first message of a ticket the platform opens itself, as the customer reads them. */
export interface SystemTicketText {
  subject: string;
  body: string;
}

/**
 * A screenshot payment the organizer left unverified for `hours` (the hourly proof escalation): a
 * ticket in the traveler's name, so an agent follows it up and the traveler can see that someone is.
 */
export function staleProofTicketText(d: {
  tripTitle: string;
  /** Paise. */
  amount: number;
  uploadedAt: string;
  hours: number;
}): SystemTicketText {
  return {
    subject: `Payment screenshot not yet verified: ${d.tripTitle}`.slice(0, 200),
    body:
      `The payment screenshot you uploaded at ${formatInstantIst(d.uploadedAt)} for ${d.tripTitle} ` +
      `(${formatInr(d.amount)}) has not been verified by the organizer in ${d.hours} hours. ` +
      'Our support team is following it up with them and will write to you here.',
  };
}
