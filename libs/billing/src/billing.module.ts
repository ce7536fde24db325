import { Module } from '@nestjs/common';
import { AdminStatsModule } from './admin-stats/admin-stats.module';
import './billing.errors';
import { CheckoutModule } from './checkout/checkout.module';
import { GatewayModule } from './gateway/gateway.module';
import { LedgerModule } from './ledger/ledger.module';
import { ProofsModule } from './proofs/proofs.module';
import { RefundsModule } from './refunds/refunds.module';
import { SubscriptionsModule } from './subscriptions/subscriptions.module';
import { GatewayWebhooksModule } from './webhooks/gateway-webhooks.module';

/**
 * Payments, refunds, webhooks, screenshot proofs and organizer auto-pay, for the app to import; one
 * Nest module per folder. The imports run one way: refunds ← ledger ← checkout, webhooks, proofs,
 * subscriptions. Upstream code reaches downstream only by events (`refund.processed`) or by the
 * SubscriptionPayments slot SubscriptionsService attaches to. Booking never imports billing: billing
 * handles booking's events (`booking.cancelled`, `trip.listing`) and calls booking's facades.
 */
@Module({
  imports: [
    GatewayModule,
    RefundsModule,
    LedgerModule,
    CheckoutModule,
    GatewayWebhooksModule,
    ProofsModule,
    SubscriptionsModule,
    AdminStatsModule,
  ],
  exports: [
    GatewayModule,
    RefundsModule,
    LedgerModule,
    GatewayWebhooksModule,
    ProofsModule,
    SubscriptionsModule,
    AdminStatsModule,
  ],
})
export class BillingModule {}
