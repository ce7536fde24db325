import { Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { ProofsService, ReconciliationService, RefundsService } from '@trektribe/billing';
import { JobLock } from './job-lock';

const IST = 'Asia/Kolkata';

@Injectable()
export class BillingJobs {
  constructor(
    private readonly lock: JobLock,
    private readonly proofs: ProofsService,
    private readonly reconciliation: ReconciliationService,
    private readonly refunds: RefundsService,
  ) {}

  /** A missed webhook loses nothing: orders and refunds left pending are settled from the gateway. */
  @Cron(CronExpression.EVERY_10_MINUTES, { name: 'reconcile-payments', timeZone: IST })
  reconcile() {
    return this.lock.runExclusive('reconcile-payments', () => this.reconciliation.reconcile());
  }

  @Cron(CronExpression.EVERY_5_MINUTES, { name: 'retry-refunds', timeZone: IST })
  retryRefunds() {
    return this.lock.runExclusive('retry-refunds', () => this.refunds.processPendingRefunds());
  }

  @Cron(CronExpression.EVERY_HOUR, { name: 'escalate-stale-proofs', timeZone: IST })
  escalateStaleProofs() {
    return this.lock.runExclusive('escalate-stale-proofs', () => this.proofs.escalateStaleProofs());
  }
}
