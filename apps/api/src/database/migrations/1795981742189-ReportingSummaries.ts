import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The read side's summary tables (libs/reporting, issue 14): totals, and deltas appended by
 * triggers in the transaction of every change to what they count, so a figure (totals + deltas) is
 * exact at any moment and no two writers ever update the same summary row (no lock, no contention,
 * no new lock order). SummaryFold moves deltas into totals every minute.
 *
 * What is counted (libs/reporting/src/figures/sql.ts states the same definitions):
 * - report_booking_counts: bookings by status, per organizer;
 * - report_money_months, per organizer and IST month: `booking` — bookings confirmed (confirmed_at),
 *   payments captured on them with their amount (a payment in captured, partially_refunded or
 *   refunded; month of captured_at), refunds of those payments paid out (processed or manual_paid;
 *   month of processed_at); `subscription` — the organizer's recurring plan payments and their refunds;
 * - report_user_counts: users by role and is_active.
 * Existing rows are counted once, as deltas, after the triggers exist (CREATE TRIGGER holds writers
 * off until this transaction commits, so nothing is counted twice or missed).
 */
export class ReportingSummaries1795981742189 implements MigrationInterface {
  name = 'ReportingSummaries1795981742189';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "report_booking_counts" ("organizer_id" uuid NOT NULL, "status" character varying(20) NOT NULL, "bookings" bigint NOT NULL, CONSTRAINT "PK_b072d8835f44c2326126ad84eb8" PRIMARY KEY ("organizer_id", "status"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "report_booking_count_deltas" ("id" BIGSERIAL NOT NULL, "organizer_id" uuid NOT NULL, "status" character varying(20) NOT NULL, "bookings" integer NOT NULL, CONSTRAINT "PK_264cc5402ec320cb91eb43ba8d7" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_report_booking_count_deltas_organizer" ON "report_booking_count_deltas"  ("organizer_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "report_money_months" ("kind" character varying(12) NOT NULL, "organizer_id" uuid NOT NULL, "month" date NOT NULL, "bookings" bigint NOT NULL DEFAULT '0', "payments" bigint NOT NULL DEFAULT '0', "gross" bigint NOT NULL DEFAULT '0', "refunds" bigint NOT NULL DEFAULT '0', CONSTRAINT "chk_report_money_months_kind" CHECK ("kind" IN ('booking', 'subscription')), CONSTRAINT "PK_c5f7aa00fd8db64bebd07e015b6" PRIMARY KEY ("kind", "organizer_id", "month"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "report_money_month_deltas" ("id" BIGSERIAL NOT NULL, "kind" character varying(12) NOT NULL, "organizer_id" uuid NOT NULL, "month" date NOT NULL, "bookings" integer NOT NULL DEFAULT '0', "payments" integer NOT NULL DEFAULT '0', "gross" bigint NOT NULL DEFAULT '0', "refunds" bigint NOT NULL DEFAULT '0', CONSTRAINT "chk_report_money_month_deltas_kind" CHECK ("kind" IN ('booking', 'subscription')), CONSTRAINT "PK_cfcfb945b0f4cf4fd08a5f9a388" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_report_money_month_deltas_organizer" ON "report_money_month_deltas"  ("organizer_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "report_user_counts" ("role" character varying(20) NOT NULL, "active" boolean NOT NULL, "users" bigint NOT NULL, CONSTRAINT "PK_4d04fd20c0e45b533fd402e99d6" PRIMARY KEY ("role", "active"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "report_user_count_deltas" ("id" BIGSERIAL NOT NULL, "role" character varying(20) NOT NULL, "active" boolean NOT NULL, "users" integer NOT NULL, CONSTRAINT "PK_fa1b03418c53a9ce3643ea10166" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_refunds_payment" ON "refunds"  ("payment_id") `);

    // The IST month of an instant, as the first day of the month.
    await queryRunner.query(`
            CREATE FUNCTION report_ist_month(at timestamptz) RETURNS date LANGUAGE sql STABLE
            AS $$ SELECT date_trunc('month', at AT TIME ZONE 'Asia/Kolkata')::date $$`);

    // What one payment adds to the money: none unless captured; a booking's goes to its organizer.
    await queryRunner.query(`
            CREATE FUNCTION report_payment_money(p_booking uuid, p_subscription uuid, p_payer uuid, p_method varchar,
                                                 p_status varchar, p_amount integer, p_at timestamptz)
            RETURNS TABLE (kind varchar, organizer_id uuid, month date, gross bigint) LANGUAGE sql STABLE AS $$
              SELECT 'booking'::varchar, b.organizer_id, report_ist_month(p_at), p_amount::bigint
                FROM bookings b
               WHERE b.id = p_booking AND p_status IN ('captured', 'partially_refunded', 'refunded')
              UNION ALL
              SELECT 'subscription'::varchar, p_payer, report_ist_month(p_at), p_amount::bigint
               WHERE p_booking IS NULL AND p_subscription IS NOT NULL AND p_method = 'recurring'
                 AND p_status IN ('captured', 'partially_refunded', 'refunded')
            $$`);

    // What one refund takes back: none until paid out; counted against its payment's kind and organizer.
    await queryRunner.query(`
            CREATE FUNCTION report_refund_money(r_payment uuid, r_status varchar, r_amount integer, r_at timestamptz)
            RETURNS TABLE (kind varchar, organizer_id uuid, month date, refunds bigint) LANGUAGE sql STABLE AS $$
              SELECT 'booking'::varchar, b.organizer_id, report_ist_month(r_at), r_amount::bigint
                FROM payments p JOIN bookings b ON b.id = p.booking_id
               WHERE p.id = r_payment AND r_status IN ('processed', 'manual_paid')
              UNION ALL
              SELECT 'subscription'::varchar, p.payer_id, report_ist_month(r_at), r_amount::bigint
                FROM payments p
               WHERE p.id = r_payment AND r_status IN ('processed', 'manual_paid')
                 AND p.booking_id IS NULL AND p.subscription_id IS NOT NULL AND p.method = 'recurring'
            $$`);

    // Row triggers: OLD is null on INSERT and NEW on DELETE, so each statement below covers every operation.
    await queryRunner.query(`
            CREATE FUNCTION report_bookings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP <> 'UPDATE' OR OLD.status IS DISTINCT FROM NEW.status OR OLD.organizer_id IS DISTINCT FROM NEW.organizer_id THEN
                INSERT INTO report_booking_count_deltas (organizer_id, status, bookings)
                SELECT OLD.organizer_id, OLD.status, -1 WHERE TG_OP <> 'INSERT'
                UNION ALL
                SELECT NEW.organizer_id, NEW.status, 1 WHERE TG_OP <> 'DELETE';
              END IF;
              IF TG_OP <> 'UPDATE' OR OLD.confirmed_at IS DISTINCT FROM NEW.confirmed_at OR OLD.organizer_id IS DISTINCT FROM NEW.organizer_id THEN
                INSERT INTO report_money_month_deltas (kind, organizer_id, month, bookings)
                SELECT 'booking', OLD.organizer_id, report_ist_month(OLD.confirmed_at), -1
                 WHERE TG_OP <> 'INSERT' AND OLD.confirmed_at IS NOT NULL
                UNION ALL
                SELECT 'booking', NEW.organizer_id, report_ist_month(NEW.confirmed_at), 1
                 WHERE TG_OP <> 'DELETE' AND NEW.confirmed_at IS NOT NULL;
              END IF;
              RETURN NULL;
            END $$`);
    await queryRunner.query(`
            CREATE TRIGGER trg_report_bookings AFTER INSERT OR DELETE OR UPDATE OF status, organizer_id, confirmed_at
            ON bookings FOR EACH ROW EXECUTE FUNCTION report_bookings_changed()`);

    await queryRunner.query(`
            CREATE FUNCTION report_payments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              INSERT INTO report_money_month_deltas (kind, organizer_id, month, payments, gross)
              SELECT c.kind, c.organizer_id, c.month, sum(c.n), sum(c.gross)
                FROM (SELECT m.kind, m.organizer_id, m.month, -1 AS n, -m.gross AS gross
                        FROM report_payment_money(OLD.booking_id, OLD.subscription_id, OLD.payer_id, OLD.method, OLD.status,
                                                  OLD.amount, coalesce(OLD.captured_at, OLD.created_at)) m
                       WHERE TG_OP <> 'INSERT'
                      UNION ALL
                      SELECT m.kind, m.organizer_id, m.month, 1, m.gross
                        FROM report_payment_money(NEW.booking_id, NEW.subscription_id, NEW.payer_id, NEW.method, NEW.status,
                                                  NEW.amount, coalesce(NEW.captured_at, NEW.created_at)) m
                       WHERE TG_OP <> 'DELETE') c
               GROUP BY c.kind, c.organizer_id, c.month
              HAVING sum(c.n) <> 0 OR sum(c.gross) <> 0;
              RETURN NULL;
            END $$`);
    await queryRunner.query(`
            CREATE TRIGGER trg_report_payments
            AFTER INSERT OR DELETE OR UPDATE OF status, amount, captured_at, created_at, booking_id, subscription_id, payer_id, method
            ON payments FOR EACH ROW EXECUTE FUNCTION report_payments_changed()`);

    await queryRunner.query(`
            CREATE FUNCTION report_refunds_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              INSERT INTO report_money_month_deltas (kind, organizer_id, month, refunds)
              SELECT c.kind, c.organizer_id, c.month, sum(c.refunds)
                FROM (SELECT m.kind, m.organizer_id, m.month, -m.refunds AS refunds
                        FROM report_refund_money(OLD.payment_id, OLD.status, OLD.amount, coalesce(OLD.processed_at, OLD.updated_at)) m
                       WHERE TG_OP <> 'INSERT'
                      UNION ALL
                      SELECT m.kind, m.organizer_id, m.month, m.refunds
                        FROM report_refund_money(NEW.payment_id, NEW.status, NEW.amount, coalesce(NEW.processed_at, NEW.updated_at)) m
                       WHERE TG_OP <> 'DELETE') c
               GROUP BY c.kind, c.organizer_id, c.month
              HAVING sum(c.refunds) <> 0;
              RETURN NULL;
            END $$`);
    await queryRunner.query(`
            CREATE TRIGGER trg_report_refunds AFTER INSERT OR DELETE OR UPDATE OF status, amount, processed_at, updated_at, payment_id
            ON refunds FOR EACH ROW EXECUTE FUNCTION report_refunds_changed()`);

    await queryRunner.query(`
            CREATE FUNCTION report_users_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP <> 'UPDATE' OR OLD.role IS DISTINCT FROM NEW.role OR OLD.is_active IS DISTINCT FROM NEW.is_active THEN
                INSERT INTO report_user_count_deltas (role, active, users)
                SELECT OLD.role, OLD.is_active, -1 WHERE TG_OP <> 'INSERT'
                UNION ALL
                SELECT NEW.role, NEW.is_active, 1 WHERE TG_OP <> 'DELETE';
              END IF;
              RETURN NULL;
            END $$`);
    await queryRunner.query(`
            CREATE TRIGGER trg_report_users AFTER INSERT OR DELETE OR UPDATE OF role, is_active
            ON users FOR EACH ROW EXECUTE FUNCTION report_users_changed()`);

    // What is already there, counted once.
    await queryRunner.query(`
            INSERT INTO report_booking_count_deltas (organizer_id, status, bookings)
            SELECT organizer_id, status, count(*) FROM bookings GROUP BY organizer_id, status`);
    await queryRunner.query(`
            INSERT INTO report_user_count_deltas (role, active, users)
            SELECT role, is_active, count(*) FROM users GROUP BY role, is_active`);
    await queryRunner.query(`
            INSERT INTO report_money_month_deltas (kind, organizer_id, month, bookings)
            SELECT 'booking', organizer_id, report_ist_month(confirmed_at), count(*)
              FROM bookings WHERE confirmed_at IS NOT NULL GROUP BY 2, 3`);
    await queryRunner.query(`
            INSERT INTO report_money_month_deltas (kind, organizer_id, month, payments, gross)
            SELECT m.kind, m.organizer_id, m.month, count(*), sum(m.gross)
              FROM payments p
              CROSS JOIN LATERAL report_payment_money(p.booking_id, p.subscription_id, p.payer_id, p.method, p.status,
                                                      p.amount, coalesce(p.captured_at, p.created_at)) m
             GROUP BY 1, 2, 3`);
    await queryRunner.query(`
            INSERT INTO report_money_month_deltas (kind, organizer_id, month, refunds)
            SELECT m.kind, m.organizer_id, m.month, sum(m.refunds)
              FROM refunds r
              CROSS JOIN LATERAL report_refund_money(r.payment_id, r.status, r.amount, coalesce(r.processed_at, r.updated_at)) m
             GROUP BY 1, 2, 3`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER trg_report_users ON users`);
    await queryRunner.query(`DROP TRIGGER trg_report_refunds ON refunds`);
    await queryRunner.query(`DROP TRIGGER trg_report_payments ON payments`);
    await queryRunner.query(`DROP TRIGGER trg_report_bookings ON bookings`);
    await queryRunner.query(`DROP FUNCTION report_users_changed()`);
    await queryRunner.query(`DROP FUNCTION report_refunds_changed()`);
    await queryRunner.query(`DROP FUNCTION report_payments_changed()`);
    await queryRunner.query(`DROP FUNCTION report_bookings_changed()`);
    await queryRunner.query(`DROP FUNCTION report_refund_money(uuid, varchar, integer, timestamptz)`);
    await queryRunner.query(
      `DROP FUNCTION report_payment_money(uuid, uuid, uuid, varchar, varchar, integer, timestamptz)`,
    );
    await queryRunner.query(`DROP FUNCTION report_ist_month(timestamptz)`);
    await queryRunner.query(`DROP INDEX "public"."idx_refunds_payment"`);
    await queryRunner.query(`DROP TABLE "report_user_count_deltas"`);
    await queryRunner.query(`DROP TABLE "report_user_counts"`);
    await queryRunner.query(`DROP INDEX "public"."idx_report_money_month_deltas_organizer"`);
    await queryRunner.query(`DROP TABLE "report_money_month_deltas"`);
    await queryRunner.query(`DROP TABLE "report_money_months"`);
    await queryRunner.query(`DROP INDEX "public"."idx_report_booking_count_deltas_organizer"`);
    await queryRunner.query(`DROP TABLE "report_booking_count_deltas"`);
    await queryRunner.query(`DROP TABLE "report_booking_counts"`);
  }
}
