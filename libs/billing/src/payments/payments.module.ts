import { Module } from '@nestjs/common';
import { BookingModule, RefundRequester } from '@trektribe/booking';
import { AdminRefundsController } from '../refunds/refunds.controller';
import { RefundsService } from '../refunds/refunds.service';
import { RazorpayWebhookController } from '../webhooks/webhooks.controller';
import { WebhooksService } from '../webhooks/webhooks.service';
import { CheckoutController } from './checkout.controller';
import { CheckoutService } from './checkout.service';
import { PaymentLedger } from './payment-ledger.service';
import { AdminPaymentsController, OrganizerEarningsController, PaymentsController } from './payments.controller';
import { PaymentsQueryService } from './payments-query.service';
import { ReconciliationService } from './reconciliation.service';

/**
 * Online booking payments, refunds, the Razorpay webhook and reconciliation. RefundRequester is
 * exported for booking's cancellations (BillingModule re-exports this module); RefundsService and
 * ReconciliationService for the scheduler's jobs.
 */
@Module({
  imports: [BookingModule],
  controllers: [CheckoutController, PaymentsController, AdminPaymentsController, OrganizerEarningsController, AdminRefundsController, RazorpayWebhookController],
  providers: [
    PaymentLedger,
    CheckoutService,
    ReconciliationService,
    PaymentsQueryService,
    RefundsService,
    WebhooksService,
    { provide: RefundRequester, useExisting: RefundsService },
  ],
  exports: [RefundRequester, RefundsService, ReconciliationService, PaymentLedger],
})
export class PaymentsModule {}
