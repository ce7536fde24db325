import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { OutboxMessage } from './outbox-message.entity';
import type { RealtimeEvent, RealtimeEvents } from './realtime-events';

export interface EmailMessage {
  to: string;
  topic: string;
  subject: string;
  body: string;
  dedupeKey?: string;
}

export interface RealtimeMessage<E extends RealtimeEvent = RealtimeEvent> {
  rooms: string[];
  event: E;
  payload: RealtimeEvents[E];
}

/** Records side effects inside the caller's transaction; the dispatcher delivers them after commit. */
@Injectable()
export class OutboxService {
  async enqueueEmail(manager: EntityManager, msg: EmailMessage): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(OutboxMessage)
      .values({
        channel: 'email',
        topic: msg.topic,
        recipient: msg.to,
        subject: msg.subject,
        body: msg.body,
        dedupeKey: msg.dedupeKey ?? null,
      })
      .orIgnore() // a repeated dedupe key means it was already queued: once is the point
      .execute();
  }

  async enqueueRealtime<E extends RealtimeEvent>(manager: EntityManager, msg: RealtimeMessage<E>): Promise<void> {
    await manager.insert(
      OutboxMessage,
      manager.create(OutboxMessage, { channel: 'realtime', topic: msg.event, recipient: msg.rooms.join(','), payload: msg.payload }),
    );
  }
}
