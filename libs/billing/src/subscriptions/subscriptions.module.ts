import { AuthModule } from '@trektribe/auth';
import { Module } from '@nestjs/common';
import { BookingModule } from '@trektribe/booking';
import { CommonModule } from '@trektribe/common';
import { NotificationsModule } from '@trektribe/notifications';
import { GatewayModule } from '../gateway/gateway.module';
import { LedgerModule } from '../ledger/ledger.module';
import { RefundsModule } from '../refunds/refunds.module';
import { AutoPayController } from './auto-pay.controller';
import { SubscriptionChargeRun } from './subscription-charge-run';
import { SubscriptionReminders } from './subscription-reminders';
import { AutoPayService } from './auto-pay.service';
import { ChargeCycles } from './charge-cycles';
import { ChargeOrders } from './charge-orders';
import { Mandates } from './mandates';
import { SubscriptionLifecycle } from './subscription-lifecycle';
import { SubscriptionStore } from './subscription-store';
import { SubscriptionsService } from './subscriptions.service';

/**
 * Organizer auto-pay. SubscriptionsService attaches to LedgerModule's SubscriptionPayments (the
 * webhook side hands subscription payments and confirmed tokens over) and handles booking's
 * `trip.listing` event (a suspended or lapsed organizer may not list trips).
 */
@Module({
  imports: [
    AuthModule,
    BookingModule,
    CommonModule,
    NotificationsModule,
    GatewayModule,
    LedgerModule,
    RefundsModule,
  ],
  controllers: [AutoPayController],
  providers: [
    SubscriptionsService,
    SubscriptionStore,
    SubscriptionLifecycle,
    Mandates,
    AutoPayService,
    SubscriptionChargeRun,
    ChargeCycles,
    ChargeOrders,
    SubscriptionReminders,
  ],
  exports: [SubscriptionsService, SubscriptionChargeRun, SubscriptionReminders],
})
export class SubscriptionsModule {}
