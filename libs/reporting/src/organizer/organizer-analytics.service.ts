import { Injectable } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { Clock } from '@trektribe/common';
import { DataSource } from 'typeorm';
import { readFigures } from '../figures/fragment';
import { ORGANIZER_EARNINGS, ORGANIZER_SNAPSHOT } from '../figures/organizer-figures';
import { bookingCounts, moneyByMonth } from '../summaries/summary-figures';

const STATS = { snapshot: ORGANIZER_SNAPSHOT, bookings: bookingCounts(false), earnings: ORGANIZER_EARNINGS };
const EARNINGS = { earnings: ORGANIZER_EARNINGS, money: moneyByMonth(false, ['booking']) };

/**
 * GET /organizer/stats and GET /organizer/earnings: the organizer dashboard's figures, from the same
 * fragments (ORGANIZER_SNAPSHOT, bookingCounts, moneyByMonth), with the earnings per trip and per
 * IST month.
 */
@Injectable()
export class OrganizerAnalyticsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async stats(actor: Actor) {
    const { snapshot, bookings, earnings } = await readFigures(
      this.dataSource,
      actor.id,
      this.clock.now(),
      STATS,
    );
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
    const { earnings, money } = await readFigures(this.dataSource, actor.id, this.clock.now(), EARNINGS);
    return {
      currency: 'INR',
      trips: earnings.trips,
      total: earnings.total,
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
