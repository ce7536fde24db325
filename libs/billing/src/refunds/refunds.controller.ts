import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentUser } from '@trektribe/auth';
import { CsvExportable, Roles, WantsCsv } from '@trektribe/common';
import { AdminRefundsQuery, ManualRefundDto } from './refund.dto';
import { RefundsService } from './refunds.service';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller({ path: 'admin/refunds', version: '1' })
export class AdminRefundsController {
  constructor(private readonly refunds: RefundsService) {}

  @Get()
  @ApiOperation({
    summary: 'Every refund; ?status=failed or ?needsAttention=true for the ones that need a person',
  })
  @CsvExportable()
  list(@Query() q: AdminRefundsQuery, @WantsCsv() csv: boolean) {
    return csv ? this.refunds.listForAdminCsv(q) : this.refunds.listForAdmin(q);
  }

  @Post(':id/retry')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send a failed refund to the gateway again now' })
  retry(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string) {
    return this.refunds.retry(actor, id);
  }

  @Post(':id/mark-paid')
  @HttpCode(200)
  @ApiOperation({ summary: 'Record a manual payout (screenshot payments, or a gateway refund given up on)' })
  markPaid(
    @CurrentUser() actor: Actor,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: ManualRefundDto,
  ) {
    return this.refunds.markManualPaid(actor, id, dto.note);
  }
}
