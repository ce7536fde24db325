import { Module } from '@nestjs/common';
import { AuthModule } from '@trektribe/auth';
import { BookingModule } from '@trektribe/booking';
import { CommonModule } from '@trektribe/common';
import { NotificationsModule } from '@trektribe/notifications';
import { GatewayModule } from '../gateway/gateway.module';
import { RefundsModule } from '../refunds/refunds.module';
import { LedgerRecords } from './ledger-records';
import { PaymentLedger } from './payment-ledger.service';
import { AdminPaymentsController, PaymentsController } from './payments.controller';
import { PaymentsQueryService } from './payments-query.service';
import { ReconciliationService } from './reconciliation.service';
import { SubscriptionPayments } from './subscription-payments';
import { UnkeptPayments } from './unkept-payments';

/**
 * The money ledger: the only writer of `payments` and `payment_orders` (PaymentLedger records a
 * gateway payment against its order; LedgerRecords holds the plain row writes others ask for), the
 * payment views, and the 10-minute reconciliation. SubscriptionsModule attaches to
 * SubscriptionPayments; checkout, webhooks and proofs call PaymentLedger.
 */
@Module({
  imports: [AuthModule, BookingModule, CommonModule, NotificationsModule, GatewayModule, RefundsModule],
  controllers: [PaymentsController, AdminPaymentsController],
  providers: [
    PaymentLedger,
    LedgerRecords,
    UnkeptPayments,
    PaymentsQueryService,
    ReconciliationService,
    SubscriptionPayments,
  ],
  exports: [PaymentLedger, LedgerRecords, ReconciliationService, SubscriptionPayments],
})
export class LedgerModule {}
