import { MigrationInterface, QueryRunner } from 'typeorm';

/** Business state that lived in the audit log moves to tables of its own (issue 11, item 3). */
export class StateInTables1795964282154 implements MigrationInterface {
  name = 'StateInTables1795964282154';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "subscription_charge_failures" ("key" character varying(120) NOT NULL, "subscription_id" uuid NOT NULL, "cycle_id" uuid NOT NULL, "gateway_payment_id" character varying(64), "reason" character varying(500) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_1ae931839b9907e7947d208ee22" PRIMARY KEY ("key"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_charge_failures_subscription" ON "subscription_charge_failures"  ("subscription_id", "created_at") `,
    );
    await queryRunner.query(`ALTER TABLE "trips" ADD "suspended_by_subscription_id" uuid`);
    await queryRunner.query(
      `CREATE INDEX "idx_trips_suspended_by" ON "trips"  ("suspended_by_subscription_id") WHERE "suspended_by_subscription_id" IS NOT NULL`,
    );
    // Carry today's state over from the audit log, which held it until now: the failures counted
    // so far (so a late report of one is still a duplicate), and the trips a current suspension hid.
    await queryRunner.query(`
            INSERT INTO "subscription_charge_failures" ("key", "subscription_id", "cycle_id", "gateway_payment_id", "reason", "created_at")
            SELECT left(a."entity_id", 120), (a."after"->>'subscriptionId')::uuid, (a."after"->>'cycleId')::uuid,
                   a."after"->>'gatewayPaymentId', left(coalesce(a."after"->>'reason', 'payment failed'), 500), a."created_at"
              FROM "audit_logs" a
             WHERE a."entity_type" = 'subscription_charge' AND a."action" = 'subscription.charge_failed'
               AND a."after"->>'subscriptionId' IS NOT NULL AND a."after"->>'cycleId' IS NOT NULL
            ON CONFLICT ("key") DO NOTHING`);
    await queryRunner.query(`
            UPDATE "trips" t SET "suspended_by_subscription_id" = s."id"
              FROM "subscriptions" s
              CROSS JOIN LATERAL (
                SELECT a."after" FROM "audit_logs" a
                 WHERE a."entity_type" = 'subscription' AND a."entity_id" = s."id"::text AND a."action" = 'subscription.suspended'
                 ORDER BY a."created_at" DESC, a."id" DESC LIMIT 1) last
             WHERE s."status" = 'suspended' AND t."organizer_id" = s."organizer_id" AND t."status" = 'inactive'
               AND jsonb_typeof(last."after"->'deactivatedTripIds') = 'array'
               AND last."after"->'deactivatedTripIds' @> to_jsonb(t."id"::text)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_trips_suspended_by"`);
    await queryRunner.query(`ALTER TABLE "trips" DROP COLUMN "suspended_by_subscription_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_charge_failures_subscription"`);
    await queryRunner.query(`DROP TABLE "subscription_charge_failures"`);
  }
}
