import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The support desk's agent side (issue 13): SLA notification and platform-opened tickets, system
 * messages, invitations of agents and admins, and pg_trgm indexes so that partial-text search over
 * users and tickets never scans a whole table.
 */
export class SupportDesk1795981156631 implements MigrationInterface {
  name = 'SupportDesk1795981156631';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "support_tickets" ADD "overdue_notified_at" TIMESTAMP WITH TIME ZONE`,
    );
    await queryRunner.query(`ALTER TABLE "support_tickets" ADD "source_key" character varying(100)`);
    await queryRunner.query(`ALTER TABLE "support_ticket_messages" ALTER COLUMN "author_id" DROP NOT NULL`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_tickets_source_key" ON "support_tickets"  ("source_key") WHERE "source_key" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_tickets_assignee_status" ON "support_tickets"  ("assignee_id", "status") `,
    );
    await queryRunner.query(`ALTER TABLE "user_tokens" DROP CONSTRAINT "chk_user_tokens_purpose"`);
    await queryRunner.query(
      `ALTER TABLE "user_tokens" ADD CONSTRAINT "chk_user_tokens_purpose" CHECK ("purpose" IN ('verify_email', 'reset_password', 'invite'))`,
    );
    // pg_trgm: trusted since PostgreSQL 13, in every distribution's contrib and in PGlite.
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await queryRunner.query(`CREATE INDEX "idx_users_name_trgm" ON "users" USING gin ("name" gin_trgm_ops)`);
    await queryRunner.query(
      `CREATE INDEX "idx_users_email_trgm" ON "users" USING gin ("email" gin_trgm_ops)`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_users_phone_trgm" ON "users" USING gin ("phone" gin_trgm_ops)`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_tickets_subject_trgm" ON "support_tickets" USING gin ("subject" gin_trgm_ops)`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_ticket_messages_body_trgm" ON "support_ticket_messages" USING gin ("body" gin_trgm_ops)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_ticket_messages_body_trgm"`);
    await queryRunner.query(`DROP INDEX "public"."idx_tickets_subject_trgm"`);
    await queryRunner.query(`DROP INDEX "public"."idx_users_phone_trgm"`);
    await queryRunner.query(`DROP INDEX "public"."idx_users_email_trgm"`);
    await queryRunner.query(`DROP INDEX "public"."idx_users_name_trgm"`);
    await queryRunner.query(`ALTER TABLE "user_tokens" DROP CONSTRAINT "chk_user_tokens_purpose"`);
    await queryRunner.query(
      `ALTER TABLE "user_tokens" ADD CONSTRAINT "chk_user_tokens_purpose" CHECK ("purpose" IN ('verify_email', 'reset_password'))`,
    );
    await queryRunner.query(`DROP INDEX "public"."idx_tickets_assignee_status"`);
    await queryRunner.query(`DROP INDEX "public"."uq_tickets_source_key"`);
    await queryRunner.query(`ALTER TABLE "support_ticket_messages" ALTER COLUMN "author_id" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "support_tickets" DROP COLUMN "source_key"`);
    await queryRunner.query(`ALTER TABLE "support_tickets" DROP COLUMN "overdue_notified_at"`);
  }
}
