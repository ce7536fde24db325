export { ReportingModule } from './reporting.module';
export { SummaryFold, FOLD_STATEMENTS } from './summaries/summary-fold';
export { PLATFORM_SCOPE, REPORTING_ENTITIES } from './summaries/summary.entities';
