export { NotificationsModule } from './notifications.module';
export { OutboxService } from './outbox/outbox.service';
export { Notifier, NotificationRequest, NotificationReceipt, TextReceipt } from './notifier';
export type { MessageSettled } from './notifications.events';
export { staleProofTicketText, SystemTicketText } from './catalog/support';
export type { NotificationType, NotificationData } from './catalog/catalog';
export type { PaymentUpdatedPayload } from './outbox/realtime-events';
export { OutboxDispatcher } from './outbox/outbox-dispatcher';
export { RealtimePublisher } from './outbox/realtime-publisher';

import { Notification } from './inbox/notification.entity';
import { OutboxMessage } from './outbox/outbox-message.entity';
import { NotificationPreference } from './preferences/notification-preference.entity';
export const NOTIFICATIONS_ENTITIES = [OutboxMessage, Notification, NotificationPreference];
