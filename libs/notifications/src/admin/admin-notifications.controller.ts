import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '@trektribe/auth';
import { CsvExportable, Roles, WantsCsv } from '@trektribe/common';
import { RequestActor } from '../http';
import { AdminNotificationsQuery } from './admin-notifications.dto';
import { AdminNotificationsService } from './admin-notifications.service';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller({ path: 'admin/notifications', version: '1' })
export class AdminNotificationsController {
  constructor(private readonly notifications: AdminNotificationsService) {}

  @Get()
  @ApiOperation({
    summary: 'Every message (email, SMS, WhatsApp, socket), newest first; ?status=failed&channel=email',
  })
  @CsvExportable()
  list(@Query() q: AdminNotificationsQuery, @WantsCsv() csv: boolean) {
    return csv ? this.notifications.listCsv(q) : this.notifications.list(q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One message with its full text and HTML' })
  one(@Param('id', ParseUUIDPipe) id: string) {
    return this.notifications.one(id);
  }

  @Post(':id/retry')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send a failed or skipped message again now (audited)' })
  retry(@RequestActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string) {
    return this.notifications.retry(actor, id);
  }
}
