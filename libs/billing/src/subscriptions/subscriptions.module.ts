import { AuthModule } from '@trektribe/auth';
import { Module } from '@nestjs/common';
import { BookingModule, ListingPolicy } from '@trektribe/booking';
import { SubscriptionPaymentHandler } from '../ports';
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
 * Organizer auto-pay. Implements two ports: SubscriptionPaymentHandler (the webhook side hands
 * subscription payments and confirmed tokens over) and booking's ListingPolicy (a suspended or lapsed
 * organizer may not list trips). The global BillingModule re-exports this module, which makes both
 * bindings (and the job services) reachable everywhere; RazorpayGateway comes from it too.
 */
@Module({
  imports: [AuthModule, BookingModule],
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
    { provide: SubscriptionPaymentHandler, useExisting: SubscriptionsService },
    { provide: ListingPolicy, useExisting: SubscriptionsService },
  ],
  exports: [SubscriptionsService, SubscriptionChargeRun, SubscriptionReminders, SubscriptionPaymentHandler, ListingPolicy],
})
export class SubscriptionsModule {}
