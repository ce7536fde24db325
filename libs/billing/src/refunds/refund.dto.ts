import { ApiPropertyOptional } from '@nestjs/swagger';
import { MultiLine, PageQuery } from '@trektribe/common';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import type { RefundStatus } from './refund.entity';

export const REFUND_STATUSES: RefundStatus[] = [
  'pending',
  'processed',
  'failed',
  'manual_due',
  'manual_paid',
];

export class AdminRefundsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: REFUND_STATUSES })
  @IsOptional()
  @IsIn(REFUND_STATUSES)
  status?: RefundStatus;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  bookingId?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  paymentId?: string;

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: 'only refunds no job will move: manual payouts and refunds given up on',
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  needsAttention?: 'true' | 'false';
}

export class ManualRefundDto {
  @ApiPropertyOptional({ example: 'Paid by UPI, ref 4321' })
  @IsOptional()
  @IsString()
  @MultiLine()
  @MaxLength(500)
  note?: string;
}
