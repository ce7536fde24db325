import { AUTH_ENTITIES } from '@trektribe/auth';
import { BILLING_ENTITIES } from '@trektribe/billing';
import { BOOKING_ENTITIES } from '@trektribe/booking';
import { COMMON_ENTITIES } from '@trektribe/common';
import { NOTIFICATIONS_ENTITIES } from '@trektribe/notifications';
import { REPORTING_ENTITIES } from '@trektribe/reporting';
import { SUPPORT_ENTITIES } from '@trektribe/support';
import { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from './migrations';

export const ENTITIES = [
  ...COMMON_ENTITIES,
  ...AUTH_ENTITIES,
  ...NOTIFICATIONS_ENTITIES,
  ...SUPPORT_ENTITIES,
  ...BOOKING_ENTITIES,
  ...BILLING_ENTITIES,
  ...REPORTING_ENTITIES,
];

/** One set of options for the app and the migration CLI. `synchronize` is never on: schema moves by migrations. */
export function dataSourceOptions(url: string, opts: { poolSize?: number } = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    installExtensions: false,
    uuidExtension: 'pgcrypto',
    poolSize: opts.poolSize ?? 10,
    extra: { connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000, application_name: 'trektribe' },
  };
}
