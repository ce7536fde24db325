import { Global, Module } from '@nestjs/common';
import { BookingModule } from '@trektribe/booking';
import './billing.errors';
import { RazorpayGateway } from './gateway/razorpay.gateway';
import { PaymentsModule } from './payments/payments.module';
import { ProofsModule } from './proofs/proofs.module';
import { SubscriptionsModule } from './subscriptions/subscriptions.module';

/**
 * Payments, refunds, webhooks, screenshot proofs and organizer auto-pay. Global so booking can reach
 * the ports billing implements (RefundRequester, ListingPolicy) and the sub-modules can reach each
 * other's ports (SubscriptionPaymentHandler) without import cycles.
 */
@Global()
@Module({
  imports: [BookingModule, PaymentsModule, ProofsModule, SubscriptionsModule],
  providers: [RazorpayGateway],
  // Re-exporting the sub-modules makes their exported services and port bindings global.
  exports: [RazorpayGateway, PaymentsModule, ProofsModule, SubscriptionsModule],
})
export class BillingModule {}
