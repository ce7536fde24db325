import { Module } from '@nestjs/common';
import { AuthModule } from '@trektribe/auth';
import { CommonModule } from '@trektribe/common';
import { NotificationsModule } from '@trektribe/notifications';
import { AgentCustomersController } from './customers/agent-customers.controller';
import { CustomerRecordsService } from './customers/customer-records.service';
import { AgentDeskService } from './desk/agent-desk.service';
import { AgentTicketsController } from './desk/agent-tickets.controller';
import { DeskStatsService } from './desk/desk-stats';
import { ReplyDelivery } from './desk/reply-delivery';
import { TicketSla } from './desk/ticket-sla';
import { ProofTickets } from './tickets/proof-tickets';
import { TicketWorkflow } from './tickets/ticket-workflow';
import { TicketsController } from './tickets/tickets.controller';
import { TicketsService } from './tickets/tickets.service';

/**
 * The support desk (issue 13): its own lib, because tickets are a domain of their own (owned
 * tables, agents' work) that reads bookings and payments but writes neither. Customers' tickets
 * (`/support/tickets`), the agents' desk and CRM (`/agent/*`), the first-response SLA job
 * (TicketSla) and the tickets billing's stale payment proofs open (ProofTickets).
 */
@Module({
  imports: [AuthModule, CommonModule, NotificationsModule],
  controllers: [TicketsController, AgentTicketsController, AgentCustomersController],
  providers: [
    TicketWorkflow,
    TicketsService,
    AgentDeskService,
    DeskStatsService,
    CustomerRecordsService,
    ReplyDelivery,
    ProofTickets,
    TicketSla,
  ],
  exports: [TicketSla],
})
export class SupportModule {}
