import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentUser } from '@trektribe/auth';
import { CsvExportable, Roles, WantsCsv } from '@trektribe/common';
import { AdminWebhookEventsQuery, WebhookEventsAdmin } from './webhook-events-admin';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller({ path: 'admin/webhook-events', version: '1' })
export class AdminWebhookEventsController {
  constructor(private readonly events: WebhookEventsAdmin) {}

  @Get()
  @ApiOperation({
    summary:
      'Received Razorpay events, newest first; ?status=failing for the ones whose application keeps failing',
  })
  @CsvExportable()
  list(@Query() q: AdminWebhookEventsQuery, @WantsCsv() csv: boolean) {
    return csv ? this.events.listCsv(q) : this.events.list(q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One received event, with its payload' })
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.events.get(id);
  }

  @Post(':id/retry')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Apply an unprocessed event now instead of waiting out its backoff; answers with where it stands after',
  })
  retry(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string) {
    return this.events.retry(actor, id);
  }
}
