import { Module } from '@nestjs/common';
import { DashboardsController } from './dashboards/dashboards.controller';
import { DashboardsService } from './dashboards/dashboards.service';
import { OrganizerAnalyticsController } from './organizer/organizer-analytics.controller';
import { OrganizerAnalyticsService } from './organizer/organizer-analytics.service';
import { SummaryFold } from './summaries/summary-fold';

/**
 * The read side (issue 14): dashboards and organizer analytics. It reads the tables of booking,
 * billing, auth and support in SQL and writes only its own summary tables (through the triggers of
 * its migration and SummaryFold). No lib depends on it.
 */
@Module({
  controllers: [DashboardsController, OrganizerAnalyticsController],
  providers: [DashboardsService, OrganizerAnalyticsService, SummaryFold],
  exports: [SummaryFold],
})
export class ReportingModule {}
