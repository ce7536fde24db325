import { Injectable, OnModuleInit } from '@nestjs/common';
import { UnitOfWork } from '@trektribe/common';
import type { MessageSettled } from '@trektribe/notifications';
import { EntityManager } from 'typeorm';
import { TicketMessage } from '../tickets/ticket-message.entity';

const REPLY_KEY = /^ticket-reply:([0-9a-f-]{36})(?::(sms|whatsapp))?$/;

/** The dedupe key of a reply's notification: its email, and `:sms` / `:whatsapp` for its texts. */
export const replyKey = (messageId: string) => `ticket-reply:${messageId}`;

/**
 * Keeps each reply's `delivery` in step with the outbox (`notification.settled`): the outcome of the
 * channel the agent chose (the email for `email`, the text for `sms` / `whatsapp`), in the same
 * transaction that records it.
 */
@Injectable()
export class ReplyDelivery implements OnModuleInit {
  constructor(private readonly uow: UnitOfWork) {}

  onModuleInit(): void {
    this.uow.on('notification.settled', ({ manager }, e) => this.settle(manager, e));
  }

  private async settle(m: EntityManager, e: MessageSettled): Promise<void> {
    const match = e.dedupeKey ? REPLY_KEY.exec(e.dedupeKey) : null;
    if (!match) return;
    const channel = match[2] ?? 'email';
    if (channel !== e.channel) return;
    await m.update(TicketMessage, { id: match[1], channel }, { delivery: e.status });
  }
}
