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

  it('a late failure on a booking already paid changes nothing', async () => {
    const id = await paidBooking();
    const before = await snapshot(id);

    expect(await run((m) => payments.markFailed(m, id, null))).toBe(false);

    expect(await snapshot(id)).toEqual(before);
    expect(before).toMatchObject({ status: 'confirmed', paymentStatus: 'paid' });
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

  it('moves the table does not allow are refused and change nothing', async () => {
    const paid = await paidBooking();
    const before = await snapshot(paid);
    // paid → refunded skips refund_pending: not a move billing may make.
    expect(await run((m) => payments.markRefunded(m, paid, true))).toBe(false);
    expect(await snapshot(paid)).toEqual(before);

    const unpaid = await pending();
    const unpaidBefore = await snapshot(unpaid);
    expect(await run((m) => payments.markRefunded(m, unpaid, false))).toBe(false);
    expect(await snapshot(unpaid)).toEqual(unpaidBefore);

    // Settled for good: refunded is final.
    await run((m) => payments.markRefundPending(m, paid, null, 'booking.payment_refund_pending'));
    await run((m) => payments.markRefunded(m, paid, true));
    const refunded = await snapshot(paid);
    expect(refunded.paymentStatus).toBe('refunded');
    expect(
      await run((m) => payments.markRefundPending(m, paid, null, 'booking.payment_refund_pending')),
    ).toBe(false);
    expect(await run((m) => payments.markFailed(m, paid, null))).toBe(false);
    expect(await snapshot(paid)).toEqual(refunded);
  });

  it('asking for the status a booking already has, or about no booking, answers false and writes nothing', async () => {
    const id = await paidBooking();
    await run((m) => payments.markRefundPending(m, id, null, 'booking.payment_refund_pending'));
    const before = await snapshot(id);

    expect(await run((m) => payments.markRefundPending(m, id, null, 'booking.payment_refund_pending'))).toBe(
      false,
    );
    expect(await snapshot(id)).toEqual(before);
    expect(await auditRows(t, id, 'booking.payment_refund_pending')).toHaveLength(1);

    const nobody = '00000000-0000-4000-8000-000000000000';
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM audit_logs`);
    expect(await run((m) => payments.markFailed(m, nobody, null))).toBe(false);
    expect((await t.db.query(`SELECT count(*)::int AS n FROM audit_logs`))[0].n).toBe(n);
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
