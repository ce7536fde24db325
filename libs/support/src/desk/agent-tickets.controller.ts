import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentUser } from '@trektribe/auth';
import { Roles } from '@trektribe/common';
import { AgentDeskService } from './agent-desk.service';
import { AgentMessageDto, AgentTicketsQuery, AssignTicketDto, TicketStatusDto } from './agent.dto';
import { DeskStatsService } from './desk-stats';

@ApiTags('agent')
@ApiBearerAuth()
@Roles('agent', 'admin')
@Controller({ path: 'agent', version: '1' })
export class AgentTicketsController {
  constructor(
    private readonly desk: AgentDeskService,
    private readonly deskStats: DeskStatsService,
  ) {}

  @Get('tickets')
  @ApiOperation({ summary: 'The ticket queue: overdue first, then high priority, then the earliest due' })
  queue(@CurrentUser() actor: Actor, @Query() q: AgentTicketsQuery) {
    return this.desk.queue(actor, q);
  }

  @Get('tickets/:id')
  @ApiOperation({ summary: 'A ticket with every message, internal notes included' })
  one(@Param('id', ParseUUIDPipe) id: string) {
    return this.desk.one(id);
  }

  @Post('tickets/:id/assign')
  @HttpCode(200)
  @ApiOperation({ summary: 'Take a ticket, or (admins) give it to an active agent' })
  assign(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Body() dto: AssignTicketDto) {
    return this.desk.assign(actor, id, dto.agentId);
  }

  @Post('tickets/:id/messages')
  @ApiOperation({
    summary: 'Reply to the customer (in-app, email, and SMS or WhatsApp when asked) or add an internal note',
  })
  write(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Body() dto: AgentMessageDto) {
    return this.desk.write(actor, id, dto);
  }

  @Patch('tickets/:id/status')
  @ApiOperation({ summary: 'Move a ticket: open → pending → resolved → closed (else 409 INVALID_STATE)' })
  setStatus(
    @CurrentUser() actor: Actor,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: TicketStatusDto,
  ) {
    return this.desk.setStatus(actor, id, dto.status);
  }

  @Get('stats')
  @ApiOperation({
    summary: 'The desk at a glance: open, pending, unassigned, mine, overdue, median first response',
  })
  stats(@CurrentUser() actor: Actor) {
    return this.deskStats.stats(actor);
  }
}
