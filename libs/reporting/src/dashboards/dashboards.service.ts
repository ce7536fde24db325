import { Injectable } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { Clock, DomainError } from '@trektribe/common';
import { DataSource } from 'typeorm';
import { OrganizerFigures } from '../figures/organizer-figures';
import { PlatformFigures } from '../figures/platform-figures';
import { SupportFigures } from '../figures/support-figures';
import { TravelerFigures } from '../figures/traveler-figures';
import { MoneyMonth, SummaryFigures } from '../summaries/summary-figures';
import { PLATFORM_SCOPE } from '../summaries/summary.entities';
import { PersonDashboardQuery } from './dashboard.dto';

/** Revenue, refunds and what is left of it, for one IST month. */
const revenueMonth = (m: MoneyMonth) => ({
  month: m.month,
  bookings: m.bookings,
  revenue: m.gross,
  refunds: m.refunds,
  net: m.gross - m.refunds,
});

/**
 * The four dashboards of API.md. Each is a few statements run in parallel, every figure computed
 * in SQL (summary tables for the platform-wide and per-organizer counts and money, indexed live
 * reads for the rest). `asOf` is the instant the figures are about (the injected clock).
 */
@Injectable()
export class DashboardsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly summaries: SummaryFigures,
    private readonly organizers: OrganizerFigures,
    private readonly travelers: TravelerFigures,
    private readonly support: SupportFigures,
    private readonly platform: PlatformFigures,
  ) {}

  async traveler(actor: Actor, q: PersonDashboardQuery) {
    const travelerId = await this.whose(actor, q, 'traveler');
    const now = this.clock.now();
    const figures = await this.travelers.of(travelerId, now);
    return { travelerId, asOf: now, currency: 'INR', ...figures };
  }

  async organizer(actor: Actor, q: PersonDashboardQuery) {
    const organizerId = await this.whose(actor, q, 'organizer');
    const now = this.clock.now();
    const [snapshot, bookingsByStatus, money] = await Promise.all([
      this.organizers.snapshot(organizerId, now),
      this.summaries.bookingCounts(organizerId),
      this.summaries.moneyByMonth(organizerId, ['booking'], now),
    ]);
    return {
      organizerId,
      asOf: now,
      currency: 'INR',
      tripsByStatus: snapshot.tripsByStatus,
      upcoming: snapshot.upcoming,
      bookingsByStatus,
      bookingsByMonth: money.booking.map(revenueMonth),
      pendingVerifications: snapshot.pendingVerifications,
      rating: snapshot.rating,
      reviewCount: snapshot.reviewCount,
      subscription: snapshot.subscription,
    };
  }

  async agent(actor: Actor) {
    const now = this.clock.now();
    return { agentId: actor.id, asOf: now, ...(await this.support.forAgent(actor.id, now)) };
  }

  async admin() {
    const now = this.clock.now();
    const [live, usersByRole, bookingsByStatus, money] = await Promise.all([
      this.platform.live(now),
      this.summaries.activeUsersByRole(),
      this.summaries.bookingCounts(PLATFORM_SCOPE),
      this.summaries.moneyByMonth(PLATFORM_SCOPE, ['booking', 'subscription'], now),
    ]);
    return {
      asOf: now,
      currency: 'INR',
      usersByRole,
      newUsersByWeek: live.newUsersByWeek,
      tripsByStatus: live.tripsByStatus,
      bookingsByStatus,
      gmvByMonth: money.booking.map((m) => ({
        month: m.month,
        bookings: m.bookings,
        gmv: m.gross,
        refunds: m.refunds,
        net: m.gross - m.refunds,
      })),
      subscriptions: {
        byStatus: live.subscriptionsByStatus,
        revenueByMonth: money.subscription.map((m) => ({
          month: m.month,
          payments: m.payments,
          revenue: m.gross,
          refunds: m.refunds,
          net: m.gross - m.refunds,
        })),
      },
      failedRefunds: live.failedRefunds,
      stuckPayments: live.stuckPayments,
      failingWebhooks: live.failingWebhooks,
    };
  }

  /**
   * Whose dashboard: the caller's own, or, for an admin, the `userId` they name, which must be a
   * user of that role (anyone else: 404). Only admins name someone.
   */
  private async whose(
    actor: Actor,
    q: PersonDashboardQuery,
    role: 'traveler' | 'organizer',
  ): Promise<string> {
    if (q.userId === undefined) {
      if (actor.role === role) return actor.id;
      throw new DomainError('VALIDATION_ERROR', `Name the ${role} whose dashboard to read`, [
        { field: 'userId', message: `userId is required: the ${role} whose dashboard to read` },
      ]);
    }
    if (actor.role !== 'admin') {
      if (q.userId === actor.id) return actor.id;
      throw new DomainError('FORBIDDEN', "Only admins read another user's dashboard");
    }
    const [user] = (await this.dataSource.query(`SELECT role FROM users WHERE id = $1`, [q.userId])) as {
      role: string;
    }[];
    if (user?.role !== role) throw DomainError.notFound(role === 'traveler' ? 'Traveler' : 'Organizer');
    return q.userId;
  }
}
