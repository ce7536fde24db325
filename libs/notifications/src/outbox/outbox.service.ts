import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { OutboxMessage } from './outbox-message.entity';

export interface EmailMessage {
  to: string;
  topic: string;
  subject: string;
  body: string;
  dedupeKey?: string;
}

export interface RealtimeMessage {
  rooms: string[];
  event: string;
  payload: Record<string, unknown>;
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

  async enqueueRealtime(manager: EntityManager, msg: RealtimeMessage): Promise<void> {
    await manager.insert(
      OutboxMessage,
      manager.create(OutboxMessage, { channel: 'realtime', topic: msg.event, recipient: msg.rooms.join(','), payload: msg.payload }),
    );
  }
}
