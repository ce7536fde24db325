import { Module } from '@nestjs/common';
import { BookingModule, RefundRequester } from '@trektribe/booking';
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
import { AdminPaymentsController, OrganizerEarningsController, PaymentsController } from './payments.controller';
import { PaymentsQueryService } from './payments-query.service';
import { ReconciliationService } from './reconciliation.service';

/**
 * Online booking payments, refunds, the Razorpay webhook (and its admin view) and reconciliation. RefundRequester is
 * exported for booking's cancellations (BillingModule re-exports this module); RefundsService and
 * ReconciliationService and WebhookApplier for the scheduler's jobs; WebhooksService for the
 * webhook controller in apps/api.
 */
@Module({
  imports: [BookingModule],
  controllers: [CheckoutController, PaymentsController, AdminPaymentsController, OrganizerEarningsController, AdminRefundsController, AdminWebhookEventsController],
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
    { provide: RefundRequester, useExisting: RefundsService },
  ],
  exports: [RefundRequester, RefundsService, ReconciliationService, PaymentLedger, LedgerRecords, WebhookApplier, WebhooksService],
})
export class PaymentsModule {}
