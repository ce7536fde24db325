import { ApiPropertyOptional } from '@nestjs/swagger';
import { SingleLine } from '@trektribe/common';
import { IsBoolean, IsObject, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';

/**
 * PATCH merges what it is given (API.md). `types` maps a notification type to channel switches;
 * `quietHours` is `{start, end}` in `HH:MM` or null to turn them off. The shapes inside `types` and
 * `quietHours` are checked by PreferencesService (400 naming the field).
 */
export class PatchPreferencesDto {
  @ApiPropertyOptional() @IsOptional() @IsBoolean() email?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() sms?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() whatsapp?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() inApp?: boolean;

  @ApiPropertyOptional({
    example: { 'booking.confirmed': { sms: true }, 'subscription.reminder': { email: false } },
  })
  @IsOptional()
  @IsObject()
  types?: Record<string, unknown>;

  @ApiPropertyOptional({ nullable: true, example: { start: '22:00', end: '07:00' } })
  @ValidateIf((_o, v) => v !== null && v !== undefined)
  @IsObject()
  quietHours?: Record<string, unknown> | null;

  @ApiPropertyOptional({ example: 'Asia/Kolkata' })
  @IsOptional()
  @IsString()
  @SingleLine()
  @MaxLength(64)
  timezone?: string;
}
