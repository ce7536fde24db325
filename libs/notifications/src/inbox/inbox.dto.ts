import { ApiPropertyOptional } from '@nestjs/swagger';
import { PageQuery } from '@trektribe/common';
import { IsIn, IsOptional } from 'class-validator';

export class InboxQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'true: unread only' })
  @IsOptional()
  @IsIn(['true', 'false'])
  unread?: 'true' | 'false';
}
