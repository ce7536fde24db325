import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateOnly, NotBefore, PageQuery, SingleLine } from '@trektribe/common';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { BOOKING_STATUSES, PAYMENT_STATUSES } from '../bookings/booking.entity';
import { TRIP_STATUSES } from '../trips/trip.entity';

export class AdminTripsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: TRIP_STATUSES })
  @IsOptional()
  @IsIn(TRIP_STATUSES)
  status?: (typeof TRIP_STATUSES)[number];

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  organizerId?: string;

  @ApiPropertyOptional({ example: 'kedarkantha', description: 'part of the title or destination' })
  @IsOptional()
  @IsString()
  @SingleLine()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ example: '2026-12-01', description: 'starting on or after this date' })
  @IsOptional()
  @IsDateOnly()
  startFrom?: string;

  @ApiPropertyOptional({ example: '2027-01-31', description: 'starting on or before this date' })
  @IsOptional()
  @IsDateOnly()
  @NotBefore('startFrom')
  startTo?: string;
}

export class AdminBookingsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: BOOKING_STATUSES })
  @IsOptional()
  @IsIn(BOOKING_STATUSES)
  status?: (typeof BOOKING_STATUSES)[number];

  @ApiPropertyOptional({ enum: PAYMENT_STATUSES })
  @IsOptional()
  @IsIn(PAYMENT_STATUSES)
  paymentStatus?: (typeof PAYMENT_STATUSES)[number];

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  tripId?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  travelerId?: string;

  @ApiPropertyOptional({ example: '2026-01-01', description: 'made on or after this IST calendar day' })
  @IsOptional()
  @IsDateOnly()
  from?: string;

  @ApiPropertyOptional({ example: '2026-01-31', description: 'made on or before this IST calendar day' })
  @IsOptional()
  @IsDateOnly()
  @NotBefore('from')
  to?: string;
}
