import { Injectable } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { Clock } from '@trektribe/common';
import { OrganizerFigures } from '../figures/organizer-figures';
import { SummaryFigures } from '../summaries/summary-figures';

/**
 * GET /organizer/stats and GET /organizer/earnings: the organizer dashboard's figures, from the same
 * functions (OrganizerFigures, SummaryFigures), with the earnings per trip and per IST month.
 */
@Injectable()
export class OrganizerAnalyticsService {
  constructor(
    private readonly clock: Clock,
    private readonly organizers: OrganizerFigures,
    private readonly summaries: SummaryFigures,
  ) {}

  async stats(actor: Actor) {
    const now = this.clock.now();
    const [snapshot, bookings, earnings] = await Promise.all([
      this.organizers.snapshot(actor.id, now),
      this.summaries.bookingCounts(actor.id),
      this.organizers.earningsByTrip(actor.id),
    ]);
    const { trips } = snapshot;
    return {
      trips,
      tripsByStatus: snapshot.tripsByStatus,
      bookings,
      occupancyPercent: trips.capacity ? Math.round((trips.seatsBooked / trips.capacity) * 100) : 0,
      earnings: { currency: 'INR', ...earnings.total },
      pendingVerifications: snapshot.pendingVerifications,
      rating: snapshot.rating,
      reviewCount: snapshot.reviewCount,
    };
  }

  async earnings(actor: Actor) {
    const now = this.clock.now();
    const [byTrip, money] = await Promise.all([
      this.organizers.earningsByTrip(actor.id),
      this.summaries.moneyByMonth(actor.id, ['booking'], now),
    ]);
    return {
      currency: 'INR',
      trips: byTrip.trips,
      total: byTrip.total,
      byMonth: money.booking.map((m) => ({
        month: m.month,
        bookings: m.bookings,
        payments: m.payments,
        gross: m.gross,
        refunded: m.refunds,
        net: m.gross - m.refunds,
      })),
    };
  }
}
