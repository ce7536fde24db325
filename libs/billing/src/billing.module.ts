import { Module } from '@nestjs/common';
import './billing.errors';
import { GatewayModule } from './gateway/gateway.module';
import { PaymentsModule } from './payments/payments.module';
import { ProofsModule } from './proofs/proofs.module';
import { SubscriptionsModule } from './subscriptions/subscriptions.module';

/**
 * Payments, refunds, webhooks, screenshot proofs and organizer auto-pay, for the app to import.
 * Booking never imports billing: billing handles booking's events (`booking.cancelled`,
 * `trip.listing`) and calls booking's facades. Inside billing, SubscriptionsModule imports
 * PaymentsModule and attaches to its SubscriptionPayments, so there is no cycle to hide.
 */
@Module({
  imports: [GatewayModule, PaymentsModule, ProofsModule, SubscriptionsModule],
  exports: [GatewayModule, PaymentsModule, ProofsModule, SubscriptionsModule],
})
export class BillingModule {}
