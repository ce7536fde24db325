import { ApiPropertyOptional } from '@nestjs/swagger';
import { PageQuery, SingleLine } from '@trektribe/common';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';

export const OUTBOX_STATUSES = ['pending', 'sent', 'failed', 'skipped'] as const;
export const OUTBOX_CHANNELS = ['email', 'sms', 'whatsapp', 'realtime'] as const;

export class AdminNotificationsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: OUTBOX_STATUSES })
  @IsOptional()
  @IsIn(OUTBOX_STATUSES)
  status?: (typeof OUTBOX_STATUSES)[number];

  @ApiPropertyOptional({ enum: OUTBOX_CHANNELS })
  @IsOptional()
  @IsIn(OUTBOX_CHANNELS)
  channel?: (typeof OUTBOX_CHANNELS)[number];

  @ApiPropertyOptional({ description: 'The recipient user' })
  @IsOptional()
  @IsUUID()
  userId?: string;

  @ApiPropertyOptional({ description: 'A notification type (booking.confirmed) or socket event' })
  @IsOptional()
  @IsString()
  @SingleLine()
  @MaxLength(80)
  type?: string;
}
