import type { TextChannel } from './texts/twilio-client';

/**
 * An email or text (SMS, WhatsApp) reached its final state in the outbox: handed to the provider
 * (`sent`), `skipped` (no provider configured) or `failed` for good. Emitted by the dispatcher in
 * the transaction that records it, so a sender that keeps a delivery status of its own (a support
 * reply) changes in step. Optional: nobody has to listen.
 */
export interface MessageSettled {
  outboxId: string;
  topic: string;
  channel: 'email' | TextChannel;
  /** The outbox row's key: the notification's dedupe key (+ `:sms` or `:whatsapp` for texts). */
  dedupeKey: string | null;
  status: 'sent' | 'skipped' | 'failed';
}

declare module '@trektribe/common' {
  interface DomainEvents {
    'notification.settled': MessageSettled;
  }
}
