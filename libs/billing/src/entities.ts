import { PaymentOrder } from './ledger/payment-order.entity';
import { Payment } from './ledger/payment.entity';
import { PaymentProof } from './proofs/payment-proof.entity';
import { Refund } from './refunds/refund.entity';
import { SubscriptionChargeFailure } from './subscriptions/subscription-charge-failure.entity';
import { SubscriptionCycle } from './subscriptions/subscription-cycle.entity';
import { Subscription } from './subscriptions/subscription.entity';
import { WebhookEvent } from './webhooks/webhook-event.entity';

export const BILLING_ENTITIES = [
  PaymentOrder,
  Payment,
  Refund,
  WebhookEvent,
  PaymentProof,
  Subscription,
  SubscriptionCycle,
  SubscriptionChargeFailure,
];
