import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff, register, SignedIn, startTestApp, TestApp } from './support/app';
import {
  auditRows,
  book,
  bookingBody,
  createTrip,
  daysFromNow,
  markPaid,
  seatsBooked,
  tripBody,
  tripStartsAt,
} from './support/fixtures';

const TRIPS = '/api/v1/trips';

function fields(res: { body: { error?: { details?: { field: string }[] } } }): string[] {
  return (res.body.error?.details ?? []).map((d) => d.field).sort();
}

async function tripCount(t: TestApp): Promise<number> {
  const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM trips`);
  return n;
}

describe('trips: create, update, read, cancel rights', () => {
  let t: TestApp;
  let owner: SignedIn;
  let rival: SignedIn;
  let traveler: SignedIn;
  let admin: SignedIn;

  beforeAll(async () => {
    t = await startTestApp();
    owner = await register(t, 'organizer', { name: 'Himalayan Hikers' });
    rival = await register(t, 'organizer');
    traveler = await register(t, 'traveler');
    admin = await createStaff(t, 'admin');
  });
  afterAll(async () => t?.close());

  it('an organizer creates a trip: 201, server-owned fields set, audited with the actor', async () => {
    const res = await t.http
      .post(TRIPS)
      .set(owner.auth)
      .send(tripBody(t, { capacity: 12 }))
      .expect(201);
    const trip = res.body.data;
    expect(trip).toMatchObject({
      organizerId: owner.id,
      title: 'Kedarkantha Winter Trek',
      status: 'active',
      currency: 'INR',
      timezone: 'Asia/Kolkata',
      capacity: 12,
      seatsBooked: 0,
      seatsAvailable: 12,
      rating: 0,
      reviewCount: 0,
      categories: ['trekking', 'snow'],
    });
    expect(trip.startDate).toBe(daysFromNow(t, 30));
    const [row] = await t.db.query(
      `SELECT organizer_id, seats_booked, status, search_vector IS NOT NULL AS indexed FROM trips WHERE id = $1`,
      [trip.id],
    );
    expect(row).toEqual({ organizer_id: owner.id, seats_booked: 0, status: 'active', indexed: true });
    const audits = await auditRows(t, trip.id, 'trip.created');
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actor_id: owner.id, actor_role: 'organizer', entity_type: 'trip' });
    expect(audits[0].after).toMatchObject({ title: 'Kedarkantha Winter Trek', capacity: 12 });
  });

  it('refuses end before start, capacity < 1, negative price, a past start, a bad timezone (400) and creates nothing', async () => {
    const before = await tripCount(t);
    const endBeforeStart = await t.http
      .post(TRIPS)
      .set(owner.auth)
      .send(tripBody(t, { startDate: daysFromNow(t, 20), endDate: daysFromNow(t, 19) }))
      .expect(400);
    expect(endBeforeStart.body.error.code).toBe('VALIDATION_ERROR');
    expect(fields(endBeforeStart)).toEqual(['endDate']);

    const noSeats = await t.http
      .post(TRIPS)
      .set(owner.auth)
      .send(tripBody(t, { capacity: 0 }))
      .expect(400);
    expect(fields(noSeats)).toEqual(['capacity']);
    const negative = await t.http
      .post(TRIPS)
      .set(owner.auth)
      .send(tripBody(t, { price: -1 }))
      .expect(400);
    expect(fields(negative)).toEqual(['price']);
    const fractional = await t.http
      .post(TRIPS)
      .set(owner.auth)
      .send(tripBody(t, { price: 10.5 }))
      .expect(400);
    expect(fields(fractional)).toEqual(['price']);
    const past = await t.http
      .post(TRIPS)
      .set(owner.auth)
      .send(tripBody(t, { startDate: daysFromNow(t, -3), endDate: daysFromNow(t, 2) }))
      .expect(400);
    expect(fields(past)).toEqual(['startDate']);
    const badDate = await t.http
      .post(TRIPS)
      .set(owner.auth)
      .send(tripBody(t, { startDate: '2030-02-30' }))
      .expect(400);
    expect(fields(badDate)).toContain('startDate');
    const tz = await t.http
      .post(TRIPS)
      .set(owner.auth)
      .send(tripBody(t, { timezone: 'Mars/Olympus' }))
      .expect(400);
    expect(fields(tz)).toEqual(['timezone']);
    const badDifficulty = await t.http
      .post(TRIPS)
      .set(owner.auth)
      .send(tripBody(t, { difficultyLevel: 'extreme' }))
      .expect(400);
    expect(fields(badDifficulty)).toEqual(['difficultyLevel']);
    expect(await tripCount(t)).toBe(before);
  });

  it('rejects server-owned fields on create (no mass assignment of organizerId, seatsBooked, status, rating)', async () => {
    const before = await tripCount(t);
    const res = await t.http
      .post(TRIPS)
      .set(owner.auth)
      .send({ ...tripBody(t), organizerId: rival.id, seatsBooked: 5, status: 'completed', ratingAvg: 5 })
      .expect(400);
    expect(fields(res)).toEqual(['organizerId', 'ratingAvg', 'seatsBooked', 'status']);
    expect(await tripCount(t)).toBe(before);
  });

  it('only organizers create trips: traveler and admin 403, anonymous 401', async () => {
    const before = await tripCount(t);
    expect((await t.http.post(TRIPS).set(traveler.auth).send(tripBody(t)).expect(403)).body.error.code).toBe(
      'FORBIDDEN',
    );
    await t.http.post(TRIPS).set(admin.auth).send(tripBody(t)).expect(403);
    expect((await t.http.post(TRIPS).send(tripBody(t)).expect(401)).body.error.code).toBe('UNAUTHORIZED');
    expect(await tripCount(t)).toBe(before);
  });

  it('GET /trips/:id: seatsAvailable, rating, reviewCount and the organizer public profile (no contact details)', async () => {
    await t.http
      .patch('/api/v1/auth/me')
      .set(owner.auth)
      .send({ bio: 'Leading Garhwal treks since 2012', location: 'Dehradun' })
      .expect(200);
    const trip = await createTrip(t, owner, { capacity: 6 });
    await book(t, traveler, trip.id, 2);
    const res = await t.http.get(`${TRIPS}/${trip.id}`).expect(200);
    expect(res.body.data).toMatchObject({
      id: trip.id,
      capacity: 6,
      seatsBooked: 2,
      seatsAvailable: 4,
      rating: 0,
      reviewCount: 0,
    });
    expect(res.body.data.organizer).toMatchObject({
      id: owner.id,
      name: 'Himalayan Hikers',
      bio: 'Leading Garhwal treks since 2012',
      location: 'Dehradun',
    });
    expect(Object.keys(res.body.data.organizer).sort()).toEqual([
      'bio',
      'id',
      'location',
      'memberSince',
      'name',
    ]);
    expect(res.body.data).not.toHaveProperty('searchVector');

    await t.http.get(`${TRIPS}/00000000-0000-4000-8000-000000000000`).expect(404);
    expect((await t.http.get(`${TRIPS}/not-a-uuid`).expect(400)).body.success).toBe(false);
  });

  it('the owner updates a trip: 200, audited with before and after', async () => {
    const trip = await createTrip(t, owner);
    const res = await t.http
      .patch(`${TRIPS}/${trip.id}`)
      .set(owner.auth)
      .send({ title: 'Kedarkantha Sunrise Trek', price: 1_399_900, capacity: 25 })
      .expect(200);
    expect(res.body.data).toMatchObject({
      title: 'Kedarkantha Sunrise Trek',
      price: 1_399_900,
      capacity: 25,
      seatsAvailable: 25,
    });
    const [row] = await t.db.query(`SELECT title, price, capacity FROM trips WHERE id = $1`, [trip.id]);
    expect(row).toEqual({ title: 'Kedarkantha Sunrise Trek', price: 1_399_900, capacity: 25 });
    const audits = await auditRows(t, trip.id, 'trip.updated');
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actor_id: owner.id, actor_role: 'organizer' });
    expect(audits[0].before).toMatchObject({
      title: 'Kedarkantha Winter Trek',
      price: 1_299_900,
      capacity: 20,
    });
    expect(audits[0].after).toMatchObject({
      title: 'Kedarkantha Sunrise Trek',
      price: 1_399_900,
      capacity: 25,
    });
    // a partial update leaves the other fields alone, in the answer and in the audit row too
    const titleOnly = await t.http
      .patch(`${TRIPS}/${trip.id}`)
      .set(owner.auth)
      .send({ title: 'Kedarkantha Sunrise Trek II' })
      .expect(200);
    expect(titleOnly.body.data).toMatchObject({
      title: 'Kedarkantha Sunrise Trek II',
      price: 1_399_900,
      capacity: 25,
      startDate: trip.startDate,
      endDate: trip.endDate,
      timezone: 'Asia/Kolkata',
      destination: 'Uttarakhand',
      difficultyLevel: 'intermediate',
    });
    const [second] = (await auditRows(t, trip.id, 'trip.updated')).slice(1);
    expect(second.after).toMatchObject({
      title: 'Kedarkantha Sunrise Trek II',
      price: 1_399_900,
      startDate: trip.startDate,
      endDate: trip.endDate,
    });
    // the renamed trip is found by its new title
    const found = await t.http.get(TRIPS).query({ q: 'sunrise', organizerId: owner.id }).expect(200);
    expect(found.body.data.map((x: { id: string }) => x.id)).toContain(trip.id);
  });

  it('an admin may update any trip; the audit names the admin', async () => {
    const trip = await createTrip(t, owner);
    await t.http
      .patch(`${TRIPS}/${trip.id}`)
      .set(admin.auth)
      .send({ description: 'Updated by the trust and safety team after a route change.' })
      .expect(200);
    const audits = await auditRows(t, trip.id, 'trip.updated');
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actor_id: admin.id, actor_role: 'admin' });
  });

  it('capacity below the seats taken → 409 CAPACITY_BELOW_BOOKED; equal to them is fine', async () => {
    const trip = await createTrip(t, owner, { capacity: 10 });
    await book(t, traveler, trip.id, 3);
    const res = await t.http.patch(`${TRIPS}/${trip.id}`).set(owner.auth).send({ capacity: 2 }).expect(409);
    expect(res.body.error.code).toBe('CAPACITY_BELOW_BOOKED');
    const [row] = await t.db.query(`SELECT capacity, seats_booked FROM trips WHERE id = $1`, [trip.id]);
    expect(row).toEqual({ capacity: 10, seats_booked: 3 });
    const ok = await t.http.patch(`${TRIPS}/${trip.id}`).set(owner.auth).send({ capacity: 3 }).expect(200);
    expect(ok.body.data).toMatchObject({ capacity: 3, seatsAvailable: 0 });
  });

  it('update validation: end before start, capacity 0, negative price and server-owned fields → 400, nothing changes', async () => {
    const trip = await createTrip(t, owner);
    const endEarly = await t.http
      .patch(`${TRIPS}/${trip.id}`)
      .set(owner.auth)
      .send({ endDate: daysFromNow(t, 29) })
      .expect(400);
    expect(fields(endEarly)).toEqual(['endDate']);
    const startLate = await t.http
      .patch(`${TRIPS}/${trip.id}`)
      .set(owner.auth)
      .send({ startDate: daysFromNow(t, 40) })
      .expect(400);
    expect(fields(startLate)).toEqual(['endDate']);
    expect(
      fields(await t.http.patch(`${TRIPS}/${trip.id}`).set(owner.auth).send({ capacity: 0 }).expect(400)),
    ).toEqual(['capacity']);
    expect(
      fields(await t.http.patch(`${TRIPS}/${trip.id}`).set(owner.auth).send({ price: -100 }).expect(400)),
    ).toEqual(['price']);
    const owned = await t.http
      .patch(`${TRIPS}/${trip.id}`)
      .set(owner.auth)
      .send({ seatsBooked: 0, organizerId: rival.id, reviewCount: 9 })
      .expect(400);
    expect(fields(owned)).toEqual(['organizerId', 'reviewCount', 'seatsBooked']);
    expect(
      fields(
        await t.http.patch(`${TRIPS}/${trip.id}`).set(owner.auth).send({ status: 'cancelled' }).expect(400),
      ),
    ).toEqual(['status']);
    const [row] = await t.db.query(
      `SELECT start_date::text AS s, end_date::text AS e, capacity, price, status, organizer_id FROM trips WHERE id = $1`,
      [trip.id],
    );
    expect(row).toEqual({
      s: trip.startDate,
      e: trip.endDate,
      capacity: 20,
      price: 1_299_900,
      status: 'active',
      organizer_id: owner.id,
    });
    expect(await auditRows(t, trip.id, 'trip.updated')).toHaveLength(0);
  });

  it('an inactive trip is hidden from everyone but its owner and admins, and takes no bookings', async () => {
    const trip = await createTrip(t, owner, { title: 'Unlisted Roopkund Departure' });
    await t.http.patch(`${TRIPS}/${trip.id}`).set(owner.auth).send({ status: 'inactive' }).expect(200);
    await t.http.get(`${TRIPS}/${trip.id}`).expect(404);
    expect((await t.http.get(`${TRIPS}/${trip.id}`).set(traveler.auth).expect(404)).body.error.code).toBe(
      'NOT_FOUND',
    );
    await t.http.get(`${TRIPS}/${trip.id}`).set(rival.auth).expect(404);
    expect((await t.http.get(`${TRIPS}/${trip.id}`).set(owner.auth).expect(200)).body.data.status).toBe(
      'inactive',
    );
    await t.http.get(`${TRIPS}/${trip.id}`).set(admin.auth).expect(200);
    const search = await t.http.get(TRIPS).query({ q: 'roopkund' }).expect(200);
    expect(search.body.data).toEqual([]);
    await t.http.post('/api/v1/bookings').set(traveler.auth).send(bookingBody(trip.id, 1)).expect(404);
    expect(await seatsBooked(t, trip.id)).toBe(0);
    // and back
    await t.http.patch(`${TRIPS}/${trip.id}`).set(owner.auth).send({ status: 'active' }).expect(200);
    await t.http.get(`${TRIPS}/${trip.id}`).expect(200);
  });

  it('participants: the owner and admins see names and contacts; anyone else 404 (organizer) or 403 (other roles)', async () => {
    const trip = await createTrip(t, owner, { capacity: 8 });
    const b = await t.http
      .post('/api/v1/bookings')
      .set(traveler.auth)
      .send({
        ...bookingBody(trip.id, 2),
        participants: [
          { name: 'Asha Rao', phone: '+919800000001', age: 29, dietaryRestrictions: 'vegan' },
          { name: 'Ravi Rao' },
        ],
      })
      .expect(201);
    const res = await t.http.get(`${TRIPS}/${trip.id}/participants`).set(owner.auth).expect(200);
    expect(res.body.data).toHaveLength(2);
    expect(res.body.data[0]).toMatchObject({
      bookingId: b.body.data.id,
      name: 'Asha Rao',
      phone: '+919800000001',
      age: 29,
      dietaryRestrictions: 'vegan',
      status: 'pending',
    });
    expect(res.body.data[1]).toMatchObject({ bookingId: b.body.data.id, name: 'Ravi Rao' });
    await t.http.get(`${TRIPS}/${trip.id}/participants`).set(admin.auth).expect(200);
    await t.http.get(`${TRIPS}/${trip.id}/participants`).set(rival.auth).expect(404);
    await t.http.get(`${TRIPS}/${trip.id}/participants`).set(traveler.auth).expect(403);
    await t.http.get(`${TRIPS}/${trip.id}/participants`).expect(401);
  });

  it('organizer endpoints: own trips of every status with occupancy, and stats', async () => {
    const org = await register(t, 'organizer');
    const a = await createTrip(t, org, { capacity: 4 });
    const b = await createTrip(t, org, {
      capacity: 10,
      startDate: daysFromNow(t, 40),
      endDate: daysFromNow(t, 41),
    });
    const c = await createTrip(t, org, {
      capacity: 6,
      startDate: daysFromNow(t, 50),
      endDate: daysFromNow(t, 52),
    });
    const paid = await book(t, traveler, a.id, 3);
    await markPaid(t, paid.id);
    await book(t, traveler, b.id, 1);
    await t.http.delete(`${TRIPS}/${c.id}`).set(org.auth).send({ reason: 'Permit refused' }).expect(200);

    const res = await t.http.get('/api/v1/organizer/trips').set(org.auth).expect(200);
    expect(res.body.meta).toEqual({ page: 1, limit: 20, total: 3 });
    const byId = Object.fromEntries(res.body.data.map((x: { id: string }) => [x.id, x]));
    expect(byId[a.id]).toMatchObject({ seatsBooked: 3, occupancyPercent: 75, status: 'active' });
    expect(byId[b.id]).toMatchObject({ seatsBooked: 1, occupancyPercent: 10 });
    expect(byId[c.id]).toMatchObject({ status: 'cancelled', occupancyPercent: 0 });
    const cancelled = await t.http
      .get('/api/v1/organizer/trips')
      .query({ status: 'cancelled' })
      .set(org.auth)
      .expect(200);
    expect(cancelled.body.data.map((x: { id: string }) => x.id)).toEqual([c.id]);

    const stats = await t.http.get('/api/v1/organizer/stats').set(org.auth).expect(200);
    expect(stats.body.data.trips).toMatchObject({ total: 3, active: 2, seatsBooked: 4 });
    expect(stats.body.data.bookings).toMatchObject({ confirmed: 1, pending: 1 });

    await t.http.get('/api/v1/organizer/trips').set(traveler.auth).expect(403);
    await t.http.get('/api/v1/organizer/stats').set(traveler.auth).expect(403);
  });

  it('the owner cancels a trip (DELETE): status cancelled, reason kept, audited; not again changeable', async () => {
    const trip = await createTrip(t, owner);
    const res = await t.http
      .delete(`${TRIPS}/${trip.id}`)
      .set(owner.auth)
      .send({ reason: 'Heavy snowfall closed the route' })
      .expect(200);
    expect(res.body.data.status).toBe('cancelled');
    const [row] = await t.db.query(`SELECT status, cancel_reason, cancelled_at FROM trips WHERE id = $1`, [
      trip.id,
    ]);
    expect(row.status).toBe('cancelled');
    expect(row.cancel_reason).toBe('Heavy snowfall closed the route');
    expect(row.cancelled_at).toBeInstanceOf(Date);
    const audits = await auditRows(t, trip.id, 'trip.cancelled');
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actor_id: owner.id, actor_role: 'organizer' });
    expect(audits[0].before?.status).toBe('active');
    expect(audits[0].after?.status).toBe('cancelled');
    const patch = await t.http
      .patch(`${TRIPS}/${trip.id}`)
      .set(owner.auth)
      .send({ title: 'Back on' })
      .expect(409);
    expect(patch.body.error.code).toBe('TRIP_NOT_EDITABLE');
    // still publicly readable as cancelled (travelers holding links see what happened), never in search
    expect((await t.http.get(`${TRIPS}/${trip.id}`).expect(200)).body.data.status).toBe('cancelled');
  });
});

describe('trips: public search', () => {
  let t: TestApp;
  let s1: SignedIn;
  let s2: SignedIn;
  let traveler: SignedIn;
  const ids: Record<string, string> = {};
  const startDates: Record<string, string> = {};

  const search = async (query: Record<string, string | number> = {}) => {
    const res = await t.http.get(TRIPS).query(query).expect(200);
    return res;
  };
  const names = (res: { body: { data: { id: string }[] } }) =>
    res.body.data.map((x) => Object.keys(ids).find((k) => ids[k] === x.id) ?? x.id);

  beforeAll(async () => {
    t = await startTestApp();
    s1 = await register(t, 'organizer');
    s2 = await register(t, 'organizer');
    traveler = await register(t, 'traveler');
    const make = async (key: string, org: SignedIn, o: Record<string, unknown>) => {
      const trip = await createTrip(t, org, o);
      ids[key] = trip.id;
      startDates[key] = trip.startDate;
    };
    await make('A', s1, {
      title: 'Kedarkantha Winter Trek',
      destination: 'Uttarakhand',
      description: 'A classic winter summit climb with snow camps and pine forests.',
      categories: ['trekking', 'snow'],
      difficultyLevel: 'intermediate',
      startDate: daysFromNow(t, 30),
      endDate: daysFromNow(t, 35),
      price: 1_299_900,
      capacity: 20,
    });
    await make('B', s1, {
      title: 'Hampta Pass Crossing',
      destination: 'Himachal Pradesh',
      description:
        'Cross from green Kullu into the desert of Lahaul; a gentler start than the Kedarkantha climb.',
      categories: ['trekking'],
      difficultyLevel: 'beginner',
      startDate: daysFromNow(t, 20),
      endDate: daysFromNow(t, 24),
      price: 899_900,
      capacity: 2,
    });
    await make('C', s1, {
      title: 'Goa Beach Yoga Retreat',
      destination: 'Goa',
      description: 'Sunrise yoga and slow mornings by the Arabian Sea.',
      categories: ['yoga', 'beach'],
      difficultyLevel: 'beginner',
      startDate: daysFromNow(t, 10),
      endDate: daysFromNow(t, 14),
      price: 1_500_000,
      capacity: 15,
    });
    await make('D', s2, {
      title: 'Spiti Valley Road Trip',
      destination: 'Himachal Pradesh',
      description: 'High passes, monasteries and the moonscape of Spiti.',
      categories: ['road-trip'],
      difficultyLevel: 'advanced',
      startDate: daysFromNow(t, 60),
      endDate: daysFromNow(t, 68),
      price: 2_500_000,
      capacity: 8,
    });
    await make('E', s1, {
      title: 'Kedarkantha Private Departure',
      startDate: daysFromNow(t, 31),
      endDate: daysFromNow(t, 36),
    });
    await make('F', s2, {
      title: 'Kedarkantha Budget Batch',
      startDate: daysFromNow(t, 32),
      endDate: daysFromNow(t, 37),
    });
    await make('G', s2, {
      title: 'Nag Tibba Weekend',
      destination: 'Uttarakhand',
      description: 'A short hike above Mussoorie for a first taste of the hills.',
      categories: ['trekking'],
      difficultyLevel: 'beginner',
      startDate: daysFromNow(t, 2),
      endDate: daysFromNow(t, 3),
      price: 499_900,
      capacity: 12,
    });
    await t.http.patch(`${TRIPS}/${ids.E}`).set(s1.auth).send({ status: 'inactive' }).expect(200);
    await t.http.delete(`${TRIPS}/${ids.F}`).set(s2.auth).send({}).expect(200);
    await book(t, traveler, ids.B, 2); // B is now full
    // ratings are kept by the reviews service (tested in waitlist-reviews); here they only feed the sort
    for (const [k, r] of [
      ['A', 4.8],
      ['C', 4.2],
      ['D', 4.9],
      ['G', 3.5],
    ] as const) {
      await t.db.query(`UPDATE trips SET rating_avg = $2, review_count = 3 WHERE id = $1`, [ids[k], r]);
    }
  });
  afterAll(async () => t?.close());

  it('lists only active upcoming trips, by start date, with paging meta', async () => {
    const res = await search();
    expect(names(res)).toEqual(['G', 'C', 'B', 'A', 'D']);
    expect(res.body.meta).toEqual({ page: 1, limit: 20, total: 5 });
    expect(res.body.data[2]).toMatchObject({ id: ids.B, seatsAvailable: 0, seatsBooked: 2 });
  });

  it('full text over title, description and destination, ranked (title beats description)', async () => {
    expect(names(await search({ q: 'kedarkantha' }))).toEqual(['A', 'B']);
    expect((await search({ q: 'kedarkantha' })).body.meta.total).toBe(2);
    expect(names(await search({ q: 'Kedarkantha -gentler' }))).toEqual(['A']);
    expect(names(await search({ q: 'monasteries' }))).toEqual(['D']);
    expect(names(await search({ q: 'himachal' })).sort()).toEqual(['B', 'D']);
    expect(names(await search({ q: 'yoga retreat' }))).toEqual(['C']);
    expect(names(await search({ q: 'treks' }))).toEqual(['A']); // stemmed: treks ~ trek
    expect(await search({ q: 'atlantis' }).then((r) => r.body.meta.total)).toBe(0);
    // an explicit sort wins over relevance
    expect(names(await search({ q: 'kedarkantha', sort: 'startDate' }))).toEqual(['B', 'A']);
    const [idx] = await t.db.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_trips_search'`);
    expect(idx.indexdef).toMatch(/USING gin \(search_vector\)/i);
  });

  it('filters: destination (prefix, case-insensitive, wildcards literal), category, difficulty', async () => {
    expect(names(await search({ destination: 'himachal' }))).toEqual(['B', 'D']);
    expect(names(await search({ destination: 'HIMACHAL Pradesh' }))).toEqual(['B', 'D']);
    expect(names(await search({ destination: 'goa' }))).toEqual(['C']);
    expect(names(await search({ destination: '%' }))).toEqual([]);
    expect(names(await search({ destination: '_oa' }))).toEqual([]);
    expect(names(await search({ category: 'snow' }))).toEqual(['A']);
    expect(names(await search({ category: 'Yoga' }))).toEqual(['C']);
    expect(names(await search({ category: 'trekking' }))).toEqual(['G', 'B', 'A']);
    expect(names(await search({ difficulty: 'beginner' }))).toEqual(['G', 'C', 'B']);
    expect(names(await search({ difficulty: 'advanced' }))).toEqual(['D']);
    expect(
      names(
        await search({ q: 'trek', category: 'trekking', difficulty: 'intermediate', destination: 'uttara' }),
      ),
    ).toEqual(['A']);
  });

  it('filters: price range, start date range, organizer, seats', async () => {
    expect(names(await search({ minPrice: 1_000_000 }))).toEqual(['C', 'A', 'D']);
    expect(names(await search({ maxPrice: 899_900 }))).toEqual(['G', 'B']);
    expect(names(await search({ minPrice: 800_000, maxPrice: 1_300_000 }))).toEqual(['B', 'A']);
    expect(names(await search({ startFrom: startDates.B }))).toEqual(['B', 'A', 'D']);
    expect(names(await search({ startTo: startDates.B }))).toEqual(['G', 'C', 'B']);
    expect(names(await search({ startFrom: startDates.C, startTo: startDates.A }))).toEqual(['C', 'B', 'A']);
    expect(names(await search({ organizerId: s2.id }))).toEqual(['G', 'D']);
    expect(names(await search({ hasSeats: 'false' }))).toEqual(['B']);
    expect(names(await search({ hasSeats: 'true' }))).toEqual(['G', 'C', 'A', 'D']);
  });

  it('sorts: startDate, -startDate, price, -price, rating (best first), -createdAt', async () => {
    expect(names(await search({ sort: 'startDate' }))).toEqual(['G', 'C', 'B', 'A', 'D']);
    expect(names(await search({ sort: '-startDate' }))).toEqual(['D', 'A', 'B', 'C', 'G']);
    expect(names(await search({ sort: 'price' }))).toEqual(['G', 'B', 'A', 'C', 'D']);
    expect(names(await search({ sort: '-price' }))).toEqual(['D', 'C', 'A', 'B', 'G']);
    expect(names(await search({ sort: 'rating' }))).toEqual(['D', 'A', 'C', 'G', 'B']);
    expect(names(await search({ sort: '-createdAt' }))).toEqual(['G', 'D', 'C', 'B', 'A']);
  });

  it('equal sort keys fall back to id, so pages never repeat or skip a trip', async () => {
    const twinIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const trip = await createTrip(t, s2, {
        title: `Twin departure ${i}`,
        destination: 'Sikkim',
        price: 700_000,
      });
      twinIds.push(trip.id);
    }
    try {
      const all = await search({ destination: 'sikkim', sort: 'price' });
      expect(all.body.data.map((x: { id: string }) => x.id)).toEqual([...twinIds].sort());
      const seen: string[] = [];
      for (let page = 1; page <= 3; page++) {
        const res = await search({ destination: 'sikkim', sort: 'price', limit: 1, page });
        expect(res.body.meta).toEqual({ page, limit: 1, total: 3 });
        seen.push(res.body.data[0].id);
      }
      expect(seen).toEqual([...twinIds].sort());
    } finally {
      for (const id of twinIds) await t.http.delete(`${TRIPS}/${id}`).set(s2.auth).send({}).expect(200);
    }
  });

  it('pages with totals', async () => {
    const p1 = await search({ limit: 2, page: 1 });
    const p2 = await search({ limit: 2, page: 2 });
    const p3 = await search({ limit: 2, page: 3 });
    expect(names(p1)).toEqual(['G', 'C']);
    expect(names(p2)).toEqual(['B', 'A']);
    expect(names(p3)).toEqual(['D']);
    for (const [i, p] of [p1, p2, p3].entries())
      expect(p.body.meta).toEqual({ page: i + 1, limit: 2, total: 5 });
    const beyond = await search({ limit: 2, page: 9 });
    expect(beyond.body.data).toEqual([]);
    expect(beyond.body.meta.total).toBe(5);
  });

  it('rejects bad query parameters with 400', async () => {
    const bad: Record<string, string>[] = [
      { limit: '101' },
      { page: '0' },
      { sort: 'popularity' },
      { difficulty: 'expert' },
      { minPrice: '-1' },
      { maxPrice: 'cheap' },
      { startFrom: '2026-13-01' },
      { organizerId: 'someone' },
      { hasSeats: 'maybe' },
      { hasSeats: '1' },
      { unknownFilter: 'x' },
    ];
    for (const query of bad) {
      const res = await t.http.get(TRIPS).query(query);
      expect({ query, status: res.status, code: res.body.error?.code }).toEqual({
        query,
        status: 400,
        code: 'VALIDATION_ERROR',
      });
    }
  });

  it('answers are micro-cached per URL and dropped as soon as the app commits a write to trips', async () => {
    const query = { q: 'Spiti', organizerId: s2.id };
    const seatsOfD = async () =>
      (await search(query)).body.data.find((x: { id: string }) => x.id === ids.D).seatsAvailable as number;
    const first = await search(query);
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    expect(names(first)).toEqual(['D']);
    // A write this app did not make (another instance, or SQL by hand; here straight through the pg pool,
    // below TypeORM) shows only once the TTL has passed: this is what proves the second answer was cached.
    const pool = (
      t.db.driver as unknown as { master: { query(sql: string, params: unknown[]): Promise<unknown> } }
    ).master;
    await pool.query(`UPDATE trips SET title = 'Spiti Valley Road Trip (new batch)' WHERE id = $1`, [ids.D]);
    expect((await search(query)).body).toEqual(first.body);
    t.clock.advance(2_500);
    try {
      const fresh = await search(query);
      expect(fresh.body.data[0].title).toBe('Spiti Valley Road Trip (new batch)');
      // The app's own writes drop the cached answer at commit: a seat taken is visible at once.
      const before = await seatsOfD();
      const booking = await book(t, traveler, ids.D, 2);
      expect(await seatsOfD()).toBe(before - 2);
      await t.http
        .post(`/api/v1/bookings/${booking.id}/cancel`)
        .set(traveler.auth)
        .send({ reason: 'plans changed' })
        .expect(200);
      expect(await seatsOfD()).toBe(before);
      // Another query string is another entry, never another caller's page.
      expect(names(await search({ q: 'Spiti', organizerId: s1.id }))).toEqual([]);
    } finally {
      t.clock.reset();
      await t.db.query(`UPDATE trips SET title = 'Spiti Valley Road Trip' WHERE id = $1`, [ids.D]);
    }
  });

  it('a trip drops out of search once it is under way (its start date has begun in Asia/Kolkata)', async () => {
    const gStarts = tripStartsAt({ startDate: startDates.G });
    try {
      t.clock.set(new Date(gStarts.getTime() - 3_600_000)); // the evening before: still listed and bookable
      expect(names(await search({ organizerId: s2.id }))).toEqual(['G', 'D']);
      t.clock.set(new Date(gStarts.getTime() + 3_600_000)); // 01:00 IST on the start date: under way
      expect(names(await search({ organizerId: s2.id }))).toEqual(['D']);
      const late = await t.http
        .post('/api/v1/bookings')
        .set(traveler.auth)
        .send(bookingBody(ids.G, 1))
        .expect(422);
      expect(late.body.error.code).toBe('TRIP_NOT_BOOKABLE');
      t.clock.set(new Date(gStarts.getTime() + 5 * 86_400_000)); // long past
      expect(names(await search())).toEqual(['C', 'B', 'A', 'D']);
    } finally {
      t.clock.reset();
    }
  });
});
