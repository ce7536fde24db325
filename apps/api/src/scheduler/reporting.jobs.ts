import { Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { SummaryFold } from '@trektribe/reporting';
import { JobLock } from './job-lock';

const IST = 'Asia/Kolkata';

/** Folds the read side's summary deltas into their totals (figures are exact either way; reads get cheaper). */
@Injectable()
export class ReportingJobs {
  constructor(
    private readonly lock: JobLock,
    private readonly summaries: SummaryFold,
  ) {}

  @Cron(CronExpression.EVERY_MINUTE, { name: 'fold-report-summaries', timeZone: IST })
  foldSummaries() {
    return this.lock.runExclusive('fold-report-summaries', () => this.summaries.fold());
  }
}
