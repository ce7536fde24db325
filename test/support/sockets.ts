import { randomUUID } from 'node:crypto';
import { io, Socket } from 'socket.io-client';

export const WAIT_MS = 3_000;

export interface Ack {
  ok: boolean;
  error?: { code: string; message: string };
}

/** Opens sockets and remembers them so a test can close them all. */
export class SocketPool {
  readonly open: Socket[] = [];

  connect(baseUrl: string, opts: { token?: string; headers?: Record<string, string> } = {}): Socket {
    const socket = io(baseUrl, {
      path: '/socket.io',
      auth: opts.token === undefined ? {} : { token: opts.token },
      extraHeaders: opts.headers,
      transports: ['websocket'],
      reconnection: false,
      timeout: WAIT_MS,
    });
    this.open.push(socket);
    return socket;
  }

  /**
   * A connected socket whose handshake check is over: `connect` fires before the server has checked
   * the token, and acks wait for that check, so one ack round trip means the rooms are joined.
   */
  async connectReady(baseUrl: string, token: string): Promise<Socket> {
    const socket = this.connect(baseUrl, { token });
    const reply = await ack(socket, 'trip.unwatch', { tripId: randomUUID() });
    if (!reply.ok) throw new Error(`socket not ready: ${JSON.stringify(reply)}`);
    return socket;
  }

  closeAll(): void {
    for (const s of this.open.splice(0)) s.disconnect();
  }
}

export function nextEvent<T = unknown>(socket: Socket, event: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${WAIT_MS} ms`)), WAIT_MS);
    socket.once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

export function ack(socket: Socket, event: string, body: unknown): Promise<Ack> {
  return socket.timeout(WAIT_MS).emitWithAck(event, body) as Promise<Ack>;
}
