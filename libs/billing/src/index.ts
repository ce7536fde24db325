export { BillingModule } from './billing.module';
export { BILLING_ENTITIES } from './entities';
export { RazorpayGateway } from './gateway/razorpay.gateway';
export { ProofsModule } from './proofs/proofs.module';
export { ProofsService } from './proofs/proofs.service';
