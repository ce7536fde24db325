import type { Actor } from '@trektribe/auth';
import { PaymentLedger, RefundsService } from '@trektribe/billing';
import type { BookingView } from '@trektribe/booking';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootTestApp, ServiceApp } from '../support/app';
import { auditRows } from '../support/fixtures';
import { gatewayPayment, newBookingOrder, newHold, newTrip, newUser, rowsFor } from '../support/services';

type Payment = NonNullable<Awaited<ReturnType<PaymentLedger['apply']>>['payment']>;

/**
 * RefundsService: the one writer of new `refunds` rows. Each key records once; a booking's refund is
 * sized by what each payment still has refundable (its amount less what was refunded and what open
 * refunds will refund), so a payment is never refunded more than it holds; what no payment covers is
 * due by hand. No gateway is configured, so gateway refunds stay `pending`.
 */
describe('RefundsService (billing)', () => {
  let t: ServiceApp;
  let refunds: RefundsService;
  let organizer: Actor;
  let traveler: Actor;
  let admin: Actor;
  beforeAll(async () => {
    t = await bootTestApp();
    refunds = t.app.get(RefundsService);
    [organizer, traveler, admin] = [
      await newUser(t, 'organizer'),
      await newUser(t, 'traveler'),
      await newUser(t, 'admin'),
    ];
  });
  afterAll(async () => t?.close());

  const run = <T>(fn: (m: EntityManager) => Promise<T>) => t.db.transaction(fn);

  /** A 2-seat booking paid online through the ledger: the captured payment row is what refunds come out of. */
  async function paidOnline(): Promise<{ booking: BookingView; payment: Payment }> {
    const booking = await newHold(t, traveler, (await newTrip(t, organizer)).id, 2);
    const order = await newBookingOrder(t, booking);
    const applied = await run((m) =>
      t.app.get(PaymentLedger).apply(m, order.id, gatewayPayment(order), 'captured', null),
    );
    expect(applied.kind).toBe('confirmed');
    return { booking, payment: applied.payment! };
  }

  /** Sum of refund amounts recorded against one payment, read back from `refunds`. */
  const refundedFrom = async (paymentId: string) =>
    (
      (await t.db.query(`SELECT coalesce(sum(amount), 0)::int AS total FROM refunds WHERE payment_id = $1`, [
        paymentId,
      ])) as { total: number }[]
    )[0].total;

  it('createRefund records once per key (audited); a refund counts once against refundableLeft, open or settled', async () => {
    const { booking, payment } = await paidOnline();
    const key = `test_${randomUUID().slice(0, 8)}`;
    const ask = (amount: number) =>
      run((m) =>
        refunds.createRefund(m, {
          payment,
          bookingId: booking.id,
          amount,
          currency: 'INR',
          reason: 'goodwill',
          idempotencyKey: key,
          actor: admin,
        }),
      );

    expect(await run((m) => refunds.refundableLeft(m, payment))).toBe(payment.amount);

    const id = await ask(30_000);
    expect(await ask(45_000)).toBeNull();

    const rows = await rowsFor(t, 'refunds', booking.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id,
      payment_id: payment.id,
      amount: 30_000,
      status: 'pending',
      requested_by: admin.id,
      idempotency_key: key,
    });
    expect(await auditRows(t, id!, 'refund.requested')).toHaveLength(1);
    // An open refund counts against what is left...
    expect(await run((m) => refunds.refundableLeft(m, payment))).toBe(payment.amount - 30_000);

    // ...and, once settled, counts once: through the payment's amount_refunded instead.
    await t.db.query(`UPDATE refunds SET status = 'processed' WHERE id = $1`, [id]);
    await t.db.query(
      `UPDATE payments SET amount_refunded = 30000, status = 'partially_refunded' WHERE id = $1`,
      [payment.id],
    );
    const [row] = await t.db.query(`SELECT amount, amount_refunded FROM payments WHERE id = $1`, [
      payment.id,
    ]);
    const settled = { id: payment.id, amount: row.amount, amountRefunded: row.amount_refunded };
    expect(await run((m) => refunds.refundableLeft(m, settled))).toBe(payment.amount - 30_000);
  });

  it('a refund asked for more than the payment has left takes only what is left from it; the rest is due by hand', async () => {
    const { booking, payment } = await paidOnline();
    await run((m) =>
      refunds.createRefund(m, {
        payment,
        bookingId: booking.id,
        amount: 100_000,
        currency: 'INR',
        reason: 'earlier',
        idempotencyKey: `e_${randomUUID().slice(0, 8)}`,
        actor: null,
      }),
    );
    const key = `cancel_${randomUUID().slice(0, 8)}`;

    await run((m) =>
      refunds.requestRefund(m, {
        bookingId: booking.id,
        amount: payment.amount,
        reason: 'cancelled',
        idempotencyKey: key,
        actor: traveler,
      }),
    );

    // Both rows come from one transaction (same created_at): order them by key.
    const rows = (await rowsFor(t, 'refunds', booking.id))
      .filter((r) => r.idempotency_key.startsWith(key))
      .sort((a, b) => a.idempotency_key.localeCompare(b.idempotency_key));
    expect(
      rows.map((r) => ({
        key: r.idempotency_key,
        payment: r.payment_id,
        amount: r.amount,
        status: r.status,
      })),
    ).toEqual([
      { key, payment: payment.id, amount: payment.amount - 100_000, status: 'pending' },
      { key: `${key}_2`, payment: null, amount: 100_000, status: 'manual_due' },
    ]);
    expect(await refundedFrom(payment.id)).toBe(payment.amount);
    expect(await run((m) => refunds.refundableLeft(m, payment))).toBe(0);
  });

  it('a payment with nothing left is not refunded again: the whole request is due by hand; a repeated request records nothing', async () => {
    const { booking, payment } = await paidOnline();
    const first = `c1_${randomUUID().slice(0, 8)}`;
    await run((m) =>
      refunds.requestRefund(m, {
        bookingId: booking.id,
        amount: payment.amount,
        reason: 'cancelled',
        idempotencyKey: first,
        actor: null,
      }),
    );
    const second = `c2_${randomUUID().slice(0, 8)}`;
    const ask = () =>
      run((m) =>
        refunds.requestRefund(m, {
          bookingId: booking.id,
          amount: 20_000,
          reason: 'again',
          idempotencyKey: second,
          actor: null,
        }),
      );

    await ask();
    await ask();

    const rows = await rowsFor(t, 'refunds', booking.id);
    expect(rows.map((r) => [r.idempotency_key, r.payment_id, r.amount, r.status])).toEqual([
      [first, payment.id, payment.amount, 'pending'],
      [second, null, 20_000, 'manual_due'],
    ]);
    expect(await refundedFrom(payment.id)).toBe(payment.amount);
  });

  it('a screenshot payment is refunded by hand, out of that payment', async () => {
    const booking = await newHold(t, traveler, (await newTrip(t, organizer)).id, 1, 'screenshot');
    const screenshot = await run((m) =>
      t.app.get(PaymentLedger).recordScreenshotPayment(m, {
        bookingId: booking.id,
        payerId: traveler.id,
        amount: booking.totalAmount,
        currency: 'INR',
        proofId: randomUUID(),
        capturedAt: t.clock.now(),
        actor: organizer,
      }),
    );
    const key = `s_${randomUUID().slice(0, 8)}`;

    await run((m) =>
      refunds.requestRefund(m, {
        bookingId: booking.id,
        amount: 40_000,
        reason: 'cancelled',
        idempotencyKey: key,
        actor: traveler,
      }),
    );

    const [refund] = await rowsFor(t, 'refunds', booking.id);
    expect(refund).toMatchObject({
      payment_id: screenshot.id,
      amount: 40_000,
      status: 'manual_due',
      next_attempt_at: null,
      idempotency_key: key,
    });
    expect(await run((m) => refunds.refundableLeft(m, screenshot))).toBe(booking.totalAmount - 40_000);
  });
});
