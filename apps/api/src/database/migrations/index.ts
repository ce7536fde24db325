import type { MigrationInterface } from 'typeorm';
import { Billing1795250362869 } from './1795250362869-Billing';
import { WebhookQueue1795265139075 } from './1795265139075-WebhookQueue';
import { Bookings1795249776798 } from './1795249776798-Bookings';
import { Initial1795249261978 } from './1795249261978-Initial';
import { MandateConfirmed1795962049869 } from './1795962049869-MandateConfirmed';
import { StateInTables1795964282154 } from './1795964282154-StateInTables';
import { Notifications1795973854936 } from './1795973854936-Notifications';
import { NotificationPreferences1795975381747 } from './1795975381747-NotificationPreferences';
import { PhoneVerification1795975548051 } from './1795975548051-PhoneVerification';
import { SupportTickets1795978478397 } from './1795978478397-SupportTickets';
import { SupportDesk1795981156631 } from './1795981156631-SupportDesk';
import { ReportingSummaries1795981742189 } from './1795981742189-ReportingSummaries';
import { AdminBookingsIndex1795982006781 } from './1795982006781-AdminBookingsIndex';
import { DashboardIndexes1795988083269 } from './1795988083269-DashboardIndexes';
import { GoogleSignIn1795990000000 } from './1795990000000-GoogleSignIn';

// Listed explicitly (not globbed) so the build, the CLI and the tests run exactly the same set, in order.
export const MIGRATIONS: (new () => MigrationInterface)[] = [
  Initial1795249261978,
  Bookings1795249776798,
  Billing1795250362869,
  WebhookQueue1795265139075,
  MandateConfirmed1795962049869,
  StateInTables1795964282154,
  Notifications1795973854936,
  NotificationPreferences1795975381747,
  PhoneVerification1795975548051,
  SupportTickets1795978478397,
  SupportDesk1795981156631,
  ReportingSummaries1795981742189,
  AdminBookingsIndex1795982006781,
  DashboardIndexes1795988083269,
  GoogleSignIn1795990000000,
];
