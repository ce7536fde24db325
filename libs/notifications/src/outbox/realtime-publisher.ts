/**
 * The port through which the outbox reaches connected clients; the socket.io gateway in apps/api
 * implements it. Until one is bound, realtime rows are marked sent with nobody to tell.
 */
export abstract class RealtimePublisher {
  abstract publish(rooms: string[], event: string, payload: Record<string, unknown>): void;
}
