import { Injectable } from '@nestjs/common';
import { Clock } from '@trektribe/common';
import { DataSource, EntityManager } from 'typeorm';
import { DAY_MS, PLAN, reminderDue, TRIAL_NOTICE_DAYS } from './subscription-plan';
import { SubscriptionStore } from './subscription-store';

const BATCH = 200;

interface ReminderRow {
  id: string;
  organizer_id: string;
  next_charge_at: Date;
  trial_ends_at: Date;
  amount: number;
  has_method: boolean;
  paid_cycles: number;
}

/**
 * The notice jobs. Each email carries a dedupe key in the outbox, so it is sent once however often
 * (or on however many instances) a job runs: `sub-reminder:<subscriptionId>:<cycle>:<7|3>` and
 * `sub-trial-ending:<subscriptionId>`. Both return how many emails they queued now.
 */
@Injectable()
export class SubscriptionReminders {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: SubscriptionStore,
    private readonly clock: Clock,
  ) {}

  /** Job entry point (10:00 IST): 7 and 3 days before each upcoming charge, once each per cycle. */
  async sendReminders(): Promise<number> {
    await this.store.ensureAll();
    const now = this.clock.now();
    // Rounded whole days (see reminderDue): a charge 7.4 days away gets its 7-day reminder today.
    const horizon = new Date(now.getTime() + 7.5 * DAY_MS);
    let sent = 0;
    await this.inBatches(
      `s.status IN ('trial', 'active') AND NOT s.cancel_at_period_end AND s.next_charge_at > $1 AND s.next_charge_at <= $2`,
      [now, horizon],
      async (m, row) => {
        const day = reminderDue(row.next_charge_at, now);
        if (!day) return;
        const cycle = row.paid_cycles + 1;
        const queued = await this.store.mail(
          m,
          row.organizer_id,
          'subscription.reminder',
          {
            amount: row.amount,
            periodDays: PLAN.periodDays,
            chargeAt: new Date(row.next_charge_at).toISOString(),
            daysBefore: day,
            hasPaymentMethod: row.has_method,
          },
          `sub-reminder:${row.id}:${cycle}:${day}`,
        );
        if (queued) sent++;
      },
    );
    return sent;
  }

  /** Job entry point (09:00 IST): once per subscription when its trial ends within 7 days (not when cancelling). */
  async sendTrialEndingNotices(): Promise<number> {
    await this.store.ensureAll();
    const now = this.clock.now();
    let sent = 0;
    await this.inBatches(
      `s.status = 'trial' AND NOT s.cancel_at_period_end AND s.trial_ends_at > $1 AND s.trial_ends_at <= $2`,
      [now, new Date(now.getTime() + TRIAL_NOTICE_DAYS * DAY_MS)],
      async (m, row) => {
        const queued = await this.store.mail(
          m,
          row.organizer_id,
          'subscription.trial_ending',
          {
            amount: row.amount,
            periodDays: PLAN.periodDays,
            trialEndsAt: new Date(row.trial_ends_at).toISOString(),
            hasPaymentMethod: row.has_method,
          },
          `sub-trial-ending:${row.id}`,
        );
        if (queued) sent++;
      },
    );
    return sent;
  }

  /** Keyset batches over active organizers' subscriptions; one short transaction per batch. */
  private async inBatches(
    where: string,
    params: Date[],
    each: (m: EntityManager, row: ReminderRow) => Promise<void>,
  ): Promise<void> {
    let after: string | null = null;
    for (;;) {
      const rows = (await this.dataSource.query(
        `SELECT s.id, s.organizer_id, s.next_charge_at, s.trial_ends_at, s.amount, s.gateway_token_id IS NOT NULL AS has_method,
                (SELECT count(*)::int FROM subscription_cycles c WHERE c.subscription_id = s.id AND c.status = 'paid') AS paid_cycles
           FROM subscriptions s JOIN users u ON u.id = s.organizer_id
          WHERE ${where} AND u.is_active AND ($3::uuid IS NULL OR s.id > $3::uuid)
          ORDER BY s.id LIMIT $4`,
        [...params, after, BATCH],
      )) as ReminderRow[];
      if (rows.length > 0) {
        await this.dataSource.transaction(async (m) => {
          for (const row of rows) await each(m, row);
        });
      }
      if (rows.length < BATCH) return;
      after = rows[rows.length - 1].id;
    }
  }
}
