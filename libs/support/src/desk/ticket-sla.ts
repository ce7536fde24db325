import { Injectable } from '@nestjs/common';
import { UserDirectory } from '@trektribe/auth';
import { Clock, returnedRows } from '@trektribe/common';
import { Notifier } from '@trektribe/notifications';
import { DataSource } from 'typeorm';
import { overdueSql } from '../tickets/ticket-views';

const SLA_BATCH = 100;

/**
 * The first-response SLA (API.md: `SUPPORT_FIRST_RESPONSE_HOURS`): the hourly job tells the
 * assignee, or every active agent when nobody (still on the desk) has the ticket, that a ticket is
 * overdue, once per ticket; with no active agent at all it waits for a later run. Each batch is claimed by a conditional update on `overdue_notified_at IS NULL` with
 * SKIP LOCKED, in the transaction that records the notifications, so overlapping runs (two
 * instances, a slow run meeting the next) notify each ticket once.
 */
@Injectable()
export class TicketSla {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UserDirectory,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
  ) {}

  /** Returns how many overdue tickets this run notified about. */
  async notifyOverdue(): Promise<number> {
    const now = this.clock.now();
    let notified = 0;
    for (;;) {
      const claimed = await this.dataSource.transaction(async (m) => {
        const tickets = returnedRows<{
          id: string;
          subject: string;
          customer_id: string;
          assignee_id: string | null;
          first_response_due_at: Date;
          priority: 'normal' | 'high';
        }>(
          await m.query(
            `UPDATE support_tickets SET overdue_notified_at = $1
              WHERE id IN (SELECT t.id FROM support_tickets t
                            WHERE ${overdueSql('$1')} AND t.overdue_notified_at IS NULL
                            ORDER BY t.first_response_due_at, t.id LIMIT $2 FOR UPDATE SKIP LOCKED)
                AND overdue_notified_at IS NULL
              RETURNING id, subject, customer_id, assignee_id, first_response_due_at, priority`,
            [now, SLA_BATCH],
          ),
        );
        if (!tickets.length) return 0;
        const people = await this.users.contactsOf(
          m,
          tickets.flatMap((t) => [t.customer_id, ...(t.assignee_id ? [t.assignee_id] : [])]),
        );
        const agents = await this.users.activeAgents(m);
        for (const t of tickets) {
          // An assignee who left the desk (demoted, deactivated) must not hear about it, nor keep it from the others.
          const assignee = t.assignee_id ? people.get(t.assignee_id) : undefined;
          const onDesk = !!assignee?.isActive && (assignee.role === 'agent' || assignee.role === 'admin');
          const recipients = onDesk ? [assignee.id] : agents.map((a) => a.id);
          if (!recipients.length) {
            // Nobody to tell yet: leave it for a later run, when there is an agent.
            await m.query(`UPDATE support_tickets SET overdue_notified_at = NULL WHERE id = $1`, [t.id]);
            continue;
          }
          for (const userId of recipients) {
            await this.notifier.notify(m, {
              type: 'ticket.overdue',
              userId,
              data: {
                ticketId: t.id,
                subject: t.subject,
                customerName: people.get(t.customer_id)?.name ?? 'A customer',
                dueAt: new Date(t.first_response_due_at).toISOString(),
                priority: t.priority,
                assigned: onDesk,
              },
              dedupeKey: `ticket-overdue:${t.id}:${userId}`,
            });
          }
        }
        return tickets.length;
      });
      notified += claimed;
      if (claimed < SLA_BATCH) return notified;
    }
  }
}
