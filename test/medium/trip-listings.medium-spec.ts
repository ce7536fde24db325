import type { Actor } from '@trektribe/auth';
import { TripListings } from '@trektribe/booking';
import { TripsService } from '../../libs/booking/src/trips/trips.service';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootTestApp, ServiceApp } from '../support/app';
import { auditRows, bookingRow, seatsBooked } from '../support/fixtures';
import { newHold, newTrip, newUser } from '../support/services';

/**
 * TripListings: what billing may do to an organizer's listings. A suspension hides exactly the
 * organizer's active trips and marks them; a restore lists again exactly the marked trips nobody has
 * changed since. Both are audited per trip and answer nothing the second time.
 */
describe('TripListings (booking facade for billing)', () => {
  let t: ServiceApp;
  let listings: TripListings;
  beforeAll(async () => {
    t = await bootTestApp();
    listings = t.app.get(TripListings);
  });
  afterAll(async () => t?.close());

  const suspend = (organizerId: string, subscriptionId: string) =>
    t.db.transaction((m) => listings.suspendForOrganizer(m, organizerId, subscriptionId));
  const restore = (organizerId: string, subscriptionId: string) =>
    t.db.transaction((m) => listings.restoreForSubscription(m, organizerId, subscriptionId));

  async function tripRows(
    organizerId: string,
  ): Promise<Map<string, { status: string; suspended_by_subscription_id: string | null }>> {
    const rows = (await t.db.query(
      `SELECT id, status, suspended_by_subscription_id FROM trips WHERE organizer_id = $1`,
      [organizerId],
    )) as {
      id: string;
      status: string;
      suspended_by_subscription_id: string | null;
    }[];
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** An organizer with two active trips, one hidden by hand and one cancelled. */
  async function organizerWithTrips() {
    const organizer = await newUser(t, 'organizer');
    const trips = t.app.get(TripsService);
    const [a, b, hidden, cancelled] = [
      await newTrip(t, organizer),
      await newTrip(t, organizer),
      await newTrip(t, organizer),
      await newTrip(t, organizer),
    ];
    await trips.update(organizer, hidden.id, { status: 'inactive' } as Parameters<TripsService['update']>[2]);
    await trips.cancel(organizer, cancelled.id);
    return { organizer, active: [a.id, b.id].sort(), hidden: hidden.id, cancelled: cancelled.id };
  }

  it("suspending hides exactly the organizer's active trips, marks and audits each; twice hides nothing more", async () => {
    const o = await organizerWithTrips();
    const other = await newUser(t, 'organizer');
    const othersTrip = await newTrip(t, other);
    const sub = randomUUID();

    const hiddenIds = await suspend(o.organizer.id, sub);

    expect([...hiddenIds].sort()).toEqual(o.active);
    const rows = await tripRows(o.organizer.id);
    for (const id of o.active)
      expect(rows.get(id)).toMatchObject({ status: 'inactive', suspended_by_subscription_id: sub });
    expect(rows.get(o.hidden)).toMatchObject({ status: 'inactive', suspended_by_subscription_id: null });
    expect(rows.get(o.cancelled)).toMatchObject({ status: 'cancelled', suspended_by_subscription_id: null });
    expect((await tripRows(other.id)).get(othersTrip.id)).toMatchObject({
      status: 'active',
      suspended_by_subscription_id: null,
    });
    for (const id of o.active) {
      const audit = await auditRows(t, id, 'trip.deactivated');
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor_id: null, entity_type: 'trip', before: { status: 'active' } });
      expect(audit[0].after).toEqual({
        status: 'inactive',
        reason: 'subscription_suspended',
        subscriptionId: sub,
      });
    }
    expect(await auditRows(t, o.hidden, 'trip.deactivated')).toEqual([]);

    // Suspending again hides nothing more and writes no more audit rows.
    expect(await suspend(o.organizer.id, sub)).toEqual([]);
    expect(await tripRows(o.organizer.id)).toEqual(rows);
    for (const id of o.active) expect(await auditRows(t, id, 'trip.deactivated')).toHaveLength(1);
  });

  it('restoring lists again exactly the trips this suspension hid; a second restore changes nothing', async () => {
    const o = await organizerWithTrips();
    const sub = randomUUID();
    await suspend(o.organizer.id, sub);
    const suspended = await tripRows(o.organizer.id);
    // Another subscription's restore, or another organizer's, finds none of these trips.
    expect(await restore(o.organizer.id, randomUUID())).toEqual([]);
    expect(await restore((await newUser(t, 'organizer')).id, sub)).toEqual([]);
    expect(await tripRows(o.organizer.id)).toEqual(suspended);

    const listed = await restore(o.organizer.id, sub);

    expect([...listed].sort()).toEqual(o.active);
    const rows = await tripRows(o.organizer.id);
    for (const id of o.active)
      expect(rows.get(id)).toMatchObject({ status: 'active', suspended_by_subscription_id: null });
    expect(rows.get(o.hidden)).toMatchObject({ status: 'inactive' });
    expect(rows.get(o.cancelled)).toMatchObject({ status: 'cancelled' });
    for (const id of o.active) {
      const audit = await auditRows(t, id, 'trip.reactivated');
      expect(audit).toHaveLength(1);
      expect(audit[0].after).toEqual({
        status: 'active',
        reason: 'subscription_reactivated',
        subscriptionId: sub,
      });
    }

    expect(await restore(o.organizer.id, sub)).toEqual([]);
    for (const id of o.active) expect(await auditRows(t, id, 'trip.reactivated')).toHaveLength(1);
  });

  it('a suspended trip the organizer changed by hand meanwhile stays as the organizer left it', async () => {
    const o = await organizerWithTrips();
    const [keptHidden, cancelledMeanwhile] = o.active;
    const sub = randomUUID();
    await suspend(o.organizer.id, sub);
    const trips = t.app.get(TripsService);
    await trips.update(o.organizer, keptHidden, { status: 'inactive' } as Parameters<
      TripsService['update']
    >[2]);
    await trips.cancel(o.organizer, cancelledMeanwhile);

    expect(await restore(o.organizer.id, sub)).toEqual([]);

    const rows = await tripRows(o.organizer.id);
    expect(rows.get(keptHidden)).toMatchObject({ status: 'inactive', suspended_by_subscription_id: null });
    expect(rows.get(cancelledMeanwhile)).toMatchObject({
      status: 'cancelled',
      suspended_by_subscription_id: null,
    });
  });

  it('bookings on a suspended trip stay as they were', async () => {
    const organizer: Actor = await newUser(t, 'organizer');
    const traveler = await newUser(t, 'traveler');
    const trip = await newTrip(t, organizer);
    const hold = await newHold(t, traveler, trip.id, 2);
    const before = await bookingRow(t, hold.id);

    expect(await suspend(organizer.id, randomUUID())).toEqual([trip.id]);

    const after = await bookingRow(t, hold.id);
    expect({ status: after.status, payment_status: after.payment_status, seats: after.seats }).toEqual({
      status: before.status,
      payment_status: before.payment_status,
      seats: before.seats,
    });
    expect(await seatsBooked(t, trip.id)).toBe(2);
  });
});
