import { Inject, Injectable } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import {
  APP_CONFIG,
  AppConfig,
  AuditService,
  Clock,
  DomainError,
  offsetOf,
  Page,
  UnitOfWork,
} from '@trektribe/common';
import { DataSource, EntityManager } from 'typeorm';
import { BookingEvents } from '../booking-events';
import { Trip } from '../trips/trip.entity';
import { startOfLocalDate } from '../trips/trip-time';
import { SeatInventory, TripPriceChanged } from '../trips/seat-inventory';
import { WaitlistService } from '../waitlist/waitlist.service';
import { BookingParticipant } from './booking-participant.entity';
import { Booking } from './booking.entity';
import { CancelBookingDto, CreateBookingDto, ListBookingsQuery } from './booking.dto';
import { CancelledBy, refundDue } from './cancellation-policy';
import { BookingHolds } from './booking-holds';
import { BookingView, toBookingView } from './booking-view';
import { bookingStatusesMovingTo, canMoveBooking } from './booking-state';

/** No hoarding: how many unpaid holds one traveler may keep on one trip at a time. */
export const MAX_PENDING_HOLDS_PER_TRIP = 2;

/** What happened when a payment arrived for a booking (see confirmPaid). */
export type ConfirmOutcome = 'confirmed' | 'already_confirmed' | 'seats_gone' | 'booking_cancelled';

@Injectable()
export class BookingsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly events: BookingEvents,
    private readonly waitlist: WaitlistService,
    private readonly seats: SeatInventory,
    private readonly uow: UnitOfWork,
    private readonly holds: BookingHolds,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * A pending booking that holds its seats until `holdExpiresAt` (see hold). The seat count moves
   * only through the conditional UPDATE (which also row-locks the trip until commit), and the CHECK
   * on trips backs it: two travelers can never get the last seat.
   */
  async create(actor: Actor, dto: CreateBookingDto): Promise<BookingView> {
    if (dto.participants.length !== dto.seats) {
      throw new DomainError('VALIDATION_ERROR', 'One participant per seat', [
        {
          field: 'participants',
          message: `expected ${dto.seats} participants, got ${dto.participants.length}`,
        },
      ]);
    }
    const now = this.clock.now();
    // A price change between the unlocked read and the seat update is rare: start over with the new price.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.uow.run((tx) => this.hold(tx.manager, actor, dto, now));
      } catch (err) {
        if (!(err instanceof TripPriceChanged) || attempt >= 3)
          throw err instanceof TripPriceChanged
            ? new DomainError('CONFLICT', 'The trip changed while booking; try again')
            : err;
      }
    }
  }

  /**
   * A new pending booking holding its seats. Everything the booking writes (its row, participants,
   * audit, events) goes first; the seats are taken last by one conditional UPDATE, so the hot trip's
   * row lock, which every booking on that trip queues on, is held for that statement and the commit.
   * A failed take rolls the rest back.
   */
  private async hold(m: EntityManager, actor: Actor, dto: CreateBookingDto, now: Date): Promise<BookingView> {
    // One traveler's bookings on one trip are made one at a time, so the cap on unpaid holds is
    // exact without counting under the trip's row lock.
    await m.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
      `booking-hold:${actor.id}:${dto.tripId}`,
    ]);
    const [{ holds }] = (await m.query(
      `SELECT count(*)::int AS holds FROM bookings WHERE trip_id = $1 AND traveler_id = $2 AND status = 'pending'`,
      [dto.tripId, actor.id],
    )) as { holds: number }[];
    if (holds >= MAX_PENDING_HOLDS_PER_TRIP) {
      throw new DomainError(
        'HOLD_LIMIT_REACHED',
        `You already hold ${holds} unpaid bookings on this trip; pay or cancel one first`,
      );
    }
    const trip = await this.seats.bookable(m, dto.tripId, dto.seats, now);
    const holdMs =
      dto.paymentMethod === 'online'
        ? this.config.holds.onlineMinutes * 60_000
        : this.config.holds.screenshotHours * 3_600_000;
    const booking = await this.holds.write(m, {
      trip,
      travelerId: actor.id,
      seats: dto.seats,
      participants: dto.participants,
      paymentMethod: dto.paymentMethod,
      holdExpiresAt: new Date(now.getTime() + holdMs),
      specialRequests: dto.specialRequests,
      actor,
    });
    const taken = await this.seats.take(m, trip.id, dto.seats, now, trip);
    await this.events.tripSeats(m, trip.id, taken.seatsAvailable);
    return toBookingView(booking, taken);
  }

  async list(actor: Actor, q: ListBookingsQuery): Promise<Page<BookingView>> {
    const qb = this.dataSource
      .getRepository(Booking)
      .createQueryBuilder('b')
      .leftJoinAndSelect('b.trip', 't');
    this.scopeTo(qb, actor);
    if (q.status) qb.andWhere('b.status = :status', { status: q.status });
    if (q.paymentStatus) qb.andWhere('b.payment_status = :ps', { ps: q.paymentStatus });
    if (q.tripId) qb.andWhere('b.trip_id = :tripId', { tripId: q.tripId });
    qb.orderBy('b.created_at', 'DESC').addOrderBy('b.id', 'ASC').skip(offsetOf(q)).take(q.limit);
    const [rows, total] = await qb.getManyAndCount();
    return Page.of(
      rows.map((b) => toBookingView(b, b.trip)),
      total,
      q,
    );
  }

  async get(actor: Actor, id: string): Promise<BookingView> {
    const b = await this.findVisible(this.dataSource.manager, actor, id);
    b.participants = await this.dataSource
      .getRepository(BookingParticipant)
      .find({ where: { bookingId: id }, order: { name: 'ASC' } });
    const trip = await this.dataSource.getRepository(Trip).findOne({ where: { id: b.tripId } });
    return toBookingView(b, trip ?? undefined);
  }

  /**
   * A booking the actor may see: a traveler's own, an organizer's on own trips, any for agents and
   * admins. Anything else is "not found", never "forbidden", so ids leak nothing.
   */
  async findVisible(m: EntityManager, actor: Actor, id: string, lock = false): Promise<Booking> {
    const qb = m.getRepository(Booking).createQueryBuilder('b').where('b.id = :id', { id });
    this.scopeTo(qb, actor);
    if (lock) qb.setLock('pessimistic_write');
    const b = await qb.getOne();
    if (!b) throw DomainError.notFound('Booking');
    return b;
  }

  private scopeTo(qb: { andWhere(sql: string, p?: object): unknown }, actor: Actor): void {
    if (actor.role === 'traveler') qb.andWhere('b.traveler_id = :actorId', { actorId: actor.id });
    else if (actor.role === 'organizer') qb.andWhere('b.organizer_id = :actorId', { actorId: actor.id });
  }

  async cancel(actor: Actor, id: string, dto: CancelBookingDto): Promise<BookingView> {
    if (actor.role === 'agent')
      throw new DomainError('FORBIDDEN', 'Agents cannot cancel bookings; escalate to an admin');
    const by: CancelledBy =
      actor.role === 'traveler' ? 'traveler' : actor.role === 'organizer' ? 'organizer' : 'admin';
    return this.uow.run(async ({ manager: m }) => {
      // Lock order: the trip row, then the booking, as a trip cancellation does (TripsService.cancel).
      // Booking first, then the trip (for the seat release) deadlocked against it on PostgreSQL: 500s.
      const { tripId } = await this.findVisible(m, actor, id);
      const trip = await m.findOneOrFail(Trip, {
        where: { id: tripId },
        lock: { mode: 'for_no_key_update' },
      });
      const booking = await this.findVisible(m, actor, id, true);
      const view = await this.cancelLocked(m, actor, booking, trip, by, dto.reason ?? null);
      await this.waitlist.offerFreedSeats(m, trip.id);
      await this.events.tripSeats(m, trip.id);
      return view;
    });
  }

  /** Used when a whole trip is cancelled: every live booking, full refund, travelers told. */
  async cancelAllForTrip(m: EntityManager, actor: Actor, trip: Trip, reason: string): Promise<number> {
    const live = await m
      .getRepository(Booking)
      .createQueryBuilder('b')
      .where('b.trip_id = :id AND b.status IN (:...s)', {
        id: trip.id,
        s: bookingStatusesMovingTo('cancelled'),
      })
      .orderBy('b.id')
      .setLock('pessimistic_write')
      .getMany();
    for (const b of live) await this.cancelLocked(m, actor, b, trip, 'trip_cancelled', reason);
    return live.length;
  }

  private async cancelLocked(
    m: EntityManager,
    actor: Actor,
    b: Booking,
    trip: Trip,
    by: CancelledBy,
    reason: string | null,
  ): Promise<BookingView> {
    if (!canMoveBooking(b.status, 'cancelled')) {
      throw new DomainError('BOOKING_NOT_CANCELLABLE', `A ${b.status} booking cannot be cancelled`);
    }
    const now = this.clock.now();
    const paid = b.paymentStatus === 'paid' ? b.totalAmount : 0;
    const refund = refundDue({
      policy: b.cancellationPolicy,
      paidAmount: paid,
      tripStartsAt: startOfLocalDate(trip.startDate, trip.timezone),
      now,
      by,
    });
    const before = toBookingView(b);
    const releaseNow = b.seatsReleasedAt === null;
    b.status = 'cancelled';
    b.cancelledAt = now;
    b.cancelledBy = actor.id;
    b.cancelledByRole = by === 'trip_cancelled' ? actor.role : by;
    b.cancelReason = reason;
    b.refundAmount = refund;
    b.holdExpiresAt = null;
    if (releaseNow) b.seatsReleasedAt = now;
    if (refund > 0) b.paymentStatus = 'refund_pending';
    await m.save(b);
    if (releaseNow) await this.seats.release(m, b.tripId, b.seats);
    if (b.waitlistEntryId) await this.waitlist.markOfferClosed(m, b.waitlistEntryId, 'cancelled');
    if (refund > 0) {
      await this.uow.of(m).emit({
        type: 'booking.cancelled',
        bookingId: b.id,
        refundDue: {
          amount: refund,
          reason: reason ?? `cancelled by ${by}`,
          idempotencyKey: `cancel_${b.id}`,
        },
        actor,
      });
    }
    await this.audit.record(m, {
      actor,
      action: 'booking.cancelled',
      entityType: 'booking',
      entityId: b.id,
      before,
      after: { ...toBookingView(b), cancelledBy: by },
    });
    await this.events.bookingChanged(m, 'booking.updated', b);
    await this.events.cancelled(m, b, trip, reason, refund);
    return toBookingView(b, trip);
  }

  /**
   * A payment arrived for this booking (checkout verify, webhook, late settlement or an approved
   * screenshot). Pending: confirm. Expired: take the seats again if they are still free, else
   * report `seats_gone` so billing refunds in full. Cancelled: `booking_cancelled` (refund).
   * Confirmed already: nothing changes, so verify and webhook racing confirm once.
   */
  async confirmPaid(m: EntityManager, bookingId: string, actor: Actor | null): Promise<ConfirmOutcome> {
    // Trip row first, then the booking: the order cancel, expiry and trip cancel use (else a late
    // capture racing a cancellation deadlocks on PostgreSQL).
    const [ref] = (await m.query(`SELECT trip_id FROM bookings WHERE id = $1`, [bookingId])) as {
      trip_id: string;
    }[];
    if (!ref) throw DomainError.notFound('Booking');
    await this.seats.lockTrip(m, ref.trip_id);
    const b = await m.findOne(Booking, { where: { id: bookingId }, lock: { mode: 'pessimistic_write' } });
    if (!b) throw DomainError.notFound('Booking');
    if (b.paymentStatus === 'paid' || b.status === 'confirmed' || b.status === 'completed')
      return 'already_confirmed';
    if (b.status === 'cancelled') return 'booking_cancelled';
    // Left: pending, or expired (BOOKING_MOVES); the check keeps the table and this method in step.
    if (!canMoveBooking(b.status, 'confirmed'))
      throw new DomainError('BOOKING_NOT_PAYABLE', `A ${b.status} booking takes no payment`);
    const now = this.clock.now();
    if (b.seatsReleasedAt !== null) {
      try {
        await this.seats.take(m, b.tripId, b.seats, now);
      } catch (err) {
        if (err instanceof DomainError) return 'seats_gone';
        throw err;
      }
      b.seatsReleasedAt = null;
    }
    const before = toBookingView(b);
    b.status = 'confirmed';
    b.paymentStatus = 'paid';
    b.holdExpiresAt = null;
    b.confirmedAt = now;
    await m.save(b);
    if (b.waitlistEntryId) await this.waitlist.markOfferClosed(m, b.waitlistEntryId, 'accepted');
    await this.audit.record(m, {
      actor,
      action: 'booking.confirmed',
      entityType: 'booking',
      entityId: b.id,
      before,
      after: toBookingView(b),
    });
    await this.events.bookingChanged(m, 'booking.updated', b);
    await this.events.tripSeats(m, b.tripId);
    await this.events.confirmed(m, b, await m.findOneOrFail(Trip, { where: { id: b.tripId } }));
    return 'confirmed';
  }

  /** A screenshot proof was uploaded: the hold pauses while the organizer verifies it. */
  async pauseHoldForVerification(m: EntityManager, bookingId: string, actor: Actor): Promise<Booking> {
    const b = await this.findVisible(m, actor, bookingId, true);
    if (b.status !== 'pending' || b.seatsReleasedAt !== null) {
      throw new DomainError('BOOKING_NOT_PAYABLE', `A ${b.status} booking takes no payment proof`);
    }
    if (b.paymentMethod !== 'screenshot')
      throw new DomainError('WRONG_PAYMENT_METHOD', 'This booking is paid online');
    const before = toBookingView(b);
    b.paymentStatus = 'awaiting_verification';
    b.holdExpiresAt = null;
    await m.save(b);
    await this.audit.record(m, {
      actor,
      action: 'booking.proof_submitted',
      entityType: 'booking',
      entityId: b.id,
      before,
      after: toBookingView(b),
    });
    await this.events.bookingChanged(m, 'booking.updated', b);
    return b;
  }

  /** The organizer rejected a proof: the hold resumes for `hours` so the traveler can try again. */
  async resumeHoldAfterRejection(
    m: EntityManager,
    bookingId: string,
    actor: Actor,
    hours = 24,
  ): Promise<Booking> {
    const b = await m.findOne(Booking, { where: { id: bookingId }, lock: { mode: 'pessimistic_write' } });
    if (!b) throw DomainError.notFound('Booking');
    if (b.status !== 'pending' || b.paymentStatus !== 'awaiting_verification') {
      throw new DomainError('NO_PENDING_PROOF', 'This booking has no proof awaiting verification');
    }
    const before = toBookingView(b);
    b.paymentStatus = 'unpaid';
    b.holdExpiresAt = new Date(this.clock.now().getTime() + hours * 3_600_000);
    await m.save(b);
    await this.audit.record(m, {
      actor,
      action: 'booking.proof_rejected',
      entityType: 'booking',
      entityId: b.id,
      before,
      after: toBookingView(b),
    });
    await this.events.bookingChanged(m, 'booking.updated', b);
    return b;
  }
}
