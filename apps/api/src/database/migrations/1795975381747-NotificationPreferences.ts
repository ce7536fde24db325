import { MigrationInterface, QueryRunner } from 'typeorm';

export class NotificationPreferences1795975381747 implements MigrationInterface {
  name = 'NotificationPreferences1795975381747';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "notification_preferences" ("user_id" uuid NOT NULL, "email" boolean NOT NULL, "sms" boolean NOT NULL, "whatsapp" boolean NOT NULL, "in_app" boolean NOT NULL, "types" jsonb NOT NULL, "quiet_start" character varying(5), "quiet_end" character varying(5), "timezone" character varying(64) NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_64c90edc7310c6be7c10c96f675" PRIMARY KEY ("user_id"))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "notification_preferences"`);
  }
}
