import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentUser } from '@trektribe/auth';
import { Roles } from '@trektribe/common';
import { NoQuery } from '../dashboards/dashboard.dto';
import { OrganizerAnalyticsService } from './organizer-analytics.service';

@ApiTags('organizer')
@ApiBearerAuth()
@Roles('organizer')
@Controller({ path: 'organizer', version: '1' })
export class OrganizerAnalyticsController {
  constructor(private readonly analytics: OrganizerAnalyticsService) {}

  @Get('stats')
  @ApiOperation({
    summary:
      'Trips, bookings by status, occupancy, earnings in total, proofs to verify, rating (as the dashboard)',
  })
  stats(@CurrentUser() actor: Actor, @Query() _q: NoQuery) {
    return this.analytics.stats(actor);
  }

  @Get('earnings')
  @ApiOperation({
    summary:
      'Captured payments on your trips minus refunds: per trip, in total and per IST month (12), in paise',
  })
  earnings(@CurrentUser() actor: Actor, @Query() _q: NoQuery) {
    return this.analytics.earnings(actor);
  }
}
