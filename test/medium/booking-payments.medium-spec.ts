import type { Actor } from '@trektribe/auth';
import { BookingPayments } from '@trektribe/booking';
import type { EntityManager } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootTestApp, ServiceApp } from '../support/app';
import { auditRows, bookingRow, confirmPaid } from '../support/fixtures';
import { newHold, newTrip, newUser } from '../support/services';

/**
 * BookingPayments: the payment-status moves billing may ask of a booking. An allowed move is applied
 * to the row and audited; a move the table refuses (or one a guard rules out) changes nothing, not
 * even the audit log. The table itself has unit specs (payment-status.spec.ts); this is the facade on
 * the real row.
 */
describe('BookingPayments (booking facade for billing)', () => {
  let t: ServiceApp;
  let payments: BookingPayments;
  let organizer: Actor;
  let traveler: Actor;
  beforeAll(async () => {
    t = await bootTestApp();
    payments = t.app.get(BookingPayments);
    organizer = await newUser(t, 'organizer');
    traveler = await newUser(t, 'traveler');
  });
  afterAll(async () => t?.close());

  const run = <T>(fn: (m: EntityManager) => Promise<T>) => t.db.transaction(fn);

  /** The row's status pair and the number of audit rows about it: what a refused move must leave alone. */
  async function snapshot(bookingId: string) {
    const b = await bookingRow(t, bookingId);
    return {
      status: b.status,
      paymentStatus: b.payment_status,
      audits: (await auditRows(t, bookingId)).length,
    };
  }

  /** A pending booking on a trip of its own (a traveler may hold only two unpaid bookings per trip). */
  async function pending(): Promise<string> {
    return (await newHold(t, traveler, (await newTrip(t, organizer)).id)).id;
  }

  async function paidBooking(): Promise<string> {
    const hold = { id: await pending() };
    expect(await confirmPaid(t, hold.id)).toBe('confirmed');
    return hold.id;
  }

  it('a failed online attempt on a pending, unpaid booking is recorded and audited', async () => {
    const hold = { id: await pending() };

    expect(await run((m) => payments.markFailed(m, hold.id, traveler))).toBe(true);

    expect(await bookingRow(t, hold.id)).toMatchObject({ status: 'pending', payment_status: 'failed' });
    const [audit] = await auditRows(t, hold.id, 'booking.payment_failed');
    expect(audit).toMatchObject({ actor_id: traveler.id, actor_role: 'traveler', entity_type: 'booking' });
    expect(audit.before).toMatchObject({ paymentStatus: 'unpaid' });
    expect(audit.after).toMatchObject({ paymentStatus: 'failed' });
  });

  it('paid → refund_pending → partially_refunded, each move audited under its action', async () => {
    const id = await paidBooking();

    expect(await run((m) => payments.markRefundPending(m, id, organizer, 'booking.refund_requested'))).toBe(
      true,
    );
    expect((await bookingRow(t, id)).payment_status).toBe('refund_pending');
    expect(await run((m) => payments.markRefunded(m, id, false))).toBe(true);

    expect((await bookingRow(t, id)).payment_status).toBe('partially_refunded');
    const [requested] = await auditRows(t, id, 'booking.refund_requested');
    expect(requested).toMatchObject({
      actor_id: organizer.id,
      before: { paymentStatus: 'paid' },
      after: { paymentStatus: 'refund_pending' },
    });
    const [settled] = await auditRows(t, id, 'booking.partially_refunded');
    expect(settled).toMatchObject({
      actor_id: null,
      before: { paymentStatus: 'refund_pending' },
      after: { paymentStatus: 'partially_refunded' },
    });
  });

  it('moves the table does not allow, or a guard rules out, are refused and change nothing', async () => {
    const paid = await paidBooking();
    const before = await snapshot(paid);
    expect(before).toMatchObject({ status: 'confirmed', paymentStatus: 'paid' });
    // A late failure after the capture is old news; paid → refunded would skip refund_pending.
    expect(await run((m) => payments.markFailed(m, paid, null))).toBe(false);
    expect(await run((m) => payments.markRefunded(m, paid, true))).toBe(false);
    expect(await snapshot(paid)).toEqual(before);

    const unpaid = await pending();
    const unpaidBefore = await snapshot(unpaid);
    expect(await run((m) => payments.markRefunded(m, unpaid, false))).toBe(false);
    expect(await snapshot(unpaid)).toEqual(unpaidBefore);
  });

  it('a status already reached, or a final one, is not moved again; no booking answers false', async () => {
    const id = await paidBooking();
    const again = () => run((m) => payments.markRefundPending(m, id, null, 'booking.payment_refund_pending'));
    expect(await again()).toBe(true);
    expect(await again()).toBe(false);
    expect(await auditRows(t, id, 'booking.payment_refund_pending')).toHaveLength(1);

    await run((m) => payments.markRefunded(m, id, true));
    const refunded = await snapshot(id);
    expect(refunded.paymentStatus).toBe('refunded');
    expect(await again()).toBe(false);
    expect(await run((m) => payments.markRefunded(m, id, false))).toBe(false);
    expect(await snapshot(id)).toEqual(refunded);

    const audits = async () =>
      ((await t.db.query(`SELECT count(*)::int AS n FROM audit_logs`)) as { n: number }[])[0].n;
    const n = await audits();
    expect(await run((m) => payments.markFailed(m, '00000000-0000-4000-8000-000000000000', null))).toBe(
      false,
    );
    expect(await audits()).toBe(n);
  });

  it('a move made in a transaction that rolls back leaves neither the status nor its audit row', async () => {
    const hold = { id: await pending() };
    const before = await snapshot(hold.id);

    await expect(
      run(async (m) => {
        expect(await payments.markFailed(m, hold.id, null)).toBe(true);
        throw new Error('the caller failed after the move');
      }),
    ).rejects.toThrow('the caller failed');

    expect(await snapshot(hold.id)).toEqual(before);
  });
});
