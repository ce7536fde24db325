import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MultiLine, NestedObjects, PageQuery, SingleLine } from '@trektribe/common';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { BOOKING_STATUSES, MAX_SEATS_PER_BOOKING, PAYMENT_STATUSES } from './booking.entity';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class ParticipantDto {
  @ApiProperty({ example: 'Asha Rao' })
  @Transform(trim)
  @IsString()
  @SingleLine()
  @Length(1, 120)
  name: string;

  @ApiPropertyOptional({ example: '+919812345678' })
  @IsOptional()
  @Matches(/^\+?[0-9]{10,15}$/, { message: 'phone must be 10 to 15 digits, optionally starting with +' })
  phone?: string;

  @ApiPropertyOptional({ example: 29 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(120)
  age?: number;

  @ApiPropertyOptional({ example: 'vegetarian' })
  @IsOptional()
  @IsString()
  @MultiLine()
  @MaxLength(300)
  dietaryRestrictions?: string;
}

export class CreateBookingDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  tripId: string;

  @ApiProperty({ example: 2, minimum: 1, maximum: MAX_SEATS_PER_BOOKING })
  @IsInt()
  @Min(1)
  @Max(MAX_SEATS_PER_BOOKING)
  seats: number;

  @ApiProperty({ type: [ParticipantDto], description: 'one per seat' })
  @NestedObjects(() => ParticipantDto)
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SEATS_PER_BOOKING)
  participants: ParticipantDto[];

  @ApiProperty({ enum: ['online', 'screenshot'] })
  @IsIn(['online', 'screenshot'])
  paymentMethod: 'online' | 'screenshot';

  @ApiPropertyOptional({ example: 'Lower bunk please' })
  @IsOptional()
  @IsString()
  @MultiLine()
  @MaxLength(1000)
  specialRequests?: string;
}

export class CancelBookingDto {
  @ApiPropertyOptional({ example: 'Change of plans' })
  @IsOptional()
  @IsString()
  @MultiLine()
  @MaxLength(500)
  reason?: string;
}

export class ListBookingsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: BOOKING_STATUSES })
  @IsOptional()
  @IsIn(BOOKING_STATUSES)
  status?: string;

  @ApiPropertyOptional({ enum: PAYMENT_STATUSES })
  @IsOptional()
  @IsIn(PAYMENT_STATUSES)
  paymentStatus?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  tripId?: string;
}
