import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { CsvExport, CsvQuery, istDate, ROLES_KEY } from '@trektribe/common';
import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff, register, SignedIn, startTestApp, TestApp } from './support/app';
import { csvRecords, rawGet } from './support/csv';
import { book, bookingBody, createTrip, daysFromNow, markPaid } from './support/fixtures';

const A = '/api/v1/admin';

/** The CSV header rows of the admin lists: the contract of each export. */
const HEADERS: Record<string, string[]> = {
  users: [
    'id',
    'name',
    'email',
    'phone',
    'role',
    'isActive',
    'emailVerified',
    'phoneVerified',
    'location',
    'lastLoginAt',
    'createdAt',
  ],
  'audit-logs': [
    'id',
    'createdAt',
    'actorId',
    'actorRole',
    'action',
    'entityType',
    'entityId',
    'before',
    'after',
    'ip',
    'userAgent',
    'requestId',
  ],
  trips: [
    'id',
    'title',
    'destination',
    'status',
    'startDate',
    'endDate',
    'timezone',
    'price',
    'currency',
    'capacity',
    'seatsBooked',
    'difficultyLevel',
    'categories',
    'rating',
    'reviewCount',
    'organizerId',
    'organizerName',
    'organizerEmail',
    'suspendedBySubscription',
    'cancelledAt',
    'cancelReason',
    'createdAt',
  ],
  bookings: [
    'id',
    'createdAt',
    'status',
    'paymentStatus',
    'paymentMethod',
    'seats',
    'unitPrice',
    'totalAmount',
    'refundAmount',
    'currency',
    'tripId',
    'tripTitle',
    'tripStartDate',
    'travelerId',
    'travelerName',
    'travelerEmail',
    'organizerId',
    'holdExpiresAt',
    'confirmedAt',
    'completedAt',
    'cancelledAt',
    'cancelledByRole',
    'cancelReason',
    'specialRequests',
  ],
  payments: [
    'id',
    'createdAt',
    'status',
    'method',
    'amount',
    'amountRefunded',
    'currency',
    'bookingId',
    'subscriptionId',
    'payerId',
    'payerName',
    'payerEmail',
    'gatewayPaymentId',
    'gatewayOrderId',
    'gatewayMethod',
    'errorCode',
    'errorDescription',
    'capturedAt',
  ],
  refunds: [
    'id',
    'createdAt',
    'status',
    'needsAttention',
    'amount',
    'currency',
    'paymentId',
    'bookingId',
    'reason',
    'gatewayRefundId',
    'attempts',
    'nextAttemptAt',
    'lastError',
    'processedAt',
    'requestedBy',
  ],
  'webhook-events': [
    'id',
    'eventId',
    'type',
    'status',
    'outcome',
    'attempts',
    'lastError',
    'nextAttemptAt',
    'receivedAt',
    'processedAt',
  ],
  notifications: [
    'id',
    'createdAt',
    'channel',
    'type',
    'userId',
    'recipient',
    'subject',
    'status',
    'attempts',
    'nextAttemptAt',
    'lastError',
    'dedupeKey',
    'sentAt',
  ],
};

/** Text a spreadsheet would run as a formula, put where users and the gateway can put text. */
const EVIL = {
  travelerName: '=HYPERLINK("http://evil.test","click")',
  organizerName: '@SUM(1+1)*cmd',
  tripTitle: '+Kedarkantha Winter Trek',
  specialRequests: '-2+3 vegetarian',
  refundReason: '=1+2',
  webhookError: '\tcmd /c calc',
  paymentError: '@payment failed',
  notificationSubject: '=cmd|"/C calc"!A0',
};

describe('admin: stats, trips, bookings, filters and CSV exports', () => {
  let t: TestApp;
  let admin: SignedIn;
  let evilTraveler: SignedIn;
  let traveler: SignedIn;
  let evilOrganizer: SignedIn;
  let organizer: SignedIn;
  const trips: Record<string, { id: string; startDate: string }> = {};
  const bookings: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp();
    admin = await createStaff(t, 'admin');
    evilTraveler = await register(t, 'traveler', { name: EVIL.travelerName });
    traveler = await register(t, 'traveler');
    evilOrganizer = await register(t, 'organizer', { name: EVIL.organizerName });
    organizer = await register(t, 'organizer');
    trips.kedar = await createTrip(t, evilOrganizer, {
      title: EVIL.tripTitle,
      startDate: daysFromNow(t, 30),
      endDate: daysFromNow(t, 35),
    });
    trips.hampta = await createTrip(t, organizer, {
      title: 'Hampta Pass Crossover',
      destination: 'Himachal Pradesh',
      startDate: daysFromNow(t, 60),
      endDate: daysFromNow(t, 64),
    });
    trips.cancelled = await createTrip(t, evilOrganizer, {
      title: 'Valley of Flowers',
      startDate: daysFromNow(t, 90),
      endDate: daysFromNow(t, 95),
    });
    trips.inactive = await createTrip(t, organizer, {
      title: 'Roopkund 100% fun',
      startDate: daysFromNow(t, 120),
      endDate: daysFromNow(t, 126),
    });
    const res = await t.http
      .post('/api/v1/bookings')
      .set(evilTraveler.auth)
      .send({ ...bookingBody(trips.kedar.id, 2), specialRequests: EVIL.specialRequests });
    expect(res.status).toBe(201);
    bookings.evilPending = res.body.data.id;
    bookings.paid = (await book(t, traveler, trips.kedar.id)).id;
    await markPaid(t, bookings.paid);
    bookings.screenshot = (await book(t, traveler, trips.hampta.id, 1, 'screenshot')).id;
    bookings.onCancelled = (await book(t, traveler, trips.cancelled.id)).id;
    await t.http.delete(`/api/v1/trips/${trips.cancelled.id}`).set(evilOrganizer.auth).expect(200);
    await t.http
      .patch(`/api/v1/trips/${trips.inactive.id}`)
      .set(organizer.auth)
      .send({ status: 'inactive' })
      .expect(200);

    // Billing rows the admin lists show, written the way the ledger and the webhook store would.
    const now = t.clock.now();
    const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
    // At most one live order per booking (a unique index): each live one on its own booking.
    const order = async (
      bookingId: string,
      receipt: string,
      status: string,
      createdAt: Date,
      superseded = false,
    ) =>
      (
        await t.db.query(
          `INSERT INTO payment_orders (purpose, booking_id, payer_id, amount, receipt, gateway_order_id, status, created_at, superseded_at)
           VALUES ('booking', $1, $2, 100, $3, $4, $5, $6, $7) RETURNING id`,
          [bookingId, traveler.id, receipt, `order_${receipt}`, status, createdAt, superseded ? now : null],
        )
      )[0].id as string;
    const stuckOrder = await order(bookings.screenshot, 'r1', 'created', minutesAgo(20));
    await order(bookings.evilPending, 'r2', 'attempted', minutesAgo(16));
    await order(bookings.paid, 'r3', 'created', minutesAgo(5)); // not yet stuck
    await order(bookings.screenshot, 'r4', 'paid', minutesAgo(60));
    await order(bookings.screenshot, 'r5', 'created', minutesAgo(60), true); // replaced by a newer order
    await t.db.query(
      `INSERT INTO payments (order_id, booking_id, payer_id, method, gateway_payment_id, amount, status, error_code, error_description)
       VALUES ($1, $2, $3, 'online', 'pay_1', 100, 'failed', 'BAD_REQUEST_ERROR', $4),
              ($1, $2, $3, 'online', 'pay_2', 100, 'captured', NULL, NULL)`,
      [stuckOrder, bookings.screenshot, traveler.id, EVIL.paymentError],
    );
    await t.db.query(
      `INSERT INTO refunds (booking_id, amount, status, idempotency_key, reason, attempts, next_attempt_at)
       VALUES ($1, 500, 'failed', 'rf-1', $2, 6, NULL), ($1, 300, 'failed', 'rf-2', 'retrying', 1, now()),
              ($1, 200, 'pending', 'rf-3', 'owed', 0, now())`,
      [bookings.onCancelled, EVIL.refundReason],
    );
    await t.db.query(
      `INSERT INTO webhook_events (event_id, event_type, payload, attempts, last_error, processed_at, outcome)
       VALUES ('evt_1', 'payment.captured', '{}', 3, $1, NULL, NULL),
              ('evt_2', 'payment.failed', '{}', 0, NULL, NULL, NULL),
              ('evt_3', 'order.paid', '{}', 0, NULL, now(), 'applied')`,
      [EVIL.webhookError],
    );
    await t.db.query(
      `INSERT INTO notification_outbox (channel, topic, user_id, recipient, subject, status, attempts, last_error)
       VALUES ('email', 'booking.confirmed', $1, 'x@example.com', $2, 'failed', 5, 'smtp down')`,
      [traveler.id, EVIL.notificationSubject],
    );
  });
  afterAll(async () => t?.close());

  const json = (path: string, who: SignedIn = admin) => t.http.get(`${A}/${path}`).set(who.auth);
  const csv = (path: string, who: SignedIn = admin) =>
    t.http.get(`${A}/${path}`).set(who.auth).set('Accept', 'text/csv');

  describe('GET /admin/stats', () => {
    it('counts users by role, trips and bookings by status, failed refunds, stuck payments and failing webhooks', async () => {
      const res = await json('stats').expect(200);
      expect(res.body.data).toEqual({
        usersByRole: { traveler: 2, organizer: 2, agent: 0, admin: 1 },
        usersInactive: 0,
        tripsByStatus: { active: 2, inactive: 1, cancelled: 1, completed: 0 },
        bookingsByStatus: { pending: 2, confirmed: 1, completed: 0, cancelled: 1, expired: 0 },
        failedRefunds: 2,
        stuckPayments: 2,
        failingWebhooks: 1,
        asOf: expect.any(String),
      });
    });

    it('moves with the clock: an order becomes stuck 15 minutes after it was made', async () => {
      const before = (await json('stats').expect(200)).body.data.stuckPayments;
      t.clock.advance(11 * 60_000);
      try {
        expect((await json('stats').expect(200)).body.data.stuckPayments).toBe(before + 1);
      } finally {
        t.clock.reset();
      }
    });
  });

  describe('GET /admin/trips', () => {
    it('lists every trip, any status, newest first with the id as tiebreaker, with its organizer', async () => {
      const res = await json('trips').expect(200);
      expect(res.body.meta).toEqual({ page: 1, limit: 20, total: 4 });
      const ids: { id: string }[] = await t.db.query(
        `SELECT id FROM trips ORDER BY created_at DESC, id DESC`,
      );
      expect(res.body.data.map((x: { id: string }) => x.id)).toEqual(ids.map((r) => r.id));
      const kedar = res.body.data.find((x: { id: string }) => x.id === trips.kedar.id);
      expect(kedar).toMatchObject({
        title: EVIL.tripTitle,
        status: 'active',
        seatsBooked: 3,
        organizer: { id: evilOrganizer.id, name: EVIL.organizerName, email: evilOrganizer.email },
      });
      const page2 = await json('trips?limit=3&page=2').expect(200);
      expect(page2.body.data.map((x: { id: string }) => x.id)).toEqual([ids[3].id]);
    });

    it('filters by status, organizer, text and start dates', async () => {
      const ids = async (query: string) =>
        ((await json(`trips?${query}`).expect(200)).body.data as { id: string }[]).map((x) => x.id).sort();
      expect(await ids('status=cancelled')).toEqual([trips.cancelled.id]);
      expect(await ids('status=inactive')).toEqual([trips.inactive.id]);
      expect(await ids(`organizerId=${organizer.id}`)).toEqual([trips.hampta.id, trips.inactive.id].sort());
      expect(await ids('q=HAMPTA')).toEqual([trips.hampta.id]);
      expect(await ids('q=himachal')).toEqual([trips.hampta.id]);
      expect(await ids('q=100%25')).toEqual([trips.inactive.id]);
      expect(await ids('q=%25%25')).toEqual([]);
      expect(await ids(`startFrom=${daysFromNow(t, 60)}&startTo=${daysFromNow(t, 90)}`)).toEqual(
        [trips.hampta.id, trips.cancelled.id].sort(),
      );
      expect(await ids(`startTo=${daysFromNow(t, 30)}`)).toEqual([trips.kedar.id]);
      expect(await ids(`status=active&organizerId=${organizer.id}&q=hampta`)).toEqual([trips.hampta.id]);
    });

    it.each([
      ['status=archived', 'status'],
      ['organizerId=nope', 'organizerId'],
      ['startFrom=2026-02-30', 'startFrom'],
      ['startFrom=2026-1-5', 'startFrom'],
      ['startTo=tomorrow', 'startTo'],
      ['startFrom=2026-05-02&startTo=2026-05-01', 'startTo'],
      ['limit=101', 'limit'],
      ['sort=price', 'sort'],
    ])('refuses %s with 400 naming %s', async (query, field) => {
      const res = await json(`trips?${query}`).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    });
  });

  describe('GET /admin/bookings', () => {
    it('lists every booking newest first, with its trip and traveler', async () => {
      const res = await json('bookings').expect(200);
      expect(res.body.meta.total).toBe(4);
      const ids: { id: string }[] = await t.db.query(
        `SELECT id FROM bookings ORDER BY created_at DESC, id DESC`,
      );
      expect(res.body.data.map((x: { id: string }) => x.id)).toEqual(ids.map((r) => r.id));
      expect(res.body.data.find((x: { id: string }) => x.id === bookings.evilPending)).toMatchObject({
        status: 'pending',
        paymentStatus: 'unpaid',
        seats: 2,
        specialRequests: EVIL.specialRequests,
        trip: { title: EVIL.tripTitle },
        traveler: { id: evilTraveler.id, name: EVIL.travelerName, email: evilTraveler.email },
      });
    });

    it('filters by status, payment status, trip and traveler', async () => {
      const ids = async (query: string) =>
        ((await json(`bookings?${query}`).expect(200)).body.data as { id: string }[]).map((x) => x.id).sort();
      expect(await ids('status=confirmed')).toEqual([bookings.paid]);
      expect(await ids('status=cancelled')).toEqual([bookings.onCancelled]);
      expect(await ids('paymentStatus=paid')).toEqual([bookings.paid]);
      expect(await ids(`tripId=${trips.kedar.id}`)).toEqual([bookings.evilPending, bookings.paid].sort());
      expect(await ids(`travelerId=${evilTraveler.id}`)).toEqual([bookings.evilPending]);
      expect(await ids(`travelerId=${traveler.id}&status=pending`)).toEqual([bookings.screenshot]);
    });

    it('cuts from/to on IST calendar days, both ends included', async () => {
      // 23:59:59.999 IST on 1 March and 00:00 IST on 2 March (18:30Z the day before).
      await t.db.query(`UPDATE bookings SET created_at = $2 WHERE id = $1`, [
        bookings.screenshot,
        new Date('2026-03-01T18:29:59.999Z'),
      ]);
      await t.db.query(`UPDATE bookings SET created_at = $2 WHERE id = $1`, [
        bookings.onCancelled,
        new Date('2026-03-01T18:30:00.000Z'),
      ]);
      try {
        const ids = async (query: string) =>
          ((await json(`bookings?${query}`).expect(200)).body.data as { id: string }[])
            .map((x) => x.id)
            .sort();
        expect(await ids('from=2026-03-01&to=2026-03-01')).toEqual([bookings.screenshot]);
        expect(await ids('from=2026-03-02&to=2026-03-02')).toEqual([bookings.onCancelled]);
        expect(await ids('to=2026-03-02')).toEqual([bookings.screenshot, bookings.onCancelled].sort());
        expect(await ids('from=2026-03-03&to=2026-03-31')).toEqual([]);
        expect(await ids(`from=${istDate(t.clock.now())}`)).toEqual(
          [bookings.evilPending, bookings.paid].sort(),
        );
        const exported = csvRecords((await csv('bookings?from=2026-03-01&to=2026-03-01').expect(200)).text);
        expect(exported.records.map((r) => r.id)).toEqual([bookings.screenshot]);
      } finally {
        await t.db.query(`UPDATE bookings SET created_at = now() WHERE id = ANY($1)`, [
          [bookings.screenshot, bookings.onCancelled],
        ]);
      }
    });

    it.each([
      ['status=done', 'status'],
      ['paymentStatus=free', 'paymentStatus'],
      ['tripId=123', 'tripId'],
      ['travelerId=abc', 'travelerId'],
      ['from=2026-13-01', 'from'],
      ['to=2026-03-01T10:00:00Z', 'to'],
      ['from=2026-03-10&to=2026-03-01', 'to'],
      ['limit=500', 'limit'],
      ['organizer=me', 'organizer'],
    ])('refuses %s with 400 naming %s', async (query, field) => {
      const res = await json(`bookings?${query}`).expect(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    });
  });

  describe('the filters the existing admin lists gained', () => {
    it('GET /admin/users?status=active|inactive', async () => {
      const gone = await register(t, 'traveler', { name: 'Leaving Soon' });
      await t.http.delete(`${A}/users/${gone.id}`).set(admin.auth).expect(204);
      const inactive = await json('users?status=inactive').expect(200);
      expect(inactive.body.data.map((u: { id: string }) => u.id)).toEqual([gone.id]);
      const active = await json('users?status=active&limit=100').expect(200);
      expect(active.body.meta.total).toBe(5);
      expect(active.body.data.every((u: { isActive: boolean }) => u.isActive)).toBe(true);
      expect((await json('users?status=inactive&role=traveler').expect(200)).body.meta.total).toBe(1);
      expect((await json('users?status=inactive&role=admin').expect(200)).body.meta.total).toBe(0);
      const bad = await json('users?status=deleted').expect(400);
      expect(bad.body.error.details[0].field).toBe('status');
      const users = csvRecords((await csv('users?status=inactive').expect(200)).text);
      expect(users.records.map((r) => [r.id, r.isActive])).toEqual([[gone.id, 'false']]);
      // The stats count deactivated accounts apart.
      expect((await json('stats').expect(200)).body.data.usersInactive).toBe(1);
    });

    it('GET /admin/audit-logs?entity=…&from=…&to=… (IST days)', async () => {
      const trips = await json('audit-logs?entity=trip&limit=100').expect(200);
      expect(trips.body.meta.total).toBeGreaterThanOrEqual(5); // 4 created, 1 cancelled, 1 updated
      expect(trips.body.data.every((a: { entityType: string }) => a.entityType === 'trip')).toBe(true);
      expect(
        (await json(`audit-logs?entity=trip&entityId=${trips.body.data[0].entityId}`).expect(200)).body.data
          .length,
      ).toBeGreaterThan(0);
      const all = (await json('audit-logs').expect(200)).body.meta.total;
      const today = istDate(new Date());
      expect((await json(`audit-logs?from=${today}&to=${today}`).expect(200)).body.meta.total).toBe(all);
      const tomorrow = istDate(new Date(Date.now() + 86_400_000));
      expect((await json(`audit-logs?from=${tomorrow}`).expect(200)).body.meta.total).toBe(0);
      expect((await json('audit-logs?to=2020-01-01').expect(200)).body.meta.total).toBe(0);
      for (const [query, field] of [
        ['from=2026-02-30', 'from'],
        ['to=yesterday', 'to'],
        [`from=${tomorrow}&to=${today}`, 'to'],
        ['entity=a%0Ab', 'entity'],
        ['limit=101', 'limit'],
      ]) {
        const res = await json(`audit-logs?${query}`).expect(400);
        expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
      }
    });

    it('GET /admin/payments refuses a reversed date range', async () => {
      const res = await json('payments?from=2026-03-10&to=2026-03-09').expect(400);
      expect(res.body.error.details[0].field).toBe('to');
      await json('payments?from=2026-03-10T10:00:00Z&to=2026-03-10').expect(200);
      await json('payments?from=2026-03-10T10:00:00Z&to=2026-03-10T09:00:00Z').expect(400);
    });
  });

  describe('Accept: text/csv on every admin list', () => {
    /** Each list with a filter that selects some of its rows, and a check the filter held. */
    const cases: {
      list: string;
      filter: string;
      holds: (r: Record<string, string>) => boolean;
      evil?: [column: string, cell: string];
    }[] = [
      {
        list: 'users',
        filter: 'role=traveler',
        holds: (r) => r.role === 'traveler',
        evil: ['name', EVIL.travelerName],
      },
      { list: 'audit-logs', filter: 'entity=booking', holds: (r) => r.entityType === 'booking' },
      {
        list: 'trips',
        filter: 'status=active',
        holds: (r) => r.status === 'active',
        evil: ['title', EVIL.tripTitle],
      },
      {
        list: 'bookings',
        filter: 'status=pending',
        holds: (r) => r.status === 'pending',
        evil: ['specialRequests', EVIL.specialRequests],
      },
      {
        list: 'payments',
        filter: 'status=failed',
        holds: (r) => r.status === 'failed',
        evil: ['errorDescription', EVIL.paymentError],
      },
      {
        list: 'refunds',
        filter: 'status=failed',
        holds: (r) => r.status === 'failed',
        evil: ['reason', EVIL.refundReason],
      },
      {
        list: 'webhook-events',
        filter: 'status=failing',
        holds: (r) => r.status === 'failing',
        evil: ['lastError', EVIL.webhookError],
      },
      {
        list: 'notifications',
        filter: 'status=failed',
        holds: (r) => r.status === 'failed',
        evil: ['subject', EVIL.notificationSubject],
      },
    ];

    it.each(cases)(
      'GET /admin/$list: a download with a header row, every matching row (the JSON total), formulas neutralised',
      async ({ list, filter, holds, evil }) => {
        const all = await csv(list).expect(200);
        expect(all.headers['content-type']).toBe('text/csv; charset=utf-8');
        expect(all.headers['content-disposition']).toBe(
          `attachment; filename="${list}-${istDate(t.clock.now())}.csv"`,
        );
        expect(all.text.startsWith('{')).toBe(false); // no JSON envelope around it
        const { header, records } = csvRecords(all.text);
        expect(header).toEqual(HEADERS[list]);
        const total = (await json(`${list}?limit=1`).expect(200)).body.meta.total;
        expect(total).toBeGreaterThan(0);
        expect(records.length).toBe(total);
        // The JSON order, all pages of it.
        const pages: string[] = [];
        for (let page = 1; pages.length < total; page++)
          pages.push(
            ...((await json(`${list}?limit=2&page=${page}`).expect(200)).body.data as { id: string }[]).map(
              (x) => x.id,
            ),
          );
        expect(records.map((r) => r.id)).toEqual(pages);

        const filtered = csvRecords((await csv(`${list}?${filter}&limit=1&page=3`).expect(200)).text);
        const filteredTotal = (await json(`${list}?${filter}`).expect(200)).body.meta.total;
        expect(filtered.records.length).toBe(filteredTotal);
        expect(filtered.records.length).toBeLessThan(records.length);
        expect(filtered.records.every(holds)).toBe(true);

        if (evil) {
          const [column, text] = evil;
          const cells = records.map((r) => r[column]);
          expect(cells).toContain(`'${text}`);
          expect(cells).not.toContain(text);
        }
        for (const r of records)
          for (const cell of Object.values(r)) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      },
    );

    it('answers the same 400 as the JSON list for a bad filter, and JSON when the client prefers it', async () => {
      for (const list of Object.keys(HEADERS)) {
        const res = await csv(`${list}?limit=101`).expect(400);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.body.error.code).toBe('VALIDATION_ERROR');
      }
      await csv('trips?status=archived').expect(400);
      const prefersJson = await t.http
        .get(`${A}/trips`)
        .set(admin.auth)
        .set('Accept', 'application/json, text/csv;q=0.5')
        .expect(200);
      expect(prefersJson.body.success).toBe(true);
      const prefersCsv = await t.http
        .get(`${A}/trips`)
        .set(admin.auth)
        .set('Accept', 'text/csv, application/json;q=0.5')
        .expect(200);
      expect(prefersCsv.headers['content-type']).toBe('text/csv; charset=utf-8');
    });

    it('writes instants in ISO-8601 UTC, booleans and JSON as text, nulls as empty cells', async () => {
      const { records } = csvRecords((await csv(`trips?status=cancelled`).expect(200)).text);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        id: trips.cancelled.id,
        status: 'cancelled',
        categories: '["trekking","snow"]',
        suspendedBySubscription: 'false',
        startDate: trips.cancelled.startDate,
        price: '1299900',
      });
      expect(records[0].cancelledAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const users = csvRecords(
        (await csv(`users?q=${encodeURIComponent(organizer.email)}`).expect(200)).text,
      );
      expect(users.records[0]).toMatchObject({ location: '', lastLoginAt: '', phone: "'+919812345678" });
    });
  });

  describe('who may call them', () => {
    /** Every route of the admin area, found in the controllers (new routes join by themselves). */
    function adminRoutes(): { method: string; path: string; roles: string[] | undefined }[] {
      const discovery = t.app.get(DiscoveryService);
      const scanner = t.app.get(MetadataScanner);
      const reflector = t.app.get(Reflector);
      const out: { method: string; path: string; roles: string[] | undefined }[] = [];
      for (const wrapper of discovery.getControllers()) {
        const instance = wrapper.instance as object | undefined;
        if (!instance || !wrapper.metatype) continue;
        const base = String(Reflect.getMetadata(PATH_METADATA, wrapper.metatype) ?? '');
        if (!/^\/?admin(\/|$)/.test(base)) continue;
        const proto = Object.getPrototypeOf(instance) as object;
        for (const name of scanner.getAllMethodNames(proto)) {
          const handler = (proto as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
          const sub = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
          if (sub === undefined) continue;
          out.push({
            method: RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number],
            path: `/${[base, sub]
              .map((p) => p.replace(/^\/|\/$/g, ''))
              .filter(Boolean)
              .join('/')}`,
            roles: reflector.getAllAndOverride<string[]>(ROLES_KEY, [handler, wrapper.metatype]),
          });
        }
      }
      return out;
    }

    it('every admin route is for admins only, and every admin list answers 403 to the other roles', async () => {
      const routes = adminRoutes();
      const lists = routes.filter((r) => r.method === 'GET' && !r.path.includes(':')).map((r) => r.path);
      expect(lists.sort()).toEqual(
        [
          '/admin/audit-logs',
          '/admin/bookings',
          '/admin/notifications',
          '/admin/payments',
          '/admin/refunds',
          '/admin/stats',
          '/admin/trips',
          '/admin/users',
          '/admin/webhook-events',
        ].sort(),
      );
      expect(routes.filter((r) => JSON.stringify(r.roles) !== '["admin"]')).toEqual([]);
      const agent = await createStaff(t, 'agent');
      for (const path of lists) {
        for (const who of [evilTraveler, evilOrganizer, agent]) {
          const res = await t.http.get(`/api/v1${path}`).set(who.auth).expect(403);
          expect(res.body.error.code).toBe('FORBIDDEN');
          const asCsv = await t.http
            .get(`/api/v1${path}`)
            .set(who.auth)
            .set('Accept', 'text/csv')
            .expect(403);
          expect(asCsv.headers['content-type']).toMatch(/^application\/json/);
        }
        await t.http.get(`/api/v1${path}`).set('Accept', 'text/csv').expect(401);
      }
    });
  });

  describe('streaming', () => {
    const ROWS = 2600;

    beforeAll(async () => {
      // Many audit rows sharing one created_at (one statement): ties across every batch boundary.
      await t.db.query(
        `INSERT INTO audit_logs (actor_id, actor_role, action, entity_type, entity_id, after)
         SELECT NULL, NULL, 'bench.row', 'bulk', g::text, jsonb_build_object('n', g, 'note', '=1+1')
           FROM generate_series(1, ${ROWS}) g`,
      );
    });

    it('exports thousands of rows in several batches, each once, in the JSON order', async () => {
      const res = await csv('audit-logs?entity=bulk').expect(200);
      const { records } = csvRecords(res.text);
      expect(records.length).toBe(ROWS);
      const expected: { id: string }[] = await t.db.query(
        `SELECT id FROM audit_logs WHERE entity_type = 'bulk' ORDER BY created_at DESC, id DESC`,
      );
      expect(records.map((r) => r.id)).toEqual(expected.map((r) => r.id));
      expect(records[0].after).toMatch(/^\{"n":\d+,"note":"=1\+1"\}$/);
    });

    it.each(['cursor', 'keyset'] as const)(
      'reads the same rows in %s mode, batch by batch, with mixed sort directions and ties',
      async (mode) => {
        const exporter = t.app.get(CsvExport);
        const query: CsvQuery = {
          sql: `SELECT id AS "id", created_at AS "createdAt", entity_id AS "entityId" FROM audit_logs WHERE entity_type = $1`,
          params: ['bulk'],
          columns: ['id', 'createdAt', 'entityId'],
          orderBy: [
            ['createdAt', 'DESC'],
            ['entityId', 'ASC'],
            ['id', 'ASC'],
          ],
        };
        const rows: string[][] = [];
        for await (const r of exporter.rows(query, { mode, batchSize: 97 })) rows.push(r as string[]);
        const expected: { id: string }[] = await t.db.query(
          `SELECT id FROM audit_logs WHERE entity_type = 'bulk' ORDER BY created_at DESC, entity_id ASC, id ASC`,
        );
        expect(rows.map((r) => r[0])).toEqual(expected.map((r) => r.id));
      },
    );

    /** The app's pooled connections, all back in the pool (none held by an abandoned export). */
    async function poolSettles(): Promise<void> {
      const pool = (t.db.driver as unknown as { master: { totalCount: number; idleCount: number } }).master;
      for (let i = 0; i < 100 && pool.idleCount !== pool.totalCount; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(pool.idleCount).toBe(pool.totalCount);
    }

    it('stops the query and gives the connection back when the client goes away mid-download', async () => {
      // 30 MB of CSV: far more than the socket buffers hold, so the server is mid-export, held back
      // by the client that stopped reading, when the client goes away.
      await t.db.query(
        `INSERT INTO audit_logs (action, entity_type, entity_id, after)
         SELECT 'bench.big', 'bulky', g::text, jsonb_build_object('pad', repeat('x', 100000))
           FROM generate_series(1, 300) g`,
      );
      const got = await new Promise<number>((resolve, reject) => {
        const req = http.get(
          `${t.baseUrl}${A}/audit-logs?entity=bulky`,
          { headers: { ...admin.auth, Accept: 'text/csv' } },
          (res) => {
            res.once('data', (chunk: Buffer) => {
              res.pause();
              setTimeout(() => {
                req.destroy();
                resolve(chunk.length);
              }, 300);
            });
          },
        );
        req.on('error', (err: NodeJS.ErrnoException) =>
          err.code === 'ECONNRESET' ? undefined : reject(err),
        );
      });
      expect(got).toBeGreaterThan(0);
      await poolSettles();
      // The app carries on, the export too.
      const again = csvRecords((await csv('audit-logs?entity=bulk').expect(200)).text);
      expect(again.records.length).toBe(ROWS);
    });

    describe('a query that fails', () => {
      let server: http.Server;
      let base: string;
      beforeAll(async () => {
        // Row 2500 divides by zero: PostgreSQL fails on it only when the scan reaches it.
        await t.db.query(
          `CREATE TABLE csv_fault (n int PRIMARY KEY, d int NOT NULL);
           INSERT INTO csv_fault SELECT g, CASE WHEN g = 2500 THEN 0 ELSE 1 END FROM generate_series(1, 5000) g;
           ANALYZE csv_fault`,
        );
        // The exports through the app's own HTTP adapter, as a route returns them.
        const exporter = t.app.get(CsvExport);
        const adapter = t.app.getHttpAdapter();
        const fault: CsvQuery = {
          // ~110 bytes a row: the rows before the faulty one fill several 64 KB writes.
          sql: `SELECT n AS "n", 100 / d AS "q", repeat('x', 100) AS "pad" FROM csv_fault`,
          params: [],
          columns: ['n', 'q', 'pad'],
          orderBy: [['n', 'ASC']],
        };
        const app = express();
        app.get('/midway', (_req, res) =>
          adapter.reply(res, exporter.file(fault, 'fault', { batchSize: 100 })),
        );
        app.get('/at-once', (_req, res) =>
          adapter.reply(
            res,
            exporter.file({ ...fault, sql: 'SELECT 1 AS "n", 2 AS "q", 3 AS "pad" FROM no_such_table' }, 'x'),
          ),
        );
        server = app.listen(0, '127.0.0.1');
        await new Promise((r) => server.once('listening', r));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      });
      afterAll(async () => {
        await new Promise((r) => server?.close(r));
      });

      it('after the header went out: the download is cut short (not a file that looks complete), the app lives on', async () => {
        const res = await rawGet(`${base}/midway`);
        expect(res.status).toBe(200);
        expect(res.complete).toBe(false);
        const lines = res.body.split('\r\n');
        expect(lines[0]).toBe('n,q,pad');
        expect(lines.length).toBeGreaterThan(2);
        expect(lines.length).toBeLessThan(2500);
        await poolSettles();
        await json('stats').expect(200);
      });

      it('before anything went out: a 500 in the error envelope, no stack or SQL', async () => {
        const res = await rawGet(`${base}/at-once`);
        expect(res.status).toBe(500);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.headers['content-disposition']).toBeUndefined();
        expect(JSON.parse(res.body)).toMatchObject({
          success: false,
          error: { code: 'INTERNAL_ERROR', statusCode: 500 },
        });
        expect(res.body).not.toMatch(/no_such_table|relation/);
        await poolSettles();
      });
    });
  });
});
