import { Injectable } from '@nestjs/common';
import type { Actor } from '@trektribe/auth';
import { Clock, DomainError } from '@trektribe/common';
import { DataSource } from 'typeorm';
import { readFigures } from '../figures/fragment';
import { ORGANIZER_SNAPSHOT } from '../figures/organizer-figures';
import { PLATFORM_LIVE } from '../figures/platform-figures';
import { AGENT_FIGURES } from '../figures/support-figures';
import { TRAVELER_FIGURES } from '../figures/traveler-figures';
import { ACTIVE_USERS_BY_ROLE, bookingCounts, MoneyMonth, moneyByMonth } from '../summaries/summary-figures';
import { PLATFORM_SCOPE } from '../summaries/summary.entities';
import { PersonDashboardQuery } from './dashboard.dto';

const TRAVELER = { figures: TRAVELER_FIGURES };
const AGENT = { figures: AGENT_FIGURES };
const ORGANIZER = {
  snapshot: ORGANIZER_SNAPSHOT,
  bookingsByStatus: bookingCounts(false),
  money: moneyByMonth(false, ['booking']),
};
const ADMIN = {
  live: PLATFORM_LIVE,
  usersByRole: ACTIVE_USERS_BY_ROLE,
  bookingsByStatus: bookingCounts(true),
  money: moneyByMonth(true, ['booking', 'subscription']),
};

/** Revenue, refunds and what is left of it, for one IST month. */
const net = (m: MoneyMonth) => m.gross - m.refunds;

/**
 * The four dashboards of API.md. Every figure is computed in SQL (summary tables for the counts
 * and money of the organizers and the platform, indexed live reads for the rest), and a
 * dashboard's figures are read in one statement. `asOf` is the instant they are about: the
 * injected clock's now, which is also the "now" of every time rule in them.
 */
@Injectable()
export class DashboardsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async traveler(actor: Actor, q: PersonDashboardQuery) {
    const travelerId = await this.whose(actor, q, 'traveler');
    const now = this.clock.now();
    const { figures } = await readFigures(this.dataSource, travelerId, now, TRAVELER);
    return { travelerId, asOf: now, currency: 'INR', ...figures };
  }

  async organizer(actor: Actor, q: PersonDashboardQuery) {
    const organizerId = await this.whose(actor, q, 'organizer');
    const now = this.clock.now();
    const { snapshot, bookingsByStatus, money } = await readFigures(
      this.dataSource,
      organizerId,
      now,
      ORGANIZER,
    );
    return {
      organizerId,
      asOf: now,
      currency: 'INR',
      tripsByStatus: snapshot.tripsByStatus,
      upcoming: snapshot.upcoming,
      bookingsByStatus,
      bookingsByMonth: money.booking.map((m) => ({
        month: m.month,
        bookings: m.bookings,
        revenue: m.gross,
        refunds: m.refunds,
        net: net(m),
      })),
      pendingVerifications: snapshot.pendingVerifications,
      rating: snapshot.rating,
      reviewCount: snapshot.reviewCount,
      subscription: snapshot.subscription,
    };
  }

  async agent(actor: Actor) {
    const now = this.clock.now();
    const { figures } = await readFigures(this.dataSource, actor.id, now, AGENT);
    return { agentId: actor.id, asOf: now, ...figures };
  }

  async admin() {
    const now = this.clock.now();
    const { live, usersByRole, bookingsByStatus, money } = await readFigures(
      this.dataSource,
      PLATFORM_SCOPE,
      now,
      ADMIN,
    );
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
        net: net(m),
      })),
      subscriptions: {
        byStatus: live.subscriptionsByStatus,
        revenueByMonth: money.subscription.map((m) => ({
          month: m.month,
          payments: m.payments,
          revenue: m.gross,
          refunds: m.refunds,
          net: net(m),
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
