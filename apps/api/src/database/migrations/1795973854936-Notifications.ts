import { MigrationInterface, QueryRunner } from 'typeorm';

export class Notifications1795973854936 implements MigrationInterface {
  name = 'Notifications1795973854936';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "notifications" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "type" character varying(80) NOT NULL, "title" character varying(300) NOT NULL, "body" text NOT NULL, "data" jsonb NOT NULL, "dedupe_key" character varying(200), "read_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_6a72c3c0f683f6462415e653c3a" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_notifications_dedupe_key" ON "notifications"  ("dedupe_key") WHERE "dedupe_key" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_notifications_user_unread" ON "notifications"  ("user_id") WHERE "read_at" IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_notifications_user_created" ON "notifications"  ("user_id", "created_at", "id") `,
    );
    await queryRunner.query(`ALTER TABLE "notification_outbox" ADD "user_id" uuid`);
    await queryRunner.query(`ALTER TABLE "notification_outbox" ADD "html" text`);
    await queryRunner.query(
      `CREATE INDEX "idx_outbox_channel_due" ON "notification_outbox"  ("channel", "next_attempt_at") WHERE "status" = 'pending'`,
    );
    // SMS and WhatsApp rows, and `skipped` for a channel with no provider configured.
    await queryRunner.query(`ALTER TABLE "notification_outbox" DROP CONSTRAINT "chk_outbox_channel"`);
    await queryRunner.query(
      `ALTER TABLE "notification_outbox" ADD CONSTRAINT "chk_outbox_channel" CHECK ("channel" IN ('email', 'sms', 'whatsapp', 'realtime'))`,
    );
    await queryRunner.query(`ALTER TABLE "notification_outbox" DROP CONSTRAINT "chk_outbox_status"`);
    await queryRunner.query(
      `ALTER TABLE "notification_outbox" ADD CONSTRAINT "chk_outbox_status" CHECK ("status" IN ('pending', 'sent', 'failed', 'skipped'))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "notification_outbox" DROP CONSTRAINT "chk_outbox_status"`);
    await queryRunner.query(
      `ALTER TABLE "notification_outbox" ADD CONSTRAINT "chk_outbox_status" CHECK ("status" IN ('pending', 'sent', 'failed'))`,
    );
    await queryRunner.query(`ALTER TABLE "notification_outbox" DROP CONSTRAINT "chk_outbox_channel"`);
    await queryRunner.query(
      `ALTER TABLE "notification_outbox" ADD CONSTRAINT "chk_outbox_channel" CHECK ("channel" IN ('email', 'realtime'))`,
    );
    await queryRunner.query(`DROP INDEX "public"."idx_outbox_channel_due"`);
    await queryRunner.query(`ALTER TABLE "notification_outbox" DROP COLUMN "html"`);
    await queryRunner.query(`ALTER TABLE "notification_outbox" DROP COLUMN "user_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_notifications_user_created"`);
    await queryRunner.query(`DROP INDEX "public"."idx_notifications_user_unread"`);
    await queryRunner.query(`DROP INDEX "public"."uq_notifications_dedupe_key"`);
    await queryRunner.query(`DROP TABLE "notifications"`);
  }
}
