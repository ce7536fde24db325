import { Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { BookingLifecycleJobs } from '@trektribe/booking';
import { OutboxDispatcher } from '@trektribe/notifications';
import { JobLock } from './job-lock';

const IST = 'Asia/Kolkata';

/** Each cron is one call into a lib service under the job lock; the rules live in the services. */
@Injectable()
export class BookingJobs {
  constructor(
    private readonly lock: JobLock,
    private readonly bookings: BookingLifecycleJobs,
    private readonly outbox: OutboxDispatcher,
  ) {}

  @Cron(CronExpression.EVERY_MINUTE, { name: 'expire-holds', timeZone: IST })
  expireHolds() {
    return this.lock.runExclusive('expire-holds', () => this.bookings.expireHolds());
  }

  @Cron(CronExpression.EVERY_MINUTE, { name: 'deliver-outbox', timeZone: IST })
  deliverOutbox() {
    return this.lock.runExclusive('deliver-outbox', () => this.outbox.dispatchPending());
  }

  @Cron('0 0 18 * * *', { name: 'trip-reminders', timeZone: IST })
  tripReminders() {
    return this.lock.runExclusive('trip-reminders', () => this.bookings.remindTripsStartingTomorrow());
  }

  @Cron('0 30 0 * * *', { name: 'complete-trips', timeZone: IST })
  completeTrips() {
    return this.lock.runExclusive('complete-trips', () => this.bookings.completeFinishedTrips());
  }
}
