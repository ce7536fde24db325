import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentUser } from '@trektribe/auth';
import { Idempotent, Roles } from '@trektribe/common';
import { CancelBookingDto, CreateBookingDto, ListBookingsQuery } from './booking.dto';
import { BookingsService } from './bookings.service';

@ApiTags('bookings')
@ApiBearerAuth()
@Controller({ path: 'bookings', version: '1' })
export class BookingsController {
  constructor(private readonly bookings: BookingsService) {}

  @Post()
  @Roles('traveler')
  @Idempotent()
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'repeat-safe creation for 24 h' })
  @ApiOperation({
    summary: 'Hold seats: a pending booking until holdExpiresAt (409 TRIP_FULL when there are none)',
  })
  create(@CurrentUser() actor: Actor, @Body() dto: CreateBookingDto) {
    return this.bookings.create(actor, dto);
  }

  @Get()
  @Roles('traveler', 'organizer', 'agent', 'admin')
  @ApiOperation({ summary: 'Travelers: own; organizers: on own trips; agents and admins: all' })
  list(@CurrentUser() actor: Actor, @Query() q: ListBookingsQuery) {
    return this.bookings.list(actor, q);
  }

  @Get(':id')
  @Roles('traveler', 'organizer', 'agent', 'admin')
  get(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string) {
    return this.bookings.get(actor, id);
  }

  @Post(':id/cancel')
  @Roles('traveler', 'organizer', 'admin')
  @HttpCode(200)
  cancel(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Body() dto: CancelBookingDto) {
    return this.bookings.cancel(actor, id, dto);
  }

  @Delete(':id')
  @Roles('traveler', 'organizer', 'admin')
  @ApiOperation({ summary: 'Same as POST /bookings/:id/cancel' })
  remove(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Body() dto: CancelBookingDto) {
    return this.bookings.cancel(actor, id, dto);
  }
}
