import { Module } from '@nestjs/common';
import { AuthModule } from '@trektribe/auth';
import { BookingModule } from '@trektribe/booking';
import { CommonModule } from '@trektribe/common';
import { NotificationsModule } from '@trektribe/notifications';
import { GatewayModule } from '../gateway/gateway.module';
import { SubscriptionPayments } from '../ports';
import { AdminRefundsController } from '../refunds/refunds.controller';
import { RefundSender } from '../refunds/refund-sender';
import { RefundSettlement } from '../refunds/refund-settlement';
import { RefundsService } from '../refunds/refunds.service';
import { AdminWebhookEventsController } from '../webhooks/admin-webhook-events.controller';
import { WebhookApplier } from '../webhooks/webhook-applier';
import { WebhookEffects } from '../webhooks/webhook-effects';
import { WebhookEventStore } from '../webhooks/webhook-event-store';
import { WebhookEventsAdmin } from '../webhooks/webhook-events-admin';
import { WebhooksService } from '../webhooks/webhooks.service';
import { CheckoutController } from './checkout.controller';
import { CheckoutService } from './checkout.service';
import { LedgerRecords } from './ledger-records';
import { PaymentLedger } from './payment-ledger.service';
import {
  AdminPaymentsController,
  OrganizerEarningsController,
  PaymentsController,
} from './payments.controller';
import { PaymentsQueryService } from './payments-query.service';
import { ReconciliationService } from './reconciliation.service';

/**
 * Online booking payments, refunds (RefundsService handles booking's `booking.cancelled`), the
 * Razorpay webhook (and its admin view) and reconciliation. Exports RefundsService,
 * ReconciliationService and WebhookApplier for the scheduler's jobs, WebhooksService for the webhook
 * controller in apps/api, and SubscriptionPayments for SubscriptionsModule to attach to.
 */
@Module({
  imports: [AuthModule, BookingModule, CommonModule, NotificationsModule, GatewayModule],
  controllers: [
    CheckoutController,
    PaymentsController,
    AdminPaymentsController,
    OrganizerEarningsController,
    AdminRefundsController,
    AdminWebhookEventsController,
  ],
  providers: [
    PaymentLedger,
    LedgerRecords,
    CheckoutService,
    ReconciliationService,
    PaymentsQueryService,
    RefundsService,
    RefundSender,
    RefundSettlement,
    WebhooksService,
    WebhookEventStore,
    WebhookEffects,
    WebhookApplier,
    WebhookEventsAdmin,
    SubscriptionPayments,
  ],
  exports: [
    RefundsService,
    ReconciliationService,
    PaymentLedger,
    LedgerRecords,
    WebhookApplier,
    WebhooksService,
    SubscriptionPayments,
  ],
})
export class PaymentsModule {}
