import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Clock, LeasedQueue, QueueRunner, returnedRows, UnitOfWork } from '@trektribe/common';
import { DataSource, EntityManager } from 'typeorm';
import { MailTransport } from '../mail/mail-transport';
import { PermanentDeliveryError, TwilioClient } from '../texts/twilio-client';
import { OutboxChannel, OutboxMessage } from './outbox-message.entity';
import { RealtimePublisher } from './realtime-publisher';
import type { MessageSettled } from '../notifications.events';

/**
 * The outbox's lanes, each its own queue and worker, so channels never wait on each other: a slow
 * or dead mail server holds up email only, never socket events (API.md: delivered after commit).
 */
export const OUTBOX_LANES = {
  'outbox:realtime': ['realtime'],
  'outbox:email': ['email'],
  'outbox:texts': ['sms', 'whatsapp'],
} as const satisfies Record<string, readonly OutboxChannel[]>;
export type OutboxLane = keyof typeof OUTBOX_LANES;
/** The lane that carries a channel's rows (what OutboxService kicks after a commit). */
export const laneOf = (channel: OutboxChannel): OutboxLane =>
  channel === 'realtime' ? 'outbox:realtime' : channel === 'email' ? 'outbox:email' : 'outbox:texts';

const MAX_ATTEMPTS = 8;
const LEASE_MS = 5 * 60_000;

export interface DispatchResult {
  sent: number;
  retried: number;
  failed: number;
  /** The channel is off (no provider configured): recorded, not sent. */
  skipped: number;
}

/** Rows in flight: claimed by one pass, delivered or rescheduled by it. */
type Claimed = Pick<
  OutboxMessage,
  | 'id'
  | 'channel'
  | 'topic'
  | 'recipient'
  | 'subject'
  | 'body'
  | 'html'
  | 'payload'
  | 'attempts'
  | 'dedupeKey'
> & { leaseUntil: Date };
/** A message is only started while this much of its lease is left (a send may take a provider timeout). */
const LEASE_MARGIN_MS = 60_000;

/** One lane of the outbox as a leased queue: its channels' due rows, claimed and delivered in batches. */
class Lane implements LeasedQueue<Claimed, DispatchResult> {
  readonly runner: QueueRunner<Claimed, DispatchResult>;
  batch = 100;

  constructor(
    readonly name: OutboxLane,
    private readonly dispatcher: OutboxDispatcher,
  ) {
    this.runner = new QueueRunner(this);
  }

  newTally(): DispatchResult {
    return { sent: 0, retried: 0, failed: 0, skipped: 0 };
  }

  batchSize(): number {
    return this.batch;
  }

  claim(limit: number): Promise<Claimed[]> {
    return this.dispatcher.claim(OUTBOX_LANES[this.name], limit);
  }

  handle(batch: Claimed[], total: DispatchResult): Promise<'continue' | 'stop'> {
    return this.name === 'outbox:realtime'
      ? this.dispatcher.handleRealtime(batch, total)
      : this.dispatcher.handleOneByOne(batch, total);
  }
}

/**
 * Delivers outbox rows after their transaction commits: OutboxService asks the unit of work to kick
 * the row's lane once the writing transaction commits; the dispatch job runs every lane each minute
 * for retries. Rows are claimed with a lease (`FOR UPDATE SKIP LOCKED`), so two instances never
 * send one row twice.
 */
@Injectable()
export class OutboxDispatcher implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxDispatcher.name);
  private readonly lanes = (Object.keys(OUTBOX_LANES) as OutboxLane[]).map((name) => new Lane(name, this));
  private realtime: RealtimePublisher | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly mail: MailTransport,
    private readonly texts: TwilioClient,
    private readonly clock: Clock,
    private readonly uow: UnitOfWork,
  ) {}

  onModuleInit(): void {
    for (const lane of this.lanes) this.uow.registerQueue(lane.runner);
  }

  /**
   * The socket server, which registers itself when it starts (the app owns it; without one, realtime
   * rows are marked sent, as nobody could be listening).
   */
  useRealtime(publisher: RealtimePublisher): void {
    this.realtime = publisher;
  }

  /**
   * Resolves once everything that was due when it was called has been handled, on every lane (the
   * lanes run side by side; each one pass at a time).
   */
  async dispatchPending(batchSize = 100): Promise<DispatchResult> {
    const tallies = await Promise.all(
      this.lanes.map((lane) => {
        lane.batch = batchSize;
        return lane.runner.runPass();
      }),
    );
    return tallies.reduce((a, b) => ({
      sent: a.sent + b.sent,
      skipped: a.skipped + b.skipped,
      retried: a.retried + b.retried,
      failed: a.failed + b.failed,
    }));
  }

  /**
   * Shutdown closes the socket server and the pool after this hook: finish the passes under way and
   * start no other, so nothing is sent through a closing connection (what is left stays pending).
   */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.runner.stop()));
  }

  /**
   * Socket events: published in-process (no provider to wait on), then marked in one statement for
   * the batch; per-message updates starved the pool under load.
   */
  async handleRealtime(batch: Claimed[], total: DispatchResult): Promise<'continue'> {
    const sent: string[] = [];
    for (const msg of batch) {
      const outcome = await this.deliver(msg);
      if (outcome === 'sent') sent.push(msg.id);
      total[outcome]++;
    }
    if (sent.length) {
      await this.dataSource.query(
        `UPDATE notification_outbox SET status = 'sent', sent_at = $2 WHERE id = ANY($1::uuid[])`,
        [sent, this.clock.now()],
      );
    }
    return 'continue';
  }

  /**
   * Email and texts wait on a provider: each message is marked as soon as it went out (a crash then
   * re-sends at most the one in flight), and none is started once its lease is nearly over, since
   * another instance may claim it again after the lease (it stays leased, and comes back then).
   */
  async handleOneByOne(batch: Claimed[], total: DispatchResult): Promise<'continue' | 'stop'> {
    for (const msg of batch) {
      if (this.clock.now().getTime() >= new Date(msg.leaseUntil).getTime() - LEASE_MARGIN_MS) return 'stop';
      const outcome = await this.deliver(msg);
      total[outcome]++;
      if (outcome === 'sent' || outcome === 'skipped') {
        await this.settle(msg, outcome, async (m) =>
          returnedRows(
            await m.query(
              `UPDATE notification_outbox SET status = $2, sent_at = $3 WHERE id = $1 AND status = 'pending' RETURNING id`,
              [msg.id, outcome, this.clock.now()],
            ),
          ),
        );
      }
    }
    return 'continue';
  }

  /** Claims due rows of some channels by pushing their next attempt past a lease. */
  async claim(channels: readonly OutboxChannel[], limit: number): Promise<Claimed[]> {
    const now = this.clock.now();
    const rows: unknown = await this.dataSource.query(
      `UPDATE notification_outbox SET next_attempt_at = $2, attempts = attempts + 1
        WHERE id IN (SELECT id FROM notification_outbox
                      WHERE status = 'pending' AND channel = ANY($4::varchar[]) AND next_attempt_at <= $1
                      ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING id, channel, topic, recipient, subject, body, html, payload, attempts, dedupe_key AS "dedupeKey",
                  next_attempt_at AS "leaseUntil"`,
      [now, new Date(now.getTime() + LEASE_MS), limit, channels],
    );
    return returnedRows<Claimed>(rows);
  }

  /**
   * Records an email's or text's final state in one transaction with `notification.settled`, so
   * whoever keeps its delivery status (a support reply) changes with it. Only keyed messages can be
   * traced back by anyone, so the others skip the event and its transaction; a row another pass had
   * already settled raises no second event. Should a listener fail, the state is recorded without
   * the event: a message that went out must never be sent again for a listener's sake.
   */
  private async settle(
    msg: Claimed,
    status: MessageSettled['status'],
    record: (m: EntityManager) => Promise<unknown[]>,
  ): Promise<void> {
    const channel = msg.channel;
    if (channel === 'realtime' || !msg.dedupeKey) {
      await record(this.dataSource.manager);
      return;
    }
    try {
      await this.uow.run(async (tx) => {
        if (!(await record(tx.manager)).length) return;
        await tx.emit({
          type: 'notification.settled',
          outboxId: msg.id,
          topic: msg.topic,
          channel,
          dedupeKey: msg.dedupeKey,
          status,
        });
      });
    } catch (err) {
      this.logger.error(
        { id: msg.id, topic: msg.topic, err: err instanceof Error ? err.message : String(err) },
        'a notification.settled listener failed; the message is recorded without it',
      );
      await record(this.dataSource.manager);
    }
  }

  private async deliver(msg: Claimed): Promise<keyof DispatchResult> {
    try {
      if (msg.channel === 'email') {
        return await this.mail.send({
          to: msg.recipient,
          subject: msg.subject ?? '',
          text: msg.body ?? '',
          html: msg.html ?? undefined,
        });
      } else if (msg.channel === 'sms' || msg.channel === 'whatsapp') {
        return await this.texts.send(msg.channel, msg.recipient, msg.body ?? '');
      } else {
        this.realtime?.publish(msg.recipient.split(','), msg.topic, msg.payload ?? {});
      }
      return 'sent';
    } catch (err: unknown) {
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      // A refusal that a retry cannot change (a bad number) fails at once: no retry storm.
      const final = msg.attempts >= MAX_ATTEMPTS || err instanceof PermanentDeliveryError;
      const backoffMs = Math.min(60 * 60_000, 30_000 * 2 ** (msg.attempts - 1));
      const record = async (m: EntityManager) =>
        returnedRows(
          await m.query(
            `UPDATE notification_outbox SET status = $2, last_error = $3, next_attempt_at = $4 WHERE id = $1 RETURNING id`,
            [msg.id, final ? 'failed' : 'pending', message, new Date(this.clock.now().getTime() + backoffMs)],
          ),
        );
      if (final) await this.settle(msg, 'failed', record);
      else await record(this.dataSource.manager);
      this.logger.warn(
        { id: msg.id, topic: msg.topic, attempts: msg.attempts, err: message },
        'outbox delivery failed',
      );
      return final ? 'failed' : 'retried';
    }
  }
}
