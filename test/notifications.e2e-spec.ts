import { formatInr } from '@trektribe/common';
import { Notifier, OutboxDispatcher } from '@trektribe/notifications';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createStaff, register, SignedIn, startTestApp, TestApp } from './support/app';
import { book, confirmPaid, createTrip } from './support/fixtures';
import { startSmtp } from './support/smtp';

/** The text of a MIME part as a mail client shows it (quoted-printable decoded). */
function decodeQuotedPrintable(raw: string): string {
  const joined = raw.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined[i] === '=' ? /^[0-9A-F]{2}/.exec(joined.slice(i + 1)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else bytes.push(...Buffer.from(joined[i], 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

describe('notifications: email over real SMTP, the in-app inbox, lanes that never wait on each other', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let dispatcher: OutboxDispatcher;
  let organizer: SignedIn;

  beforeAll(async () => {
    smtp = await startSmtp();
    t = await startTestApp({
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}?ignoreTLS=true`,
      MAIL_FROM: 'TrekTribe <hello@trektribe.test>',
      PUBLIC_APP_URL: 'https://app.trektribe.test',
    });
    dispatcher = t.app.get(OutboxDispatcher);
    organizer = await register(t, 'organizer');
  });
  afterAll(async () => {
    await t?.close();
    await new Promise<void>((r) => smtp.server.close(() => r()));
  });

  async function confirmedBooking() {
    const traveler = await register(t);
    const trip = await createTrip(t, organizer);
    const booking = await book(t, traveler, trip.id, 2);
    await confirmPaid(t, booking.id);
    return { traveler, trip, booking };
  }

  it('a booking confirmation reaches the mail server with a text and an HTML part, the ₹ amount and a link', async () => {
    const { traveler, booking } = await confirmedBooking();
    await dispatcher.dispatchPending();
    const mails = smtp.received.filter((m) => m.to.includes(traveler.email));
    const confirmation = mails.find((m) => /Subject: Booking confirmed/.test(m.raw));
    expect(confirmation).toBeDefined();
    const raw = confirmation!.raw;
    expect(raw).toMatch(/Content-Type: multipart\/alternative/);
    expect(raw).toMatch(/Content-Type: text\/plain; charset=utf-8/);
    expect(raw).toMatch(/Content-Type: text\/html; charset=utf-8/);
    const shown = decodeQuotedPrintable(raw);
    expect(shown).toContain(`We received ${formatInr(booking.totalAmount)}.`);
    expect(shown).toMatch(/₹[\d,]+/);
    expect(shown).toContain(`https://app.trektribe.test/bookings/${booking.id}`);
    expect(shown).toContain('<h1 style=');
  });

  it('the same booking confirmed twice (verify and webhook) notifies once, on every channel', async () => {
    const { traveler, booking } = await confirmedBooking();
    await confirmPaid(t, booking.id);
    const emails = await t.db.query(
      `SELECT id FROM notification_outbox WHERE channel = 'email' AND topic = 'booking.confirmed' AND recipient = $1`,
      [traveler.email],
    );
    const inApp = await t.db.query(
      `SELECT id FROM notifications WHERE user_id = $1 AND type = 'booking.confirmed'`,
      [traveler.id],
    );
    expect(emails).toHaveLength(1);
    expect(inApp).toHaveLength(1);
  });

  it('the inbox lists my notifications with the unread count; read, read-all, and another user’s id is 404', async () => {
    const { traveler, booking } = await confirmedBooking();
    const list = await t.http.get('/api/v1/notifications').set(traveler.auth).expect(200);
    const types = list.body.data.map((n: { type: string }) => n.type);
    expect(types).toContain('booking.confirmed');
    expect(types).not.toContain('auth.verify_email'); // security codes travel by email only
    const confirmed = list.body.data.find((n: { type: string }) => n.type === 'booking.confirmed');
    expect(confirmed).toMatchObject({
      title: expect.stringMatching(/^Booking confirmed: /),
      readAt: null,
      data: { bookingId: booking.id, amount: booking.totalAmount },
    });
    const unreadBefore = list.body.meta.unread as number;
    expect(unreadBefore).toBe(list.body.data.length);

    const read = await t.http
      .patch(`/api/v1/notifications/${confirmed.id}/read`)
      .set(traveler.auth)
      .expect(200);
    expect(read.body.data.readAt).toBeTruthy();
    const again = await t.http
      .patch(`/api/v1/notifications/${confirmed.id}/read`)
      .set(traveler.auth)
      .expect(200);
    expect(again.body.data.readAt).toBe(read.body.data.readAt); // the first time stands

    const unread = await t.http.get('/api/v1/notifications?unread=true').set(traveler.auth).expect(200);
    expect(unread.body.meta.unread).toBe(unreadBefore - 1);
    expect(unread.body.data.map((n: { id: string }) => n.id)).not.toContain(confirmed.id);

    const other = await register(t);
    await t.http.patch(`/api/v1/notifications/${confirmed.id}/read`).set(other.auth).expect(404);
    await t.http.patch(`/api/v1/notifications/${randomUUID()}/read`).set(traveler.auth).expect(404);
    const bad = await t.http.patch('/api/v1/notifications/not-a-uuid/read').set(traveler.auth).expect(400);
    expect(bad.body).toMatchObject({ success: false, error: { code: 'VALIDATION_ERROR' } });
    await t.http.get('/api/v1/notifications?unread=maybe').set(traveler.auth).expect(400);
    await t.http.get('/api/v1/notifications').expect(401);

    const all = await t.http.post('/api/v1/notifications/read-all').set(traveler.auth).expect(200);
    expect(all.body.data).toEqual({ updated: unreadBefore - 1 });
    const after = await t.http.get('/api/v1/notifications').set(traveler.auth).expect(200);
    expect(after.body.meta.unread).toBe(0);
    expect((await t.http.get('/api/v1/notifications').set(other.auth).expect(200)).body.data).toEqual([]);
  });

  it('a mail server that does not answer holds up email only: the socket event is delivered meanwhile', async () => {
    await dispatcher.dispatchPending(); // nothing older in the way
    const release = smtp.hold();
    // Queued first, so in one queue the socket event would wait behind this email.
    const traveler = await register(t);
    let passes: Promise<unknown> | undefined;
    try {
      await t.db.transaction((m) =>
        t.app.get(Notifier).notify(m, {
          type: 'refund.processed',
          userId: traveler.id,
          data: { bookingId: randomUUID(), tripTitle: 'Hampta Pass', amount: 250_000 },
        }),
      );
      passes = dispatcher.dispatchPending();
      const row = (channel: string) =>
        t.db
          .query(
            `SELECT status FROM notification_outbox WHERE channel = $1 AND topic IN ('refund.processed', 'notification') AND (recipient = $2 OR recipient = $3)`,
            [channel, traveler.email, `user:${traveler.id}`],
          )
          .then((rows: { status: string }[]) => rows.map((r) => r.status));
      await vi.waitFor(async () => expect(await row('realtime')).toEqual(['sent']), {
        timeout: 10_000,
        interval: 20,
      });
      expect(await row('email')).toEqual(['pending']); // still with the silent mail server
    } finally {
      release();
    }
    await passes;
    const [email] = await t.db.query(
      `SELECT status FROM notification_outbox WHERE channel = 'email' AND topic = 'refund.processed' AND recipient = $1`,
      [traveler.email],
    );
    expect(email.status).toBe('sent');
  });

  it('admins find failed messages by status and channel, read one whole, and retry it (audited); others cannot', async () => {
    const traveler = await register(t);
    await dispatcher.dispatchPending();
    await t.db.query(
      `UPDATE notification_outbox SET status = 'failed', last_error = '550 mailbox unavailable'
        WHERE channel = 'email' AND recipient = $1`,
      [traveler.email],
    );
    const [row] = await t.db.query(
      `SELECT id FROM notification_outbox WHERE channel = 'email' AND recipient = $1`,
      [traveler.email],
    );
    const admin = await createStaff(t, 'admin');
    const failed = await t.http
      .get('/api/v1/admin/notifications?status=failed&channel=email')
      .set(admin.auth)
      .expect(200);
    expect(failed.body.data.map((n: { id: string }) => n.id)).toContain(row.id);
    expect(
      failed.body.data.every(
        (n: { status: string; channel: string }) => n.status === 'failed' && n.channel === 'email',
      ),
    ).toBe(true);
    const one = await t.http.get(`/api/v1/admin/notifications/${row.id}`).set(admin.auth).expect(200);
    expect(one.body.data).toMatchObject({
      type: 'auth.verify_email',
      userId: traveler.id,
      lastError: '550 mailbox unavailable',
    });
    expect(one.body.data.body).toBe('[redacted: a sign-in code]'); // an admin does not read others' codes

    const before = smtp.received.filter((m) => m.to.includes(traveler.email)).length;
    const retried = await t.http
      .post(`/api/v1/admin/notifications/${row.id}/retry`)
      .set(admin.auth)
      .expect(200);
    expect(retried.body.data).toMatchObject({ id: row.id, status: 'pending', attempts: 0 });
    await dispatcher.dispatchPending();
    expect(smtp.received.filter((m) => m.to.includes(traveler.email))).toHaveLength(before + 1);
    const [audit] = await t.db.query(
      `SELECT actor_id FROM audit_logs WHERE action = 'notification.retry_requested' AND entity_id = $1`,
      [row.id],
    );
    expect(audit.actor_id).toBe(admin.id);

    const again = await t.http
      .post(`/api/v1/admin/notifications/${row.id}/retry`)
      .set(admin.auth)
      .expect(409);
    expect(again.body.error.code).toBe('NOTIFICATION_NOT_RETRYABLE');
    await t.http.post(`/api/v1/admin/notifications/${randomUUID()}/retry`).set(admin.auth).expect(404);
    await t.http.get('/api/v1/admin/notifications?status=lost').set(admin.auth).expect(400);
    await t.http.get('/api/v1/admin/notifications?channel=pigeon').set(admin.auth).expect(400);
    await t.http.get('/api/v1/admin/notifications').set(traveler.auth).expect(403);
    // With a real mail server configured there is no developer mailbox to leak mail from.
    await t.http.get('/api/v1/dev/mailbox').expect(404);
  });
});

describe('notification preferences', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('start with the defaults users expect, merge what a PATCH gives, and refuse bad input changing nothing', async () => {
    const user = await register(t);
    const P = '/api/v1/notifications/preferences';
    const initial = (await t.http.get(P).set(user.auth).expect(200)).body.data;
    expect(initial).toEqual({
      email: true,
      sms: true,
      whatsapp: false,
      inApp: true,
      types: {},
      quietHours: { start: '22:00', end: '07:00' },
      timezone: 'Asia/Kolkata',
    });

    const patched = await t.http
      .patch(P)
      .set(user.auth)
      .send({
        whatsapp: true,
        types: { 'subscription.reminder': { email: false } },
        quietHours: { start: '23:00', end: '06:30' },
      })
      .expect(200);
    expect(patched.body.data).toMatchObject({
      whatsapp: true,
      email: true,
      quietHours: { start: '23:00', end: '06:30' },
    });
    const merged = await t.http
      .patch(P)
      .set(user.auth)
      .send({ types: { 'subscription.reminder': { inApp: false } }, timezone: 'Europe/London' })
      .expect(200);
    expect(merged.body.data.types).toEqual({ 'subscription.reminder': { email: false, inApp: false } });
    expect(merged.body.data).toMatchObject({ whatsapp: true, timezone: 'Europe/London' });
    expect(
      (await t.http.patch(P).set(user.auth).send({ quietHours: null }).expect(200)).body.data.quietHours,
    ).toBeNull();

    const bad = async (body: unknown, status: number, code: string) => {
      const res = await t.http
        .patch(P)
        .set(user.auth)
        .send(body as object)
        .expect(status);
      expect(res.body.error.code).toBe(code);
    };
    await bad({ types: { 'booking.teleported': { email: false } } }, 400, 'VALIDATION_ERROR');
    await bad({ types: { 'booking.confirmed': { pigeon: true } } }, 400, 'VALIDATION_ERROR');
    await bad({ types: { 'booking.confirmed': { email: 'no' } } }, 400, 'VALIDATION_ERROR');
    await bad({ types: { 'booking.confirmed': [true] } }, 400, 'VALIDATION_ERROR');
    await bad({ quietHours: { start: '25:00', end: '07:00' } }, 400, 'VALIDATION_ERROR');
    await bad({ timezone: 'Mars/Olympus' }, 400, 'VALIDATION_ERROR');
    await bad({ email: 'yes' }, 400, 'VALIDATION_ERROR');
    await bad({ types: { 'auth.password_reset': { email: false } } }, 422, 'PREFERENCE_LOCKED');
    const after = (await t.http.get(P).set(user.auth).expect(200)).body.data;
    expect(after).toMatchObject({ whatsapp: true, quietHours: null, timezone: 'Europe/London' });
    expect(after.types).toEqual({ 'subscription.reminder': { email: false, inApp: false } });
    await t.http.get(P).expect(401);
  });

  it('decide what is written: a type turned off by email or in-app is not sent there; security mail always is', async () => {
    const user = await register(t);
    await t.http
      .patch('/api/v1/notifications/preferences')
      .set(user.auth)
      .send({ email: false, types: { 'refund.processed': { inApp: false } } })
      .expect(200);
    const notifier = t.app.get(Notifier);
    const bookingId = randomUUID();
    await t.db.transaction((m) =>
      notifier.notify(m, {
        type: 'refund.processed',
        userId: user.id,
        data: { bookingId, tripTitle: 'Hampta Pass', amount: 250_000 },
        dedupeKey: `test-refund:${bookingId}`,
      }),
    );
    await t.db.transaction((m) =>
      notifier.notify(m, { type: 'auth.password_reset', userId: user.id, data: { code: 'c0de' } }),
    );
    const outbox = await t.db.query(
      `SELECT topic FROM notification_outbox WHERE user_id = $1 AND channel = 'email' ORDER BY created_at`,
      [user.id],
    );
    // The registration's verification mail and the reset code, nothing for the refund.
    expect(outbox.map((r: { topic: string }) => r.topic)).toEqual([
      'auth.verify_email',
      'auth.password_reset',
    ]);
    expect(await t.db.query(`SELECT 1 FROM notifications WHERE user_id = $1`, [user.id])).toEqual([]);
  });
});

describe('notifications without a mail server (a fresh install)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('records email as skipped and shows it whole, code and links, at /dev/mailbox', async () => {
    const user = await register(t);
    await t.app.get(OutboxDispatcher).dispatchPending(); // (the kick after commit may have been first)
    const [row] = await t.db.query(
      `SELECT status FROM notification_outbox WHERE channel = 'email' AND recipient = $1`,
      [user.email],
    );
    expect(row.status).toBe('skipped');
    const box = await t.http.get('/api/v1/dev/mailbox?limit=50').expect(200);
    const mail = box.body.data.find((m: { to: string }) => m.to === user.email);
    expect(mail).toMatchObject({
      type: 'auth.verify_email',
      status: 'skipped',
      subject: 'Verify your TrekTribe email',
    });
    expect(mail.text).toMatch(/\n\n[A-Za-z0-9_-]{20,}\n\n/); // the code itself
    expect(mail.links).toEqual([expect.stringMatching(/^http:\/\/localhost:\d+\/verify-email$/)]);
  });
});
