import { Module } from '@nestjs/common';
import { RazorpayGateway } from './razorpay.gateway';

/** The Razorpay client, shared by payments, proofs and subscriptions. */
@Module({
  providers: [RazorpayGateway],
  exports: [RazorpayGateway],
})
export class GatewayModule {}
