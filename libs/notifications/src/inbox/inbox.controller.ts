import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '@trektribe/auth';
import { Authenticated } from '@trektribe/common';
import { RequestActor } from '../http';
import { InboxQuery } from './inbox.dto';
import { InboxService } from './inbox.service';

@ApiTags('notifications')
@ApiBearerAuth()
@Authenticated()
@Controller({ path: 'notifications', version: '1' })
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  @Get()
  @ApiOperation({ summary: 'My notifications, newest first; meta.unread is the unread count' })
  list(@RequestActor() { id: userId }: Actor, @Query() q: InboxQuery) {
    return this.inbox.list(userId, q);
  }

  @Patch(':id/read')
  @ApiOperation({ summary: "Mark one of my notifications read (another user's id: 404)" })
  read(@RequestActor() { id: userId }: Actor, @Param('id', ParseUUIDPipe) id: string) {
    return this.inbox.markRead(userId, id);
  }

  @Post('read-all')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark all my notifications read → {updated}' })
  readAll(@RequestActor() { id: userId }: Actor) {
    return this.inbox.markAllRead(userId);
  }
}
