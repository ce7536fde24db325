import { Module } from '@nestjs/common';
import { DashboardsController } from './dashboards/dashboards.controller';
import { DashboardsService } from './dashboards/dashboards.service';
import { OrganizerFigures } from './figures/organizer-figures';
import { PlatformFigures } from './figures/platform-figures';
import { SupportFigures } from './figures/support-figures';
import { TravelerFigures } from './figures/traveler-figures';
import { OrganizerAnalyticsController } from './organizer/organizer-analytics.controller';
import { OrganizerAnalyticsService } from './organizer/organizer-analytics.service';
import { SummaryFigures } from './summaries/summary-figures';
import { SummaryFold } from './summaries/summary-fold';

/**
 * The read side (issue 14): dashboards and organizer analytics. It reads the tables of booking,
 * billing, auth and support in SQL and writes only its own summary tables (through the triggers of
 * its migration and SummaryFold). No lib depends on it.
 */
@Module({
  controllers: [DashboardsController, OrganizerAnalyticsController],
  providers: [
    DashboardsService,
    OrganizerAnalyticsService,
    SummaryFigures,
    SummaryFold,
    OrganizerFigures,
    TravelerFigures,
    SupportFigures,
    PlatformFigures,
  ],
  exports: [SummaryFold],
})
export class ReportingModule {}
