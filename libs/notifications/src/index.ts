export { NotificationsModule } from './notifications.module';
export { OutboxService, EmailMessage, RealtimeMessage } from './outbox/outbox.service';
export type { RealtimeEvents, RealtimeEvent, PaymentUpdatedPayload, BookingChangedPayload, NotificationPayload } from './outbox/realtime-events';
export { OutboxDispatcher, DispatchResult } from './outbox/outbox-dispatcher';
export { RealtimePublisher } from './outbox/realtime-publisher';
export { OutboxMessage } from './outbox/outbox-message.entity';

import { OutboxMessage } from './outbox/outbox-message.entity';
export const NOTIFICATIONS_ENTITIES = [OutboxMessage];
