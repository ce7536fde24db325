import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface AgentFigures {
  /** Tickets in status `open`. */
  open: number;
  /** Open or pending tickets assigned to the agent. */
  assignedToMe: number;
  /** Open or pending tickets nobody is assigned to. */
  unassigned: number;
  /** Open or pending tickets still without a first response past its due time. */
  overdue: number;
  /** Over tickets opened in the 30 days up to now that have a first response; one decimal; null when none. */
  medianFirstResponseMinutes: number | null;
}

export const MEDIAN_WINDOW_DAYS = 30;

/**
 * The support desk's figures, read from libs/support's `support_tickets` (status, assignee_id,
 * first_response_due_at, first_response_at, created_at). `now` is the injected clock's.
 */
@Injectable()
export class SupportFigures {
  constructor(private readonly dataSource: DataSource) {}

  async forAgent(agentId: string, now: Date): Promise<AgentFigures> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE status = 'open')::int AS open,
              count(*) FILTER (WHERE assignee_id = $1)::int AS "assignedToMe",
              count(*) FILTER (WHERE assignee_id IS NULL)::int AS unassigned,
              count(*) FILTER (WHERE first_response_at IS NULL AND first_response_due_at < $2)::int AS overdue,
              -- A ticket's first response falls due after it was opened, so first_response_due_at > since holds
              -- for every ticket opened since: it changes no answer and lets the (status, first_response_due_at)
              -- index find them (support_tickets has no index on created_at).
              (SELECT round((percentile_cont(0.5) WITHIN GROUP (
                        ORDER BY extract(epoch FROM first_response_at - created_at)))::numeric / 60, 1)
                 FROM support_tickets
                WHERE status IN ('open', 'pending', 'resolved', 'closed')
                  AND first_response_due_at > $2::timestamptz - make_interval(days => ${MEDIAN_WINDOW_DAYS})
                  AND first_response_at IS NOT NULL
                  AND created_at > $2::timestamptz - make_interval(days => ${MEDIAN_WINDOW_DAYS}) AND created_at <= $2) AS median
         FROM support_tickets
        WHERE status IN ('open', 'pending')`,
      [agentId, now],
    )) as (Omit<AgentFigures, 'medianFirstResponseMinutes'> & { median: string | null })[];
    const { median, ...counts } = row;
    return {
      ...counts,
      medianFirstResponseMinutes: median === null ? null : Number(median),
    };
  }
}
