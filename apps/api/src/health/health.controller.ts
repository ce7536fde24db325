import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { DomainError, Public, REDIS_CLIENT } from '@trektribe/common';
import type { Redis } from 'ioredis';

@ApiTags('health')
@Controller({ path: 'health', version: '1' })
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    @Optional() @Inject(REDIS_CLIENT) private readonly redis?: Redis | null,
  ) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Liveness and dependencies: database, and Redis when configured' })
  async check() {
    const result = await this.health
      .check([
        () => this.db.pingCheck('db', { timeout: 3000 }),
        async () => {
          if (!this.redis) return { redis: { status: 'up' as const, configured: false } };
          const pong = await Promise.race([
            this.redis.ping(),
            new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 2000)),
          ]).catch(() => 'error');
          return {
            redis: { status: pong === 'PONG' ? ('up' as const) : ('down' as const), configured: true },
          };
        },
      ])
      .catch(() => undefined);
    const db = result?.details.db?.status === 'up' ? 'up' : 'down';
    const redis = !this.redis ? 'not_configured' : result?.details.redis?.status === 'up' ? 'up' : 'down';
    if (db !== 'up' || redis === 'down') {
      throw new DomainError(
        'SERVICE_UNAVAILABLE',
        `Dependencies down: ${[db !== 'up' && 'db', redis === 'down' && 'redis'].filter(Boolean).join(', ')}`,
      );
    }
    return { status: 'ok', db, redis };
  }
}
