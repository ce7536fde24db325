import { Injectable } from '@nestjs/common';
import { AuditService, returnedRows } from '@trektribe/common';
import { EntityManager } from 'typeorm';

/**
 * What billing may do to an organizer's listings (API.md, Auto-pay): hide every active trip while
 * the subscription is suspended, and list again exactly those trips when it is paid. The trips a
 * suspension hid are marked in `trips.suspended_by_subscription_id`, so restoring reads a column,
 * not the audit log. Booking is the only writer of `trips`; billing calls these in its transaction.
 */
@Injectable()
export class TripListings {
  constructor(private readonly audit: AuditService) {}

  /** Hides the organizer's active trips (existing bookings stay valid); returns their ids. */
  async suspendForOrganizer(m: EntityManager, organizerId: string, subscriptionId: string): Promise<string[]> {
    const ids = returnedRows<{ id: string }>(
      await m.query(
        `UPDATE trips SET status = 'inactive', suspended_by_subscription_id = $2, updated_at = now()
          WHERE organizer_id = $1 AND status = 'active' RETURNING id`,
        [organizerId, subscriptionId],
      ),
    ).map((r) => r.id);
    for (const id of ids) {
      await this.audit.record(m, {
        actor: null,
        action: 'trip.deactivated',
        entityType: 'trip',
        entityId: id,
        before: { status: 'active' },
        after: { status: 'inactive', reason: 'subscription_suspended', subscriptionId },
      });
    }
    return ids;
  }

  /** Lists again the trips this subscription's suspension hid and nobody has changed since; returns their ids. */
  async restoreForSubscription(m: EntityManager, organizerId: string, subscriptionId: string): Promise<string[]> {
    const ids = returnedRows<{ id: string }>(
      await m.query(
        `UPDATE trips SET status = 'active', suspended_by_subscription_id = NULL, updated_at = now()
          WHERE organizer_id = $1 AND suspended_by_subscription_id = $2 AND status = 'inactive' RETURNING id`,
        [organizerId, subscriptionId],
      ),
    ).map((r) => r.id);
    for (const id of ids) {
      await this.audit.record(m, {
        actor: null,
        action: 'trip.reactivated',
        entityType: 'trip',
        entityId: id,
        before: { status: 'inactive' },
        after: { status: 'active', reason: 'subscription_reactivated', subscriptionId },
      });
    }
    return ids;
  }
}
