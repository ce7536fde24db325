import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CsvExportable, Roles, WantsCsv } from '@trektribe/common';
import { AdminBookingsQuery, AdminTripsQuery } from './admin-lists.dto';
import { AdminListingsService } from './admin-lists.service';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller({ path: 'admin', version: '1' })
export class AdminListingsController {
  constructor(private readonly lists: AdminListingsService) {}

  @Get('trips')
  @CsvExportable()
  @ApiOperation({
    summary: 'Every trip, any status, newest first; filter by status, organizer, text, start dates',
  })
  trips(@Query() q: AdminTripsQuery, @WantsCsv() csv: boolean) {
    return csv ? this.lists.tripsCsv(q) : this.lists.trips(q);
  }

  @Get('bookings')
  @CsvExportable()
  @ApiOperation({
    summary: 'Every booking, newest first; filter by status, payment status, trip, traveler, IST days made',
  })
  bookings(@Query() q: AdminBookingsQuery, @WantsCsv() csv: boolean) {
    return csv ? this.lists.bookingsCsv(q) : this.lists.bookings(q);
  }
}
