import { Injectable, Logger } from '@nestjs/common';
import { returnedRows } from '@trektribe/common';
import { DataSource, EntityManager } from 'typeorm';

/** How long the receiving instance keeps an event to itself before any instance may apply it. */
const WEBHOOK_LEASE_SECONDS = 120;
/** Most rows in one intake INSERT. */
const MAX_INTAKE_BATCH = 500;
/** Intake INSERTs in flight at once; deliveries arriving meanwhile wait for the next one (group commit). */
const MAX_INTAKE_IN_FLIGHT = 2;

export interface NewWebhookEvent {
  eventId: string;
  type: string;
  /** The parsed event, stored as jsonb. */
  payload: unknown;
  /** True when this instance applies it now; false leaves it for whichever instance pulls it. */
  leased: boolean;
  /** Known on receipt (a type with no effect): the event is stored processed, with this outcome. */
  outcome?: string;
}

export interface StoredWebhookEvent {
  rowId: string;
  eventId: string;
  type: string;
  payload: unknown;
}

interface Pending extends NewWebhookEvent {
  resolve(rowId: string | null): void;
  reject(err: unknown): void;
}

/**
 * The webhook_events table as a durable queue. Receipt is one row per Razorpay event id (the unique
 * key makes a repeat a no-op); the effect's transaction marks it processed; rows an instance dropped
 * (crash, restart, overflow) are claimed again once their lease is over.
 */
@Injectable()
export class WebhookEventStore {
  private readonly logger = new Logger(WebhookEventStore.name);
  private pending: Pending[] = [];
  private inFlight = 0;

  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores a verified event; resolves with its row id, or null when its id was stored before.
   * Deliveries that arrive while an INSERT is in flight are written together in the next one, so
   * a burst costs one statement (and one commit) per batch rather than per event.
   */
  receive(event: NewWebhookEvent): Promise<string | null> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ...event, resolve, reject });
      this.flush();
    });
  }

  /**
   * Marks the event processed with its outcome, through the effect's transaction when there is one.
   * False when it was already processed (another delivery or instance got there first): the caller
   * rolls its effect back.
   */
  async markProcessed(m: EntityManager, rowId: string, outcome: string): Promise<boolean> {
    const rows = returnedRows<{ id: string }>(
      await m.query(
        `UPDATE webhook_events SET outcome = $2, processed_at = now(), claimed_until = NULL, last_error = NULL
          WHERE id = $1 AND processed_at IS NULL RETURNING id`,
        [rowId, outcome.slice(0, 200)],
      ),
    );
    return rows.length > 0;
  }

  /** An application that failed for a reason other than our rules: try again later, backing off. */
  async markFailed(rowId: string, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_events
          SET attempts = attempts + 1, last_error = $2,
              claimed_until = now() + make_interval(secs => LEAST(3600, 30 * power(2, LEAST(attempts, 7))))
        WHERE id = $1 AND processed_at IS NULL`,
      [rowId, error.slice(0, 300)],
    );
  }

  /** Claims unprocessed events nobody holds (oldest first); SKIP LOCKED keeps two instances apart. */
  async claimUnprocessed(limit: number): Promise<StoredWebhookEvent[]> {
    const rows = returnedRows<{ id: string; event_id: string; event_type: string; payload: unknown }>(
      await this.dataSource.query(
        `UPDATE webhook_events SET claimed_until = now() + make_interval(secs => $2)
          WHERE id IN (SELECT id FROM webhook_events
                        WHERE processed_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
                        ORDER BY received_at LIMIT $1 FOR UPDATE SKIP LOCKED)
          RETURNING id, event_id, event_type, payload`,
        [limit, WEBHOOK_LEASE_SECONDS],
      ),
    );
    return rows.map((r) => ({ rowId: r.id, eventId: r.event_id, type: r.event_type, payload: r.payload }));
  }

  /**
   * An admin's retry, inside the caller's transaction (the row locked): this instance takes the event
   * with a fresh lease, or with `take` false frees it for any instance's next pull. Returns the new lease.
   */
  async retake(m: EntityManager, rowId: string, take: boolean): Promise<Date | null> {
    const [row] = returnedRows<{ claimed_until: Date | null }>(
      await m.query(
        `UPDATE webhook_events SET claimed_until = CASE WHEN $2 THEN now() + make_interval(secs => $3) END
          WHERE id = $1 AND processed_at IS NULL RETURNING claimed_until`,
        [rowId, take, WEBHOOK_LEASE_SECONDS],
      ),
    );
    return row?.claimed_until ?? null;
  }

  /** Gives events this instance will not apply (it is stopping) back to the others at once. */
  async release(rowIds: string[]): Promise<void> {
    if (!rowIds.length) return;
    await this.dataSource.query(
      `UPDATE webhook_events SET claimed_until = NULL WHERE id = ANY($1::uuid[]) AND processed_at IS NULL`,
      [rowIds],
    );
  }

  private flush(): void {
    while (this.inFlight < MAX_INTAKE_IN_FLIGHT && this.pending.length) {
      const batch = this.pending.splice(0, MAX_INTAKE_BATCH);
      this.inFlight++;
      void this.insertBatch(batch).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  private async insertBatch(batch: Pending[]): Promise<void> {
    // A repeat inside one batch is answered from the first delivery's result.
    const first = new Map<string, Pending>();
    const repeats: [Pending, Pending][] = [];
    for (const p of batch) {
      const seen = first.get(p.eventId);
      if (seen) repeats.push([p, seen]);
      else first.set(p.eventId, p);
    }
    const unique = [...first.values()];
    const outcome = new Map<Pending, { rowId: string | null } | { err: unknown }>();
    try {
      const ids = await this.insert(unique);
      for (const p of unique) outcome.set(p, { rowId: ids.get(p.eventId) ?? null });
    } catch (err) {
      if (unique.length === 1) {
        outcome.set(unique[0], { err });
      } else {
        // One event the database refuses must not fail the others: store them one by one.
        this.logger.warn(
          { err, size: unique.length },
          'webhook intake batch failed; storing its events one by one',
        );
        for (const p of unique) {
          try {
            outcome.set(p, { rowId: (await this.insert([p])).get(p.eventId) ?? null });
          } catch (one) {
            outcome.set(p, { err: one });
          }
        }
      }
    }
    const settle = (p: Pending, o: { rowId: string | null } | { err: unknown }, repeat: boolean) =>
      'err' in o ? p.reject(o.err) : p.resolve(repeat ? null : o.rowId);
    for (const p of unique) settle(p, outcome.get(p)!, false);
    for (const [p, seen] of repeats) settle(p, outcome.get(seen)!, true);
  }

  /** One statement for the whole batch; returns the row id of each event id that was new. */
  private async insert(events: Pending[]): Promise<Map<string, string>> {
    const rows = returnedRows<{ id: string; event_id: string }>(
      await this.dataSource.query(
        // The batch travels as one JSON document: cheaper than one array parameter per column.
        `INSERT INTO webhook_events (event_id, event_type, payload, outcome, processed_at, claimed_until)
         SELECT u.e, u.t, u.p, u.o, CASE WHEN u.o IS NOT NULL THEN now() END,
                CASE WHEN u.l AND u.o IS NULL THEN now() + make_interval(secs => $2) END
           FROM jsonb_to_recordset($1::jsonb) AS u(e varchar, t varchar, p jsonb, o varchar, l boolean)
         ON CONFLICT (event_id) DO NOTHING
         RETURNING id, event_id`,
        [
          JSON.stringify(
            events.map((e) => ({
              e: e.eventId,
              t: e.type,
              p: e.payload,
              o: e.outcome?.slice(0, 200) ?? null,
              l: e.leased,
            })),
          ),
          WEBHOOK_LEASE_SECONDS,
        ],
      ),
    );
    return new Map(rows.map((r) => [r.event_id, r.id]));
  }
}
