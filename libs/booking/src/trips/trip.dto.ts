import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MultiLine, NestedObjects, PageQuery, SingleLine } from '@trektribe/common';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { DIFFICULTY_LEVELS } from './trip.entity';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class ItineraryDayDto {
  @ApiProperty({ example: 1 })
  @IsInt()
  @Min(1)
  @Max(60)
  day: number;

  @ApiProperty({ example: 'Sankri to Juda ka Talab' })
  @IsString()
  @SingleLine()
  @Length(1, 200)
  title: string;

  @ApiProperty({ example: ['4 km trek through pine forest', 'Camp by the frozen lake'] })
  @IsArray()
  @ArrayMaxSize(30)
  @IsString({ each: true })
  @SingleLine({ each: true })
  @MaxLength(300, { each: true })
  activities: string[];
}

export class CreateTripDto {
  @ApiProperty({ example: 'Kedarkantha Winter Trek' })
  @Transform(trim)
  @IsString()
  @SingleLine()
  @Length(3, 200)
  title: string;

  @ApiProperty({ example: 'A classic winter summit trek in Uttarakhand with snow camps.' })
  @IsString()
  @MultiLine()
  @Length(10, 10_000)
  description: string;

  @ApiProperty({ example: 'Uttarakhand' })
  @Transform(trim)
  @IsString()
  @SingleLine()
  @Length(2, 200)
  destination: string;

  @ApiPropertyOptional({ example: ['trekking', 'snow'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsString({ each: true })
  @Matches(/^[a-z0-9-]{2,40}$/, {
    each: true,
    message: 'categories must be lower-case slugs like "snow-trek"',
  })
  categories?: string[];

  @ApiProperty({ enum: DIFFICULTY_LEVELS, example: 'intermediate' })
  @IsIn(DIFFICULTY_LEVELS)
  difficultyLevel: (typeof DIFFICULTY_LEVELS)[number];

  @ApiProperty({ example: '2026-12-20', description: 'YYYY-MM-DD in the trip timezone' })
  @Matches(DATE, { message: 'startDate must be YYYY-MM-DD' })
  @IsISO8601({ strict: true })
  startDate: string;

  @ApiProperty({ example: '2026-12-25' })
  @Matches(DATE, { message: 'endDate must be YYYY-MM-DD' })
  @IsISO8601({ strict: true })
  endDate: string;

  @ApiPropertyOptional({ example: 'Asia/Kolkata' })
  @IsOptional()
  @IsString()
  @SingleLine()
  @MaxLength(64)
  timezone?: string;

  @ApiProperty({ example: 1299900, description: 'per seat, in paise' })
  @IsInt()
  @Min(0)
  @Max(100_000_000)
  price: number;

  @ApiPropertyOptional({ example: 'INR', enum: ['INR'] })
  @IsOptional()
  @IsIn(['INR'])
  currency?: 'INR';

  @ApiProperty({ example: 20 })
  @IsInt()
  @Min(1)
  @Max(1000)
  capacity: number;

  @ApiPropertyOptional({ type: [ItineraryDayDto] })
  @IsOptional()
  @NestedObjects(() => ItineraryDayDto)
  @ArrayMaxSize(60)
  itinerary?: ItineraryDayDto[];

  @ApiPropertyOptional({ example: ['Meals', 'Tents', 'Guide'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @SingleLine({ each: true })
  @MaxLength(200, { each: true })
  includedItems?: string[];

  @ApiPropertyOptional({ example: ['Fitness certificate'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @SingleLine({ each: true })
  @MaxLength(200, { each: true })
  requirements?: string[];

  @ApiPropertyOptional({ example: ['https://cdn.trektribe.in/kedarkantha.jpg'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsUrl({ protocols: ['https'], require_protocol: true }, { each: true })
  images?: string[];
}

export class UpdateTripDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Transform(trim)
  @IsString()
  @SingleLine()
  @Length(3, 200)
  title?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MultiLine() @Length(10, 10_000) description?: string;
  @ApiPropertyOptional()
  @IsOptional()
  @Transform(trim)
  @IsString()
  @SingleLine()
  @Length(2, 200)
  destination?: string;
  @ApiPropertyOptional()
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsString({ each: true })
  @Matches(/^[a-z0-9-]{2,40}$/, { each: true })
  categories?: string[];
  @ApiPropertyOptional({ enum: DIFFICULTY_LEVELS })
  @IsOptional()
  @IsIn(DIFFICULTY_LEVELS)
  difficultyLevel?: (typeof DIFFICULTY_LEVELS)[number];
  @ApiPropertyOptional() @IsOptional() @Matches(DATE) @IsISO8601({ strict: true }) startDate?: string;
  @ApiPropertyOptional() @IsOptional() @Matches(DATE) @IsISO8601({ strict: true }) endDate?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @SingleLine() @MaxLength(64) timezone?: string;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(0) @Max(100_000_000) price?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(1000) capacity?: number;
  @ApiPropertyOptional({ type: [ItineraryDayDto] })
  @IsOptional()
  @NestedObjects(() => ItineraryDayDto)
  @ArrayMaxSize(60)
  itinerary?: ItineraryDayDto[];
  @ApiPropertyOptional()
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @SingleLine({ each: true })
  @MaxLength(200, { each: true })
  includedItems?: string[];
  @ApiPropertyOptional()
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @SingleLine({ each: true })
  @MaxLength(200, { each: true })
  requirements?: string[];
  @ApiPropertyOptional()
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsUrl({ protocols: ['https'], require_protocol: true }, { each: true })
  images?: string[];
  @ApiPropertyOptional({
    enum: ['active', 'inactive'],
    description: 'cancel with DELETE; completion is automatic',
  })
  @IsOptional()
  @IsIn(['active', 'inactive'])
  status?: 'active' | 'inactive';
}

export class CancelTripDto {
  @ApiPropertyOptional({ example: 'Heavy snowfall closed the route' })
  @IsOptional()
  @IsString()
  @MultiLine()
  @MaxLength(500)
  reason?: string;
}

export const TRIP_SORTS = [
  'startDate',
  '-startDate',
  'price',
  '-price',
  'rating',
  '-rating',
  '-createdAt',
  'relevance',
] as const;

export class SearchTripsQuery extends PageQuery {
  @ApiPropertyOptional({
    example: 'kedarkantha snow',
    description: 'full text over title, description and destination',
  })
  @IsOptional()
  @IsString()
  @SingleLine()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ example: 'Uttarakhand' })
  @IsOptional()
  @IsString()
  @SingleLine()
  @MaxLength(200)
  destination?: string;

  @ApiPropertyOptional({ example: 'snow' })
  @IsOptional()
  @IsString()
  @SingleLine()
  @MaxLength(40)
  category?: string;

  @ApiPropertyOptional({ enum: DIFFICULTY_LEVELS })
  @IsOptional()
  @IsIn(DIFFICULTY_LEVELS)
  difficulty?: string;

  @ApiPropertyOptional({ example: 500000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  minPrice?: number;

  @ApiPropertyOptional({ example: 2000000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  maxPrice?: number;

  @ApiPropertyOptional({ example: '2026-12-01' })
  @IsOptional()
  @Matches(DATE)
  @IsISO8601({ strict: true })
  startFrom?: string;

  @ApiPropertyOptional({ example: '2027-01-31' })
  @IsOptional()
  @Matches(DATE)
  @IsISO8601({ strict: true })
  startTo?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  organizerId?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'] })
  // IsBooleanString also passed '1'/'0', which the service then ignored: the filter silently vanished.
  @IsOptional()
  @IsIn(['true', 'false'])
  hasSeats?: 'true' | 'false';

  @ApiPropertyOptional({ enum: TRIP_SORTS, default: 'startDate' })
  @IsOptional()
  @IsIn(TRIP_SORTS)
  sort?: (typeof TRIP_SORTS)[number];
}

export class OrganizerTripsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['active', 'inactive', 'cancelled', 'completed'] })
  @IsOptional()
  @IsIn(['active', 'inactive', 'cancelled', 'completed'])
  status?: string;
}
