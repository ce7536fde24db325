import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig, Clock, REDIS_CLIENT, SystemClock } from '@trektribe/common';
import { Redis } from 'ioredis';

/** The typed config, the clock and the shared Redis client, available everywhere. */
@Global()
@Module({})
export class CoreConfigModule {
  static forRoot(config: AppConfig, clock?: Clock): DynamicModule {
    return {
      module: CoreConfigModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        clock ? { provide: Clock, useValue: clock } : { provide: Clock, useClass: SystemClock },
        {
          provide: REDIS_CLIENT,
          useFactory: () =>
            config.redisUrl
              ? new Redis(config.redisUrl, { keyPrefix: config.redisKeyPrefix, maxRetriesPerRequest: 2 })
              : null,
        },
      ],
      exports: [APP_CONFIG, Clock, REDIS_CLIENT],
    };
  }
}
