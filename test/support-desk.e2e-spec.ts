import { OutboxDispatcher } from '@trektribe/notifications';
import { TicketSla } from '@trektribe/support';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff, PASSWORD, register, SignedIn, startTestApp, TestApp } from './support/app';
import { auditRows, book, createTrip, markPaid } from './support/fixtures';
import { startSmtp } from './support/smtp';
import { startTwilio } from './support/twilio';

const T = '/api/v1/support/tickets';
const A = '/api/v1/agent/tickets';

describe('support desk: agents, replies on the customer channel, SLA', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let twilio: Awaited<ReturnType<typeof startTwilio>>;
  let dispatcher: OutboxDispatcher;
  let organizer: SignedIn;
  let traveler: SignedIn;
  let otherTraveler: SignedIn;
  let agent: SignedIn;
  let otherAgent: SignedIn;
  let admin: SignedIn;

  beforeAll(async () => {
    smtp = await startSmtp();
    twilio = await startTwilio();
    t = await startTestApp({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}?ignoreTLS=true`, ...twilio.env });
    dispatcher = t.app.get(OutboxDispatcher);
    organizer = await register(t, 'organizer');
    traveler = await register(t, 'traveler', { name: 'Asha Rao', phone: '+919811122233' });
    otherTraveler = await register(t, 'traveler', { name: 'Vikram Sethi', phone: '+919844455566' });
    agent = await createStaff(t, 'agent');
    otherAgent = await createStaff(t, 'agent');
    admin = await createStaff(t, 'admin');
  }, 90_000);
  afterAll(async () => {
    await t?.close();
    await new Promise<void>((r) => smtp.server.close(() => r()));
    await new Promise<void>((r) => twilio.server.close(() => r()));
  });

  const open = async (who: SignedIn, body: Record<string, unknown> = {}) =>
    (
      await t.http
        .post(T)
        .set(who.auth)
        .send({ subject: 'Help with my trek', message: 'Please help', category: 'other', ...body })
        .expect(201)
    ).body.data as { id: string; status: string; firstResponseDueAt: string };
  const agentView = async (id: string, who = agent) =>
    (await t.http.get(`${A}/${id}`).set(who.auth).expect(200)).body.data;
  const mailsTo = (email: string) => smtp.received.filter((r) => r.to.includes(email));

  it('the whole conversation: open → assign → reply and note → pending → customer answers → open → resolved → closed', async () => {
    const trip = await createTrip(t, organizer);
    const booking = await book(t, traveler, trip.id, 1);
    const ticket = await open(traveler, {
      subject: 'Where is the pickup?',
      message: 'Which gate in Dehradun?',
      category: 'booking',
      bookingId: booking.id,
    });

    // The agent finds it in the unassigned queue and takes it.
    const unassigned = await t.http.get(`${A}?assignee=unassigned`).set(agent.auth).expect(200);
    expect(unassigned.body.data.map((x: { id: string }) => x.id)).toContain(ticket.id);
    const taken = await t.http.post(`${A}/${ticket.id}/assign`).set(agent.auth).send({}).expect(200);
    expect(taken.body.data.assigneeId).toBe(agent.id);
    const mine = await t.http.get(`${A}?assignee=me`).set(agent.auth).expect(200);
    expect(mine.body.data.map((x: { id: string }) => x.id)).toEqual([ticket.id]);
    expect(mine.body.data[0]).toMatchObject({ customer: { id: traveler.id, name: 'Asha Rao' } });

    // A public reply and an internal note.
    const reply = await t.http
      .post(`${A}/${ticket.id}/messages`)
      .set(agent.auth)
      .send({ body: 'Gate 2 of the ISBT, at 6:00.' })
      .expect(201);
    expect(reply.body.data).toMatchObject({ internal: false, channel: 'email', delivery: 'pending' });
    const note = await t.http
      .post(`${A}/${ticket.id}/messages`)
      .set(agent.auth)
      .send({ body: 'Organizer confirmed by phone; VIP traveler', internal: true })
      .expect(201);
    expect(note.body.data).toMatchObject({ internal: true, channel: null, delivery: null });

    // The customer sees the reply, never the note, and gets the email; the first response is recorded.
    const seen = (await t.http.get(`${T}/${ticket.id}`).set(traveler.auth).expect(200)).body.data;
    expect(seen.messages.map((m: { body: string }) => m.body)).toEqual([
      'Which gate in Dehradun?',
      'Gate 2 of the ISBT, at 6:00.',
    ]);
    expect(JSON.stringify(seen)).not.toContain('VIP traveler');
    expect(seen.firstResponseAt).not.toBeNull();
    await dispatcher.dispatchPending();
    const mail = mailsTo(traveler.email).find((r) => r.raw.includes('Gate 2 of the ISBT'));
    expect(mail).toBeDefined();
    expect(mail!.raw).not.toContain('VIP traveler');
    const inbox = await t.http.get('/api/v1/notifications').set(traveler.auth).expect(200);
    expect(inbox.body.data.find((n: { type: string }) => n.type === 'ticket.reply')).toMatchObject({
      body: 'Gate 2 of the ISBT, at 6:00.',
    });
    // the reply's delivery followed the outbox: the email was handed to the mail server
    const full = await agentView(ticket.id);
    expect(
      full.messages.map((m: { internal: boolean; delivery: string | null }) => [m.internal, m.delivery]),
    ).toEqual([
      [false, null],
      [false, 'sent'],
      [true, null],
    ]);
    expect(full.messages[2].body).toBe('Organizer confirmed by phone; VIP traveler');

    // pending → the customer answers → open → resolved → closed
    await t.http.patch(`${A}/${ticket.id}/status`).set(agent.auth).send({ status: 'pending' }).expect(200);
    await t.http.post(`${T}/${ticket.id}/messages`).set(traveler.auth).send({ body: 'Thanks! And parking?' });
    expect((await agentView(ticket.id)).status).toBe('open');
    const resolved = await t.http
      .patch(`${A}/${ticket.id}/status`)
      .set(agent.auth)
      .send({ status: 'resolved' })
      .expect(200);
    expect(resolved.body.data.resolvedAt).not.toBeNull();
    await t.http.patch(`${A}/${ticket.id}/status`).set(agent.auth).send({ status: 'closed' }).expect(200);
    const late = await t.http
      .patch(`${A}/${ticket.id}/status`)
      .set(agent.auth)
      .send({ status: 'open' })
      .expect(409);
    expect(late.body.error.code).toBe('INVALID_STATE');
    const replyClosed = await t.http
      .post(`${A}/${ticket.id}/messages`)
      .set(agent.auth)
      .send({ body: 'one more' })
      .expect(409);
    expect(replyClosed.body.error.code).toBe('INVALID_STATE');

    // ticket.updated reached the customer and the assignee each time
    const events = await t.db.query(
      `SELECT recipient, payload FROM notification_outbox WHERE topic = 'ticket.updated' AND payload->>'ticketId' = $1 ORDER BY created_at, id`,
      [ticket.id],
    );
    expect(events.at(-1)).toMatchObject({
      recipient: expect.stringContaining(`user:${agent.id}`),
      payload: { status: 'closed' },
    });
    expect(events.at(-1).recipient).toContain(`user:${traveler.id}`);
    expect(events.map((e: { payload: { status: string } }) => e.payload.status)).toEqual(
      expect.arrayContaining(['pending', 'open', 'resolved', 'closed']),
    );

    // audited with the actor: assignment, the note, every status change
    const audit = await auditRows(t, ticket.id);
    const byAction = (a: string) => audit.filter((r) => r.action === a);
    expect(byAction('ticket.assigned')).toEqual([expect.objectContaining({ actor_id: agent.id })]);
    expect(byAction('ticket.note_added')).toEqual([expect.objectContaining({ actor_id: agent.id })]);
    expect(byAction('ticket.status_changed').map((r) => [r.actor_id, r.after?.status])).toEqual([
      [agent.id, 'pending'],
      [traveler.id, 'open'],
      [agent.id, 'resolved'],
      [agent.id, 'closed'],
    ]);
  });

  it('a reply by SMS or WhatsApp reaches a verified phone only, and records how it went', async () => {
    const ticket = await open(otherTraveler, { subject: 'Call me back?' });
    // unverified phone: in-app and email still go; the text is not sent and says why
    const unverified = await t.http
      .post(`${A}/${ticket.id}/messages`)
      .set(agent.auth)
      .send({ body: 'We will call you today.', channel: 'sms' })
      .expect(201);
    expect(unverified.body.data).toMatchObject({ channel: 'sms', delivery: 'unverified' });

    await t.db.query(`UPDATE users SET phone_verified_at = now() WHERE id = $1`, [otherTraveler.id]);
    const before = twilio.sent.length;
    const sms = await t.http
      .post(`${A}/${ticket.id}/messages`)
      .set(agent.auth)
      .send({ body: 'Calling at 5 pm.', channel: 'sms' })
      .expect(201);
    expect(sms.body.data).toMatchObject({ channel: 'sms', delivery: 'pending' });
    const wa = await t.http
      .post(`${A}/${ticket.id}/messages`)
      .set(agent.auth)
      .send({ body: 'Or on WhatsApp.', channel: 'whatsapp' })
      .expect(201);
    expect(wa.body.data).toMatchObject({ channel: 'whatsapp', delivery: 'pending' });
    // Quiet hours (22:00–07:00 IST by default) may hold texts: let the clock pass them.
    t.clock.advance(10 * 3600_000);
    try {
      await dispatcher.dispatchPending();
    } finally {
      t.clock.reset();
    }
    const texts = twilio.sent.slice(before);
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ to: '+919844455566', body: expect.stringContaining('Calling at 5 pm.') }),
        expect.objectContaining({
          to: 'whatsapp:+919844455566',
          body: expect.stringContaining('Or on WhatsApp.'),
        }),
      ]),
    );
    const rows = (await agentView(ticket.id)).messages.filter(
      (m: { authorRole: string }) => m.authorRole === 'agent',
    );
    expect(rows.map((m: { channel: string; delivery: string }) => [m.channel, m.delivery])).toEqual([
      ['sms', 'unverified'],
      ['sms', 'sent'],
      ['whatsapp', 'sent'],
    ]);
    // every reply also went by email, whatever the channel
    expect(
      mailsTo(otherTraveler.email).filter(
        (r) => r.raw.includes('TrekTribe support') || r.raw.includes('Re:'),
      ),
    ).not.toHaveLength(0);
    // a failing number ends as failed
    twilio.refuse.add('+919844455566');
    const refused = await t.http
      .post(`${A}/${ticket.id}/messages`)
      .set(agent.auth)
      .send({ body: 'Try again?', channel: 'sms' })
      .expect(201);
    t.clock.advance(10 * 3600_000);
    try {
      await dispatcher.dispatchPending();
    } finally {
      t.clock.reset();
      twilio.refuse.delete('+919844455566');
    }
    const after = (await agentView(ticket.id)).messages.find(
      (m: { id: string }) => m.id === refused.body.data.id,
    );
    expect(after.delivery).toBe('failed');
  });

  it('assignment: agents take tickets, only admins give them, and only to active agents', async () => {
    const ticket = await open(traveler);
    const forbidden = await t.http
      .post(`${A}/${ticket.id}/assign`)
      .set(agent.auth)
      .send({ agentId: otherAgent.id })
      .expect(403);
    expect(forbidden.body.error.code).toBe('FORBIDDEN');
    const inactive = await createStaff(t, 'agent');
    await t.db.query(`UPDATE users SET is_active = false WHERE id = $1`, [inactive.id]);
    for (const target of [traveler.id, organizer.id, inactive.id, randomUUID()]) {
      const bad = await t.http
        .post(`${A}/${ticket.id}/assign`)
        .set(admin.auth)
        .send({ agentId: target })
        .expect(400);
      expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    }
    await t.http.post(`${A}/${ticket.id}/assign`).set(admin.auth).send({ agentId: 'nope' }).expect(400);
    await t.http
      .post(`${A}/${ticket.id}/assign`)
      .set(admin.auth)
      .send({ agentId: otherAgent.id })
      .expect(200);
    const inbox = await t.http.get('/api/v1/notifications').set(otherAgent.auth).expect(200);
    expect(inbox.body.data.map((n: { type: string }) => n.type)).toContain('ticket.assigned');
    expect((await agentView(ticket.id)).assignee).toMatchObject({ id: otherAgent.id });
    const [row] = await auditRows(t, ticket.id, 'ticket.assigned');
    expect(row).toMatchObject({
      actor_id: admin.id,
      after: expect.objectContaining({ assigneeId: otherAgent.id }),
    });
    // an agent cannot take it from a colleague; an admin can move it, and the former assignee is told too
    const taken = await t.http.post(`${A}/${ticket.id}/assign`).set(agent.auth).send({}).expect(409);
    expect(taken.body.error.code).toBe('CONFLICT');
    await t.http.post(`${A}/${ticket.id}/assign`).set(admin.auth).send({ agentId: agent.id }).expect(200);
    const [told] = await t.db.query(
      `SELECT recipient FROM notification_outbox WHERE topic = 'ticket.updated' AND payload->>'ticketId' = $1 ORDER BY created_at DESC, id DESC LIMIT 1`,
      [ticket.id],
    );
    expect(told.recipient.split(',').sort()).toEqual(
      [`user:${traveler.id}`, `user:${agent.id}`, `user:${otherAgent.id}`].sort(),
    );
    await t.http.get(`${A}/${randomUUID()}`).set(agent.auth).expect(404);
    await t.http.post(`${A}/${randomUUID()}/assign`).set(agent.auth).send({}).expect(404);
  });

  it('refuses bad input with 400 and changes nothing', async () => {
    const ticket = await open(traveler);
    const cases: [string, string, unknown][] = [
      ['post', `${A}/${ticket.id}/messages`, { body: '' }],
      ['post', `${A}/${ticket.id}/messages`, { body: 'x'.repeat(10_001) }],
      ['post', `${A}/${ticket.id}/messages`, { body: 'hi', channel: 'pigeon' }],
      ['post', `${A}/${ticket.id}/messages`, { body: 'hi', internal: 'yes' }],
      ['post', `${A}/${ticket.id}/messages`, { body: 'hi', internal: true, channel: 'sms' }],
      ['post', `${A}/${ticket.id}/messages`, { body: ['hi'] }],
      ['patch', `${A}/${ticket.id}/status`, { status: 'escalated' }],
      ['patch', `${A}/${ticket.id}/status`, {}],
    ];
    for (const [method, path, body] of cases) {
      const res = await (method === 'post' ? t.http.post(path) : t.http.patch(path))
        .set(agent.auth)
        .send(body as object);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    await t.http
      .post(`${T}/${ticket.id}/messages`)
      .set(traveler.auth)
      .send({ body: 'y'.repeat(10_001) })
      .expect(400);
    await t.http
      .post(`${T}/${ticket.id}/messages`)
      .set(traveler.auth)
      .send({ body: 'y'.repeat(10_000) })
      .expect(201);
    for (const q of [
      'status=escalated',
      'assignee=someone',
      'category=x',
      'overdue=maybe',
      'q=ab',
      'limit=101',
    ])
      await t.http.get(`${A}?${q}`).set(agent.auth).expect(400);
    for (const q of ['q=ab', '', `q=${'x'.repeat(101)}`])
      await t.http.get(`/api/v1/agent/customers/search?${q}`).set(agent.auth).expect(400);
    const view = await agentView(ticket.id);
    expect(view.messages).toHaveLength(2);
    expect(view.status).toBe('open');
  });

  it('customers never reach the agent routes (403) nor each other’s tickets (404)', async () => {
    const ticket = await open(traveler);
    for (const who of [traveler, organizer]) {
      await t.http.get(A).set(who.auth).expect(403);
      await t.http.get(`${A}/${ticket.id}`).set(who.auth).expect(403);
      await t.http.post(`${A}/${ticket.id}/assign`).set(who.auth).send({}).expect(403);
      await t.http.get('/api/v1/agent/stats').set(who.auth).expect(403);
      await t.http.get('/api/v1/agent/customers/search?q=asha').set(who.auth).expect(403);
      await t.http.get(`/api/v1/agent/customers/${traveler.id}`).set(who.auth).expect(403);
    }
    await t.http.get(`${T}/${ticket.id}`).set(otherTraveler.auth).expect(404);
    await t.http.post(`${T}/${ticket.id}/messages`).set(otherTraveler.auth).send({ body: 'hi' }).expect(404);
    await t.http.post(`${T}/${ticket.id}/close`).set(otherTraveler.auth).expect(404);
    // agents do not open customer tickets
    await t.http.post(T).set(agent.auth).send({ subject: 's', message: 'm', category: 'other' }).expect(403);
  });

  it('the queue: filters by status, assignee, category, text in subject or messages, overdue; overdue first', async () => {
    const sub = `Zanskar-${randomUUID().slice(0, 8)}`;
    const a = await open(otherTraveler, { subject: `${sub} refund`, category: 'refund' });
    const b = await open(otherTraveler, { subject: 'Something else', category: 'account' });
    await t.http
      .post(`${T}/${b.id}/messages`)
      .set(otherTraveler.auth)
      .send({ body: `About ${sub} again` });
    const c = await open(otherTraveler, { subject: 'A third', category: 'refund' });
    await t.http.post(`${A}/${c.id}/assign`).set(otherAgent.auth).send({}).expect(200);

    const text = await t.http.get(`${A}?q=${sub.toLowerCase()}`).set(agent.auth).expect(200);
    expect(text.body.data.map((x: { id: string }) => x.id).sort()).toEqual([a.id, b.id].sort());
    const refunds = await t.http.get(`${A}?category=refund&q=${sub}`).set(agent.auth).expect(200);
    expect(refunds.body.data.map((x: { id: string }) => x.id)).toEqual([a.id]);
    const theirs = await t.http.get(`${A}?assignee=${otherAgent.id}`).set(agent.auth).expect(200);
    expect(theirs.body.data.map((x: { id: string }) => x.id)).toContain(c.id);
    expect(theirs.body.data.every((x: { assigneeId: string }) => x.assigneeId === otherAgent.id)).toBe(true);

    // Five hours later, a, b and c are overdue; a new ticket is not, and comes after them.
    t.clock.advance(5 * 3600_000);
    try {
      const d = await open(otherTraveler, { subject: 'Fresh one' });
      const overdue = await t.http.get(`${A}?overdue=true&limit=100`).set(agent.auth).expect(200);
      const overdueIds = overdue.body.data.map((x: { id: string }) => x.id);
      expect(overdueIds).toEqual(expect.arrayContaining([a.id, b.id, c.id]));
      expect(overdueIds).not.toContain(d.id);
      expect(overdue.body.data.every((x: { overdue: boolean }) => x.overdue)).toBe(true);
      const all = await t.http.get(`${A}?status=open&limit=100`).set(agent.auth).expect(200);
      const flags = all.body.data.map((x: { overdue: boolean }) => x.overdue);
      expect(flags.indexOf(false)).toBeGreaterThan(flags.lastIndexOf(true)); // overdue first
      expect(all.body.meta.total).toBe(all.body.data.length);
      const notOverdue = await t.http.get(`${A}?overdue=false&limit=100`).set(agent.auth).expect(200);
      expect(notOverdue.body.data.map((x: { id: string }) => x.id)).toContain(d.id);
      const stats = (await t.http.get('/api/v1/agent/stats').set(otherAgent.auth).expect(200)).body.data;
      expect(stats.overdue).toBe(overdue.body.meta.total);
      expect(stats.assignedToMe).toBe(1);
      expect(stats.open).toBe(all.body.meta.total);
    } finally {
      t.clock.reset();
    }
  });

  it('SLA: an hourly run tells the assignee (or every agent) once per overdue ticket, even with two runs at once', async () => {
    const sla = t.app.get(TicketSla);
    const assigned = await open(traveler, { subject: 'SLA assigned' });
    await t.http.post(`${A}/${assigned.id}/assign`).set(otherAgent.auth).send({}).expect(200);
    const loose = await open(traveler, { subject: 'SLA unassigned' });
    const answered = await open(traveler, { subject: 'SLA answered' });
    await t.http.post(`${A}/${answered.id}/messages`).set(agent.auth).send({ body: 'On it' }).expect(201);
    const overdueMails = async (ticketId: string) =>
      (
        await t.db.query(
          `SELECT user_id FROM notifications WHERE type = 'ticket.overdue' AND data->>'ticketId' = $1 ORDER BY user_id`,
          [ticketId],
        )
      ).map((r: { user_id: string }) => r.user_id);

    await sla.notifyOverdue();
    expect(await overdueMails(assigned.id)).toEqual([]);
    t.clock.advance(4 * 3600_000 + 60_000);
    try {
      const runs = await Promise.all([sla.notifyOverdue(), sla.notifyOverdue()]);
      expect(runs[0] + runs[1]).toBeGreaterThanOrEqual(2);
      expect(await sla.notifyOverdue()).toBe(0); // a later run finds nothing new
      expect(await overdueMails(assigned.id)).toEqual([otherAgent.id]);
      const agents = (
        await t.db.query(`SELECT id FROM users WHERE role = 'agent' AND is_active ORDER BY id`)
      ).map((r: { id: string }) => r.id);
      expect(await overdueMails(loose.id)).toEqual(agents);
      expect(await overdueMails(answered.id)).toEqual([]);
      const [row] = await t.db.query(`SELECT overdue_notified_at FROM support_tickets WHERE id = $1`, [
        loose.id,
      ]);
      expect(row.overdue_notified_at).not.toBeNull();
    } finally {
      t.clock.reset();
    }
  });

  it('customer search by partial name, email and phone, and the customer view with their whole history', async () => {
    const unique = randomUUID().slice(0, 6);
    const customer = await register(t, 'traveler', { name: `Meenakshi ${unique}`, phone: '+919876501234' });
    const trip = await createTrip(t, organizer);
    const booking = await book(t, customer, trip.id, 2);
    await markPaid(t, booking.id);
    const ticket = await open(customer, { category: 'booking', bookingId: booking.id });

    const search = async (q: string) =>
      (
        await t.http
          .get(`/api/v1/agent/customers/search?q=${encodeURIComponent(q)}`)
          .set(agent.auth)
          .expect(200)
      ).body.data as { id: string }[];
    expect((await search(unique)).map((u) => u.id)).toEqual([customer.id]); // part of the name
    expect((await search(`meenakshi ${unique}`.toUpperCase())).map((u) => u.id)).toEqual([customer.id]);
    const local = customer.email.split('@')[0];
    expect((await search(local.slice(-10))).map((u) => u.id)).toEqual([customer.id]); // part of the email
    expect((await search('76501234')).map((u) => u.id)).toContain(customer.id); // part of the phone
    expect((await search('98765 01234')).map((u) => u.id)).toContain(customer.id); // as people type it
    expect(await search('%_%rao')).toEqual([]); // LIKE wildcards are text
    await t.http.get('/api/v1/agent/customers/search?q=%25%25%25').set(agent.auth).expect(400); // nothing to look up
    // staff are not customers
    expect((await search(agent.email.split('@')[0])).map((u) => u.id)).not.toContain(agent.id);
    await t.http.get(`/api/v1/agent/customers/${agent.id}`).set(agent.auth).expect(404);

    const view = (await t.http.get(`/api/v1/agent/customers/${customer.id}`).set(agent.auth).expect(200)).body
      .data;
    expect(view.profile).toMatchObject({
      id: customer.id,
      name: `Meenakshi ${unique}`,
      phone: '+919876501234',
    });
    expect(view.counts).toEqual({ bookings: 1, payments: 0, refunds: 0, tickets: 1 });
    expect(view.bookings).toEqual([
      expect.objectContaining({
        id: booking.id,
        tripTitle: expect.any(String),
        tripId: trip.id,
        seats: 2,
        paymentStatus: 'paid',
      }),
    ]);
    expect(view.tickets.map((x: { id: string }) => x.id)).toEqual([ticket.id]);
    expect(view).toHaveProperty('payments');
    expect(view).toHaveProperty('refunds');
  });

  it('admins create agents, who choose a password from the emailed single-use link', async () => {
    const email = `new.agent.${randomUUID().slice(0, 8)}@example.com`;
    const body = { name: 'Meera Iyer', email, phone: '+919800011122', role: 'agent' };
    await t.http.post('/api/v1/admin/users').set(agent.auth).send(body).expect(403);
    await t.http
      .post('/api/v1/admin/users')
      .set(admin.auth)
      .send({ ...body, role: 'traveler' })
      .expect(400);
    await t.http
      .post('/api/v1/admin/users')
      .set(admin.auth)
      .send({ ...body, email: 'nope' })
      .expect(400);
    const created = await t.http.post('/api/v1/admin/users').set(admin.auth).send(body).expect(201);
    expect(created.body.data).toMatchObject({ email, role: 'agent', emailVerified: false });
    const dup = await t.http.post('/api/v1/admin/users').set(admin.auth).send(body).expect(409);
    expect(dup.body.error.code).toBe('EMAIL_TAKEN');
    expect(await auditRows(t, created.body.data.id, 'admin.user_created')).toEqual([
      expect.objectContaining({ actor_id: admin.id }),
    ]);
    // no password yet: nobody can sign in as them
    await t.http.post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(401);

    await dispatcher.dispatchPending();
    expect(mailsTo(email)).toHaveLength(1);
    const [invite] = await t.db.query(
      `SELECT body FROM notification_outbox WHERE recipient = $1 AND topic = 'auth.invite'`,
      [email],
    );
    const token = decodeURIComponent(/reset-password#token=(\S+)/.exec(invite.body)![1]);
    await t.http.post('/api/v1/auth/reset-password').send({ token, password: PASSWORD }).expect(200);
    await t.http.post('/api/v1/auth/reset-password').send({ token, password: PASSWORD }).expect(400); // single use
    const login = await t.http.post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(200);
    expect(login.body.data.user).toMatchObject({ role: 'agent', emailVerified: true });
    const auth = { Authorization: `Bearer ${login.body.data.accessToken}` };
    await t.http.get(A).set(auth).expect(200);
  });
});
