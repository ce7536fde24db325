import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentUser } from '@trektribe/auth';
import { Roles } from '@trektribe/common';
import { NoQuery, PersonDashboardQuery } from './dashboard.dto';
import { DashboardsService } from './dashboards.service';

@ApiTags('dashboards')
@ApiBearerAuth()
@Controller({ path: 'dashboard', version: '1' })
export class DashboardsController {
  constructor(private readonly dashboards: DashboardsService) {}

  @Get('traveler')
  @Roles('traveler', 'admin')
  @ApiOperation({
    summary: 'Next 5 trips, bookings by status, total spent net of refunds, payments due, reviews due',
  })
  traveler(@CurrentUser() actor: Actor, @Query() q: PersonDashboardQuery) {
    return this.dashboards.traveler(actor, q);
  }

  @Get('organizer')
  @Roles('organizer', 'admin')
  @ApiOperation({
    summary:
      'Trips by status, next 5 trips with occupancy, bookings and money by IST month (12), proofs to verify, rating, plan',
  })
  organizer(@CurrentUser() actor: Actor, @Query() q: PersonDashboardQuery) {
    return this.dashboards.organizer(actor, q);
  }

  @Get('agent')
  @Roles('agent', 'admin')
  @ApiOperation({ summary: 'Open, mine, unassigned and overdue tickets; median first response (30 days)' })
  agent(@CurrentUser() actor: Actor, @Query() _q: NoQuery) {
    return this.dashboards.agent(actor);
  }

  @Get('admin')
  @Roles('admin')
  @ApiOperation({
    summary: 'Users, trips, bookings, GMV and plan revenue by IST month, and what needs a person',
  })
  admin(@Query() _q: NoQuery) {
    return this.dashboards.admin();
  }
}
