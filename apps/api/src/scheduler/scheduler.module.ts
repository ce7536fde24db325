import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { BillingModule } from '@trektribe/billing';
import { BookingModule } from '@trektribe/booking';
import { CommonModule, type AppConfig } from '@trektribe/common';
import { NotificationsModule } from '@trektribe/notifications';
import { SupportModule } from '@trektribe/support';
import { ReportingModule } from '@trektribe/reporting';
import { BillingJobs } from './billing.jobs';
import { BookingJobs } from './booking.jobs';
import { ObservabilityModule } from '../observability/observability.module';
import { JobLock } from './job-lock';
import { SupportJobs } from './support.jobs';
import { ReportingJobs } from './reporting.jobs';

/**
 * Cron jobs in Asia/Kolkata. Off when SCHEDULER_ENABLED=false (and in tests, which call the same
 * service methods directly with an injected clock).
 */
@Module({})
export class SchedulerModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (!config.schedulerEnabled)
      return {
        module: SchedulerModule,
        imports: [ObservabilityModule],
        providers: [JobLock],
        exports: [JobLock],
      };
    return {
      module: SchedulerModule,
      imports: [
        ScheduleModule.forRoot(),
        CommonModule,
        NotificationsModule,
        BookingModule,
        BillingModule,
        SupportModule,
        ObservabilityModule,
        ReportingModule,
      ],
      providers: [JobLock, BookingJobs, BillingJobs, SupportJobs, ReportingJobs],
      exports: [JobLock],
    };
  }
}
