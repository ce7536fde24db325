import { Notifier, OutboxDispatcher } from '@trektribe/notifications';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, SignedIn, startTestApp, TestApp } from './support/app';
import { startTwilio } from './support/twilio';

const ist = (iso: string) => new Date(`${iso}+05:30`);

describe('SMS and WhatsApp through a Twilio-compatible server, and phone verification', () => {
  let t: TestApp;
  let twilio: Awaited<ReturnType<typeof startTwilio>>;
  let dispatcher: OutboxDispatcher;

  beforeAll(async () => {
    twilio = await startTwilio();
    t = await startTestApp(twilio.env);
    dispatcher = t.app.get(OutboxDispatcher);
  });
  afterAll(async () => {
    await t?.close();
    await new Promise<void>((r) => twilio.server.close(() => r()));
  });

  const codeFor = (phone: string) => {
    const text = [...twilio.sent].reverse().find((s) => s.to === phone);
    return /\b(\d{6})\b/.exec(text?.body ?? '')?.[1];
  };
  const me = async (u: SignedIn) => (await t.http.get('/api/v1/auth/me').set(u.auth).expect(200)).body.data;
  const textRows = (u: SignedIn, topic: string) =>
    t.db.query(
      `SELECT channel, recipient, status, attempts, last_error, next_attempt_at FROM notification_outbox
        WHERE user_id = $1 AND topic = $2 AND channel IN ('sms', 'whatsapp') ORDER BY channel`,
      [u.id, topic],
    );

  it('verifies a phone by SMS code: wrong codes count, 5 tries, 5 sends an hour, and a new number unverifies', async () => {
    const user = await register(t); // phone +919812345678
    const sent = await t.http.post('/api/v1/auth/phone/send-code').set(user.auth).expect(200);
    expect(sent.body.data.sentTo).toBe('+91******678');
    await dispatcher.dispatchPending();
    const code = codeFor('+919812345678');
    expect(code).toMatch(/^\d{6}$/);
    expect(twilio.sent.at(-1)).toMatchObject({ from: '+14155550100', to: '+919812345678' });

    const wrong = code === '000000' ? '111111' : '000000';
    const refused = await t.http
      .post('/api/v1/auth/phone/verify')
      .set(user.auth)
      .send({ code: wrong })
      .expect(400);
    expect(refused.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'code' }] });
    await t.http.post('/api/v1/auth/phone/verify').set(user.auth).send({ code: 'abc' }).expect(400);
    expect((await me(user)).phoneVerified).toBe(false);
    const ok = await t.http.post('/api/v1/auth/phone/verify').set(user.auth).send({ code }).expect(200);
    expect(ok.body.data.phoneVerified).toBe(true);
    await t.http.post('/api/v1/auth/phone/verify').set(user.auth).send({ code }).expect(400); // used

    // Five wrong tries lock the code, even the right one then.
    await t.http.post('/api/v1/auth/phone/send-code').set(user.auth).expect(200);
    await dispatcher.dispatchPending();
    const second = codeFor('+919812345678')!;
    const other = second === '000000' ? '111111' : '000000';
    for (let i = 1; i <= 4; i++)
      await t.http.post('/api/v1/auth/phone/verify').set(user.auth).send({ code: other }).expect(400);
    await t.http.post('/api/v1/auth/phone/verify').set(user.auth).send({ code: other }).expect(429);
    await t.http.post('/api/v1/auth/phone/verify').set(user.auth).send({ code: second }).expect(429);

    // Five sends an hour: two so far, three more, then 429.
    for (let i = 0; i < 3; i++) await t.http.post('/api/v1/auth/phone/send-code').set(user.auth).expect(200);
    const limited = await t.http.post('/api/v1/auth/phone/send-code').set(user.auth).expect(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');

    await t.http.patch('/api/v1/auth/me').set(user.auth).send({ phone: '+919800000001' }).expect(200);
    expect((await me(user)).phoneVerified).toBe(false);
  });

  it('caps codes per number as well as per account: 5 an hour to one phone, whichever account asks', async () => {
    const [a, b] = [
      await register(t, 'traveler', { phone: '+919866666666' }),
      await register(t, 'traveler', { phone: '+919866666666' }),
    ];
    for (let i = 0; i < 3; i++) await t.http.post('/api/v1/auth/phone/send-code').set(a.auth).expect(200);
    for (let i = 0; i < 2; i++) await t.http.post('/api/v1/auth/phone/send-code').set(b.auth).expect(200);
    const capped = await t.http.post('/api/v1/auth/phone/send-code').set(b.auth).expect(429);
    expect(capped.body.error.code).toBe('RATE_LIMITED');
  });

  it('refuses a code for a phone that is not E.164', async () => {
    const user = await register(t, 'traveler', { phone: '9812345678' });
    const res = await t.http.post('/api/v1/auth/phone/send-code').set(user.auth).expect(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'phone' })]);
  });

  async function verifiedTraveler(phone: string): Promise<SignedIn> {
    const user = await register(t);
    await t.db.query(`UPDATE users SET phone = $2, phone_verified_at = now() WHERE id = $1`, [
      user.id,
      phone,
    ]);
    return user;
  }

  const confirm = (user: SignedIn) =>
    t.db.transaction((m) =>
      t.app.get(Notifier).notify(m, {
        type: 'booking.confirmed',
        userId: user.id,
        data: {
          bookingId: randomUUID(),
          tripTitle: 'Hampta Pass',
          startDate: '2027-01-10',
          seats: 1,
          amount: 1_499_900,
        },
        dedupeKey: `test-confirmed:${randomUUID()}`,
      }),
    );

  it('texts a booking confirmation to a verified phone by day, and holds it through quiet hours until 07:00', async () => {
    const day = await verifiedTraveler('+919811111111');
    t.clock.set(ist('2026-12-05T14:00:00'));
    try {
      await confirm(day);
      await dispatcher.dispatchPending();
      expect(await textRows(day, 'booking.confirmed')).toEqual([
        expect.objectContaining({ channel: 'sms', status: 'sent' }),
      ]);
      expect(twilio.sent.at(-1)).toMatchObject({
        to: '+919811111111',
        body: expect.stringContaining('₹14,999'),
      });

      const night = await verifiedTraveler('+919822222222');
      t.clock.set(ist('2026-12-05T23:30:00'));
      await confirm(night);
      await dispatcher.dispatchPending();
      const [held] = await textRows(night, 'booking.confirmed');
      expect(held).toMatchObject({ status: 'pending', attempts: 0 });
      expect(new Date(held.next_attempt_at)).toEqual(ist('2026-12-06T07:00:00'));
      t.clock.set(ist('2026-12-06T07:00:30'));
      await dispatcher.dispatchPending();
      expect(await textRows(night, 'booking.confirmed')).toEqual([
        expect.objectContaining({ status: 'sent' }),
      ]);
      // Email still went at once: quiet hours are for texts.
      const [email] = await t.db.query(
        `SELECT status FROM notification_outbox WHERE user_id = $1 AND channel = 'email' AND topic = 'booking.confirmed'`,
        [night.id],
      );
      expect(email.status).not.toBe('pending');
    } finally {
      t.clock.reset();
    }
  });

  it('fails a text at once when the provider refuses the number (4xx), and retries a 5xx', async () => {
    twilio.refuse.add('+919833333333');
    const bad = await verifiedTraveler('+919833333333');
    t.clock.set(ist('2026-12-05T12:00:00'));
    try {
      await confirm(bad);
      await dispatcher.dispatchPending();
      const [row] = await textRows(bad, 'booking.confirmed');
      expect(row).toMatchObject({
        status: 'failed',
        attempts: 1,
        last_error: expect.stringContaining('(400)'),
      });

      const flaky = await verifiedTraveler('+919844444444');
      twilio.failNext.n = 1;
      await confirm(flaky);
      await dispatcher.dispatchPending();
      expect((await textRows(flaky, 'booking.confirmed'))[0]).toMatchObject({
        status: 'pending',
        attempts: 1,
      });
      t.clock.set(ist('2026-12-05T12:10:00'));
      await dispatcher.dispatchPending();
      expect((await textRows(flaky, 'booking.confirmed'))[0]).toMatchObject({ status: 'sent', attempts: 2 });
    } finally {
      t.clock.reset();
    }
  });

  it('sends WhatsApp only to users who turned it on', async () => {
    const user = await verifiedTraveler('+919855555555');
    await t.http
      .patch('/api/v1/notifications/preferences')
      .set(user.auth)
      .send({ whatsapp: true, quietHours: null })
      .expect(200);
    await confirm(user);
    await dispatcher.dispatchPending();
    expect(
      (await textRows(user, 'booking.confirmed')).map((r: { channel: string; recipient: string }) => [
        r.channel,
        r.recipient,
      ]),
    ).toEqual([
      ['sms', '+919855555555'],
      ['whatsapp', 'whatsapp:+919855555555'],
    ]);
    expect(
      twilio.sent.some((s) => s.to === 'whatsapp:+919855555555' && s.from === 'whatsapp:+14155550111'),
    ).toBe(true);
  });
});

describe('texts without Twilio configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('records them skipped, not failed, and sends nothing', async () => {
    const user = await register(t);
    await t.db.query(`UPDATE users SET phone_verified_at = now() WHERE id = $1`, [user.id]);
    await t.db.transaction((m) =>
      t.app.get(Notifier).notify(m, {
        type: 'trip.reminder',
        userId: user.id,
        data: {
          bookingId: randomUUID(),
          tripTitle: 'Hampta Pass',
          destination: 'Himachal',
          startDate: '2027-01-10',
          seats: 1,
        },
      }),
    );
    const rows = await t.db.query(
      `SELECT channel, status FROM notification_outbox WHERE user_id = $1 AND channel = 'sms'`,
      [user.id],
    );
    expect(rows).toEqual([{ channel: 'sms', status: 'skipped' }]);
  });
});
