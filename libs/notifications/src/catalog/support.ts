import type { MessageContent } from './message';

/** Support desk messages (API.md, Support desk). */
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
};
