import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SingleLine } from '@trektribe/common';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import { MANDATE_METHODS, MandateMethod } from './subscription-plan';

export class SetupAutoPayDto {
  @ApiPropertyOptional({
    enum: MANDATE_METHODS,
    default: 'upi',
    description: 'how the organizer authorises the mandate',
  })
  @IsOptional()
  @IsIn(MANDATE_METHODS)
  method?: MandateMethod;
}

/** The three fields checkout hands back after the authorisation payment. */
export class VerifyAutoPayDto {
  @ApiProperty({ example: 'order_NZx3kQe1r8Wq2P' })
  @IsString()
  @SingleLine()
  @Length(1, 64)
  razorpay_order_id: string;

  @ApiProperty({ example: 'pay_NZx4aBc9dEf0Gh' })
  @IsString()
  @SingleLine()
  @Length(1, 64)
  razorpay_payment_id: string;

  @ApiProperty({ description: 'hex HMAC-SHA256 of "<order id>|<payment id>"' })
  @IsString()
  @SingleLine()
  @Length(1, 128)
  razorpay_signature: string;
}
