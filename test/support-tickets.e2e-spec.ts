import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff, register, SignedIn, startTestApp, TestApp } from './support/app';
import { auditRows, book, createTrip, daysFromNow } from './support/fixtures';

const T = '/api/v1/support/tickets';

describe('support desk: the customer side', () => {
  let t: TestApp;
  let organizer: SignedIn;
  let traveler: SignedIn;

  beforeAll(async () => {
    t = await startTestApp();
    organizer = await register(t, 'organizer');
    traveler = await register(t);
  });
  afterAll(async () => t?.close());

  it('a traveler opens a ticket about their booking, reads it, writes, and closes it; each change is told and audited', async () => {
    const trip = await createTrip(t, organizer);
    const booking = await book(t, traveler, trip.id, 1);
    const opened = await t.http
      .post(T)
      .set(traveler.auth)
      .send({
        subject: 'Pickup point',
        message: 'Where do we meet\non day 1?',
        category: 'booking',
        bookingId: booking.id,
      })
      .expect(201);
    const ticket = opened.body.data;
    expect(ticket).toMatchObject({
      status: 'open',
      priority: 'normal',
      category: 'booking',
      bookingId: booking.id,
      firstResponseAt: null,
    });
    // Due SUPPORT_FIRST_RESPONSE_HOURS (default 4) after opening (the row's own timestamp may differ by milliseconds).
    const dueIn = new Date(ticket.firstResponseDueAt).getTime() - new Date(ticket.createdAt).getTime();
    expect(Math.abs(dueIn - 4 * 3600_000)).toBeLessThan(1000);
    expect(ticket.messages).toEqual([
      expect.objectContaining({ body: 'Where do we meet\non day 1?', authorRole: 'traveler' }),
    ]);
    expect(await auditRows(t, ticket.id, 'ticket.opened')).toHaveLength(1);

    const list = await t.http.get(T).set(traveler.auth).expect(200);
    expect(list.body.data.map((x: { id: string }) => x.id)).toContain(ticket.id);
    expect(
      (await t.http.get(T).set(organizer.auth).expect(200)).body.data.map((x: { id: string }) => x.id),
    ).not.toContain(ticket.id);

    await t.http
      .post(`${T}/${ticket.id}/messages`)
      .set(traveler.auth)
      .send({ body: 'Also: is a sleeping bag provided?' })
      .expect(201);
    const one = await t.http.get(`${T}/${ticket.id}`).set(traveler.auth).expect(200);
    expect(one.body.data.messages).toHaveLength(2);

    const closed = await t.http.post(`${T}/${ticket.id}/close`).set(traveler.auth).expect(200);
    expect(closed.body.data.status).toBe('closed');
    await t.http.post(`${T}/${ticket.id}/close`).set(traveler.auth).expect(200); // again: nothing changes
    const late = await t.http
      .post(`${T}/${ticket.id}/messages`)
      .set(traveler.auth)
      .send({ body: 'One more thing' })
      .expect(409);
    expect(late.body.error.code).toBe('INVALID_STATE');
    const events = await t.db.query(
      `SELECT payload FROM notification_outbox WHERE topic = 'ticket.updated' AND payload->>'ticketId' = $1 ORDER BY created_at`,
      [ticket.id],
    );
    // opened, a new message (the assignee's view changes), closed
    expect(events.map((e: { payload: { status: string } }) => e.payload.status)).toEqual([
      'open',
      'open',
      'closed',
    ]);
    expect(await auditRows(t, ticket.id, 'ticket.status_changed')).toHaveLength(1);
  });

  it('a customer message on a resolved ticket opens it again', async () => {
    const opened = await t.http
      .post(T)
      .set(traveler.auth)
      .send({ subject: 'Account', message: 'Change my email', category: 'account' })
      .expect(201);
    const id = opened.body.data.id;
    await t.db.query(`UPDATE support_tickets SET status = 'resolved', resolved_at = now() WHERE id = $1`, [
      id,
    ]);
    await t.http
      .post(`${T}/${id}/messages`)
      .set(traveler.auth)
      .send({ body: 'Still not changed' })
      .expect(201);
    const after = await t.http.get(`${T}/${id}`).set(traveler.auth).expect(200);
    expect(after.body.data).toMatchObject({ status: 'open', resolvedAt: null });
  });

  it('payment and refund tickets about a trip starting within 72 hours are high priority', async () => {
    const soon = await createTrip(t, organizer, { startDate: daysFromNow(t, 2), endDate: daysFromNow(t, 4) });
    const b = await book(t, traveler, soon.id, 1);
    const urgent = await t.http
      .post(T)
      .set(traveler.auth)
      .send({ subject: 'Paid twice', message: 'Charged two times', category: 'payment', bookingId: b.id })
      .expect(201);
    expect(urgent.body.data.priority).toBe('high');
    const calm = await t.http
      .post(T)
      .set(traveler.auth)
      .send({ subject: 'Invoice', message: 'Send a GST invoice', category: 'booking', bookingId: b.id })
      .expect(201);
    expect(calm.body.data.priority).toBe('normal');
  });

  it('another customer’s booking, payment or ticket is 404; bad input is 400 and changes nothing; agents use their own routes', async () => {
    const trip = await createTrip(t, organizer);
    const theirs = await book(t, traveler, trip.id, 1);
    const stranger = await register(t);
    const before = (await t.db.query(`SELECT count(*)::int AS n FROM support_tickets`))[0].n;
    const send = (who: SignedIn, body: object) => t.http.post(T).set(who.auth).send(body);
    await send(stranger, { subject: 'x', message: 'y', category: 'booking', bookingId: theirs.id }).expect(
      404,
    );
    await send(stranger, { subject: 'x', message: 'y', category: 'payment', paymentId: randomUUID() }).expect(
      404,
    );
    await send(stranger, { subject: 'x', message: 'y', category: 'teleport' }).expect(400);
    await send(stranger, { subject: 'two\nlines', message: 'y', category: 'other' }).expect(400);
    await send(stranger, { subject: 'x', message: '', category: 'other' }).expect(400);
    await send(stranger, { subject: 'x', message: [['nested']], category: 'other' }).expect(400);
    await send(stranger, { subject: 'x', message: 'y', category: 'other', bookingId: 'not-a-uuid' }).expect(
      400,
    );
    expect((await t.db.query(`SELECT count(*)::int AS n FROM support_tickets`))[0].n).toBe(before);

    const mine = (
      await send(traveler, { subject: 'Mine', message: 'Private', category: 'other' }).expect(201)
    ).body.data;
    await t.http.get(`${T}/${mine.id}`).set(stranger.auth).expect(404);
    await t.http.post(`${T}/${mine.id}/messages`).set(stranger.auth).send({ body: 'hijack' }).expect(404);
    await t.http.post(`${T}/${mine.id}/close`).set(stranger.auth).expect(404);
    const agent = await createStaff(t, 'agent');
    await t.http.get(T).set(agent.auth).expect(403);
    await t.http.get(T).expect(401);
  });
});
