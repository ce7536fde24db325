import { Injectable } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import {
  AuditService,
  Clock,
  DomainError,
  isUniqueViolation,
  offsetOf,
  Page,
  PageQuery,
  ResponseCache,
} from '@trektribe/common';
import { DataSource } from 'typeorm';
import { Booking } from '../bookings/booking.entity';
import { Trip } from '../trips/trip.entity';
import { Review } from './review.entity';

export function toReviewView(r: Review & { travelerName?: string }) {
  return {
    id: r.id,
    tripId: r.tripId,
    bookingId: r.bookingId,
    rating: r.rating,
    comment: r.comment,
    travelerName: r.travelerName ?? null,
    organizerReply: r.organizerReply,
    repliedAt: r.repliedAt,
    createdAt: r.createdAt,
  };
}

@Injectable()
export class ReviewsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly cache: ResponseCache,
  ) {}

  async list(tripId: string, q: PageQuery) {
    const trip = await this.dataSource.getRepository(Trip).findOne({ where: { id: tripId } });
    if (!trip || trip.status === 'inactive') throw DomainError.notFound('Trip');
    const [rows, [{ total }]] = await Promise.all([
      this.dataSource.query(
        `SELECT r.*, u.name AS traveler_name FROM reviews r JOIN users u ON u.id = r.traveler_id
          WHERE r.trip_id = $1 ORDER BY r.created_at DESC, r.id ASC LIMIT $2 OFFSET $3`,
        [tripId, q.limit, offsetOf(q)],
      ) as Promise<Record<string, unknown>[]>,
      this.dataSource.query(`SELECT count(*)::int AS total FROM reviews WHERE trip_id = $1`, [
        tripId,
      ]) as Promise<{ total: number }[]>,
    ]);
    const items = rows.map((r) => ({
      id: r.id as string,
      tripId: r.trip_id as string,
      bookingId: r.booking_id as string,
      rating: r.rating as number,
      comment: r.comment as string,
      travelerName: r.traveler_name as string,
      organizerReply: r.organizer_reply as string | null,
      repliedAt: r.replied_at as Date | null,
      createdAt: r.created_at as Date,
    }));
    return Page.of(items, total, q);
  }

  /**
   * Only a traveler whose booking on the trip is completed, once per booking. The trip row is locked
   * while the rating is recomputed, so concurrent reviews never leave a stale average.
   */
  async create(actor: Actor, tripId: string, dto: { bookingId?: string; rating: number; comment: string }) {
    try {
      return await this.dataSource.transaction(async (m) => {
        const trip = await m.findOne(Trip, { where: { id: tripId }, lock: { mode: 'for_no_key_update' } });
        if (!trip) throw DomainError.notFound('Trip');
        const where = {
          tripId,
          travelerId: actor.id,
          status: 'completed' as const,
          ...(dto.bookingId ? { id: dto.bookingId } : {}),
        };
        const bookings = await m.find(Booking, { where, order: { createdAt: 'ASC' } });
        if (!bookings.length)
          throw new DomainError('REVIEW_NOT_ALLOWED', 'Only travelers who completed this trip can review it');
        const reviewed = new Set(
          (
            (await m.query(`SELECT booking_id FROM reviews WHERE booking_id = ANY($1::uuid[])`, [
              bookings.map((b) => b.id),
            ])) as { booking_id: string }[]
          ).map((r) => r.booking_id),
        );
        const booking = bookings.find((b) => !reviewed.has(b.id));
        if (!booking) throw new DomainError('ALREADY_REVIEWED', 'You already reviewed this booking');
        const review = m.create(Review, {
          tripId,
          bookingId: booking.id,
          travelerId: actor.id,
          rating: dto.rating,
          comment: dto.comment,
        });
        await m.save(review);
        await m.query(
          `UPDATE trips SET (rating_avg, review_count) = (SELECT round(avg(rating)::numeric, 2), count(*) FROM reviews WHERE trip_id = $1) WHERE id = $1`,
          [tripId],
        );
        this.cache.invalidateAfterCommit(m, 'trips'); // search shows the rating
        await this.audit.record(m, {
          actor,
          action: 'review.created',
          entityType: 'review',
          entityId: review.id,
          after: toReviewView(review),
        });
        return toReviewView({ ...review, travelerName: actor.name });
      });
    } catch (err) {
      if (isUniqueViolation(err, 'uq_reviews_booking'))
        throw new DomainError('ALREADY_REVIEWED', 'You already reviewed this booking');
      throw err;
    }
  }

  /** The trip's organizer (or an admin) answers a review, once; a second reply replaces the first. */
  async reply(actor: Actor, tripId: string, reviewId: string, text: string) {
    return this.dataSource.transaction(async (m) => {
      const review = await m.findOne(Review, {
        where: { id: reviewId, tripId },
        lock: { mode: 'pessimistic_write' },
      });
      const trip = review && (await m.findOne(Trip, { where: { id: tripId } }));
      if (!review || !trip || (actor.role !== 'admin' && trip.organizerId !== actor.id))
        throw DomainError.notFound('Review');
      const before = toReviewView(review);
      review.organizerReply = text;
      review.repliedAt = this.clock.now();
      await m.save(review);
      await this.audit.record(m, {
        actor,
        action: 'review.replied',
        entityType: 'review',
        entityId: review.id,
        before,
        after: toReviewView(review),
      });
      return toReviewView(review);
    });
  }
}
