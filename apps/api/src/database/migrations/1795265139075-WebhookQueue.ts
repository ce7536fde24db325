import { MigrationInterface, QueryRunner } from 'typeorm';

export class WebhookQueue1795265139075 implements MigrationInterface {
  name = 'WebhookQueue1795265139075';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "webhook_events" ADD "processed_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "webhook_events" ADD "claimed_until" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "webhook_events" ADD "attempts" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "webhook_events" ADD "last_error" character varying(300)`);
    // Rows stored before this migration were applied in the transaction that stored them.
    await queryRunner.query(
      `UPDATE "webhook_events" SET "processed_at" = "received_at", "outcome" = COALESCE("outcome", 'applied')`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_webhook_events_unprocessed" ON "webhook_events"  ("received_at") WHERE "processed_at" IS NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE "webhook_events" ADD CONSTRAINT "chk_webhook_events_processed_outcome" CHECK ("processed_at" IS NULL OR "outcome" IS NOT NULL)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "webhook_events" DROP CONSTRAINT "chk_webhook_events_processed_outcome"`,
    );
    await queryRunner.query(`DROP INDEX "public"."idx_webhook_events_unprocessed"`);
    await queryRunner.query(`ALTER TABLE "webhook_events" DROP COLUMN "last_error"`);
    await queryRunner.query(`ALTER TABLE "webhook_events" DROP COLUMN "attempts"`);
    await queryRunner.query(`ALTER TABLE "webhook_events" DROP COLUMN "claimed_until"`);
    await queryRunner.query(`ALTER TABLE "webhook_events" DROP COLUMN "processed_at"`);
  }
}
