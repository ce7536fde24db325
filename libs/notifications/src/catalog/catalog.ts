import { authMessages } from './auth';
import { bookingMessages } from './booking';
import type { MessageContent } from './message';
import { paymentMessages } from './payment';
import { subscriptionMessages } from './subscription';
import { supportMessages } from './support';

/**
 * Every message the product sends, by type (API.md, Notifications), one file per family. Each entry
 * turns the notification's data into plain words (MessageContent); `renderMessage` makes the
 * channels' forms from them. The only place in the code base where messages are worded.
 */
export const CATALOG = {
  ...authMessages,
  ...bookingMessages,
  ...paymentMessages,
  ...subscriptionMessages,
  ...supportMessages,
} satisfies Record<string, (data: never) => MessageContent>;

export type NotificationType = keyof typeof CATALOG;
/** The data a type's message is written from. */
export type NotificationData<T extends NotificationType> = Parameters<(typeof CATALOG)[T]>[0];

export const NOTIFICATION_TYPES = Object.keys(CATALOG) as NotificationType[];

/** Security mail (`auth.*`): sent by email whatever the preferences (API.md: 422 PREFERENCE_LOCKED). */
export function isSecurityType(type: NotificationType): boolean {
  return type.startsWith('auth.');
}

export function contentOf<T extends NotificationType>(type: T, data: NotificationData<T>): MessageContent {
  return (CATALOG[type] as (d: NotificationData<T>) => MessageContent)(data);
}
