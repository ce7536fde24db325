import { BookingsService, startOfLocalDate } from '@trektribe/booking';
import { ServiceApp, SignedIn, TestApp } from './app';

/** A calendar date `days` from the app clock's today (UTC date; trips default to Asia/Kolkata). */
export function daysFromNow(t: ServiceApp, days: number): string {
  return new Date(t.clock.now().getTime() + days * 86_400_000).toISOString().slice(0, 10);
}

export function tripBody(t: ServiceApp, overrides: Record<string, unknown> = {}) {
  return {
    title: 'Kedarkantha Winter Trek',
    description: 'A classic winter summit trek in Uttarakhand with snow camps and pine forests.',
    destination: 'Uttarakhand',
    categories: ['trekking', 'snow'],
    difficultyLevel: 'intermediate',
    startDate: daysFromNow(t, 30),
    endDate: daysFromNow(t, 35),
    price: 1_299_900,
    capacity: 20,
    itinerary: [{ day: 1, title: 'Sankri', activities: ['Arrive', 'Briefing'] }],
    includedItems: ['Meals', 'Tents'],
    requirements: ['Fitness certificate'],
    ...overrides,
  };
}

export async function createTrip(t: TestApp, organizer: SignedIn, overrides: Record<string, unknown> = {}) {
  const res = await t.http.post('/api/v1/trips').set(organizer.auth).send(tripBody(t, overrides));
  if (res.status !== 201) throw new Error(`trip creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data as {
    id: string;
    capacity: number;
    price: number;
    seatsAvailable: number;
    startDate: string;
    endDate: string;
    timezone: string;
    status: string;
  };
}

export function participants(n: number) {
  return Array.from({ length: n }, (_, i) => ({ name: `Trekker ${i + 1}`, age: 25 + i }));
}

export function bookingBody(tripId: string, seats = 1, paymentMethod: 'online' | 'screenshot' = 'online') {
  return { tripId, seats, participants: participants(seats), paymentMethod };
}

export async function book(
  t: TestApp,
  traveler: SignedIn,
  tripId: string,
  seats = 1,
  paymentMethod: 'online' | 'screenshot' = 'online',
) {
  const res = await t.http
    .post('/api/v1/bookings')
    .set(traveler.auth)
    .send(bookingBody(tripId, seats, paymentMethod));
  if (res.status !== 201) throw new Error(`booking failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data as {
    id: string;
    status: string;
    paymentStatus: string;
    holdExpiresAt: string;
    totalAmount: number;
  };
}

/** Marks a booking paid the way billing will (used before billing exists, and for non-payment tests). */
export async function markPaid(t: ServiceApp, bookingId: string): Promise<void> {
  await t.db.query(
    `UPDATE bookings SET status = 'confirmed', payment_status = 'paid', hold_expires_at = NULL, confirmed_at = now() WHERE id = $1`,
    [bookingId],
  );
}

export async function seatsBooked(t: ServiceApp, tripId: string): Promise<number> {
  const [row] = await t.db.query(`SELECT seats_booked FROM trips WHERE id = $1`, [tripId]);
  return row.seats_booked;
}

/** The instant a trip begins: local midnight of its start date in its timezone (what the cancellation tiers count from). */
export function tripStartsAt(trip: { startDate: string; timezone?: string }): Date {
  return startOfLocalDate(trip.startDate, trip.timezone ?? 'Asia/Kolkata');
}

export interface AuditRow {
  action: string;
  actor_id: string | null;
  actor_role: string | null;
  entity_type: string;
  entity_id: string;
  before: Record<string, any> | null;
  after: Record<string, any> | null;
}

/** Audit rows about one entity, oldest first (optionally one action only). */
export async function auditRows(t: ServiceApp, entityId: string, action?: string): Promise<AuditRow[]> {
  return t.db.query(
    `SELECT action, actor_id, actor_role, entity_type, entity_id, before, after FROM audit_logs
      WHERE entity_id = $1 AND ($2::text IS NULL OR action = $2) ORDER BY created_at, id`,
    [entityId, action ?? null],
  );
}

export async function bookingRow(t: ServiceApp, id: string): Promise<Record<string, any>> {
  const [row] = await t.db.query(`SELECT * FROM bookings WHERE id = $1`, [id]);
  return row;
}

/** A payment arrives the way billing reports it (checkout verify or webhook): through BookingsService.confirmPaid. */
export async function confirmPaid(t: ServiceApp, bookingId: string): Promise<string> {
  const svc = t.app.get(BookingsService);
  return t.db.transaction((m) => svc.confirmPaid(m, bookingId, null));
}
