import { RefundsService, WebhookApplier } from '@trektribe/billing';
import { OutboxDispatcher } from '@trektribe/notifications';
import { PLATFORM_SCOPE, SummaryFold } from '@trektribe/reporting';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff, register, SignedIn } from './support/app';
import { BillingTestApp, startBillingApp } from './support/billing';
import { book, createTrip, daysFromNow } from './support/fixtures';

/**
 * The admin dashboard on a database of its own (every figure is platform-wide, so each is known
 * exactly), and the summary tables behind it: always equal to a recount from the raw tables.
 */

const DAY = 86_400_000;
const IST_OFFSET = 5.5 * 3600_000;
const IST_MONTH = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Kolkata',
  year: 'numeric',
  month: '2-digit',
});
const istMonth = (at: Date) => IST_MONTH.format(at).slice(0, 7);

/** The Monday (`YYYY-MM-DD`) of the IST week holding `at` (IST has no DST: a fixed offset). */
function istWeek(at: Date): string {
  const ist = new Date(at.getTime() + IST_OFFSET);
  const back = (ist.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(ist.getUTCFullYear(), ist.getUTCMonth(), ist.getUTCDate() - back))
    .toISOString()
    .slice(0, 10);
}

/** The 8 IST weeks up to the one holding `at`, oldest first. */
function weeksUpTo(at: Date): string[] {
  const last = new Date(`${istWeek(at)}T00:00:00Z`).getTime();
  return Array.from({ length: 8 }, (_, i) => new Date(last - (7 - i) * 7 * DAY).toISOString().slice(0, 10));
}

function monthsUpTo(last: string, count = 12): string[] {
  const [y, m] = last.split('-').map(Number);
  return Array.from({ length: count }, (_, i) => {
    const d = new Date(Date.UTC(y, m - 1 - (count - 1 - i), 1));
    return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  });
}

async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await read();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

/**
 * What the summary tables must hold, recounted from the raw tables with the definitions of
 * libs/reporting (figures/sql.ts): bookings by organizer and status; per organizer and IST month,
 * bookings confirmed, booking payments captured and their refunds paid out, and the organizer's
 * recurring plan payments and their refunds; users by role and is_active.
 */
const RECOUNT = {
  bookings: `SELECT organizer_id::text AS k1, status AS k2, count(*)::bigint AS n FROM bookings GROUP BY 1, 2`,
  money: `
    SELECT kind || ':' || organizer_id AS k1, month AS k2,
           sum(bookings)::bigint AS bookings, sum(payments)::bigint AS payments, sum(gross)::bigint AS gross, sum(refunds)::bigint AS refunds
      FROM (SELECT 'booking' AS kind, organizer_id, to_char(confirmed_at AT TIME ZONE 'Asia/Kolkata', 'YYYY-MM') AS month,
                   1 AS bookings, 0 AS payments, 0 AS gross, 0 AS refunds
              FROM bookings WHERE confirmed_at IS NOT NULL
            UNION ALL
            SELECT 'booking', b.organizer_id, to_char(coalesce(p.captured_at, p.created_at) AT TIME ZONE 'Asia/Kolkata', 'YYYY-MM'), 0, 1, p.amount, 0
              FROM payments p JOIN bookings b ON b.id = p.booking_id
             WHERE p.status IN ('captured', 'partially_refunded', 'refunded')
            UNION ALL
            SELECT 'subscription', p.payer_id, to_char(coalesce(p.captured_at, p.created_at) AT TIME ZONE 'Asia/Kolkata', 'YYYY-MM'), 0, 1, p.amount, 0
              FROM payments p
             WHERE p.booking_id IS NULL AND p.subscription_id IS NOT NULL AND p.method = 'recurring'
               AND p.status IN ('captured', 'partially_refunded', 'refunded')
            UNION ALL
            SELECT CASE WHEN p.booking_id IS NOT NULL THEN 'booking' ELSE 'subscription' END,
                   coalesce(b.organizer_id, p.payer_id), to_char(coalesce(r.processed_at, r.updated_at) AT TIME ZONE 'Asia/Kolkata', 'YYYY-MM'),
                   0, 0, 0, r.amount
              FROM refunds r JOIN payments p ON p.id = r.payment_id LEFT JOIN bookings b ON b.id = p.booking_id
             WHERE r.status IN ('processed', 'manual_paid')
               AND (b.id IS NOT NULL OR (p.booking_id IS NULL AND p.subscription_id IS NOT NULL AND p.method = 'recurring'))) x
     GROUP BY 1, 2`,
  users: `SELECT role AS k1, is_active::text AS k2, count(*)::bigint AS n FROM users GROUP BY 1, 2`,
};

/** The same keys read from the summary tables, totals + deltas, per organizer (not the platform rows). */
const SUMMARY = {
  bookings: `SELECT k1, k2, sum(n)::bigint AS n FROM (
      SELECT organizer_id::text AS k1, status AS k2, bookings AS n FROM report_booking_counts WHERE organizer_id <> $1
      UNION ALL SELECT organizer_id::text, status, bookings FROM report_booking_count_deltas) x
    GROUP BY 1, 2 HAVING sum(n) <> 0`,
  money: `SELECT k1, k2, sum(bookings)::bigint AS bookings, sum(payments)::bigint AS payments, sum(gross)::bigint AS gross, sum(refunds)::bigint AS refunds
      FROM (SELECT kind || ':' || organizer_id AS k1, to_char(month, 'YYYY-MM') AS k2, bookings, payments, gross, refunds
              FROM report_money_months WHERE organizer_id <> $1
            UNION ALL
            SELECT kind || ':' || organizer_id, to_char(month, 'YYYY-MM'), bookings, payments, gross, refunds FROM report_money_month_deltas) x
     GROUP BY 1, 2 HAVING sum(bookings) <> 0 OR sum(payments) <> 0 OR sum(gross) <> 0 OR sum(refunds) <> 0`,
  users: `SELECT k1, k2, sum(n)::bigint AS n FROM (
      SELECT role AS k1, active::text AS k2, users AS n FROM report_user_counts
      UNION ALL SELECT role, active::text, users FROM report_user_count_deltas) x
    GROUP BY 1, 2 HAVING sum(n) <> 0`,
};

describe('dashboards: admin, and the summary tables behind the figures', () => {
  let t: BillingTestApp;
  let admin: SignedIn;
  let org1: SignedIn;
  let org2: SignedIn;
  let travelers: SignedIn[];
  let registeredAt: Date;

  beforeAll(async () => {
    t = await startBillingApp({ WEBHOOK_INLINE_BACKLOG: '0' });
  });
  afterAll(async () => {
    t?.clock.reset();
    await t?.app.get(WebhookApplier).idle();
    await t?.app.get(RefundsService).processPendingRefunds();
    await t?.app.get(OutboxDispatcher).dispatchPending();
    await t?.close();
  });

  const dashboard = async () =>
    (await t.http.get('/api/v1/dashboard/admin').set(admin.auth).expect(200)).body.data;

  async function payOnline(who: SignedIn, bookingId: string): Promise<void> {
    const order = (
      await t.http.post(`/api/v1/bookings/${bookingId}/payments/order`).set(who.auth).expect(200)
    ).body.data;
    const paid = t.rzp.payOrder(order.orderId);
    await t.http.post(`/api/v1/bookings/${bookingId}/payments/verify`).set(who.auth).send(paid).expect(200);
  }

  const refundStatus = async (bookingId: string) =>
    (await t.db.query(`SELECT status FROM refunds WHERE booking_id = $1`, [bookingId]))[0]?.status as
      string | undefined;

  async function expectSummariesEqualRecount(): Promise<void> {
    for (const key of ['bookings', 'money', 'users'] as const) {
      const sort = (rows: Record<string, string>[]) =>
        rows.map((r) => JSON.stringify(r)).sort((a, b) => (a < b ? -1 : 1));
      const recount = await t.db.query(RECOUNT[key]);
      const summary = await t.db.query(SUMMARY[key], key === 'users' ? [] : [PLATFORM_SCOPE]);
      expect(sort(summary), key).toEqual(sort(recount));
      expect(recount.length, key).toBeGreaterThan(0);
    }
  }

  it('counts users by role, new users by IST week, trips and bookings by status, money by IST month', async () => {
    registeredAt = new Date();
    admin = await createStaff(t, 'admin');
    await createStaff(t, 'agent');
    org1 = await register(t, 'organizer');
    org2 = await register(t, 'organizer');
    travelers = [await register(t), await register(t), await register(t)];
    // deactivated: still a registration of its week, no longer a user by role
    await t.http.delete(`/api/v1/admin/users/${travelers[2].id}`).set(admin.auth).expect(204);

    const P = await createTrip(t, org1, { price: 100_000, capacity: 10 });
    const Q = await createTrip(t, org1, { price: 90_000 });
    const R = await createTrip(t, org1, { price: 80_000 });
    const S = await createTrip(t, org2, {
      price: 70_000,
      capacity: 10,
      startDate: daysFromNow(t, 40),
      endDate: daysFromNow(t, 41),
    });
    await t.http.delete(`/api/v1/trips/${Q.id}`).set(org1.auth).send({ reason: 'Snow' }).expect(200);
    await t.http.patch(`/api/v1/trips/${R.id}`).set(org1.auth).send({ status: 'inactive' }).expect(200);

    const [a, bb] = travelers;
    const paidP = await book(t, a, P.id, 2);
    await payOnline(a, paidP.id); // 200,000
    const paidS = await book(t, bb, S.id, 1);
    await payOnline(bb, paidS.id); // 70,000
    const refunded = await book(t, bb, P.id, 1);
    await payOnline(bb, refunded.id); // 100,000, then refunded in full
    await t.http.post(`/api/v1/bookings/${refunded.id}/cancel`).set(bb.auth).send({}).expect(200);
    await t.app.get(RefundsService).processPendingRefunds();
    await waitFor(
      () => refundStatus(refunded.id),
      (s) => s === 'processed',
      'refund processed',
    );
    // a refund the gateway refuses: failed
    t.rzp.failNextRefunds(1);
    await t.http.post(`/api/v1/bookings/${paidS.id}/cancel`).set(bb.auth).send({}).expect(200);
    await t.app.get(RefundsService).processPendingRefunds();
    await waitFor(
      () => refundStatus(paidS.id),
      (s) => s === 'failed',
      'refund failed',
    );
    // a checkout opened and never paid: its order stays `created`
    const unpaid = await book(t, a, S.id, 1);
    await t.http.post(`/api/v1/bookings/${unpaid.id}/payments/order`).set(a.auth).expect(200);

    // a webhook whose application fails (a database error) is kept, failing
    const failing = await book(t, bb, P.id, 1);
    const order = (
      await t.http.post(`/api/v1/bookings/${failing.id}/payments/order`).set(bb.auth).expect(200)
    ).body.data;
    const paid = t.rzp.payOrder(order.orderId);
    await t.db.query(`
      CREATE FUNCTION tt_refuse_payment() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.gateway_payment_id = '${paid.razorpay_payment_id}' THEN RAISE EXCEPTION 'disk full (simulated)'; END IF;
        RETURN NEW;
      END $$`);
    await t.db.query(
      `CREATE TRIGGER tt_refuse_payment BEFORE INSERT ON payments FOR EACH ROW EXECUTE FUNCTION tt_refuse_payment()`,
    );
    try {
      const event = t.rzp.buildEvent('payment.captured', {
        payment: t.rzp.payments.get(paid.razorpay_payment_id)!,
      });
      expect((await t.rzp.sendWebhook(event, { eventId: 'evt_dashboard_failing' })).status).toBe(200);
      await t.app.get(WebhookApplier).idle();
    } finally {
      await t.db.query(`DROP TRIGGER IF EXISTS tt_refuse_payment ON payments`);
      await t.db.query(`DROP FUNCTION IF EXISTS tt_refuse_payment()`);
    }

    const now = new Date();
    t.clock.set(now);
    const d = await dashboard();
    expect(d.asOf).toBe(now.toISOString());
    expect(d.usersByRole).toEqual({ traveler: 2, organizer: 2, agent: 1, admin: 1 });
    // all seven registered this week (staff register as travelers first; roles are today's)
    expect(d.newUsersByWeek).toEqual(
      weeksUpTo(now).map((week) =>
        week === istWeek(registeredAt)
          ? { week, users: 7, travelers: 3, organizers: 2 }
          : { week, users: 0, travelers: 0, organizers: 0 },
      ),
    );
    expect(d.tripsByStatus).toEqual({ active: 2, inactive: 1, cancelled: 1, completed: 0 });
    // paidP confirmed; refunded and paidS cancelled; unpaid and failing pending
    expect(d.bookingsByStatus).toEqual({ pending: 2, confirmed: 1, completed: 0, cancelled: 2, expired: 0 });
    expect(d.gmvByMonth).toEqual(
      monthsUpTo(istMonth(now)).map((month) =>
        month === istMonth(now)
          ? { month, bookings: 3, gmv: 370_000, refunds: 100_000, net: 270_000 }
          : { month, bookings: 0, gmv: 0, refunds: 0, net: 0 },
      ),
    );
    // nobody opened auto-pay: both organizers are in the trial they will get
    expect(d.subscriptions.byStatus).toEqual({
      trial: 2,
      active: 0,
      past_due: 0,
      suspended: 0,
      cancelled: 0,
    });
    expect(d.subscriptions.revenueByMonth).toHaveLength(12);
    expect(d.failedRefunds).toBe(1);
    // the two unpaid orders are younger than 15 minutes
    expect(d.stuckPayments).toBe(0);
    expect(d.failingWebhooks).toBe(1);

    t.clock.set(new Date(now.getTime() + 16 * 60_000));
    expect((await dashboard()).stuckPayments).toBe(2);
    // past the reconciliation's 7 days, an order is abandoned, not stuck
    t.clock.set(new Date(now.getTime() + 8 * DAY));
    expect((await dashboard()).stuckPayments).toBe(0);
    // two weeks on, this week's registrations are two weeks back
    const later = new Date(now.getTime() + 14 * DAY);
    t.clock.set(later);
    const weeks = (await dashboard()).newUsersByWeek;
    expect(weeks.map((w: { week: string }) => w.week)).toEqual(weeksUpTo(later));
    expect(weeks[5]).toEqual({ week: istWeek(registeredAt), users: 7, travelers: 3, organizers: 2 });
    t.clock.reset();

    await expectSummariesEqualRecount();
  }, 120_000);

  it('plan revenue by IST month: a renewal charged at the end of the trial counts; the mandate authorisation does not', async () => {
    // auto-pay for org1: authorisation order paid in checkout, verified, mandate confirmed by the bank
    const setup = await t.http.post('/api/v1/auto-pay/setup').set(org1.auth).send({}).expect(201);
    const auth = t.rzp.payOrder(setup.body.data.orderId);
    await t.http.post('/api/v1/auto-pay/verify').set(org1.auth).send(auth).expect(200);
    t.rzp.confirmToken(t.rzp.payments.get(auth.razorpay_payment_id)!.token_id!);
    const plan = (await t.http.get('/api/v1/auto-pay/status').set(org1.auth).expect(200)).body.data;
    const chargedAt = new Date(new Date(plan.trialEndsAt).getTime() + 60_000);
    t.clock.set(chargedAt);
    try {
      await t.http.post('/api/v1/auto-pay/process-scheduled').set(admin.auth).expect(200);
      await waitFor(
        async () =>
          (
            await t.db.query(
              `SELECT status FROM payments WHERE method = 'recurring' AND payer_id = $1 AND status = 'captured'`,
              [org1.id],
            )
          ).length,
        (n) => n === 1,
        'the renewal captured',
      );
      await waitFor(
        async () => (await t.http.get('/api/v1/auto-pay/status').set(org1.auth).expect(200)).body.data.status,
        (s) => s === 'active',
        'the plan active',
      );
      const d = await dashboard();
      // org2 had no mandate: the run dunned it (its own status says how); org1 renewed
      const other = (await t.http.get('/api/v1/auto-pay/status').set(org2.auth).expect(200)).body.data.status;
      const byStatus = { trial: 0, active: 1, past_due: 0, suspended: 0, cancelled: 0 };
      byStatus[other as keyof typeof byStatus] += 1;
      expect(d.subscriptions.byStatus).toEqual(byStatus);
      expect(d.subscriptions.revenueByMonth).toEqual(
        monthsUpTo(istMonth(chargedAt)).map((month) =>
          month === istMonth(chargedAt)
            ? { month, payments: 1, revenue: 149_900, refunds: 0, net: 149_900 }
            : { month, payments: 0, revenue: 0, refunds: 0, net: 0 },
        ),
      );
      // bookings' money stays where it was (two months back, within the 12)
      const gmv = d.gmvByMonth.filter((m: { gmv: number }) => m.gmv > 0);
      expect(gmv).toEqual([expect.objectContaining({ gmv: 370_000, refunds: 100_000 })]);
    } finally {
      t.clock.reset();
    }
    await expectSummariesEqualRecount();
  }, 60_000);

  it('the summary tables equal a recount before and after folds, even two folds at once; the figures do not move', async () => {
    const before = await dashboard();
    const deltas = async () =>
      Number(
        (
          await t.db.query(
            `SELECT (SELECT count(*) FROM report_booking_count_deltas) + (SELECT count(*) FROM report_money_month_deltas)
                  + (SELECT count(*) FROM report_user_count_deltas) AS n`,
          )
        )[0].n,
      );
    expect(await deltas()).toBeGreaterThan(0);
    const fold = t.app.get(SummaryFold);
    await Promise.all([fold.fold(), fold.fold()]);
    expect(await deltas()).toBe(0);
    await expectSummariesEqualRecount();
    expect({ ...(await dashboard()), asOf: null }).toEqual({ ...before, asOf: null });

    // the platform's totals are the sum of the organizers'
    const [platform] = await t.db.query(
      `SELECT (SELECT sum(bookings) FROM report_booking_counts WHERE organizer_id = $1)::int AS mine,
              (SELECT sum(bookings) FROM report_booking_counts WHERE organizer_id <> $1)::int AS theirs,
              (SELECT sum(gross) FROM report_money_months WHERE organizer_id = $1)::bigint AS gross,
              (SELECT sum(gross) FROM report_money_months WHERE organizer_id <> $1)::bigint AS their_gross`,
      [PLATFORM_SCOPE],
    );
    expect(platform.mine).toBe(platform.theirs);
    expect(platform.gross).toBe(platform.their_gross);

    // changes after a fold land in the deltas, and everything still adds up
    const trip = await createTrip(t, org2, { price: 55_000 });
    const again = await book(t, travelers[0], trip.id, 1);
    await payOnline(travelers[0], again.id);
    await t.http
      .patch(`/api/v1/admin/users/${travelers[1].id}`)
      .set(admin.auth)
      .send({ role: 'agent' })
      .expect(200);
    expect(await deltas()).toBeGreaterThan(0);
    await expectSummariesEqualRecount();
    const after = await dashboard();
    expect(after.bookingsByStatus.confirmed).toBe(before.bookingsByStatus.confirmed + 1);
    expect(after.usersByRole).toEqual({ ...before.usersByRole, traveler: 1, agent: 2 });
    expect(after.gmvByMonth.at(-1).gmv).toBe(before.gmvByMonth.at(-1).gmv + 55_000);
    await fold.fold();
    await expectSummariesEqualRecount();
    expect({ ...(await dashboard()), asOf: null }).toEqual({ ...after, asOf: null });
  });
});
