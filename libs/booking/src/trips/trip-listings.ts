import { Injectable } from '@nestjs/common';
import { AuditService, ResponseCache, returnedRows } from '@trektribe/common';
import { EntityManager } from 'typeorm';

/**
 * What billing may do to an organizer's listings (API.md, Auto-pay): hide every active trip while
 * the subscription is suspended, and list again exactly those trips when it is paid. The trips a
 * suspension hid are marked in `trips.suspended_by_subscription_id`, so restoring reads a column,
 * not the audit log. Booking is the only writer of `trips`; billing calls these in its transaction.
 */
@Injectable()
export class TripListings {
  constructor(
    private readonly audit: AuditService,
    private readonly cache: ResponseCache,
  ) {}

  /** Hides the organizer's active trips (existing bookings stay valid); returns their ids. */
  suspendForOrganizer(m: EntityManager, organizerId: string, subscriptionId: string): Promise<string[]> {
    return this.relist(
      m,
      `UPDATE trips SET status = 'inactive', suspended_by_subscription_id = $2, updated_at = now()
        WHERE organizer_id = $1 AND status = 'active' RETURNING id`,
      [organizerId, subscriptionId],
      {
        action: 'trip.deactivated',
        from: 'active',
        to: 'inactive',
        reason: 'subscription_suspended',
        subscriptionId,
      },
    );
  }

  /** Lists again the trips this subscription's suspension hid and nobody has changed since; returns their ids. */
  restoreForSubscription(m: EntityManager, organizerId: string, subscriptionId: string): Promise<string[]> {
    return this.relist(
      m,
      `UPDATE trips SET status = 'active', suspended_by_subscription_id = NULL, updated_at = now()
        WHERE organizer_id = $1 AND suspended_by_subscription_id = $2 AND status = 'inactive' RETURNING id`,
      [organizerId, subscriptionId],
      {
        action: 'trip.reactivated',
        from: 'inactive',
        to: 'active',
        reason: 'subscription_reactivated',
        subscriptionId,
      },
    );
  }

  /** Completes the trips whose end date has passed in their own timezone (the 00:30 IST job); returns their ids. */
  async completeEnded(m: EntityManager, now: Date): Promise<string[]> {
    const ids = returnedRows<{ id: string }>(
      await m.query(
        `UPDATE trips SET status = 'completed', updated_at = now()
          WHERE status IN ('active', 'inactive') AND end_date < (($1::timestamptz) AT TIME ZONE timezone)::date
          RETURNING id`,
        [now],
      ),
    ).map((r) => r.id);
    if (ids.length) this.cache.invalidateAfterCommit(m, 'trips');
    return ids;
  }

  /** One status change over a set of trips, each audited. */
  private async relist(
    m: EntityManager,
    sql: string,
    params: unknown[],
    change: { action: string; from: string; to: string; reason: string; subscriptionId: string },
  ): Promise<string[]> {
    const ids = returnedRows<{ id: string }>(await m.query(sql, params)).map((r) => r.id);
    if (ids.length) this.cache.invalidateAfterCommit(m, 'trips');
    await this.audit.recordMany(
      m,
      ids.map((id) => ({
        actor: null,
        action: change.action,
        entityType: 'trip',
        entityId: id,
        before: { status: change.from },
        after: { status: change.to, reason: change.reason, subscriptionId: change.subscriptionId },
      })),
    );
    return ids;
  }
}
