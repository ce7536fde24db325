import { Injectable } from '@nestjs/common';
import { User } from '@trektribe/auth';
import {
  CsvExport,
  CsvFile,
  csvQueryFrom,
  escapeLike,
  istDayEnd,
  istDayStart,
  offsetOf,
  Page,
} from '@trektribe/common';
import { DataSource, SelectQueryBuilder } from 'typeorm';
import { Booking } from '../bookings/booking.entity';
import { BookingView, toBookingView } from '../bookings/booking-view';
import { Trip } from '../trips/trip.entity';
import { toTripView, TripView } from '../trips/trips.service';
import { AdminBookingsQuery, AdminTripsQuery } from './admin-lists.dto';

export interface AdminPerson {
  id: string;
  name: string | null;
  email: string | null;
}

export type AdminTripView = Omit<TripView, 'organizer'> & {
  organizer: AdminPerson;
  cancelledAt: Date | null;
  cancelReason: string | null;
  /** Hidden while the organizer's subscription is suspended (it comes back when they pay). */
  suspendedBySubscription: boolean;
};

export type AdminBookingView = BookingView & { traveler: AdminPerson };

/** Newest first; the id breaks ties so a page never repeats or skips a row. */
const TRIP_ORDER = [
  ['createdAt', 'DESC'],
  ['id', 'DESC'],
] as const;
const BOOKING_ORDER = TRIP_ORDER;

/** The CSV columns (the JSON view's fields that fit a cell; no description or itinerary). */
const TRIP_CSV = {
  id: 't.id',
  title: 't.title',
  destination: 't.destination',
  status: 't.status',
  startDate: 't.start_date::text',
  endDate: 't.end_date::text',
  timezone: 't.timezone',
  price: 't.price',
  currency: 't.currency',
  capacity: 't.capacity',
  seatsBooked: 't.seats_booked',
  difficultyLevel: 't.difficulty_level',
  categories: 't.categories',
  rating: 't.rating_avg',
  reviewCount: 't.review_count',
  organizerId: 't.organizer_id',
  organizerName: 'o.name',
  organizerEmail: 'o.email',
  suspendedBySubscription: 't.suspended_by_subscription_id IS NOT NULL',
  cancelledAt: 't.cancelled_at',
  cancelReason: 't.cancel_reason',
  createdAt: 't.created_at',
};

const BOOKING_CSV = {
  id: 'b.id',
  createdAt: 'b.created_at',
  status: 'b.status',
  paymentStatus: 'b.payment_status',
  paymentMethod: 'b.payment_method',
  seats: 'b.seats',
  unitPrice: 'b.unit_price',
  totalAmount: 'b.total_amount',
  refundAmount: 'b.refund_amount',
  currency: 'b.currency',
  tripId: 'b.trip_id',
  tripTitle: 't.title',
  tripStartDate: 't.start_date::text',
  travelerId: 'b.traveler_id',
  travelerName: 'u.name',
  travelerEmail: 'u.email',
  organizerId: 'b.organizer_id',
  holdExpiresAt: 'b.hold_expires_at',
  confirmedAt: 'b.confirmed_at',
  completedAt: 'b.completed_at',
  cancelledAt: 'b.cancelled_at',
  cancelledByRole: 'b.cancelled_by_role',
  cancelReason: 'b.cancel_reason',
  specialRequests: 'b.special_requests',
};

/**
 * The admin's lists of trips and bookings (API.md, Admin): every status, filtered, newest first,
 * paged as JSON or every matching row as CSV. One query builder per list gives both their rows.
 */
@Injectable()
export class AdminListingsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly csv: CsvExport,
  ) {}

  async trips(q: AdminTripsQuery): Promise<Page<AdminTripView>> {
    // Counted without the organizer join: the filters are on trips alone.
    const total = await this.tripsQuery(q).getCount();
    const qb = this.withOrganizer(this.tripsQuery(q));
    qb.addSelect(['o.name AS organizer_name', 'o.email AS organizer_email'])
      .orderBy('t.created_at', 'DESC')
      .addOrderBy('t.id', 'DESC')
      .offset(offsetOf(q))
      .limit(q.limit);
    const { entities, raw } = await qb.getRawAndEntities<{
      t_id: string;
      organizer_name: string | null;
      organizer_email: string | null;
    }>();
    const people = new Map(raw.map((r) => [r.t_id, r]));
    const items = entities.map((t) => ({
      ...toTripView(t),
      organizer: {
        id: t.organizerId,
        name: people.get(t.id)?.organizer_name ?? null,
        email: people.get(t.id)?.organizer_email ?? null,
      },
      cancelledAt: t.cancelledAt,
      cancelReason: t.cancelReason,
      suspendedBySubscription: t.suspendedBySubscriptionId !== null,
    }));
    return Page.of(items, total, q);
  }

  tripsCsv(q: AdminTripsQuery): CsvFile {
    return this.csv.file(csvQueryFrom(this.withOrganizer(this.tripsQuery(q)), TRIP_CSV, TRIP_ORDER), 'trips');
  }

  async bookings(q: AdminBookingsQuery): Promise<Page<AdminBookingView>> {
    // Counted without the trip and traveler joins: the filters are on bookings alone.
    const total = await this.bookingsQuery(q).getCount();
    const qb = this.withTripAndTraveler(this.bookingsQuery(q));
    qb.addSelect(['t.id', 't.title', 't.destination', 't.startDate', 't.endDate'])
      .addSelect(['u.name AS traveler_name', 'u.email AS traveler_email'])
      .orderBy('b.created_at', 'DESC')
      .addOrderBy('b.id', 'DESC')
      .offset(offsetOf(q))
      .limit(q.limit);
    const { entities, raw } = await qb.getRawAndEntities<{
      b_id: string;
      traveler_name: string | null;
      traveler_email: string | null;
    }>();
    const people = new Map(raw.map((r) => [r.b_id, r]));
    const items = entities.map((b) => ({
      ...toBookingView(b, b.trip),
      traveler: {
        id: b.travelerId,
        name: people.get(b.id)?.traveler_name ?? null,
        email: people.get(b.id)?.traveler_email ?? null,
      },
    }));
    return Page.of(items, total, q);
  }

  bookingsCsv(q: AdminBookingsQuery): CsvFile {
    return this.csv.file(
      csvQueryFrom(this.withTripAndTraveler(this.bookingsQuery(q)), BOOKING_CSV, BOOKING_ORDER),
      'bookings',
    );
  }

  private tripsQuery(q: AdminTripsQuery) {
    const qb = this.dataSource.getRepository(Trip).createQueryBuilder('t');
    if (q.status) qb.andWhere('t.status = :status', { status: q.status });
    if (q.organizerId) qb.andWhere('t.organizer_id = :organizerId', { organizerId: q.organizerId });
    if (q.q)
      qb.andWhere('(t.title ILIKE :q OR t.destination ILIKE :q)', { q: `%${escapeLike(q.q.trim())}%` });
    if (q.startFrom) qb.andWhere('t.start_date >= :startFrom', { startFrom: q.startFrom });
    if (q.startTo) qb.andWhere('t.start_date <= :startTo', { startTo: q.startTo });
    return qb;
  }

  private bookingsQuery(q: AdminBookingsQuery) {
    const qb = this.dataSource.getRepository(Booking).createQueryBuilder('b');
    if (q.status) qb.andWhere('b.status = :status', { status: q.status });
    if (q.paymentStatus) qb.andWhere('b.payment_status = :ps', { ps: q.paymentStatus });
    if (q.tripId) qb.andWhere('b.trip_id = :tripId', { tripId: q.tripId });
    if (q.travelerId) qb.andWhere('b.traveler_id = :travelerId', { travelerId: q.travelerId });
    if (q.from) qb.andWhere('b.created_at >= :from', { from: istDayStart(q.from) });
    if (q.to) qb.andWhere('b.created_at < :to', { to: istDayEnd(q.to) });
    return qb;
  }

  private withOrganizer(qb: SelectQueryBuilder<Trip>) {
    return qb.leftJoin(User, 'o', 'o.id = t.organizer_id');
  }

  private withTripAndTraveler(qb: SelectQueryBuilder<Booking>) {
    return qb.leftJoin('b.trip', 't').leftJoin(User, 'u', 'u.id = b.traveler_id');
  }
}
