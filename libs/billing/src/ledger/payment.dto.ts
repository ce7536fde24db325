import { ApiPropertyOptional } from '@nestjs/swagger';
import { NotBefore, PageQuery } from '@trektribe/common';
import { IsIn, IsISO8601, IsOptional, IsUUID } from 'class-validator';
import type { PaymentRowStatus } from './payment.entity';

export const PAYMENT_ROW_STATUSES: PaymentRowStatus[] = [
  'authorized',
  'captured',
  'failed',
  'refunded',
  'partially_refunded',
];
export const PAYMENT_METHODS = ['online', 'screenshot', 'recurring'] as const;

export class MyPaymentsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: PAYMENT_ROW_STATUSES })
  @IsOptional()
  @IsIn(PAYMENT_ROW_STATUSES)
  status?: PaymentRowStatus;
}

export class AdminPaymentsQuery extends MyPaymentsQuery {
  @ApiPropertyOptional({ enum: PAYMENT_METHODS })
  @IsOptional()
  @IsIn(PAYMENT_METHODS)
  method?: (typeof PAYMENT_METHODS)[number];

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  bookingId?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  payerId?: string;

  @ApiPropertyOptional({
    description: 'created at or after: an instant, or a date (start of that day, Asia/Kolkata)',
    example: '2026-01-01',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({
    description: 'created at or before: an instant, or a date (the whole day, Asia/Kolkata)',
    example: '2026-01-31',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @NotBefore('from')
  to?: string;
}
