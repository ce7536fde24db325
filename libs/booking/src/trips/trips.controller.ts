import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentUser } from '@trektribe/auth';
import { CachedResponse, MultiLine, PageQuery, Public, Roles } from '@trektribe/common';
import { IsInt, IsOptional, IsString, IsUUID, Length, Max, Min } from 'class-validator';
import { ReviewsService } from '../reviews/reviews.service';
import { WaitlistService } from '../waitlist/waitlist.service';
import { CancelTripDto, CreateTripDto, SearchTripsQuery, UpdateTripDto } from './trip.dto';
import { TripsService } from './trips.service';

class CreateReviewDto {
  @ApiProperty({ minimum: 1, maximum: 5, example: 5 }) @IsInt() @Min(1) @Max(5) rating: number;
  @ApiProperty({ example: 'Superb guides and a clear summit day.' })
  @IsString()
  @MultiLine()
  @Length(3, 2000)
  comment: string;
  @ApiPropertyOptional({ description: 'which completed booking, when you have several' })
  @IsOptional()
  @IsUUID()
  bookingId?: string;
}
class ReplyDto {
  @ApiProperty({ example: 'Thank you for trekking with us!' })
  @IsString()
  @MultiLine()
  @Length(1, 2000)
  reply: string;
}
class JoinWaitlistDto {
  @ApiProperty({ minimum: 1, maximum: 10, example: 2 }) @IsInt() @Min(1) @Max(10) seats: number;
}

@ApiTags('trips')
@Controller({ path: 'trips', version: '1' })
export class TripsController {
  constructor(
    private readonly trips: TripsService,
    private readonly reviews: ReviewsService,
    private readonly waitlist: WaitlistService,
  ) {}

  @Get()
  @Public()
  // The same for every caller and read from `trips` alone; a seat count may lag other instances by the TTL,
  // which booking re-checks atomically anyway.
  @CachedResponse('trips')
  @ApiOperation({ summary: 'Search active upcoming trips' })
  search(@Query() q: SearchTripsQuery) {
    return this.trips.search(q);
  }

  @Get(':id')
  @Public()
  get(@Param('id', ParseUUIDPipe) id: string, @CurrentUser() viewer?: Actor) {
    return this.trips.get(id, viewer);
  }

  @Post()
  @Roles('organizer')
  @ApiBearerAuth()
  create(@CurrentUser() actor: Actor, @Body() dto: CreateTripDto) {
    return this.trips.create(actor, dto);
  }

  @Patch(':id')
  @Roles('organizer', 'admin')
  @ApiBearerAuth()
  update(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateTripDto) {
    return this.trips.update(actor, id, dto);
  }

  @Delete(':id')
  @Roles('organizer', 'admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Cancel the trip: every booking is cancelled with a full refund and told' })
  cancel(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Body() dto: CancelTripDto) {
    return this.trips.cancel(actor, id, dto.reason);
  }

  @Get(':id/participants')
  @Roles('organizer', 'admin')
  @ApiBearerAuth()
  participants(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string) {
    return this.trips.participants(actor, id);
  }

  @Get(':id/reviews')
  @Public()
  listReviews(@Param('id', ParseUUIDPipe) id: string, @Query() q: PageQuery) {
    return this.reviews.list(id, q);
  }

  @Post(':id/reviews')
  @Roles('traveler')
  @ApiBearerAuth()
  createReview(
    @CurrentUser() actor: Actor,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: CreateReviewDto,
  ) {
    return this.reviews.create(actor, id, dto);
  }

  @Post(':id/reviews/:reviewId/reply')
  @Roles('organizer', 'admin')
  @ApiBearerAuth()
  @HttpCode(200)
  reply(
    @CurrentUser() actor: Actor,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('reviewId', ParseUUIDPipe) reviewId: string,
    @Body() dto: ReplyDto,
  ) {
    return this.reviews.reply(actor, id, reviewId, dto.reply);
  }

  @Get(':id/waitlist')
  @Roles('traveler')
  @ApiBearerAuth()
  myWaitlist(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string) {
    return this.waitlist.mine(actor, id);
  }

  @Post(':id/waitlist')
  @Roles('traveler')
  @ApiBearerAuth()
  joinWaitlist(
    @CurrentUser() actor: Actor,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: JoinWaitlistDto,
  ) {
    return this.waitlist.join(actor, id, dto.seats);
  }

  @Delete(':id/waitlist')
  @Roles('traveler')
  @ApiBearerAuth()
  @HttpCode(204)
  async leaveWaitlist(@CurrentUser() actor: Actor, @Param('id', ParseUUIDPipe) id: string) {
    await this.waitlist.leave(actor, id);
  }
}
