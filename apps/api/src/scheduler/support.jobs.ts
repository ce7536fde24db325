import { Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { TicketSla } from '@trektribe/support';
import { JobLock } from './job-lock';

@Injectable()
export class SupportJobs {
  constructor(
    private readonly lock: JobLock,
    private readonly sla: TicketSla,
  ) {}

  /** Tickets past their first-response time: the assignee, or every agent, hears once per ticket. */
  @Cron(CronExpression.EVERY_HOUR, { name: 'ticket-sla', timeZone: 'Asia/Kolkata' })
  notifyOverdueTickets() {
    return this.lock.runExclusive('ticket-sla', () => this.sla.notifyOverdue());
  }
}
