import { BeforeApplicationShutdown, Injectable, Logger, Optional } from '@nestjs/common';
import { AsyncResource } from 'node:async_hooks';
import { Clock, returnedRows } from '@trektribe/common';
import { DataSource } from 'typeorm';
import { MailTransport } from '../mail/mail-transport';
import { OutboxMessage } from './outbox-message.entity';
import { RealtimePublisher } from './realtime-publisher';

const MAX_ATTEMPTS = 8;
const LEASE_MS = 5 * 60_000;

export interface DispatchResult {
  sent: number;
  retried: number;
  failed: number;
}

@Injectable()
export class OutboxDispatcher implements BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxDispatcher.name);
  private running: Promise<DispatchResult> | undefined;
  private kicked = false;
  private again = false;
  private readonly detached = new AsyncResource('outbox-dispatch');
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly mail: MailTransport,
    private readonly clock: Clock,
    @Optional() private readonly realtime?: RealtimePublisher,
  ) {}

  /**
   * Deliver soon, after the caller's commit. Kicks collapse: while a pass runs, any number of kicks
   * become one more pass after it (never a queue of waiters). The pass runs in the dispatcher's own
   * async context, so it does not keep the kicking request (its CLS store, req, res) alive.
   */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.kicked) return;
    this.kicked = true;
    this.detached.runInAsyncScope(() =>
      setImmediate(() => {
        this.kicked = false;
        if (this.running) {
          this.again = true;
          return;
        }
        this.dispatchPending().catch((err: unknown) => this.logger.error({ err }, 'outbox dispatch failed'));
      }),
    );
  }

  /** Resolves once everything that was due when it was called has been handled (one pass at a time). */
  async dispatchPending(batchSize = 100): Promise<DispatchResult> {
    while (this.running) await this.running.catch(() => undefined);
    if (this.stopped) return { sent: 0, retried: 0, failed: 0 };
    this.again = false;
    this.running = this.drain(batchSize);
    try {
      return await this.running;
    } finally {
      this.running = undefined;
      if (this.again) this.kick();
    }
  }

  /**
   * Shutdown closes the socket server and the pool after this hook: finish the pass under way and
   * start no other, so nothing is sent through a closing connection (what is left stays pending).
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    while (this.running) await this.running.catch(() => undefined);
  }

  private async drain(batchSize: number): Promise<DispatchResult> {
    const total: DispatchResult = { sent: 0, retried: 0, failed: 0 };
    for (;;) {
      const batch = await this.claim(batchSize);
      const sent: string[] = [];
      for (const msg of batch) {
        const outcome = await this.deliver(msg);
        if (outcome === 'sent') sent.push(msg.id);
        total[outcome]++;
      }
      // One statement for the whole batch: per-message updates starved the pool under load.
      if (sent.length) {
        await this.dataSource.query(`UPDATE notification_outbox SET status = 'sent', sent_at = $2 WHERE id = ANY($1::uuid[])`, [
          sent,
          this.clock.now(),
        ]);
      }
      if (batch.length < batchSize) return total;
    }
  }

  /** Claims due rows by pushing their next attempt past a lease, so two instances never send one twice. */
  private async claim(limit: number): Promise<OutboxMessage[]> {
    const now = this.clock.now();
    const rows: unknown = await this.dataSource.query(
      `UPDATE notification_outbox SET next_attempt_at = $2, attempts = attempts + 1
        WHERE id IN (SELECT id FROM notification_outbox
                      WHERE status = 'pending' AND next_attempt_at <= $1
                      ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING id, channel, topic, recipient, subject, body, payload, attempts`,
      [now, new Date(now.getTime() + LEASE_MS), limit],
    );
    return returnedRows<OutboxMessage>(rows);
  }

  private async deliver(msg: OutboxMessage): Promise<'sent' | 'retried' | 'failed'> {
    try {
      if (msg.channel === 'email') {
        await this.mail.send({ to: msg.recipient, subject: msg.subject ?? '', text: msg.body ?? '' });
      } else {
        this.realtime?.publish(msg.recipient.split(','), msg.topic, msg.payload ?? {});
      }
      return 'sent';
    } catch (err: unknown) {
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      const final = msg.attempts >= MAX_ATTEMPTS;
      const backoffMs = Math.min(60 * 60_000, 30_000 * 2 ** (msg.attempts - 1));
      await this.dataSource.query(
        `UPDATE notification_outbox SET status = $2, last_error = $3, next_attempt_at = $4 WHERE id = $1`,
        [msg.id, final ? 'failed' : 'pending', message, new Date(this.clock.now().getTime() + backoffMs)],
      );
      this.logger.warn({ id: msg.id, topic: msg.topic, attempts: msg.attempts, err: message }, 'outbox delivery failed');
      return final ? 'failed' : 'retried';
    }
  }
}
