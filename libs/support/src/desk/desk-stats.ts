import { Injectable } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { Clock } from '@trektribe/common';
import { DataSource } from 'typeorm';
import { overdueSql } from '../tickets/ticket-views';

export interface DeskStats {
  /** Tickets waiting on us (`open`) and on the customer (`pending`). */
  open: number;
  pending: number;
  /** Open or pending tickets nobody has taken. */
  unassigned: number;
  /** Open or pending tickets assigned to the caller. */
  assignedToMe: number;
  /** Past their first-response due time with no answer. */
  overdue: number;
  /** Open or pending, high priority. */
  highPriority: number;
  /** Resolved in the last 7 days. */
  resolvedLast7Days: number;
  /** Median minutes (one decimal) from opening to the first reply, over tickets opened in the last 30 days; null without any. */
  medianFirstResponseMinutes: number | null;
}

/** `GET /agent/stats`: the desk at a glance, in one SQL statement (never rows summed in JS). */
@Injectable()
export class DeskStatsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async stats(actor: Actor): Promise<DeskStats> {
    const now = this.clock.now();
    const [row] = (await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE t.status = 'open')::int AS open,
              count(*) FILTER (WHERE t.status = 'pending')::int AS pending,
              count(*) FILTER (WHERE t.status IN ('open', 'pending') AND t.assignee_id IS NULL)::int AS unassigned,
              count(*) FILTER (WHERE t.status IN ('open', 'pending') AND t.assignee_id = $2)::int AS "assignedToMe",
              count(*) FILTER (WHERE ${overdueSql('$1')})::int AS overdue,
              count(*) FILTER (WHERE t.status IN ('open', 'pending') AND t.priority = 'high')::int AS "highPriority",
              count(*) FILTER (WHERE t.resolved_at > $1::timestamptz - interval '7 days')::int AS "resolvedLast7Days",
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.first_response_at - t.created_at) / 60)
                FILTER (WHERE t.first_response_at IS NOT NULL AND t.created_at > $1::timestamptz - interval '30 days')
                AS "medianFirstResponseMinutes"
         FROM support_tickets t
        WHERE t.status IN ('open', 'pending') OR t.resolved_at > $1::timestamptz - interval '7 days'
           OR t.created_at > $1::timestamptz - interval '30 days'`,
      [now, actor.id],
    )) as DeskStats[];
    const median = row.medianFirstResponseMinutes;
    // One decimal, as the agent dashboard has it.
    return {
      ...row,
      medianFirstResponseMinutes: median === null ? null : Math.round(Number(median) * 10) / 10,
    };
  }
}
