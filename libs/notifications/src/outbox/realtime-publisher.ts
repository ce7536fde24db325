/**
 * How the outbox reaches connected clients; the socket.io gateway in apps/api implements it and
 * registers itself with `OutboxDispatcher.useRealtime`. Until one is registered, realtime rows are
 * marked sent with nobody to tell.
 */
export abstract class RealtimePublisher {
  abstract publish(rooms: string[], event: string, payload: Record<string, unknown>): void;
}
