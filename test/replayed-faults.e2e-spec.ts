import { RefundsService } from '@trektribe/billing';
import { getMetadataStorage } from 'class-validator';
import { OutboxDispatcher } from '@trektribe/notifications';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff, PASSWORD, register, SignedIn, startTestApp, TestApp } from './support/app';
import { BillingTestApp, startBillingApp } from './support/billing';
import { auditRows, bookingBody, bookingRow, createTrip, seatsBooked, tripBody } from './support/fixtures';

/**
 * Faults found by replaying real-world bug reports over HTTP (issue 10). Each example stands for a
 * kind: the tests name the example and, where the kind has other members, check those too.
 */

const BOOKINGS = '/api/v1/bookings';

/** A JSON text sent as is, so escapes such as a lone `\ud800` reach the server exactly as written. */
function rawJson(
  req: { set(h: Record<string, string>): unknown; send(body: string): unknown },
  text: string,
) {
  req.set({ 'Content-Type': 'application/json' });
  return req.send(text) as Promise<{ status: number; body: any }>;
}

function fieldsOf(res: { body: any }): string[] {
  return (res.body.error?.details ?? []).map((d: { field: string }) => d.field);
}

describe('replayed faults', () => {
  let t: BillingTestApp;
  let organizer: SignedIn;
  let traveler: SignedIn;
  let trip: { id: string };

  beforeAll(async () => {
    t = await startBillingApp();
    organizer = await register(t, 'organizer');
    traveler = await register(t, 'traveler');
    trip = await createTrip(t, organizer, { capacity: 30 });
  });
  afterAll(async () => {
    await t?.app.get(RefundsService).processPendingRefunds();
    await t?.app.get(OutboxDispatcher).dispatchPending();
    await t?.close();
  });

  const bookingsOf = async (u: SignedIn) =>
    (await t.db.query(`SELECT id FROM bookings WHERE traveler_id = $1`, [u.id])).length;

  describe('1. an array nested in an array of objects', () => {
    it('POST /bookings with participants [[{…}]] or [[]] → 400 on participants.0, nothing booked', async () => {
      const before = await seatsBooked(t, trip.id);
      for (const participants of [
        [[{ name: 'Ravi' }]],
        [[]],
        [null],
        ['Ravi'],
        [{ name: 'Ravi' }, [{ name: 'Asha' }]],
      ]) {
        const seats = participants.length;
        const res = await t.http
          .post(BOOKINGS)
          .set(traveler.auth)
          .send({ ...bookingBody(trip.id, seats), participants });
        expect(res.status, JSON.stringify(participants)).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION_ERROR');
        const bad = participants.findIndex((p) => p === null || typeof p !== 'object' || Array.isArray(p));
        expect(fieldsOf(res)).toContain(`participants.${bad}`);
      }
      expect(await bookingsOf(traveler)).toBe(0);
      expect(await seatsBooked(t, trip.id)).toBe(before);
    });

    it('every other array of objects: a trip itinerary on create and on update', async () => {
      const created = await t.http
        .post('/api/v1/trips')
        .set(organizer.auth)
        .send(tripBody(t, { itinerary: [[{ day: 1, title: 'Sankri', activities: [] }]] }));
      expect(created.status).toBe(400);
      expect(fieldsOf(created)).toContain('itinerary.0');
      const updated = await t.http
        .patch(`/api/v1/trips/${trip.id}`)
        .set(organizer.auth)
        .send({ itinerary: [{ day: 1, title: 'Sankri', activities: [] }, []] });
      expect(updated.status).toBe(400);
      expect(fieldsOf(updated)).toContain('itinerary.1');
    });

    it('a JSON array where the body should be an object → 400, not a 500 or an empty validation', async () => {
      const res = await t.http
        .post(BOOKINGS)
        .set(traveler.auth)
        .send([bookingBody(trip.id, 1)]);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(await bookingsOf(traveler)).toBe(0);
    });

    it('the kind, in every DTO: each nested array declares object items, each nested object refuses arrays', () => {
      const missing: string[] = [];
      let nested = 0;
      for (const [target, list] of dtoMetadata()) {
        for (const m of list.filter((x) => x.type === 'nestedValidation')) {
          nested++;
          const rules = list.filter((x) => x.propertyName === m.propertyName).map((x) => x.name);
          const guarded = m.each ? rules.includes('objectItems') : rules.includes('isObject');
          if (!guarded) missing.push(`${target.name}.${m.propertyName}`);
        }
      }
      expect(nested).toBeGreaterThanOrEqual(3);
      expect(missing).toEqual([]);
    });
  });

  describe('2. ill-formed Unicode and control characters', () => {
    it('POST /auth/register with a lone surrogate in name → 400 naming the field, no account', async () => {
      const email = `lone.${Date.now()}@example.com`;
      const res = await rawJson(
        t.http.post('/api/v1/auth/register'),
        `{"name":"Ana\\ud800nya","email":"${email}","password":"${PASSWORD}","phone":"+919812345678"}`,
      );
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.error.details).toEqual([
        { field: 'name', message: expect.stringMatching(/well-formed Unicode/) },
      ]);
      expect(await t.db.query(`SELECT 1 FROM users WHERE email = $1`, [email])).toHaveLength(0);
    });

    it('the kind: any string of any body, nested or not, and any key → 400 on that field; a paired emoji is fine', async () => {
      const nestedName = await rawJson(
        t.http.post(BOOKINGS).set(traveler.auth),
        `{"tripId":"${trip.id}","seats":1,"participants":[{"name":"Ravi \\udc00"}],"paymentMethod":"online"}`,
      );
      expect(nestedName.status).toBe(400);
      expect(fieldsOf(nestedName)).toEqual(['participants.0.name']);
      const inKey = await rawJson(t.http.patch('/api/v1/auth/me').set(traveler.auth), `{"bio\\ud83d":"x"}`);
      expect(inKey.status).toBe(400);
      expect(fieldsOf(inKey)).toEqual(['bio']);
      const multiLine = await rawJson(
        t.http.patch('/api/v1/auth/me').set(traveler.auth),
        `{"bio":"Trekker \\udfff from Pune"}`,
      );
      expect(multiLine.status).toBe(400);
      expect(fieldsOf(multiLine)).toEqual(['bio']);
      const emoji = await rawJson(
        t.http.patch('/api/v1/auth/me').set(traveler.auth),
        `{"bio":"Trekker \\ud83c\\udfd4 from Pune"}`,
      );
      expect(emoji.status).toBe(200);
      expect(emoji.body.data.bio).toBe('Trekker 🏔 from Pune');
      expect(await bookingsOf(traveler)).toBe(0);
    });

    it('query strings and path parameters: malformed percent-encoding → 400, never a 500', async () => {
      const badPath = await t.http.get(`${BOOKINGS}/%ED%A0%80`).set(traveler.auth);
      expect(badPath.status).toBe(400);
      expect(badPath.body.success).toBe(false);
      const badQuery = await t.http.get('/api/v1/trips?q=%ED%A0%80trek');
      expect(badQuery.status).toBeLessThan(500);
      const ctlQuery = await t.http.get('/api/v1/trips?q=kedar%0D%0Akantha');
      expect(ctlQuery.status).toBe(400);
      expect(fieldsOf(ctlQuery)).toEqual(['q']);
    });

    it('single-line fields refuse CR, LF, TAB and other controls; multi-line text keeps its line breaks', async () => {
      const email = `crlf.${Date.now()}@example.com`;
      const name = await t.http
        .post('/api/v1/auth/register')
        .send({ name: 'Asha\r\nBcc: all@example.com', email, password: PASSWORD, phone: '+919812345678' });
      expect(name.status).toBe(400);
      expect(fieldsOf(name)).toEqual(['name']);
      expect(await t.db.query(`SELECT 1 FROM users WHERE email = $1`, [email])).toHaveLength(0);

      const title = await t.http
        .post('/api/v1/trips')
        .set(organizer.auth)
        .send(tripBody(t, { title: 'Hampta\nPass' }));
      expect(title.status).toBe(400);
      expect(fieldsOf(title)).toEqual(['title']);
      const participant = await t.http
        .post(BOOKINGS)
        .set(traveler.auth)
        .send({ ...bookingBody(trip.id, 1), participants: [{ name: 'Ravi\tKumar' }] });
      expect(participant.status).toBe(400);
      expect(fieldsOf(participant)).toEqual(['participants.0.name']);
      const item = await t.http
        .patch(`/api/v1/trips/${trip.id}`)
        .set(organizer.auth)
        .send({ includedItems: ['Meals', 'Tents\u2028and more'] });
      expect(item.status).toBe(400);
      expect(fieldsOf(item)).toEqual(['includedItems']);
      const escape = await t.http
        .patch('/api/v1/auth/me')
        .set(traveler.auth)
        .send({ bio: 'Trekker\u001b[31m from Pune' });
      expect(escape.status).toBe(400);

      const description = 'Day 1: Sankri.\r\nDay 2: Juda ka Talab.\n\tCamp by the lake.';
      const ok = await t.http
        .post('/api/v1/trips')
        .set(organizer.auth)
        .send(tripBody(t, { description }))
        .expect(201);
      expect(ok.body.data.description).toBe(description);
    });

    it('bidi overrides in a name are refused; a password is a secret and keeps any character', async () => {
      const email = `bidi.${Date.now()}@example.com`;
      const spoof = await t.http
        .post('/api/v1/auth/register')
        .send({ name: 'Asha \u202Egnp.exe', email, password: PASSWORD, phone: '+919812345678' });
      expect(spoof.status).toBe(400);
      expect(fieldsOf(spoof)).toEqual(['name']);
      const password = 'Trek\t2026\u0007Ok';
      await t.http
        .post('/api/v1/auth/register')
        .send({ name: 'Asha', email, password, phone: '+919812345678' })
        .expect(201);
      await t.http.post('/api/v1/auth/login').send({ email, password }).expect(200);
    });

    it('the kind, in every DTO: each free-text string field says whether it is one line or several', () => {
      const undecided: string[] = [];
      let strings = 0;
      for (const [target, list] of dtoMetadata()) {
        const props = new Set(list.filter((x) => x.name === 'isString').map((x) => x.propertyName));
        for (const prop of props) {
          strings++;
          // Passwords are secrets, not text: any character a password manager produces is theirs.
          if (/password/i.test(prop)) continue;
          const rules = list.filter((x) => x.propertyName === prop).map((x) => x.name);
          if (!rules.some((r) => r === 'singleLine' || r === 'multiLine' || r === 'matches'))
            undecided.push(`${target.name}.${prop}`);
        }
      }
      expect(strings).toBeGreaterThan(20);
      expect(undecided).toEqual([]);
    });
  });

  describe('3. the same idempotent request in another spelling', () => {
    it('the same fields in another key order (at every depth) replay the first answer', async () => {
      const who = await register(t, 'traveler');
      const key = `order-${Date.now()}`;
      const first = await t.http
        .post(BOOKINGS)
        .set({ ...who.auth, 'Idempotency-Key': key })
        .send({
          tripId: trip.id,
          seats: 1,
          participants: [{ name: 'Ravi', age: 30 }],
          paymentMethod: 'online',
        })
        .expect(201);
      const reordered = await t.http
        .post(BOOKINGS)
        .set({ ...who.auth, 'Idempotency-Key': key })
        .send({
          paymentMethod: 'online',
          participants: [{ age: 30, name: 'Ravi' }],
          seats: 1,
          tripId: trip.id,
        });
      expect(reordered.status).toBe(201);
      expect(reordered.headers['idempotent-replayed']).toBe('true');
      expect(reordered.body.data.id).toBe(first.body.data.id);
      expect(await bookingsOf(who)).toBe(1);

      // The router treats a trailing slash and letter case alike, so the key does too.
      const slash = await t.http
        .post(`${BOOKINGS}/`)
        .set({ ...who.auth, 'Idempotency-Key': key })
        .send({
          seats: 1,
          tripId: trip.id,
          paymentMethod: 'online',
          participants: [{ name: 'Ravi', age: 30 }],
        });
      expect(slash.status).toBe(201);
      expect(slash.body.data.id).toBe(first.body.data.id);

      // Another request under the same key is still refused.
      const other = await t.http
        .post(BOOKINGS)
        .set({ ...who.auth, 'Idempotency-Key': key })
        .send({
          tripId: trip.id,
          seats: 1,
          participants: [{ name: 'Ravi', age: 31 }],
          paymentMethod: 'online',
        });
      expect(other.status).toBe(422);
      expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await bookingsOf(who)).toBe(1);
    });
  });

  describe('4. refresh-token reuse whatever the timing', () => {
    const REFRESH = '/api/v1/auth/refresh';

    it('five concurrent refreshes with one token: one wins, and its successor dies with the family', async () => {
      for (let round = 0; round < 4; round++) {
        const user = await register(t);
        const answers = await Promise.all(
          [0, 1, 2, 3, 4].map(() => t.http.post(REFRESH).send({ refreshToken: user.refreshToken })),
        );
        const statuses = answers.map((r) => r.status).sort();
        expect(statuses).toEqual([200, 401, 401, 401, 401]);
        const winner = answers.find((r) => r.status === 200)!.body.data.refreshToken as string;
        const after = await t.http.post(REFRESH).send({ refreshToken: winner });
        expect(after.status, `round ${round}: the successor outlived the replay`).toBe(401);
        const live = await t.db.query(
          `SELECT 1 FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL`,
          [user.id],
        );
        expect(live).toHaveLength(0);
      }
    });

    it('a logout racing a refresh of the same family leaves no live token in it', async () => {
      for (let round = 0; round < 4; round++) {
        const user = await register(t);
        await Promise.all([
          t.http.post('/api/v1/auth/logout').set(user.auth).send({ refreshToken: user.refreshToken }),
          t.http.post(REFRESH).send({ refreshToken: user.refreshToken }),
        ]);
        const live = await t.db.query(
          `SELECT 1 FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL`,
          [user.id],
        );
        expect(live, `round ${round}`).toHaveLength(0);
      }
    });
  });

  describe('5. a payment event whose amount differs from the order', () => {
    async function orderFor() {
      const who = await register(t, 'traveler');
      const booking = (await t.http.post(BOOKINGS).set(who.auth).send(bookingBody(trip.id, 1)).expect(201))
        .body.data;
      const order = (await t.http.post(`${BOOKINGS}/${booking.id}/payments/order`).set(who.auth).expect(200))
        .body.data;
      return { who, booking, order };
    }
    const paymentRow = async (gatewayPaymentId: string) =>
      (await t.db.query(`SELECT * FROM payments WHERE gateway_payment_id = $1`, [gatewayPaymentId]))[0];
    const refundsOf = (paymentId: string) =>
      t.db.query(`SELECT amount, status FROM refunds WHERE payment_id = $1`, [paymentId]);
    const claims = async (gatewayPaymentId: string) =>
      (
        await t.db.query(
          `SELECT after FROM audit_logs WHERE action = 'webhook.amount_mismatch' AND after->>'gatewayPaymentId' = $1`,
          [gatewayPaymentId],
        )
      ).map((r: { after: unknown }) => r.after);

    for (const claimed of [100, 99_999_999]) {
      it(`an event claiming ${claimed} paise for a payment the gateway holds in full: its claim is not applied, the gateway's record is, admins see it`, async () => {
        const { booking, order } = await orderFor();
        const paid = t.rzp.payOrder(order.orderId);
        const payment = t.rzp.payments.get(paid.razorpay_payment_id)!;
        const res = await t.rzp.sendWebhook(
          t.rzp.buildEvent('payment.captured', { payment: { ...payment, amount: claimed } }),
        );
        expect(res.status).toBe(200);

        // The same outcome as when checkout's verify (which asks the gateway too) comes first.
        const row = await paymentRow(payment.id);
        expect(row).toMatchObject({ amount: order.amount, status: 'captured' });
        expect(await refundsOf(row.id)).toEqual([]);
        expect(await bookingRow(t, booking.id)).toMatchObject({
          status: 'confirmed',
          payment_status: 'paid',
        });
        expect(await claims(payment.id)).toEqual([
          expect.objectContaining({
            expected: { amount: order.amount, currency: 'INR' },
            claimedByEvent: { amount: claimed, currency: 'INR' },
          }),
        ]);
        const admin = await createStaff(t, 'admin');
        const listed = await t.http
          .get('/api/v1/admin/audit-logs?action=webhook.amount_mismatch')
          .set(admin.auth)
          .expect(200);
        expect(listed.body.data.length).toBeGreaterThanOrEqual(1);
      });
    }

    it('checkout verify first, the lying event after: the same final state, and the claim is still recorded', async () => {
      const { who, booking, order } = await orderFor();
      const paid = t.rzp.payOrder(order.orderId);
      await t.http.post(`${BOOKINGS}/${booking.id}/payments/verify`).set(who.auth).send(paid).expect(200);
      const payment = t.rzp.payments.get(paid.razorpay_payment_id)!;
      expect(
        (
          await t.rzp.sendWebhook(
            t.rzp.buildEvent('payment.captured', { payment: { ...payment, amount: 100 } }),
          )
        ).status,
      ).toBe(200);
      const row = await paymentRow(payment.id);
      expect(row).toMatchObject({ amount: order.amount, status: 'captured' });
      expect(await refundsOf(row.id)).toEqual([]);
      expect(await bookingRow(t, booking.id)).toMatchObject({ status: 'confirmed', payment_status: 'paid' });
      expect(await claims(payment.id)).toHaveLength(1);
    });

    for (const claimed of ['truthful', 100] as const) {
      it(`the gateway holds less than the order (a partial payment), the event ${claimed === 'truthful' ? 'says so' : 'claims 100 paise'}: refused, and what the gateway holds goes back`, async () => {
        const { booking, order } = await orderFor();
        const paid = t.rzp.payOrder(order.orderId, { amount: 50_000 });
        const payment = t.rzp.payments.get(paid.razorpay_payment_id)!;
        const amount = claimed === 'truthful' ? payment.amount : claimed;
        expect(
          (await t.rzp.sendWebhook(t.rzp.buildEvent('payment.captured', { payment: { ...payment, amount } })))
            .status,
        ).toBe(200);

        const row = await paymentRow(payment.id);
        expect(row.amount).toBe(50_000);
        // The refund sender is kicked once the webhook's transaction commits: it may have run already.
        expect(await refundsOf(row.id)).toEqual([
          { amount: 50_000, status: expect.stringMatching(/^(pending|processed)$/) },
        ]);
        expect(await bookingRow(t, booking.id)).toMatchObject({
          status: 'pending',
          payment_status: expect.stringMatching(/^refund(_pending|ed)$/),
        });
        const [mismatch] = await auditRows(t, row.id, 'payment.amount_mismatch');
        expect(mismatch.after).toMatchObject({
          expected: { amount: order.amount, currency: 'INR' },
          captured: { amount: 50_000, currency: 'INR' },
        });

        await t.app.get(RefundsService).processPendingRefunds();
        const atGateway = [...t.rzp.refunds.values()].filter((r) => r.payment_id === payment.id);
        expect(atGateway.map((r) => r.amount)).toEqual([50_000]);
      });
    }
  });

  describe('5b. the same kind on refunds', () => {
    it('a refund.processed naming another amount for a refund the gateway never made: rejected, our refund is not settled', async () => {
      const { order } = await (async () => {
        const who = await register(t, 'traveler');
        const booking = (await t.http.post(BOOKINGS).set(who.auth).send(bookingBody(trip.id, 1)).expect(201))
          .body.data;
        return {
          order: (await t.http.post(`${BOOKINGS}/${booking.id}/payments/order`).set(who.auth).expect(200))
            .body.data,
        };
      })();
      const paid = t.rzp.payOrder(order.orderId, { amount: 70_000 });
      const payment = t.rzp.payments.get(paid.razorpay_payment_id)!;
      // Our refund of what the gateway holds is refused once, so it waits (failed, retried later).
      t.rzp.failNextRefunds(1, 'error');
      await t.rzp.sendWebhook(t.rzp.buildEvent('payment.captured', { payment }));
      await t.app.get(RefundsService).processPendingRefunds();
      const [refund] = await t.db.query(
        `SELECT r.id, r.amount, r.status FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.gateway_payment_id = $1`,
        [payment.id],
      );
      expect(refund).toMatchObject({ amount: 70_000, status: 'failed' });
      const entity = {
        id: 'rfnd_claimsless01',
        entity: 'refund',
        amount: 100,
        currency: 'INR',
        payment_id: payment.id,
        status: 'processed',
        notes: { refund_id: refund.id },
        created_at: 1,
      };
      const res = await t.rzp.sendWebhook(t.rzp.buildEvent('refund.processed', { refund: entity as never }));
      expect(res.status).toBe(200);

      const [stored] = await t.db.query(`SELECT outcome FROM webhook_events WHERE event_id = $1`, [
        res.eventId,
      ]);
      expect(stored.outcome).toMatch(/^rejected: refund amount differs/);
      const [row] = await t.db.query(`SELECT amount, status FROM refunds WHERE id = $1`, [refund.id]);
      expect(row).toEqual({ amount: 70_000, status: 'failed' });
      const [p] = await t.db.query(`SELECT amount_refunded FROM payments WHERE gateway_payment_id = $1`, [
        payment.id,
      ]);
      expect(p.amount_refunded).toBe(0);
    });
  });

  describe('7. the auto-pay authorisation payment', () => {
    const AP = '/api/v1/auto-pay';

    async function capture(orderId: string, paymentId: string) {
      const payment = t.rzp.payments.get(paymentId)!;
      const order = t.rzp.orders.get(orderId)!;
      const res = await t.rzp.sendWebhook(t.rzp.buildEvent('order.paid', { payment, order }));
      expect(res.status).toBe(200);
    }

    async function confirm(tokenId: string) {
      const token = t.rzp.confirmToken(tokenId);
      const res = await t.rzp.sendWebhook(t.rzp.buildEvent('token.confirmed', { token }));
      expect(res.status).toBe(200);
    }

    const authRefunds = (paymentId: string) =>
      t.db.query(
        `SELECT r.amount, r.status, r.idempotency_key FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.gateway_payment_id = $1`,
        [paymentId],
      );
    const mails = (org: SignedIn) =>
      t.db.query(
        `SELECT subject, body FROM notification_outbox WHERE channel = 'email' AND recipient = $1 AND topic = 'subscription.mandate_confirmed'`,
        [org.email],
      );

    it('is refunded in full once the mandate is confirmed, once, through the normal refund path, and the organizer is told', async () => {
      const org = await register(t, 'organizer');
      const setup = (await t.http.post(`${AP}/setup`).set(org.auth).send({ method: 'upi' }).expect(201)).body
        .data;
      expect(setup.authorizationRefund).toEqual({ amount: setup.amount, when: 'mandate_confirmed' });
      const paid = t.rzp.payOrder(setup.orderId);
      await t.http.post(`${AP}/verify`).set(org.auth).send(paid).expect(200);
      await capture(setup.orderId, paid.razorpay_payment_id);
      // Captured, the mandate not yet confirmed by the bank: kept for now.
      expect(await authRefunds(paid.razorpay_payment_id)).toEqual([]);

      const tokenId = t.rzp.payments.get(paid.razorpay_payment_id)!.token_id!;
      await confirm(tokenId);
      await confirm(tokenId); // a second delivery (another event id) starts nothing new
      // One refund; the sender is kicked once its transaction commits, so it may already be processed.
      expect(await authRefunds(paid.razorpay_payment_id)).toEqual([
        {
          amount: setup.amount,
          status: expect.stringMatching(/^(pending|processed)$/),
          idempotency_key: `autopay_auth_${paid.razorpay_payment_id}`,
        },
      ]);
      const sent = await mails(org);
      expect(sent).toHaveLength(1);
      expect(sent[0].body).toMatch(/₹1(\.00)? authorisation payment .* refunded in full/);

      await t.app.get(RefundsService).processPendingRefunds();
      const mine = await t.http.get('/api/v1/payments').set(org.auth).expect(200);
      const listed = mine.body.data.find(
        (p: { gatewayPaymentId: string }) => p.gatewayPaymentId === paid.razorpay_payment_id,
      );
      expect(listed).toMatchObject({
        status: 'refunded',
        amount: setup.amount,
        amountRefunded: setup.amount,
      });
      const one = await t.http.get(`/api/v1/payments/${listed.id}`).set(org.auth).expect(200);
      expect(one.body.data.refunds).toEqual([
        expect.objectContaining({ amount: setup.amount, status: 'processed' }),
      ]);
      // The mandate stays: the subscription keeps its payment method.
      const status = await t.http.get(`${AP}/status`).set(org.auth).expect(200);
      expect(status.body.data.hasPaymentMethod).toBe(true);
    });

    it('a mandate confirmed before the capture is recorded: refunded when the capture arrives', async () => {
      const org = await register(t, 'organizer');
      const setup = (await t.http.post(`${AP}/setup`).set(org.auth).send({}).expect(201)).body.data;
      const paid = t.rzp.payOrder(setup.orderId);
      const tokenId = t.rzp.payments.get(paid.razorpay_payment_id)!.token_id!;
      t.rzp.confirmToken(tokenId);
      await t.http.post(`${AP}/verify`).set(org.auth).send(paid).expect(200); // sees the confirmed token
      expect(await authRefunds(paid.razorpay_payment_id)).toEqual([]); // nothing captured on our side yet
      await capture(setup.orderId, paid.razorpay_payment_id);
      expect(await authRefunds(paid.razorpay_payment_id)).toEqual([
        expect.objectContaining({ amount: setup.amount, status: 'pending' }),
      ]);
      expect(await mails(org)).toHaveLength(1);
    });

    it('an e-mandate (a free authorisation) has nothing to refund: the confirmation is applied, no refund, no error', async () => {
      const org = await register(t, 'organizer');
      const setup = (await t.http.post(`${AP}/setup`).set(org.auth).send({ method: 'emandate' }).expect(201))
        .body.data;
      expect(setup).toMatchObject({ amount: 0, authorizationRefund: null });
      const paid = t.rzp.payOrder(setup.orderId);
      await t.http.post(`${AP}/verify`).set(org.auth).send(paid).expect(200);
      await capture(setup.orderId, paid.razorpay_payment_id);
      const tokenId = t.rzp.payments.get(paid.razorpay_payment_id)!.token_id!;
      const token = t.rzp.confirmToken(tokenId);
      const res = await t.rzp.sendWebhook(t.rzp.buildEvent('token.confirmed', { token }));
      const [stored] = await t.db.query(
        `SELECT outcome, processed_at FROM webhook_events WHERE event_id = $1`,
        [res.eventId],
      );
      expect(stored.processed_at).not.toBeNull();
      expect(stored.outcome).toMatch(/mandate confirmed/);
      expect(await authRefunds(paid.razorpay_payment_id)).toEqual([]);
      const [sub] = await t.db.query(`SELECT token_confirmed_at FROM subscriptions WHERE organizer_id = $1`, [
        org.id,
      ]);
      expect(sub.token_confirmed_at).not.toBeNull();
    });

    it('an authorisation already refunded for another reason is not refunded twice when the mandate is confirmed', async () => {
      const org = await register(t, 'organizer');
      const setup = (await t.http.post(`${AP}/setup`).set(org.auth).send({}).expect(201)).body.data;
      // The gateway holds less than the authorisation order asked: the ledger refunds that at once.
      const paid = t.rzp.payOrder(setup.orderId, { amount: setup.amount - 40 });
      await t.http.post(`${AP}/verify`).set(org.auth).send(paid).expect(200);
      const payment = t.rzp.payments.get(paid.razorpay_payment_id)!;
      expect((await t.rzp.sendWebhook(t.rzp.buildEvent('payment.captured', { payment }))).status).toBe(200);
      expect(await authRefunds(paid.razorpay_payment_id)).toEqual([
        expect.objectContaining({ amount: setup.amount - 40, idempotency_key: `auto_${payment.id}` }),
      ]);
      await confirm(payment.token_id!);
      expect(await authRefunds(paid.razorpay_payment_id)).toHaveLength(1);
      expect(await mails(org)).toHaveLength(0);
    });
  });
});

describe('6. whose X-Forwarded-For is believed', () => {
  async function failedLogins(
    t: TestApp,
    email: string,
    forwardedFor: (i: number) => string,
  ): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', forwardedFor(i))
        .send({ email, password: 'Wrong-Pass1' });
      statuses.push(res.status);
    }
    return statuses;
  }

  it('by default nobody: a same-host caller cannot pick its own failed-login or rate-limit key', async () => {
    const t = await startTestApp();
    try {
      const user = await register(t);
      const statuses = await failedLogins(t, user.email, (i) => `203.0.113.${i + 1}`);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    } finally {
      await t.close();
    }
  });

  it('TRUST_PROXY names the proxy in front: then its X-Forwarded-For is the client', async () => {
    const t = await startTestApp({ TRUST_PROXY: 'loopback' });
    try {
      const user = await register(t);
      expect(await failedLogins(t, user.email, (i) => `203.0.113.${i + 1}`)).toEqual([
        401, 401, 401, 401, 401, 401, 401,
      ]);
      expect(await failedLogins(t, user.email, () => '198.51.100.7')).toEqual([
        401, 401, 401, 401, 401, 429, 429,
      ]);
    } finally {
      await t.close();
    }
  });
});

/** What the checks below read of class-validator's record of a rule. */
interface ValidationMetadata {
  type: string;
  name?: string;
  propertyName: string;
  each?: boolean;
}

/** Validation rules of every DTO class the app has loaded (the app module imports them all). */
function dtoMetadata(): [{ name: string }, ValidationMetadata[]][] {
  const storage = getMetadataStorage() as unknown as {
    validationMetadatas: Map<{ name: string }, ValidationMetadata[]>;
  };
  return [...storage.validationMetadatas.entries()];
}
