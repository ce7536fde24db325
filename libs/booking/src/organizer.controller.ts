import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentUser } from '@trektribe/auth';
import { Roles } from '@trektribe/common';
import { OrganizerTripsQuery } from './trips/trip.dto';
import { TripsService } from './trips/trips.service';

/** The organizer's trips. Their figures (GET /organizer/stats, /earnings) are the read side's: libs/reporting. */
@ApiTags('organizer')
@ApiBearerAuth()
@Roles('organizer')
@Controller({ path: 'organizer', version: '1' })
export class OrganizerController {
  constructor(private readonly trips: TripsService) {}

  @Get('trips')
  myTrips(@CurrentUser() actor: Actor, @Query() q: OrganizerTripsQuery) {
    return this.trips.listForOrganizer(actor, q);
  }
}
