import { Module } from '@nestjs/common';
import { BillingModule } from '@trektribe/billing';
import { RazorpayWebhookController } from './razorpay-webhook.controller';

/**
 * The webhook transport: the controller only; verification, storage and effects are billing's.
 * Imported first by AppModule so its route is the first Express matches: a burst of deliveries
 * should not walk every other route of the API on each request.
 */
@Module({ imports: [BillingModule], controllers: [RazorpayWebhookController] })
export class WebhooksModule {}
