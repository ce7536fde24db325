import { OutboxDispatcher } from '@trektribe/notifications';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, startTestApp, TestApp } from './support/app';
import { startSmtp } from './support/smtp';

describe('notification outbox over real SMTP', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let dispatcher: OutboxDispatcher;

  beforeAll(async () => {
    smtp = await startSmtp();
    t = await startTestApp({
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}?ignoreTLS=true`,
      MAIL_FROM: 'TrekTribe <hello@trektribe.test>',
    });
    dispatcher = t.app.get(OutboxDispatcher);
  });
  afterAll(async () => {
    await t?.close();
    await new Promise<void>((r) => smtp.server.close(() => r()));
  });

  it('delivers the verification email queued with the registration, once', async () => {
    const user = await register(t);
    await dispatcher.dispatchPending();
    await dispatcher.dispatchPending(); // a second pass finds nothing to resend
    const mails = smtp.received.filter((m) => m.to.includes(user.email));
    expect(mails).toHaveLength(1);
    expect(mails[0].raw).toMatch(/Subject: Verify your TrekTribe email/);
    expect(mails[0].raw).toMatch(/From: TrekTribe <hello@trektribe.test>/);
    const [row] = await t.db.query(
      `SELECT status, attempts, sent_at FROM notification_outbox WHERE recipient = $1`,
      [user.email],
    );
    expect(row).toMatchObject({ status: 'sent', attempts: 1 });
    expect(row.sent_at).toBeTruthy();
  });

  it('keeps a failed delivery pending with a backoff, then delivers it when due', async () => {
    await dispatcher.dispatchPending();
    smtp.failNext.n = 1;
    const user = await register(t);
    await dispatcher.dispatchPending();
    const [row] = await t.db.query(
      `SELECT status, attempts, last_error, next_attempt_at FROM notification_outbox WHERE recipient = $1`,
      [user.email],
    );
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row.last_error).toMatch(/busy/);
    expect(new Date(row.next_attempt_at).getTime()).toBeGreaterThan(Date.now());
    t.clock.advance(5 * 60_000);
    try {
      await dispatcher.dispatchPending();
      const [after] = await t.db.query(
        `SELECT status, attempts FROM notification_outbox WHERE recipient = $1`,
        [user.email],
      );
      expect(after).toMatchObject({ status: 'sent', attempts: 2 });
    } finally {
      t.clock.reset();
    }
    expect(smtp.received.filter((m) => m.to.includes(user.email))).toHaveLength(1);
  });

  it('never sends one message twice when two dispatchers race', async () => {
    const users = await Promise.all([register(t), register(t), register(t)]);
    await Promise.all([
      dispatcher.dispatchPending(),
      dispatcher.dispatchPending(),
      dispatcher.dispatchPending(),
    ]);
    for (const u of users) expect(smtp.received.filter((m) => m.to.includes(u.email))).toHaveLength(1);
  });

  it('two dispatchers claiming at once never take the same message (FOR UPDATE SKIP LOCKED and a lease)', async () => {
    await dispatcher.dispatchPending();
    await t.db.query(
      `INSERT INTO notification_outbox (channel, topic, recipient, subject, body, status)
       SELECT 'sms', 'test.race', '+9198000' || lpad(g::text, 5, '0'), NULL, 'Race', 'pending' FROM generate_series(1, 40) g`,
    );
    // The same claim two dispatcher instances run, side by side (on the server: two connections).
    // On the texts lane, which nothing in this app kicks, so no background pass takes the rows first.
    const [a, b] = await Promise.all([dispatcher.claim(['sms'], 30), dispatcher.claim(['sms'], 30)]);
    const ids = [...a, ...b].map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(40);
    const leased = await t.db.query(
      `SELECT count(*)::int AS n FROM notification_outbox WHERE topic = 'test.race' AND attempts = 1 AND next_attempt_at > now()`,
    );
    expect(leased[0].n).toBe(40);
    await t.db.query(`UPDATE notification_outbox SET status = 'skipped' WHERE topic = 'test.race'`);
  });
});
