import { Injectable } from '@nestjs/common';
import { Actor, User } from '@trektribe/auth';
import {
  AuditService,
  Clock,
  DomainError,
  escapeLike,
  offsetOf,
  Page,
  ResponseCache,
  UnitOfWork,
  isValidTimeZone,
} from '@trektribe/common';
import { DataSource, EntityManager } from 'typeorm';
import { BookingEvents } from '../booking-events';
import { BookingsService } from '../bookings/bookings.service';
import { WaitlistService } from '../waitlist/waitlist.service';
import { CreateTripDto, OrganizerTripsQuery, SearchTripsQuery, UpdateTripDto } from './trip.dto';
import { Trip } from './trip.entity';
import { localDate } from './trip-time';

export interface OrganizerProfile {
  id: string;
  name: string;
  bio: string | null;
  location: string | null;
  memberSince: Date;
}

export function toTripView(t: Trip, organizer?: OrganizerProfile) {
  return {
    id: t.id,
    organizerId: t.organizerId,
    title: t.title,
    description: t.description,
    destination: t.destination,
    categories: t.categories,
    difficultyLevel: t.difficultyLevel,
    startDate: t.startDate,
    endDate: t.endDate,
    timezone: t.timezone,
    price: t.price,
    currency: t.currency,
    capacity: t.capacity,
    seatsBooked: t.seatsBooked,
    seatsAvailable: t.capacity - t.seatsBooked,
    itinerary: t.itinerary,
    includedItems: t.includedItems,
    requirements: t.requirements,
    images: t.images,
    status: t.status,
    rating: Number(t.ratingAvg),
    reviewCount: t.reviewCount,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    ...(organizer ? { organizer } : {}),
  };
}
export type TripView = ReturnType<typeof toTripView>;

const SORTS: Record<string, [string, 'ASC' | 'DESC']> = {
  startDate: ['t.start_date', 'ASC'],
  '-startDate': ['t.start_date', 'DESC'],
  price: ['t.price', 'ASC'],
  '-price': ['t.price', 'DESC'],
  // API.md offers `rating` as the one rating sort: travelers mean "top rated", so best first
  // (like `-createdAt`, the listed direction is the useful one); `-rating` stays as a synonym.
  rating: ['t.rating_avg', 'DESC'],
  '-rating': ['t.rating_avg', 'DESC'],
  '-createdAt': ['t.created_at', 'DESC'],
};

@Injectable()
export class TripsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly events: BookingEvents,
    private readonly bookings: BookingsService,
    private readonly waitlist: WaitlistService,
    private readonly uow: UnitOfWork,
    private readonly cache: ResponseCache,
  ) {}

  async create(actor: Actor, dto: CreateTripDto): Promise<TripView> {
    const timezone = dto.timezone ?? 'Asia/Kolkata';
    this.assertDates(dto.startDate, dto.endDate, timezone);
    return this.uow.run(async (tx) => {
      const m = tx.manager;
      await tx.emit({ type: 'trip.listing', organizerId: actor.id });
      const trip = m.create(Trip, {
        ...dto,
        timezone,
        currency: 'INR',
        organizerId: actor.id,
        categories: dto.categories ?? [],
        itinerary: dto.itinerary ?? [],
        includedItems: dto.includedItems ?? [],
        requirements: dto.requirements ?? [],
        images: dto.images ?? [],
        status: 'active',
        seatsBooked: 0,
      });
      await m.save(trip);
      this.cache.invalidateAfterCommit(m, 'trips');
      await this.audit.record(m, {
        actor,
        action: 'trip.created',
        entityType: 'trip',
        entityId: trip.id,
        after: toTripView(trip),
      });
      return toTripView(trip);
    });
  }

  /** Public: active, completed and cancelled trips; inactive ones only to their owner and admins. */
  async get(id: string, viewer?: Actor): Promise<TripView> {
    const trip = await this.dataSource.getRepository(Trip).findOne({ where: { id } });
    if (!trip) throw DomainError.notFound('Trip');
    const privileged = viewer && (viewer.role === 'admin' || viewer.id === trip.organizerId);
    if (trip.status === 'inactive' && !privileged) throw DomainError.notFound('Trip');
    return toTripView(trip, await this.organizerProfile(trip.organizerId));
  }

  async update(actor: Actor, id: string, dto: UpdateTripDto): Promise<TripView> {
    return this.uow.run(async (tx) => {
      const m = tx.manager;
      const trip = await this.lockOwned(m, actor, id);
      if (trip.status === 'cancelled' || trip.status === 'completed') {
        throw new DomainError('TRIP_NOT_EDITABLE', `A ${trip.status} trip cannot be changed`);
      }
      const before = toTripView(trip);
      if (dto.capacity !== undefined && dto.capacity < trip.seatsBooked) {
        throw new DomainError(
          'CAPACITY_BELOW_BOOKED',
          `Capacity cannot go below the ${trip.seatsBooked} seats already taken`,
          [{ field: 'capacity', message: `must be at least ${trip.seatsBooked}` }],
        );
      }
      if (dto.status === 'active' && trip.status !== 'active')
        await tx.emit({ type: 'trip.listing', organizerId: trip.organizerId, tripId: trip.id });
      // Only the fields the client sent: the validated DTO instance carries every declared property,
      // absent ones as `undefined`, which would blank the merged dates (skipping the end-before-start
      // check, so the CHECK constraint answered 500) and the fields of the response and audit row.
      const changes = Object.fromEntries(
        Object.entries(dto).filter(([, v]) => v !== undefined),
      ) as UpdateTripDto;
      const next = { ...trip, ...changes };
      if (changes.startDate || changes.endDate || changes.timezone)
        this.assertDates(next.startDate, next.endDate, next.timezone);
      Object.assign(trip, changes);
      // A status set by hand is the owner's decision: a later subscription payment does not undo it.
      if (changes.status !== undefined) trip.suspendedBySubscriptionId = null;
      await m.save(trip);
      this.cache.invalidateAfterCommit(m, 'trips');
      await this.audit.record(m, {
        actor,
        action: 'trip.updated',
        entityType: 'trip',
        entityId: trip.id,
        before,
        after: toTripView(trip),
      });
      if (changes.capacity !== undefined && changes.capacity !== before.capacity) {
        await this.waitlist.offerFreedSeats(m, trip.id);
        await this.events.tripSeats(m, trip.id);
        // Waitlist offers took seats by SQL after `trip` was read: answer with the row as it is now.
        return toTripView(await m.findOneOrFail(Trip, { where: { id: trip.id } }));
      }
      return toTripView(trip);
    });
  }

  /** Cancels the trip and every live booking on it with a full refund; travelers are told. */
  async cancel(actor: Actor, id: string, reason?: string): Promise<TripView> {
    return this.uow.run(async ({ manager: m }) => {
      const trip = await this.lockOwned(m, actor, id);
      if (trip.status === 'cancelled') return toTripView(trip);
      if (trip.status === 'completed')
        throw new DomainError('TRIP_NOT_EDITABLE', 'A completed trip cannot be cancelled');
      const before = toTripView(trip);
      trip.status = 'cancelled';
      trip.suspendedBySubscriptionId = null;
      trip.cancelledAt = this.clock.now();
      trip.cancelReason = reason ?? null;
      await m.save(trip);
      this.cache.invalidateAfterCommit(m, 'trips');
      await this.audit.record(m, {
        actor,
        action: 'trip.cancelled',
        entityType: 'trip',
        entityId: trip.id,
        before,
        after: toTripView(trip),
      });
      await this.bookings.cancelAllForTrip(m, actor, trip, reason ?? 'The organizer cancelled the trip');
      await this.waitlist.closeForTrip(m, trip.id, 'trip_cancelled');
      await this.events.tripSeats(m, trip.id);
      // The bookings gave their seats back by SQL after `trip` was read: answer with the row as it is now.
      return toTripView(await m.findOneOrFail(Trip, { where: { id: trip.id } }));
    });
  }

  async search(q: SearchTripsQuery): Promise<Page<TripView>> {
    const now = this.clock.now();
    // "Upcoming" is the booking rule of SeatInventory.take: the start date has not begun in the trip's
    // own timezone. (`>= today in IST` listed trips already under way, which answer 422 on booking.)
    // The coarse floor is implied by the exact test (no timezone is 2 days behind IST) and lets the
    // (status, start_date) index bound the scan.
    const floor = localDate(new Date(now.getTime() - 2 * 86_400_000), 'Asia/Kolkata');
    const qb = this.dataSource
      .getRepository(Trip)
      .createQueryBuilder('t')
      .where(`t.status = 'active'`)
      .andWhere('t.start_date > :floor', { floor })
      .andWhere('t.start_date > (CAST(:now AS timestamptz) AT TIME ZONE t.timezone)::date', { now });
    if (q.q) {
      qb.andWhere(
        `(t.search_vector @@ websearch_to_tsquery('english', :q) OR t.search_vector @@ websearch_to_tsquery('simple', :q))`,
        { q: q.q },
      );
    }
    if (q.destination)
      qb.andWhere(`lower(t.destination) LIKE :dest`, {
        dest: `${escapeLike(q.destination.trim().toLowerCase())}%`,
      });
    if (q.category)
      qb.andWhere(`t.categories @> ARRAY[:category]::varchar[]`, { category: q.category.toLowerCase() });
    if (q.difficulty) qb.andWhere('t.difficulty_level = :difficulty', { difficulty: q.difficulty });
    if (q.minPrice !== undefined) qb.andWhere('t.price >= :minPrice', { minPrice: q.minPrice });
    if (q.maxPrice !== undefined) qb.andWhere('t.price <= :maxPrice', { maxPrice: q.maxPrice });
    if (q.startFrom) qb.andWhere('t.start_date >= :startFrom', { startFrom: q.startFrom });
    if (q.startTo) qb.andWhere('t.start_date <= :startTo', { startTo: q.startTo });
    if (q.organizerId) qb.andWhere('t.organizer_id = :organizerId', { organizerId: q.organizerId });
    if (q.hasSeats === 'true') qb.andWhere('t.seats_booked < t.capacity');
    if (q.hasSeats === 'false') qb.andWhere('t.seats_booked >= t.capacity');

    const sort = q.sort ?? (q.q ? 'relevance' : 'startDate');
    if (sort === 'relevance' && q.q) {
      qb.addSelect(
        `ts_rank(t.search_vector, websearch_to_tsquery('english', :q)) + ts_rank(t.search_vector, websearch_to_tsquery('simple', :q))`,
        'rank',
      ).orderBy('rank', 'DESC');
    } else {
      const [col, dir] = SORTS[sort] ?? SORTS.startDate;
      qb.orderBy(col, dir);
    }
    qb.addOrderBy('t.id', 'ASC').offset(offsetOf(q)).limit(q.limit);
    const [trips, total] = await qb.getManyAndCount();
    return Page.of(
      trips.map((t) => toTripView(t)),
      total,
      q,
    );
  }

  /** An organizer's own trips, every status, with occupancy. */
  async listForOrganizer(
    actor: Actor,
    q: OrganizerTripsQuery,
  ): Promise<Page<TripView & { occupancyPercent: number }>> {
    const qb = this.dataSource
      .getRepository(Trip)
      .createQueryBuilder('t')
      .where('t.organizer_id = :id', { id: actor.id });
    if (q.status) qb.andWhere('t.status = :status', { status: q.status });
    qb.orderBy('t.start_date', 'DESC').addOrderBy('t.id', 'ASC').offset(offsetOf(q)).limit(q.limit);
    const [trips, total] = await qb.getManyAndCount();
    return Page.of(
      trips.map((t) => ({
        ...toTripView(t),
        occupancyPercent: Math.round((t.seatsBooked / t.capacity) * 100),
      })),
      total,
      q,
    );
  }

  /** Confirmed and held participants, for the organizer's permits and roll call. */
  async participants(actor: Actor, tripId: string) {
    await this.findOwned(actor, tripId);
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT b.id AS "bookingId", b.status, b.payment_status AS "paymentStatus", b.seats,
              u.name AS "travelerName", u.email AS "travelerEmail", u.phone AS "travelerPhone",
              p.name, p.phone, p.age, p.dietary_restrictions AS "dietaryRestrictions"
         FROM bookings b JOIN users u ON u.id = b.traveler_id JOIN booking_participants p ON p.booking_id = b.id
        WHERE b.trip_id = $1 AND b.status IN ('pending', 'confirmed', 'completed')
        ORDER BY b.created_at, b.id, p.name`,
      [tripId],
    );
    return rows;
  }

  /** Owner or admin; anyone else gets the same 404 as for a trip that does not exist. */
  async findOwned(actor: Actor, id: string): Promise<Trip> {
    const trip = await this.dataSource.getRepository(Trip).findOne({ where: { id } });
    if (!trip || (actor.role !== 'admin' && trip.organizerId !== actor.id))
      throw DomainError.notFound('Trip');
    return trip;
  }

  private async lockOwned(m: EntityManager, actor: Actor, id: string): Promise<Trip> {
    const trip = await m.findOne(Trip, { where: { id }, lock: { mode: 'for_no_key_update' } });
    if (!trip || (actor.role !== 'admin' && trip.organizerId !== actor.id))
      throw DomainError.notFound('Trip');
    return trip;
  }

  private async organizerProfile(id: string): Promise<OrganizerProfile | undefined> {
    const u = await this.dataSource.getRepository(User).findOne({ where: { id } });
    return u
      ? { id: u.id, name: u.name, bio: u.bio, location: u.location, memberSince: u.createdAt }
      : undefined;
  }

  private assertDates(startDate: string, endDate: string, timezone: string): void {
    if (!isValidTimeZone(timezone)) {
      throw new DomainError('VALIDATION_ERROR', 'Unknown timezone', [
        { field: 'timezone', message: 'must be an IANA timezone like Asia/Kolkata' },
      ]);
    }
    if (endDate < startDate) {
      throw new DomainError('VALIDATION_ERROR', 'The trip ends before it starts', [
        { field: 'endDate', message: 'endDate must be on or after startDate' },
      ]);
    }
    if (startDate < localDate(this.clock.now(), timezone)) {
      throw new DomainError('VALIDATION_ERROR', 'The trip starts in the past', [
        { field: 'startDate', message: 'startDate must be today or later' },
      ]);
    }
  }
}
