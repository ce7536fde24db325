export { SupportModule } from './support.module';
export { TicketSla } from './desk/ticket-sla';
export { overdueSql } from './tickets/ticket-views';

import { TicketMessage } from './tickets/ticket-message.entity';
import { Ticket } from './tickets/ticket.entity';
export const SUPPORT_ENTITIES = [Ticket, TicketMessage];
