export * from './config/app-config';
export * from './errors/domain-error';
export * from './clock';
export * from './http/pagination';
export * from './http/request-context';
export * from './http/decorators';
export * from './http/input-rules';
export * from './http/date-range';
export * from './http/csv-export';
export * from './audit/audit-log.entity';
export * from './audit/audit.service';
export * from './common.module';
export * from './money';

export * from './idempotency/idempotency-key.entity';
export * from './idempotency/idempotency.interceptor';

import { AuditLog } from './audit/audit-log.entity';
import { IdempotencyKey } from './idempotency/idempotency-key.entity';
export const COMMON_ENTITIES = [AuditLog, IdempotencyKey];

/** The shared ioredis client, or null when REDIS_URL is unset; provided by the app. */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
export * from './db';
export * from './http/response-cache';
export * from './load/loop-pressure';
export * from './uow/unit-of-work';
export * from './uow/queue-runner';
export * from './time-zone';
