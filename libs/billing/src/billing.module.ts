import { Global, Module } from '@nestjs/common';
import { BookingModule } from '@trektribe/booking';
import { RazorpayGateway } from './gateway/razorpay.gateway';

/**
 * Payments, refunds, webhooks, screenshot proofs and organizer auto-pay. Global so booking can reach
 * the ports billing implements (RefundRequester, ListingPolicy) without importing billing.
 */
@Global()
@Module({
  imports: [BookingModule],
  providers: [RazorpayGateway],
  exports: [RazorpayGateway],
})
export class BillingModule {}
