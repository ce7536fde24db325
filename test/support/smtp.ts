import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Received {
  to: string[];
  raw: string;
}

/**
 * A real SMTP server on a free loopback port. `failNext.n` answers the next n messages with 451;
 * `hold()` keeps every message waiting (the client gets no answer) until the returned release is
 * called, like a mail server that answers slowly.
 */
export function startSmtp(): Promise<{
  server: SMTPServer;
  port: number;
  received: Received[];
  failNext: { n: number };
  hold: () => () => void;
}> {
  const received: Received[] = [];
  const failNext = { n: 0 };
  let gate: Promise<void> | undefined;
  const hold = () => {
    let release!: () => void;
    gate = new Promise<void>((r) => (release = r));
    return () => {
      gate = undefined;
      release();
    };
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString()));
      stream.on('end', async () => {
        await gate;
        if (failNext.n > 0) {
          failNext.n--;
          const err = Object.assign(new Error('mailbox busy'), { responseCode: 451 });
          return callback(err);
        }
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        callback();
      });
    },
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.server.address() as AddressInfo).port, received, failNext, hold }),
    );
  });
}
