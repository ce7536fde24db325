import { Module } from '@nestjs/common';
import { AuthModule } from '@trektribe/auth';
import { CommonModule } from '@trektribe/common';
import { GatewayModule } from '../gateway/gateway.module';
import { LedgerModule } from '../ledger/ledger.module';
import { RefundsModule } from '../refunds/refunds.module';
import { AdminWebhookEventsController } from './admin-webhook-events.controller';
import { WebhookApplier } from './webhook-applier';
import { WebhookEffects } from './webhook-effects';
import { WebhookEventStore } from './webhook-event-store';
import { WebhookEventsAdmin } from './webhook-events-admin';
import { WebhooksService } from './webhooks.service';

/**
 * Razorpay webhooks: verified and stored on receipt (unique event id), applied behind it exactly
 * once through the ledger, refunds and SubscriptionPayments; the admin's view and retry. The HTTP
 * route itself is apps/api's (WebhooksModule), which calls WebhooksService.
 */
@Module({
  imports: [AuthModule, CommonModule, GatewayModule, LedgerModule, RefundsModule],
  controllers: [AdminWebhookEventsController],
  providers: [WebhooksService, WebhookEventStore, WebhookEffects, WebhookApplier, WebhookEventsAdmin],
  exports: [WebhooksService, WebhookApplier],
})
export class GatewayWebhooksModule {}
