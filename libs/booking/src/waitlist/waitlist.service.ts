import { Inject, Injectable } from '@nestjs/common';
import { UserDirectory, type Actor } from '@trektribe/auth';
import {
  APP_CONFIG,
  AppConfig,
  AuditService,
  Clock,
  DomainError,
  isUniqueViolation,
  returnedRows,
} from '@trektribe/common';
import { Notifier } from '@trektribe/notifications';
import { DataSource, EntityManager } from 'typeorm';
import { BookingEvents } from '../booking-events';
import { BookingHolds } from '../bookings/booking-holds';
import { SeatInventory, TakenSeats } from '../trips/seat-inventory';
import { Trip } from '../trips/trip.entity';
import { startOfLocalDate } from '../trips/trip-time';
import { WaitlistEntry, WaitlistStatus } from './waitlist-entry.entity';

export interface WaitlistView {
  id: string;
  tripId: string;
  seats: number;
  status: WaitlistStatus;
  /** 1 = next in line; null once offered or closed. */
  position: number | null;
  offerBookingId: string | null;
  offerExpiresAt: Date | null;
  createdAt: Date;
}

@Injectable()
export class WaitlistService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly seats: SeatInventory,
    private readonly events: BookingEvents,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly users: UserDirectory,
    private readonly holds: BookingHolds,
    private readonly notifier: Notifier,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Only a full trip has a line: with seats free, the traveler should simply book. */
  async join(actor: Actor, tripId: string, seats: number): Promise<WaitlistView> {
    try {
      return await this.dataSource.transaction(async (m) => {
        const trip = await m.findOne(Trip, { where: { id: tripId }, lock: { mode: 'for_no_key_update' } });
        if (!trip || trip.status === 'inactive') throw DomainError.notFound('Trip');
        if (trip.status !== 'active')
          throw new DomainError('TRIP_NOT_BOOKABLE', `This trip is ${trip.status}`);
        // A trip under way takes no bookings (SeatInventory.take), so a place in its line could never turn into an offer.
        if (startOfLocalDate(trip.startDate, trip.timezone) <= this.clock.now()) {
          throw new DomainError('TRIP_NOT_BOOKABLE', 'This trip is already under way and takes no bookings');
        }
        const available = trip.capacity - trip.seatsBooked;
        const waiting = await m.count(WaitlistEntry, { where: { tripId, status: 'waiting' } });
        if (available >= seats && waiting === 0) {
          throw new DomainError('BUSINESS_RULE', `${available} seat(s) are available: book them directly`);
        }
        const entry = m.create(WaitlistEntry, { tripId, travelerId: actor.id, seats, status: 'waiting' });
        await m.save(entry);
        await this.audit.record(m, {
          actor,
          action: 'waitlist.joined',
          entityType: 'waitlist',
          entityId: entry.id,
          after: { tripId, seats },
        });
        return this.view(m, entry);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'uq_waitlist_active')) {
        throw new DomainError('ALREADY_WAITLISTED', 'You are already on the waitlist for this trip');
      }
      throw err;
    }
  }

  /** Leaving gives up an open offer too: its hold is expired now, so the expiry job frees the seats. */
  async leave(actor: Actor, tripId: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      // Locks in the order every other path takes: trip → booking → waitlist entry (a trip cancel,
      // and confirmPaid for a paid offer); any other order deadlocks against them on PostgreSQL.
      await this.seats.lockTrip(m, tripId);
      const where = [
        { tripId, travelerId: actor.id, status: 'waiting' as const },
        { tripId, travelerId: actor.id, status: 'offered' as const },
      ];
      const seen = await m.findOne(WaitlistEntry, { where });
      if (seen?.offerBookingId)
        await m.query(`SELECT id FROM bookings WHERE id = $1 FOR UPDATE`, [seen.offerBookingId]);
      const entry = await m.findOne(WaitlistEntry, { where, lock: { mode: 'pessimistic_write' } });
      if (!entry) throw DomainError.notFound('Waitlist entry');
      if (entry.status === 'offered' && entry.offerBookingId) {
        await m.query(
          `UPDATE bookings SET hold_expires_at = $2 WHERE id = $1 AND status = 'pending' AND payment_status IN ('unpaid', 'failed')`,
          [entry.offerBookingId, this.clock.now()],
        );
      }
      entry.status = 'cancelled';
      await m.save(entry);
      await this.audit.record(m, {
        actor,
        action: 'waitlist.left',
        entityType: 'waitlist',
        entityId: entry.id,
      });
    });
  }

  async mine(actor: Actor, tripId: string): Promise<WaitlistView> {
    const entry = await this.dataSource.getRepository(WaitlistEntry).findOne({
      where: [
        { tripId, travelerId: actor.id, status: 'waiting' },
        { tripId, travelerId: actor.id, status: 'offered' },
      ],
    });
    if (!entry) throw DomainError.notFound('Waitlist entry');
    return this.view(this.dataSource.manager, entry);
  }

  /**
   * Called in the same transaction that freed seats. Strictly first come, first served: the head of
   * the line gets a hold for its seats (a pending booking that expires after WAITLIST_OFFER_HOURS);
   * if the head needs more seats than are free, nobody behind it jumps ahead.
   */
  async offerFreedSeats(m: EntityManager, tripId: string): Promise<number> {
    let offered = 0;
    for (;;) {
      const [entry] = await m
        .getRepository(WaitlistEntry)
        .createQueryBuilder('w')
        .where('w.trip_id = :tripId AND w.status = :s', { tripId, s: 'waiting' })
        .orderBy('w.created_at', 'ASC')
        .addOrderBy('w.id', 'ASC')
        .limit(1)
        .setLock('pessimistic_write')
        .getMany();
      if (!entry) return offered;
      if ((await this.seats.available(m, tripId)) < entry.seats) return offered;
      const now = this.clock.now();
      let trip: TakenSeats;
      try {
        trip = await this.seats.take(m, tripId, entry.seats, now);
      } catch (err) {
        if (err instanceof DomainError) return offered; // trip started or closed meanwhile
        throw err;
      }
      const expiresAt = new Date(now.getTime() + this.config.holds.waitlistOfferHours * 3_600_000);
      // The entry's traveler exists: waitlist_entries.traveler_id is a foreign key to users.
      const traveler = (await this.users.contactOf(m, entry.travelerId))!;
      // A waitlist offer is a booking like any other: the same rows, audit and event as a traveler's own.
      const booking = await this.holds.write(m, {
        trip,
        travelerId: entry.travelerId,
        seats: entry.seats,
        participants: Array.from({ length: entry.seats }, (_, i) => ({
          name: i === 0 ? traveler.name : `${traveler.name} (guest ${i})`,
        })),
        paymentMethod: 'online',
        holdExpiresAt: expiresAt,
        waitlistEntryId: entry.id,
        actor: null,
      });
      entry.status = 'offered';
      entry.offerBookingId = booking.id;
      entry.offeredAt = now;
      entry.offerExpiresAt = expiresAt;
      await m.save(entry);
      await this.audit.record(m, {
        actor: null,
        action: 'waitlist.offered',
        entityType: 'waitlist',
        entityId: entry.id,
        after: { bookingId: booking.id, expiresAt },
      });
      await this.notifier.notify(m, {
        type: 'waitlist.offer',
        userId: entry.travelerId,
        data: {
          bookingId: booking.id,
          tripTitle: trip.title,
          startDate: trip.startDate,
          seats: entry.seats,
          expiresAt: expiresAt.toISOString(),
        },
        dedupeKey: `waitlist-offer:${entry.id}`,
      });
      offered++;
    }
  }

  async markOfferClosed(
    m: EntityManager,
    entryId: string,
    status: 'accepted' | 'expired' | 'cancelled',
  ): Promise<void> {
    await m.query(
      `UPDATE waitlist_entries SET status = $2, updated_at = now() WHERE id = $1 AND status = 'offered'`,
      [entryId, status],
    );
  }

  /**
   * The trip was cancelled or has ended: its open entries end (`cancelled`) and their travelers are
   * told, once per entry. Returns how many ended.
   */
  async closeForTrip(
    m: EntityManager,
    tripId: string,
    why: 'trip_cancelled' | 'trip_finished',
  ): Promise<number> {
    const closed = returnedRows<{ id: string; traveler_id: string }>(
      await m.query(
        `UPDATE waitlist_entries SET status = 'cancelled', updated_at = now()
          WHERE trip_id = $1 AND status IN ('waiting', 'offered') RETURNING id, traveler_id`,
        [tripId],
      ),
    );
    if (!closed.length) return 0;
    const [trip] = (await m.query(
      `SELECT title, to_char(start_date, 'YYYY-MM-DD') AS start_date FROM trips WHERE id = $1`,
      [tripId],
    )) as { title: string; start_date: string }[];
    for (const e of closed) {
      await this.notifier.notify(m, {
        type: 'waitlist.closed',
        userId: e.traveler_id,
        data: { tripTitle: trip.title, startDate: trip.start_date, why },
        dedupeKey: `waitlist-closed:${e.id}`,
      });
    }
    return closed.length;
  }

  private async view(m: EntityManager, e: WaitlistEntry): Promise<WaitlistView> {
    let position: number | null = null;
    if (e.status === 'waiting') {
      // Compare with the row's own created_at, not e.createdAt: a JS Date keeps milliseconds while
      // PostgreSQL keeps microseconds, so the entry would rank behind itself (position 0, 1 for the 2nd…).
      const [row] = (await m.query(
        `SELECT count(*)::int AS n FROM waitlist_entries w, waitlist_entries me
          WHERE me.id = $2 AND w.trip_id = $1 AND w.status = 'waiting' AND (w.created_at, w.id) <= (me.created_at, me.id)`,
        [e.tripId, e.id],
      )) as { n: number }[];
      position = row.n;
    }
    return {
      id: e.id,
      tripId: e.tripId,
      seats: e.seats,
      status: e.status,
      position,
      offerBookingId: e.offerBookingId,
      offerExpiresAt: e.offerExpiresAt,
      createdAt: e.createdAt,
    };
  }
}
