import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@trektribe/common';
import { EntityManager } from 'typeorm';
import { laneOf } from './outbox-dispatcher';
import { OutboxMessage } from './outbox-message.entity';
import type { RealtimeEvent, RealtimeEvents } from './realtime-events';

export interface EmailMessage {
  to: string;
  topic: string;
  subject: string;
  /** The text part. */
  body: string;
  html?: string;
  userId?: string;
  dedupeKey?: string;
}

export interface TextMessage {
  channel: 'sms' | 'whatsapp';
  /** E.164, or `whatsapp:+…` for WhatsApp. */
  to: string;
  topic: string;
  body: string;
  userId: string;
  dedupeKey?: string;
  /** Not before this instant (quiet hours). */
  notBefore: Date;
  /** The channel has no provider configured: recorded `skipped`, never sent. */
  skipped: boolean;
}

export interface RealtimeMessage<E extends RealtimeEvent = RealtimeEvent> {
  rooms: string[];
  event: E;
  payload: RealtimeEvents[E];
}

/**
 * Records side effects inside the caller's transaction; the unit of work kicks the dispatcher once
 * that transaction commits (nothing is sent for a rollback), and the dispatch job retries.
 */
@Injectable()
export class OutboxService {
  constructor(private readonly uow: UnitOfWork) {}

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
        html: msg.html ?? null,
        userId: msg.userId ?? null,
        dedupeKey: msg.dedupeKey ?? null,
      })
      .orIgnore() // a repeated dedupe key means it was already queued: once is the point
      .execute();
    this.uow.kickAfterCommit(manager, laneOf('email'));
  }

  async enqueueText(manager: EntityManager, msg: TextMessage): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(OutboxMessage)
      .values({
        channel: msg.channel,
        topic: msg.topic,
        recipient: msg.to,
        body: msg.body,
        userId: msg.userId,
        dedupeKey: msg.dedupeKey ?? null,
        status: msg.skipped ? 'skipped' : 'pending',
        nextAttemptAt: msg.notBefore,
      })
      .orIgnore()
      .execute();
    if (!msg.skipped) this.uow.kickAfterCommit(manager, laneOf(msg.channel));
  }

  async enqueueRealtime<E extends RealtimeEvent>(
    manager: EntityManager,
    msg: RealtimeMessage<E>,
  ): Promise<void> {
    await manager.insert(
      OutboxMessage,
      manager.create(OutboxMessage, {
        channel: 'realtime',
        topic: msg.event,
        recipient: msg.rooms.join(','),
        payload: msg.payload,
      }),
    );
    this.uow.kickAfterCommit(manager, laneOf('realtime'));
  }
}
