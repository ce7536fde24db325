import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { DomainError, Public, REDIS_CLIENT } from '@trektribe/common';
import type { Redis } from 'ioredis';

/**
 * Probes for load balancers and orchestrators: never rate limited (a probe every few seconds from
 * each balancer must not eat a client's budget, nor be refused itself) and logged at debug.
 * `live`: the process answers (restart it if not). `ready`: it can serve (send it traffic): the
 * database, and Redis when configured, answer. The bare path is `ready` with the API.md shape.
 */
@ApiTags('health')
@SkipThrottle()
@Controller({ path: 'health', version: '1' })
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    @Optional() @Inject(REDIS_CLIENT) private readonly redis?: Redis | null,
  ) {}

  @Get()
  @Public()
  @ApiOperation({
    summary: 'Dependencies: database, and Redis when configured (503 SERVICE_UNAVAILABLE when one is down)',
  })
  check() {
    return this.dependencies();
  }

  @Get('live')
  @Public()
  @ApiOperation({ summary: 'Liveness: the process is up and its event loop answers; checks no dependency' })
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @ApiOperation({
    summary: 'Readiness: database and Redis (when configured) answer; 503 SERVICE_UNAVAILABLE otherwise',
  })
  ready() {
    return this.dependencies();
  }

  private async dependencies() {
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
