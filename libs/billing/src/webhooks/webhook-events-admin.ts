import { Injectable } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Actor } from '@trektribe/auth';
import {
  AuditService,
  CsvExport,
  CsvFile,
  DomainError,
  Page,
  PageQuery,
  offsetOf,
  SingleLine,
} from '@trektribe/common';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { DataSource } from 'typeorm';
import { WebhookApplier } from './webhook-applier';
import { WebhookEventStore } from './webhook-event-store';

/**
 * Where a stored event stands: `waiting` to be applied (just received, or left by a crashed instance),
 * `failing` (its application ended in an error and is retried with a backoff: what an admin looks at),
 * `processed` (applied, or ignored by our rules; `outcome` says which).
 */
export const WEBHOOK_EVENT_STATUSES = ['waiting', 'failing', 'processed'] as const;
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];

export class AdminWebhookEventsQuery extends PageQuery {
  @ApiPropertyOptional({
    enum: WEBHOOK_EVENT_STATUSES,
    description: '`failing`: the ones that need a person',
  })
  @IsOptional()
  @IsIn(WEBHOOK_EVENT_STATUSES)
  status?: WebhookEventStatus;

  @ApiPropertyOptional({ example: 'payment.captured' })
  @IsOptional()
  @IsString()
  @SingleLine()
  @MaxLength(60)
  type?: string;

  @ApiPropertyOptional({ description: "Razorpay's event id (x-razorpay-event-id)" })
  @IsOptional()
  @IsString()
  @SingleLine()
  @MaxLength(100)
  eventId?: string;
}

interface EventRow {
  id: string;
  event_id: string;
  event_type: string;
  outcome: string | null;
  attempts: number;
  last_error: string | null;
  received_at: Date;
  processed_at: Date | null;
  claimed_until: Date | null;
  payload?: unknown;
}

function statusOf(r: EventRow): WebhookEventStatus {
  if (r.processed_at) return 'processed';
  return r.attempts > 0 ? 'failing' : 'waiting';
}

function toView(r: EventRow) {
  const status = statusOf(r);
  return {
    id: r.id,
    eventId: r.event_id,
    type: r.event_type,
    status,
    outcome: r.outcome,
    attempts: r.attempts,
    lastError: r.last_error,
    /** When a failing event is tried again by itself (its backoff ends). */
    nextAttemptAt: status === 'failing' ? r.claimed_until : null,
    receivedAt: r.received_at,
    processedAt: r.processed_at,
    ...(r.payload !== undefined ? { payload: r.payload } : {}),
  };
}
export type WebhookEventView = ReturnType<typeof toView>;

const COLUMNS = `id, event_id, event_type, outcome, attempts, last_error, received_at, processed_at, claimed_until`;
const STATUS_SQL: Record<WebhookEventStatus, string> = {
  waiting: 'processed_at IS NULL AND attempts = 0',
  failing: 'processed_at IS NULL AND attempts > 0',
  processed: 'processed_at IS NOT NULL',
};

/**
 * The admin's view of received Razorpay events: what came in, what it did, and the events whose
 * application keeps failing (a bug, or data the rules did not foresee), with a way to try one again
 * now instead of waiting out its backoff.
 */
@Injectable()
export class WebhookEventsAdmin {
  constructor(
    private readonly dataSource: DataSource,
    private readonly applier: WebhookApplier,
    private readonly store: WebhookEventStore,
    private readonly audit: AuditService,
    private readonly csv: CsvExport,
  ) {}

  async list(q: AdminWebhookEventsQuery): Promise<Page<WebhookEventView>> {
    const { filter, params } = this.filter(q);
    const [rows, [{ total }]] = await Promise.all([
      this.dataSource.query(
        `SELECT ${COLUMNS} FROM webhook_events ${filter}
          ORDER BY received_at DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, q.limit, offsetOf(q)],
      ) as Promise<EventRow[]>,
      this.dataSource.query(`SELECT count(*)::int AS total FROM webhook_events ${filter}`, params) as Promise<
        { total: number }[]
      >,
    ]);
    return Page.of(rows.map(toView), total, q);
  }

  /** Every event `list` would page through (without payloads), as a CSV download. */
  listCsv(q: AdminWebhookEventsQuery): CsvFile {
    const { filter, params } = this.filter(q);
    const status = `CASE WHEN ${STATUS_SQL.processed} THEN 'processed' WHEN ${STATUS_SQL.failing} THEN 'failing' ELSE 'waiting' END`;
    return this.csv.file(
      {
        sql: `SELECT id, event_id AS "eventId", event_type AS "type", ${status} AS "status", outcome,
                     attempts, last_error AS "lastError",
                     CASE WHEN ${STATUS_SQL.failing} THEN claimed_until END AS "nextAttemptAt",
                     received_at AS "receivedAt", processed_at AS "processedAt"
                FROM webhook_events ${filter}`,
        params,
        columns: [
          'id',
          'eventId',
          'type',
          'status',
          'outcome',
          'attempts',
          'lastError',
          'nextAttemptAt',
          'receivedAt',
          'processedAt',
        ],
        orderBy: [
          ['receivedAt', 'DESC'],
          ['id', 'DESC'],
        ],
      },
      'webhook-events',
    );
  }

  private filter(q: AdminWebhookEventsQuery): { filter: string; params: unknown[] } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.status) where.push(STATUS_SQL[q.status]);
    if (q.type) where.push(`event_type = $${params.push(q.type)}`);
    if (q.eventId) where.push(`event_id = $${params.push(q.eventId)}`);
    return { filter: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
  }

  /** One event, with the payload as received. */
  async get(id: string): Promise<WebhookEventView> {
    const [row] = (await this.dataSource.query(
      `SELECT ${COLUMNS}, payload FROM webhook_events WHERE id = $1`,
      [id],
    )) as EventRow[];
    if (!row) throw DomainError.notFound('Webhook event');
    return toView(row);
  }

  /**
   * Applies an unprocessed event now, whatever its backoff, and answers with where it stands after.
   * Exactly once still holds if another instance happens to apply it at the same moment: the effect's
   * transaction marks the row processed only if nobody did, and rolls back otherwise.
   */
  async retry(actor: Actor, id: string): Promise<WebhookEventView> {
    const takeIt = this.applier.hasRoom();
    const claimed = await this.dataSource.transaction(async (m) => {
      const [row] = (await m.query(
        `SELECT ${COLUMNS}, payload FROM webhook_events WHERE id = $1 FOR UPDATE`,
        [id],
      )) as EventRow[];
      if (!row) throw DomainError.notFound('Webhook event');
      if (row.processed_at)
        throw new DomainError(
          'WEBHOOK_EVENT_PROCESSED',
          `This event was already processed (${row.outcome ?? 'no outcome'})`,
        );
      if (row.attempts === 0 && row.claimed_until && new Date(row.claimed_until).getTime() > Date.now()) {
        throw new DomainError('WEBHOOK_EVENT_BUSY', 'This event is being applied right now');
      }
      // This instance takes it; one that is stopping (or full) leaves it to the next pull.
      const claimedUntil = await this.store.retake(m, id, takeIt);
      const before = { ...row, payload: undefined };
      await this.audit.record(m, {
        actor,
        action: 'webhook_event.retry_requested',
        entityType: 'webhook_event',
        entityId: id,
        before: toView(before),
        after: toView({ ...before, claimed_until: claimedUntil }),
      });
      return row;
    });
    if (takeIt) {
      const stored = {
        rowId: claimed.id,
        eventId: claimed.event_id,
        type: claimed.event_type,
        payload: claimed.payload,
      };
      await this.applier.submitFromRequest(stored, true); // ahead of any backlog
    }
    return this.get(id);
  }
}
