import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '@trektribe/common';
import { AdminStats } from './admin-stats';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller({ path: 'admin/stats', version: '1' })
export class AdminStatsController {
  constructor(private readonly stats: AdminStats) {}

  @Get()
  @ApiOperation({
    summary:
      'Headline counts: users by role, trips and bookings by status, failed refunds, stuck payments, failing webhooks',
  })
  headline() {
    return this.stats.headline();
  }
}
