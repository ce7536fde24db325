import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentUser } from '@trektribe/auth';
import { Roles } from '@trektribe/common';
import { CreateTicketDto, MyTicketsQuery, TicketMessageDto } from './ticket.dto';
import { TicketsService } from './tickets.service';

@ApiTags('support')
@ApiBearerAuth()
@Roles('traveler', 'organizer')
@Controller({ path: 'support/tickets', version: '1' })
export class TicketsController {
  constructor(private readonly tickets: TicketsService) {}

  @Post()
  @ApiOperation({ summary: 'Ask for help about one of my bookings or payments, my account or my listing' })
  open(@CurrentUser() actor: Actor, @Body() dto: CreateTicketDto) {
    return this.tickets.open(actor, dto);
  }

  @Get()
  @ApiOperation({ summary: 'My tickets, newest first' })
  mine(@CurrentUser() actor: Actor, @Query() q: MyTicketsQuery) {
    return this.tickets.mine(actor, q);
  }

  @Get(':id')
  @ApiOperation({ summary: "One of my tickets with its messages (another user's: 404)" })
  one(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string) {
    return this.tickets.mineOne(actor, id);
  }

  @Post(':id/messages')
  @ApiOperation({ summary: 'Write on my ticket (a pending or resolved one opens again; closed: 409)' })
  write(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Body() dto: TicketMessageDto) {
    return this.tickets.write(actor, id, dto.body);
  }

  @Post(':id/close')
  @HttpCode(200)
  @ApiOperation({ summary: 'Close my ticket' })
  close(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string) {
    return this.tickets.close(actor, id);
  }
}
