import { DynamicModule, Inject, Logger, Module, OnApplicationShutdown, Optional } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppAuthGuard, AUTH_THROTTLE_KEY, AuthModule } from '@trektribe/auth';
import { BillingModule } from '@trektribe/billing';
import { BookingModule } from '@trektribe/booking';
import { AppConfig, Clock, CommonModule, REDIS_CLIENT } from '@trektribe/common';
import { NotificationsModule } from '@trektribe/notifications';
import { ReportingModule } from '@trektribe/reporting';
import { SupportModule } from '@trektribe/support';
import type { Request } from 'express';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { ClsModule } from 'nestjs-cls';
import { CoreConfigModule } from './config/config.module';
import { dataSourceOptions } from './database/data-source';
import { runMigrations } from './database/migrate';
import { HealthModule } from './health/health.module';
import { ObservabilityModule } from './observability/observability.module';
import { ErrorsFilter } from './http/errors.filter';
import { ResponseCacheInterceptor } from './http/response-cache.interceptor';
import { FixedWindowThrottlerStorage } from './http/throttler-storage';
import { ResponseEnvelopeInterceptor } from './http/response.interceptor';
import { AppThrottlerGuard } from './http/throttler.guard';
import { createValidationPipe } from './http/validation';
import { RealtimeModule } from './realtime/realtime.module';
import { SchedulerModule } from './scheduler/scheduler.module';
import { WebhooksModule } from './webhooks/webhooks.module';

class RedisShutdown implements OnApplicationShutdown {
  constructor(@Optional() @Inject(REDIS_CLIENT) private readonly redis?: Redis | null) {}
  async onApplicationShutdown(): Promise<void> {
    await this.redis?.quit().catch(() => undefined);
  }
}

@Module({})
export class AppModule {
  /** `databaseUrl` is the resolved one: the configured server or the embedded PGlite. */
  static forRoot(
    config: AppConfig,
    databaseUrl: string,
    overrides: { clock?: Clock; embedded?: boolean } = {},
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreConfigModule.forRoot(config, overrides.clock),
        ClsModule.forRoot({
          global: true,
          middleware: {
            mount: true,
            // No proxy providers here; resolving them costs a dynamic require() on every request.
            resolveProxyProviders: false,
            setup: (cls, req: Request & { id?: string }) => {
              cls.set('requestId', req.id);
              cls.set('ip', req.ip);
              cls.set('userAgent', req.headers['user-agent']);
            },
          },
        }),
        ObservabilityModule,
        // PGlite has a single backend session: several pooled connections would interleave their
        // extended-protocol messages (one connection's Parse replacing another's). One connection there;
        // real parallel connections on a PostgreSQL server.
        // Migrations run before anything uses the database, under an advisory lock on a server
        // (database/migrate.ts): instances starting together migrate once.
        TypeOrmModule.forRootAsync({
          useFactory: () => dataSourceOptions(databaseUrl, { poolSize: overrides.embedded ? 1 : 10 }),
          dataSourceFactory: async (options) => {
            const ds = await new DataSource(options!).initialize();
            try {
              await runMigrations(ds, {
                embedded: Boolean(overrides.embedded),
                logger: new Logger('migrations'),
              });
            } catch (err) {
              await ds.destroy();
              throw err;
            }
            return ds;
          },
        }),
        ThrottlerModule.forRootAsync({
          inject: [REDIS_CLIENT],
          useFactory: (redis: Redis | null) => ({
            storage: redis ? new ThrottlerStorageRedisService(redis) : new FixedWindowThrottlerStorage(),
            throttlers: [
              { name: 'default', limit: config.throttle.limit, ttl: config.throttle.ttlSeconds * 1000 },
              {
                name: 'auth',
                limit: config.throttle.authLimit,
                ttl: 15 * 60_000,
                getTracker: (req) => `ip:${String(req.ip)}`,
                skipIf: (ctx) => Reflect.getMetadata(AUTH_THROTTLE_KEY, ctx.getHandler()) !== true,
              },
            ],
          }),
        }),
        WebhooksModule,
        CommonModule,
        NotificationsModule,
        AuthModule,
        BookingModule,
        BillingModule,
        SupportModule,
        ReportingModule,
        HealthModule,
        RealtimeModule,
        SchedulerModule.forRoot(config),
      ],
      providers: [
        RedisShutdown,
        { provide: APP_GUARD, useExisting: AppAuthGuard },
        { provide: APP_GUARD, useClass: AppThrottlerGuard },
        { provide: APP_FILTER, useClass: ErrorsFilter },
        // Outermost first: the cache keeps the enveloped JSON text.
        { provide: APP_INTERCEPTOR, useClass: ResponseCacheInterceptor },
        { provide: APP_INTERCEPTOR, useClass: ResponseEnvelopeInterceptor },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}
