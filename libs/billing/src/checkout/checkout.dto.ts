import { ApiProperty } from '@nestjs/swagger';
import { SingleLine } from '@trektribe/common';
import { IsString, Matches, MaxLength } from 'class-validator';

/** The three fields checkout.js hands the client after a successful payment (Razorpay's own names). */
export class VerifyCheckoutDto {
  @ApiProperty({ example: 'order_NZx3kQe1r8Wq2P' })
  @IsString()
  @MaxLength(64)
  @Matches(/^order_[A-Za-z0-9]+$/, { message: 'razorpay_order_id must look like order_…' })
  razorpay_order_id: string;

  @ApiProperty({ example: 'pay_NZx3kQe1r8Wq2P' })
  @IsString()
  @MaxLength(64)
  @Matches(/^pay_[A-Za-z0-9]+$/, { message: 'razorpay_payment_id must look like pay_…' })
  razorpay_payment_id: string;

  @ApiProperty({ description: 'hex HMAC-SHA256 from checkout' })
  @IsString()
  @SingleLine()
  @MaxLength(128)
  razorpay_signature: string;
}
