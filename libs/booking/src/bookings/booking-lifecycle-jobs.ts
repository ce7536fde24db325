import { Injectable, Logger } from '@nestjs/common';
import { AuditService, Clock, returnedRows } from '@trektribe/common';
import { Notifier } from '@trektribe/notifications';
import { DataSource, EntityManager, In } from 'typeorm';
import { BookingEvents } from '../booking-events';
import { SeatInventory } from '../trips/seat-inventory';
import { TripListings } from '../trips/trip-listings';
import { WaitlistService } from '../waitlist/waitlist.service';
import { Booking } from './booking.entity';
import { toBookingView } from './booking-view';
import { bookingStatusesMovingTo } from './booking-state';

const EXPIRY_BATCH = 100;

/**
 * What the clock does to bookings (API.md, Scheduled jobs): unpaid holds expire and give their seats
 * back (every minute), finished trips and their bookings complete (00:30 IST), travelers hear the day
 * before their trip (18:00 IST). Each run is safe to repeat and to overlap with another instance's.
 */
@Injectable()
export class BookingLifecycleJobs {
  private readonly logger = new Logger(BookingLifecycleJobs.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly events: BookingEvents,
    private readonly waitlist: WaitlistService,
    private readonly seats: SeatInventory,
    private readonly listings: TripListings,
    private readonly notifier: Notifier,
  ) {}

  /**
   * Releases the seats of unpaid holds past their expiry, in batches. Each booking is expired by a
   * conditional UPDATE, so overlapping runs (two instances, or a slow run and the next minute's)
   * release every hold exactly once.
   */
  async expireHolds(): Promise<number> {
    let expired = 0;
    for (;;) {
      const now = this.clock.now();
      // The literal 'pending' matches idx_bookings_hold_expiry's predicate; expireOne's UPDATE is the guard.
      const due = (await this.dataSource.query(
        `SELECT id FROM bookings WHERE status = 'pending' AND seats_released_at IS NULL AND hold_expires_at <= $1
          ORDER BY hold_expires_at, id LIMIT $2`,
        [now, EXPIRY_BATCH],
      )) as { id: string }[];
      for (const { id } of due) {
        const done = await this.dataSource.transaction((m) => this.expireOne(m, id, now));
        if (done) expired++;
      }
      if (due.length < EXPIRY_BATCH) break;
    }
    return expired;
  }

  private async expireOne(m: EntityManager, id: string, now: Date): Promise<boolean> {
    // Trip row first, then the booking: the lock order of trip and booking cancellation (no deadlock).
    const [ref] = (await m.query(`SELECT trip_id FROM bookings WHERE id = $1`, [id])) as {
      trip_id: string;
    }[];
    if (!ref) return false;
    await this.seats.lockTrip(m, ref.trip_id);
    // Only from a status BOOKING_MOVES lets expire: a payment or cancellation that got there first stands.
    const rows = returnedRows<{ trip_id: string }>(
      await m.query(
        `UPDATE bookings SET status = 'expired', seats_released_at = $2, updated_at = now()
          WHERE id = $1 AND status = ANY($3::text[]) AND seats_released_at IS NULL AND hold_expires_at <= $2
          RETURNING trip_id`,
        [id, now, bookingStatusesMovingTo('expired')],
      ),
    );
    if (rows.length === 0) return false; // another run, a payment or a cancellation got there first
    const b = await m.findOneOrFail(Booking, { where: { id } });
    await this.seats.release(m, b.tripId, b.seats);
    if (b.waitlistEntryId) await this.waitlist.markOfferClosed(m, b.waitlistEntryId, 'expired');
    await this.audit.record(m, {
      actor: null,
      action: 'booking.expired',
      entityType: 'booking',
      entityId: id,
      after: toBookingView(b),
    });
    await this.events.bookingChanged(m, 'booking.updated', b);
    await this.waitlist.offerFreedSeats(m, b.tripId);
    await this.events.tripSeats(m, b.tripId);
    return true;
  }

  /** 00:30 IST: trips whose end date has passed are completed, with their confirmed bookings. */
  async completeFinishedTrips(): Promise<{ trips: number; bookings: number }> {
    const now = this.clock.now();
    return this.dataSource.transaction(async (m) => {
      const ids = await this.listings.completeEnded(m, now);
      if (!ids.length) return { trips: 0, bookings: 0 };
      for (const id of ids) await this.waitlist.closeForTrip(m, id, 'trip_finished');
      const done = returnedRows<{ id: string }>(
        await m.query(
          `UPDATE bookings SET status = 'completed', completed_at = $2, updated_at = now()
            WHERE trip_id = ANY($1::uuid[]) AND status = ANY($3::text[]) RETURNING id`,
          [ids, now, bookingStatusesMovingTo('completed')],
        ),
      );
      for (const id of ids)
        await this.audit.record(m, {
          actor: null,
          action: 'trip.completed',
          entityType: 'trip',
          entityId: id,
        });
      // Every booking state change is audited and told to its traveler and organizer, completion included.
      const completed = done.length ? await m.findBy(Booking, { id: In(done.map((d) => d.id)) }) : [];
      for (const b of completed) {
        await this.audit.record(m, {
          actor: null,
          action: 'booking.completed',
          entityType: 'booking',
          entityId: b.id,
          before: { ...toBookingView(b), status: 'confirmed', completedAt: null },
          after: toBookingView(b),
        });
        await this.events.bookingChanged(m, 'booking.updated', b);
      }
      return { trips: ids.length, bookings: done.length };
    });
  }

  /**
   * 18:00 IST: "your trip starts tomorrow" to every traveler with a confirmed booking on a trip that
   * starts the next calendar day in its timezone. The dedupe key makes a rerun send nothing new.
   */
  async remindTripsStartingTomorrow(): Promise<number> {
    const now = this.clock.now();
    const rows = (await this.dataSource.query(
      `SELECT b.id, b.seats, b.traveler_id, t.title, to_char(t.start_date, 'YYYY-MM-DD') AS start_date, t.destination
         FROM bookings b JOIN trips t ON t.id = b.trip_id
        WHERE b.status = 'confirmed' AND t.status = 'active'
          AND t.start_date = ((($1::timestamptz) AT TIME ZONE t.timezone)::date + 1)
        ORDER BY b.id`,
      [now],
    )) as {
      id: string;
      seats: number;
      traveler_id: string;
      title: string;
      start_date: string;
      destination: string;
    }[];
    for (const r of rows) {
      // One failure must not cost the rest of tonight's reminders (tomorrow they are too late).
      await this.each(`trip reminder ${r.id}`, () =>
        this.dataSource.transaction((m) =>
          this.notifier.notify(m, {
            type: 'trip.reminder',
            userId: r.traveler_id,
            data: {
              bookingId: r.id,
              tripTitle: r.title,
              destination: r.destination,
              startDate: r.start_date,
              seats: r.seats,
            },
            dedupeKey: `trip-reminder:${r.id}`,
          }),
        ),
      );
    }
    await this.sendParticipantLists(now);
    return rows.length;
  }

  /**
   * 18:00 IST, with the travelers' reminders: each organizer gets tomorrow's trip's confirmed
   * travelers (one message per trip; the dedupe key makes a rerun send nothing new).
   */
  private async sendParticipantLists(now: Date): Promise<void> {
    const rows = (await this.dataSource.query(
      `SELECT t.id, t.organizer_id, t.title, to_char(t.start_date, 'YYYY-MM-DD') AS start_date,
              json_agg(json_build_object('name', u.name, 'seats', b.seats) ORDER BY u.name, b.id) AS participants
         FROM trips t JOIN bookings b ON b.trip_id = t.id AND b.status = 'confirmed' JOIN users u ON u.id = b.traveler_id
        WHERE t.status = 'active' AND t.start_date = ((($1::timestamptz) AT TIME ZONE t.timezone)::date + 1)
        GROUP BY t.id ORDER BY t.id`,
      [now],
    )) as {
      id: string;
      organizer_id: string;
      title: string;
      start_date: string;
      participants: { name: string; seats: number }[];
    }[];
    for (const r of rows) {
      await this.each(`participant list ${r.id}`, () =>
        this.dataSource.transaction((m) =>
          this.notifier.notify(m, {
            type: 'trip.participants',
            userId: r.organizer_id,
            data: { tripId: r.id, tripTitle: r.title, startDate: r.start_date, participants: r.participants },
            dedupeKey: `trip-participants:${r.id}`,
          }),
        ),
      );
    }
  }

  private async each(what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (err: unknown) {
      this.logger.error({ err }, `${what} failed; the job goes on`);
    }
  }
}
