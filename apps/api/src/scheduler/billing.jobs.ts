import { Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { ProofsService } from '@trektribe/billing';
import { JobLock } from './job-lock';

const IST = 'Asia/Kolkata';

@Injectable()
export class BillingJobs {
  constructor(
    private readonly lock: JobLock,
    private readonly proofs: ProofsService,
  ) {}

  @Cron(CronExpression.EVERY_HOUR, { name: 'escalate-stale-proofs', timeZone: IST })
  escalateStaleProofs() {
    return this.lock.runExclusive('escalate-stale-proofs', () => this.proofs.escalateStaleProofs());
  }
}
