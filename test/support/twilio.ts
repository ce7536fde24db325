import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const TWILIO_SID = 'AC' + '0123456789abcdef'.repeat(2);
export const TWILIO_TOKEN = 'local_twilio_token';

export interface SentText {
  to: string;
  from: string;
  body: string;
}

/**
 * A local server speaking Twilio's Messages endpoint: POST /2010-04-01/Accounts/{sid}/Messages.json
 * with HTTP basic auth (the account SID and auth token) and a form body. 201 with a message sid;
 * 401 for wrong credentials; `refuse` numbers get 400 (Twilio's 21211, invalid To), `failNext` 500s.
 */
export async function startTwilio(): Promise<{
  server: Server;
  url: string;
  sent: SentText[];
  refuse: Set<string>;
  failNext: { n: number };
  env: Record<string, string>;
}> {
  const sent: SentText[] = [];
  const refuse = new Set<string>();
  const failNext = { n: 0 };
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const reply = (status: number, body: object) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const expected = `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}`;
      if (req.method !== 'POST' || req.url !== `/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`) {
        return reply(404, { code: 20404, message: 'not found' });
      }
      if (req.headers.authorization !== expected) return reply(401, { code: 20003, message: 'Authenticate' });
      const form = new URLSearchParams(raw);
      const text = { to: form.get('To') ?? '', from: form.get('From') ?? '', body: form.get('Body') ?? '' };
      if (failNext.n > 0) {
        failNext.n--;
        return reply(500, { code: 20500, message: 'Internal Server Error' });
      }
      if (refuse.has(text.to.replace(/^whatsapp:/, ''))) {
        return reply(400, {
          code: 21211,
          message: `The 'To' number ${text.to} is not a valid phone number.`,
        });
      }
      sent.push(text);
      reply(201, {
        sid: `SM${sent.length.toString().padStart(32, '0')}`,
        status: 'queued',
        to: text.to,
        body: text.body,
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    url,
    sent,
    refuse,
    failNext,
    env: {
      TWILIO_ACCOUNT_SID: TWILIO_SID,
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
      TWILIO_SMS_FROM: '+14155550100',
      TWILIO_WHATSAPP_FROM: 'whatsapp:+14155550111',
      TWILIO_API_URL: url,
    },
  };
}
