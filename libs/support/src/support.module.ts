import { Module } from '@nestjs/common';
import { AuthModule } from '@trektribe/auth';
import { CommonModule } from '@trektribe/common';
import { NotificationsModule } from '@trektribe/notifications';
import { TicketsController } from './tickets/tickets.controller';
import { TicketsService } from './tickets/tickets.service';

/**
 * The support desk (issue 13): its own lib, because tickets are a domain of their own (owned
 * tables, agents' work) that reads bookings and payments but writes neither.
 */
@Module({
  imports: [AuthModule, CommonModule, NotificationsModule],
  controllers: [TicketsController],
  providers: [TicketsService],
})
export class SupportModule {}
