export { BillingModule } from './billing.module';
export { BILLING_ENTITIES } from './entities';
export { RazorpayGateway } from './gateway/razorpay.gateway';
