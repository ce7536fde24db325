import { INestApplicationContext, Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { AppConfig } from '@trektribe/common';
import { Redis } from 'ioredis';

// Nest pins its own socket.io copy (4.8.3 beside our 4.8.4): type against the one it really creates.
type Server = ReturnType<IoAdapter['createIOServer']>;
type ServerOptions = NonNullable<Parameters<IoAdapter['createIOServer']>[1]>;

/**
 * The app's socket.io adapter: CORS from CORS_ORIGINS (like the HTTP side), and with REDIS_URL the
 * Redis adapter, so an event published on one instance reaches sockets connected to another.
 */
export class RedisIoAdapter extends IoAdapter {
  private readonly redisLogger = new Logger(RedisIoAdapter.name);
  private readonly redisClients = new Map<Server, Redis[]>();
  private readonly closed = new WeakSet<Server>();

  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const cors = {
      origin: this.config.corsOrigins.length ? this.config.corsOrigins : false,
      credentials: true,
    };
    if (!this.config.redisUrl) return super.createIOServer(port, { ...options, cors } as ServerOptions);

    // No ioredis keyPrefix: it does not reach pub/sub channels; the adapter's `key` namespaces them.
    const pub = new Redis(this.config.redisUrl);
    const sub = pub.duplicate();
    this.watch(pub, 'pub');
    this.watch(sub, 'sub');
    // Both socket.io copies share one socket.io-adapter at run time; only their types differ.
    const adapter = createAdapter(pub, sub, {
      key: `${this.config.redisKeyPrefix}socket.io`,
    }) as unknown as ServerOptions['adapter'];
    const server = super.createIOServer(port, { ...options, cors, adapter } as ServerOptions);
    this.redisClients.set(server, [pub, sub]);
    return server;
  }

  /**
   * Closing the server makes the Redis adapter send its unsubscribes (without awaiting them), so the
   * clients may only quit after that, and only once: a second server.close() would send them again
   * on a closed connection ("Connection is closed", unhandled).
   */
  override async close(server: Server): Promise<void> {
    if (this.closed.has(server)) return;
    this.closed.add(server);
    try {
      await super.close(server);
    } finally {
      await this.quitRedis(server);
    }
  }

  override async dispose(): Promise<void> {
    await Promise.all([...this.redisClients.keys()].map((server) => this.close(server)));
  }

  private async quitRedis(server: Server): Promise<void> {
    const clients = this.redisClients.get(server) ?? [];
    this.redisClients.delete(server);
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  }

  /** One line per outage, not one per reconnect attempt. */
  private watch(client: Redis, role: 'pub' | 'sub'): void {
    let down = false;
    client.on('error', (err: Error) => {
      if (down) return;
      down = true;
      this.redisLogger.warn(
        { err: err.message, role },
        'socket.io Redis connection failed; cross-instance events are paused',
      );
    });
    client.on('ready', () => {
      if (down) this.redisLogger.log({ role }, 'socket.io Redis connection restored');
      down = false;
    });
  }
}
