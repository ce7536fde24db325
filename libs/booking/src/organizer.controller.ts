import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentUser } from '@trektribe/auth';
import { Roles } from '@trektribe/common';
import { DataSource } from 'typeorm';
import { BookingsService } from './bookings/bookings.service';
import { OrganizerTripsQuery } from './trips/trip.dto';
import { TripsService } from './trips/trips.service';

@ApiTags('organizer')
@ApiBearerAuth()
@Roles('organizer')
@Controller({ path: 'organizer', version: '1' })
export class OrganizerController {
  constructor(
    private readonly trips: TripsService,
    private readonly bookings: BookingsService,
    private readonly dataSource: DataSource,
  ) {}

  @Get('trips')
  myTrips(@CurrentUser() actor: Actor, @Query() q: OrganizerTripsQuery) {
    return this.trips.listForOrganizer(actor, q);
  }

  @Get('stats')
  async stats(@CurrentUser() actor: Actor) {
    const [trips] = (await this.dataSource.query(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'active')::int AS active,
              coalesce(sum(seats_booked), 0)::int AS "seatsBooked", coalesce(sum(capacity), 0)::int AS capacity
         FROM trips WHERE organizer_id = $1`,
      [actor.id],
    )) as { total: number; active: number; seatsBooked: number; capacity: number }[];
    return {
      trips,
      bookings: await this.bookings.statusCounts(actor.id),
      occupancyPercent: trips.capacity ? Math.round((trips.seatsBooked / trips.capacity) * 100) : 0,
    };
  }
}
