export { BillingModule } from './billing.module';

export const BILLING_ENTITIES: (new () => object)[] = [];
