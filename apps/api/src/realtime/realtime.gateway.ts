import { Logger, OnModuleInit } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import { AccessTokenKeys, Actor, AuthService } from '@trektribe/auth';
import { DomainError, ErrorCode, UnitOfWork } from '@trektribe/common';
import { OutboxDispatcher, RealtimePublisher } from '@trektribe/notifications';
import type { DefaultEventsMap, Server, Socket } from 'socket.io';

export const MAX_WATCHED_TRIPS = 50;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UNAUTHORIZED_MESSAGE = 'Authentication required: the token is missing, invalid or expired';
// jsonwebtoken's own errors: an expected refusal, not worth a log line.
const JWT_ERRORS = new Set(['JsonWebTokenError', 'TokenExpiredError', 'NotBeforeError']);

interface SocketData {
  actor?: Actor;
}
type Client = Socket<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, SocketData>;

export type Ack = { ok: true } | { ok: false; error: { code: ErrorCode; message: string } };

function tokenOf(client: Client): string | undefined {
  const auth = client.handshake.auth as Record<string, unknown> | undefined;
  if (typeof auth?.token === 'string' && auth.token) return auth.token;
  const header = client.handshake.headers.authorization;
  return typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
}

function tripIdOf(body: unknown): string | undefined {
  const tripId = (body as { tripId?: unknown } | null | undefined)?.tripId;
  // Lower-cased so a client's spelling matches the ids Postgres hands the publishers.
  return typeof tripId === 'string' && UUID.test(tripId) ? tripId.toLowerCase() : undefined;
}

const fail = (code: ErrorCode, message: string): Ack => ({ ok: false, error: { code, message } });

/**
 * socket.io on the HTTP port. The CORS origins are applied by RedisIoAdapter from CORS_ORIGINS
 * (decorator options are fixed at import time); the default here refuses cross-origin polling.
 */
// The app throttler keys on req.user/req.ip, which a socket lacks: every socket would share one bucket.
@SkipThrottle()
@WebSocketGateway({
  path: '/socket.io',
  cors: { origin: false },
  // Clients only send `{ tripId }`; no reason to buffer socket.io's default 1 MB per message.
  maxHttpBufferSize: 16 * 1024,
})
export class RealtimeGateway implements RealtimePublisher, OnGatewayInit, OnGatewayConnection, OnModuleInit {
  @WebSocketServer() server: Server;

  private readonly logger = new Logger(RealtimeGateway.name);

  constructor(
    private readonly keys: AccessTokenKeys,
    private readonly auth: AuthService,
    private readonly dispatcher: OutboxDispatcher,
    private readonly uow: UnitOfWork,
  ) {}

  // The dispatcher does not depend on the socket server: the server registers as its realtime channel.
  onModuleInit(): void {
    this.dispatcher.useRealtime(this);
    // A user whose sessions ended (password changed, deactivated, role changed) hears nothing more on
    // the sockets they opened before: every instance drops them (through the Redis adapter) once the
    // change commits.
    this.uow.on('user.sessions_revoked', async (tx, e) => {
      tx.afterCommit(() => this.server?.in(`user:${e.userId}`).disconnectSockets(true));
    });
  }

  /**
   * The token is checked in the handshake itself: a missing, invalid or expired token, or a user who
   * may no longer sign in, gets `connect_error` (`err.data.code` UNAUTHORIZED) and never connects.
   */
  afterInit(server: Server): void {
    server.use((socket, next) => {
      this.authenticate(socket as Client).then(
        (actor) => {
          (socket as Client).data.actor = actor;
          next();
        },
        () =>
          next(
            Object.assign(new Error(UNAUTHORIZED_MESSAGE), {
              data: { code: 'UNAUTHORIZED', message: UNAUTHORIZED_MESSAGE },
            }),
          ),
      );
    });
  }

  async handleConnection(client: Client): Promise<void> {
    const actor = client.data.actor;
    if (!actor) return void client.disconnect(true); // the middleware let nobody through unauthenticated
    await client.join([`user:${actor.id}`, `role:${actor.role}`]);
  }

  private async authenticate(client: Client): Promise<Actor> {
    try {
      const token = tokenOf(client);
      if (!token) throw new DomainError('UNAUTHORIZED', UNAUTHORIZED_MESSAGE);
      // The same keys as the HTTP guard: the current one, and the previous one during a rotation.
      const claims = await this.keys.verify(token);
      return await this.auth.authenticate(claims);
    } catch (err: unknown) {
      const name = err instanceof Error ? err.name : '';
      if (!(err instanceof DomainError) && !JWT_ERRORS.has(name)) {
        this.logger.warn({ err, socketId: client.id }, 'socket handshake check failed');
      }
      throw err;
    }
  }

  @SubscribeMessage('trip.watch')
  async watchTrip(@ConnectedSocket() client: Client, @MessageBody() body: unknown): Promise<Ack> {
    if (!client.data.actor) return fail('UNAUTHORIZED', UNAUTHORIZED_MESSAGE);
    const tripId = tripIdOf(body);
    if (!tripId) return fail('VALIDATION_ERROR', 'tripId must be a UUID');
    const room = `trip:${tripId}`;
    if (client.rooms.has(room)) return { ok: true };
    const watched = [...client.rooms].filter((r) => r.startsWith('trip:')).length;
    if (watched >= MAX_WATCHED_TRIPS) {
      return fail(
        'BUSINESS_RULE',
        `A connection can watch at most ${MAX_WATCHED_TRIPS} trips; unwatch one first`,
      );
    }
    await client.join(room);
    return { ok: true };
  }

  @SubscribeMessage('trip.unwatch')
  async unwatchTrip(@ConnectedSocket() client: Client, @MessageBody() body: unknown): Promise<Ack> {
    if (!client.data.actor) return fail('UNAUTHORIZED', UNAUTHORIZED_MESSAGE);
    const tripId = tripIdOf(body);
    if (!tripId) return fail('VALIDATION_ERROR', 'tripId must be a UUID');
    await client.leave(`trip:${tripId}`);
    return { ok: true };
  }

  publish(rooms: string[], event: string, payload: Record<string, unknown>): void {
    const targets = rooms.filter(Boolean);
    // socket.io reads an empty room list as "everyone": never broadcast by accident.
    if (!targets.length) return;
    // Throwing leaves an outbox row pending, to be retried once the server is up.
    if (!this.server) throw new Error('socket.io server is not started yet');
    this.server.to(targets).emit(event, payload);
  }
}
