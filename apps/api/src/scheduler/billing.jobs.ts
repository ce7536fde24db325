import { Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import {
  ProofEscalation,
  ReconciliationService,
  RefundsService,
  SubscriptionChargeRun,
  SubscriptionReminders,
  WebhookApplier,
} from '@trektribe/billing';
import { JobLock } from './job-lock';

const IST = 'Asia/Kolkata';

@Injectable()
export class BillingJobs {
  constructor(
    private readonly lock: JobLock,
    private readonly proofs: ProofEscalation,
    private readonly reconciliation: ReconciliationService,
    private readonly refunds: RefundsService,
    private readonly charges: SubscriptionChargeRun,
    private readonly reminders: SubscriptionReminders,
    private readonly webhooks: WebhookApplier,
  ) {}

  /** Organizer auto-pay: one charge per (subscription, cycle), resumable after a crash. */
  @Cron('0 0 2 * * *', { name: 'charge-subscriptions', timeZone: IST })
  chargeSubscriptions() {
    return this.lock.runExclusive('charge-subscriptions', () => this.charges.processDueSubscriptions());
  }

  @Cron('0 0 9 * * *', { name: 'trial-ending-notices', timeZone: IST })
  trialEndingNotices() {
    return this.lock.runExclusive('trial-ending-notices', () => this.reminders.sendTrialEndingNotices());
  }

  @Cron('0 0 10 * * *', { name: 'payment-reminders', timeZone: IST })
  paymentReminders() {
    return this.lock.runExclusive('payment-reminders', () => this.reminders.sendReminders());
  }

  /** A missed webhook loses nothing: orders and refunds left pending are settled from the gateway. */
  @Cron(CronExpression.EVERY_10_MINUTES, { name: 'reconcile-payments', timeZone: IST })
  reconcile() {
    return this.lock.runExclusive('reconcile-payments', () => this.reconciliation.reconcile());
  }

  /**
   * Webhooks stored but not applied (an instance crashed or stopped, or an error is being retried).
   * No job lock: rows are claimed with SKIP LOCKED, so instances share the work instead of queueing.
   */
  @Cron(CronExpression.EVERY_MINUTE, { name: 'apply-stored-webhooks', timeZone: IST })
  applyStoredWebhooks() {
    return this.lock.run('apply-stored-webhooks', () => this.webhooks.applyUnclaimed());
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
