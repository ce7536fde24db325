import { overdueSql } from '@trektribe/support';
import { fragment, Fragment } from './fragment';

export interface AgentFigures {
  /** Tickets in status `open`. */
  open: number;
  /** Open or pending tickets assigned to the agent. */
  assignedToMe: number;
  /** Open or pending tickets nobody is assigned to. */
  unassigned: number;
  /** Open tickets (waiting on us) without a first response at or past its due time (libs/support's isOverdue). */
  overdue: number;
  /** Over tickets opened in the 30 days up to now that have a first response; one decimal; null when none. */
  medianFirstResponseMinutes: number | null;
}

export const MEDIAN_WINDOW_DAYS = 30;

/**
 * The support desk's figures for the agent $1 at now ($2), read from libs/support's
 * `support_tickets` (status, assignee_id, first_response_due_at, first_response_at, created_at).
 */
export const AGENT_FIGURES: Fragment<AgentFigures> = fragment(
  `SELECT json_build_object(
            'open', count(*) FILTER (WHERE status = 'open'),
            'assignedToMe', count(*) FILTER (WHERE assignee_id = $1::uuid),
            'unassigned', count(*) FILTER (WHERE assignee_id IS NULL),
            'overdue', count(*) FILTER (WHERE ${overdueSql('$2::timestamptz', 'support_tickets')}),
            -- A ticket's first response falls due after it was opened, so first_response_due_at > since holds
            -- for every ticket opened since: it changes no answer and lets the (status, first_response_due_at)
            -- index find them (support_tickets has no index on created_at).
            'medianFirstResponseMinutes', (
              SELECT round((percentile_cont(0.5) WITHIN GROUP (
                       ORDER BY extract(epoch FROM first_response_at - created_at)))::numeric / 60, 1)
                FROM support_tickets
               WHERE status IN ('open', 'pending', 'resolved', 'closed')
                 AND first_response_due_at > $2::timestamptz - make_interval(days => ${MEDIAN_WINDOW_DAYS})
                 AND first_response_at IS NOT NULL
                 AND created_at > $2::timestamptz - make_interval(days => ${MEDIAN_WINDOW_DAYS})
                 AND created_at <= $2::timestamptz))
     FROM support_tickets
    WHERE status IN ('open', 'pending')`,
  (value: AgentFigures) => value,
);
