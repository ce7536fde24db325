import { MigrationInterface, QueryRunner } from 'typeorm';

export class SupportTickets1795978478397 implements MigrationInterface {
  name = 'SupportTickets1795978478397';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "support_tickets" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "customer_id" uuid NOT NULL, "subject" character varying(200) NOT NULL, "category" character varying(20) NOT NULL, "status" character varying(20) NOT NULL DEFAULT 'open', "priority" character varying(10) NOT NULL DEFAULT 'normal', "booking_id" uuid, "payment_id" uuid, "assignee_id" uuid, "first_response_due_at" TIMESTAMP WITH TIME ZONE NOT NULL, "first_response_at" TIMESTAMP WITH TIME ZONE, "resolved_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_tickets_priority" CHECK ("priority" IN ('normal', 'high')), CONSTRAINT "chk_tickets_status" CHECK ("status" IN ('open', 'pending', 'resolved', 'closed')), CONSTRAINT "chk_tickets_category" CHECK ("category" IN ('booking', 'payment', 'refund', 'account', 'listing', 'other')), CONSTRAINT "PK_942e8d8f5df86100471d2324643" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_tickets_status_due" ON "support_tickets"  ("status", "first_response_due_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_tickets_customer_created" ON "support_tickets"  ("customer_id", "created_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "support_ticket_messages" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "ticket_id" uuid NOT NULL, "author_id" uuid NOT NULL, "author_role" character varying(20) NOT NULL, "body" text NOT NULL, "internal" boolean NOT NULL DEFAULT false, "channel" character varying(20), "delivery" character varying(20), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_c3e561853b6b303f74fde5a3e1f" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_ticket_messages_ticket_created" ON "support_ticket_messages"  ("ticket_id", "created_at") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_ticket_messages_ticket_created"`);
    await queryRunner.query(`DROP TABLE "support_ticket_messages"`);
    await queryRunner.query(`DROP INDEX "public"."idx_tickets_customer_created"`);
    await queryRunner.query(`DROP INDEX "public"."idx_tickets_status_due"`);
    await queryRunner.query(`DROP TABLE "support_tickets"`);
  }
}
