import { MigrationInterface, QueryRunner } from 'typeorm';

export class Billing1795250362869 implements MigrationInterface {
  name = 'Billing1795250362869';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "payment_orders" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "purpose" character varying(40) NOT NULL, "booking_id" uuid, "subscription_id" uuid, "cycle_id" uuid, "payer_id" uuid NOT NULL, "amount" integer NOT NULL, "currency" character(3) NOT NULL DEFAULT 'INR', "receipt" character varying(40) NOT NULL, "gateway_order_id" character varying(64) NOT NULL, "status" character varying(20) NOT NULL DEFAULT 'created', "superseded_at" TIMESTAMP WITH TIME ZONE, "paid_at" TIMESTAMP WITH TIME ZONE, "last_reconciled_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_orders_amount" CHECK ("amount" >= 0), CONSTRAINT "chk_orders_status" CHECK ("status" IN ('created', 'attempted', 'paid')), CONSTRAINT "chk_orders_purpose" CHECK ("purpose" IN ('booking', 'subscription', 'subscription_authorization')), CONSTRAINT "PK_158dd178010c39759305293a149" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_orders_subscription" ON "payment_orders"  ("subscription_id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_orders_pending" ON "payment_orders"  ("status", "created_at") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_orders_live_booking" ON "payment_orders"  ("booking_id") WHERE "booking_id" IS NOT NULL AND "status" <> 'paid' AND "superseded_at" IS NULL`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_orders_receipt" ON "payment_orders"  ("receipt") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_orders_gateway_id" ON "payment_orders"  ("gateway_order_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "payments" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "order_id" uuid, "booking_id" uuid, "subscription_id" uuid, "payer_id" uuid NOT NULL, "method" character varying(20) NOT NULL, "gateway_payment_id" character varying(64), "amount" integer NOT NULL, "currency" character(3) NOT NULL DEFAULT 'INR', "status" character varying(30) NOT NULL, "amount_refunded" integer NOT NULL DEFAULT '0', "gateway_method" character varying(30), "error_code" character varying(100), "error_description" character varying(500), "captured_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_payments_amounts" CHECK ("amount" >= 0 AND "amount_refunded" >= 0 AND "amount_refunded" <= "amount"), CONSTRAINT "chk_payments_method" CHECK ("method" IN ('online', 'screenshot', 'recurring')), CONSTRAINT "chk_payments_status" CHECK ("status" IN ('authorized', 'captured', 'failed', 'refunded', 'partially_refunded')), CONSTRAINT "PK_197ab7af18c93fbb0c9b28b4a59" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_payments_order" ON "payments"  ("order_id") `);
    await queryRunner.query(`CREATE INDEX "idx_payments_created" ON "payments"  ("created_at", "id") `);
    await queryRunner.query(`CREATE INDEX "idx_payments_payer" ON "payments"  ("payer_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "idx_payments_booking" ON "payments"  ("booking_id") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_payments_gateway_id" ON "payments"  ("gateway_payment_id") WHERE "gateway_payment_id" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE TABLE "payment_proofs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "booking_id" uuid NOT NULL, "uploader_id" uuid NOT NULL, "storage_name" character varying(100) NOT NULL, "mime_type" character varying(50) NOT NULL, "size_bytes" integer NOT NULL, "sha256" character(64) NOT NULL, "upi_reference" character varying(64), "status" character varying(20) NOT NULL DEFAULT 'pending', "flagged_duplicate" boolean NOT NULL DEFAULT false, "duplicate_of_booking_id" uuid, "reviewed_by" uuid, "reviewed_at" TIMESTAMP WITH TIME ZONE, "review_note" character varying(500), "escalated_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_proofs_size" CHECK ("size_bytes" > 0 AND "size_bytes" <= 5242880), CONSTRAINT "chk_proofs_status" CHECK ("status" IN ('pending', 'approved', 'rejected')), CONSTRAINT "PK_fdea03d16d4d7450e41c94e1622" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_proofs_pending" ON "payment_proofs"  ("status", "created_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_proofs_upi_ref" ON "payment_proofs"  ("upi_reference") WHERE "upi_reference" IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX "idx_proofs_sha256" ON "payment_proofs"  ("sha256") `);
    await queryRunner.query(
      `CREATE INDEX "idx_proofs_booking" ON "payment_proofs"  ("booking_id", "created_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "refunds" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "payment_id" uuid, "booking_id" uuid, "amount" integer NOT NULL, "currency" character(3) NOT NULL DEFAULT 'INR', "status" character varying(20) NOT NULL DEFAULT 'pending', "idempotency_key" character varying(64) NOT NULL, "gateway_refund_id" character varying(64), "reason" character varying(500), "attempts" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE, "last_error" character varying(500), "processed_at" TIMESTAMP WITH TIME ZONE, "requested_by" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_refunds_amount" CHECK ("amount" > 0), CONSTRAINT "chk_refunds_status" CHECK ("status" IN ('pending', 'processed', 'failed', 'manual_due', 'manual_paid')), CONSTRAINT "PK_5106efb01eeda7e49a78b869738" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_refunds_booking" ON "refunds"  ("booking_id") `);
    await queryRunner.query(`CREATE INDEX "idx_refunds_due" ON "refunds"  ("status", "next_attempt_at") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_refunds_gateway_id" ON "refunds"  ("gateway_refund_id") WHERE "gateway_refund_id" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_refunds_idempotency" ON "refunds"  ("idempotency_key") `,
    );
    await queryRunner.query(
      `CREATE TABLE "subscription_cycles" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "subscription_id" uuid NOT NULL, "cycle" integer NOT NULL, "amount" integer NOT NULL, "period_start" TIMESTAMP WITH TIME ZONE NOT NULL, "period_end" TIMESTAMP WITH TIME ZONE NOT NULL, "status" character varying(20) NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT '0', "gateway_order_id" character varying(64), "gateway_payment_id" character varying(64), "last_attempt_at" TIMESTAMP WITH TIME ZONE, "next_retry_at" TIMESTAMP WITH TIME ZONE, "last_error" character varying(500), "paid_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_cycles_cycle" CHECK ("cycle" >= 1), CONSTRAINT "chk_cycles_status" CHECK ("status" IN ('pending', 'charging', 'paid', 'failed')), CONSTRAINT "PK_fd1c05aabb5b13b2563d60f42c1" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_cycles_status" ON "subscription_cycles"  ("status", "next_retry_at") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_cycles_subscription_cycle" ON "subscription_cycles"  ("subscription_id", "cycle") `,
    );
    await queryRunner.query(
      `CREATE TABLE "subscriptions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "organizer_id" uuid NOT NULL, "status" character varying(20) NOT NULL DEFAULT 'trial', "trial_ends_at" TIMESTAMP WITH TIME ZONE NOT NULL, "current_period_end" TIMESTAMP WITH TIME ZONE NOT NULL, "next_charge_at" TIMESTAMP WITH TIME ZONE, "amount" integer NOT NULL DEFAULT '149900', "currency" character(3) NOT NULL DEFAULT 'INR', "gateway_customer_id" character varying(64), "gateway_token_id" character varying(64), "failed_attempts" integer NOT NULL DEFAULT '0', "cancel_at_period_end" boolean NOT NULL DEFAULT false, "suspended_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_subscriptions_amount" CHECK ("amount" > 0), CONSTRAINT "chk_subscriptions_status" CHECK ("status" IN ('trial', 'active', 'past_due', 'suspended', 'cancelled')), CONSTRAINT "PK_a87248d73155605cf782be9ee5e" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_subscriptions_due" ON "subscriptions"  ("status", "next_charge_at") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_subscriptions_organizer" ON "subscriptions"  ("organizer_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "webhook_events" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "event_id" character varying(100) NOT NULL, "event_type" character varying(60) NOT NULL, "payload" jsonb NOT NULL, "outcome" character varying(200), "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_4cba37e6a0acb5e1fc49c34ebfd" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_webhook_events_received" ON "webhook_events"  ("received_at") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_webhook_events_event_id" ON "webhook_events"  ("event_id") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."uq_webhook_events_event_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_webhook_events_received"`);
    await queryRunner.query(`DROP TABLE "webhook_events"`);
    await queryRunner.query(`DROP INDEX "public"."uq_subscriptions_organizer"`);
    await queryRunner.query(`DROP INDEX "public"."idx_subscriptions_due"`);
    await queryRunner.query(`DROP TABLE "subscriptions"`);
    await queryRunner.query(`DROP INDEX "public"."uq_cycles_subscription_cycle"`);
    await queryRunner.query(`DROP INDEX "public"."idx_cycles_status"`);
    await queryRunner.query(`DROP TABLE "subscription_cycles"`);
    await queryRunner.query(`DROP INDEX "public"."uq_refunds_idempotency"`);
    await queryRunner.query(`DROP INDEX "public"."uq_refunds_gateway_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_refunds_due"`);
    await queryRunner.query(`DROP INDEX "public"."idx_refunds_booking"`);
    await queryRunner.query(`DROP TABLE "refunds"`);
    await queryRunner.query(`DROP INDEX "public"."idx_proofs_booking"`);
    await queryRunner.query(`DROP INDEX "public"."idx_proofs_sha256"`);
    await queryRunner.query(`DROP INDEX "public"."idx_proofs_upi_ref"`);
    await queryRunner.query(`DROP INDEX "public"."idx_proofs_pending"`);
    await queryRunner.query(`DROP TABLE "payment_proofs"`);
    await queryRunner.query(`DROP INDEX "public"."uq_payments_gateway_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_payments_booking"`);
    await queryRunner.query(`DROP INDEX "public"."idx_payments_payer"`);
    await queryRunner.query(`DROP INDEX "public"."idx_payments_created"`);
    await queryRunner.query(`DROP INDEX "public"."idx_payments_order"`);
    await queryRunner.query(`DROP TABLE "payments"`);
    await queryRunner.query(`DROP INDEX "public"."uq_orders_gateway_id"`);
    await queryRunner.query(`DROP INDEX "public"."uq_orders_receipt"`);
    await queryRunner.query(`DROP INDEX "public"."uq_orders_live_booking"`);
    await queryRunner.query(`DROP INDEX "public"."idx_orders_pending"`);
    await queryRunner.query(`DROP INDEX "public"."idx_orders_subscription"`);
    await queryRunner.query(`DROP TABLE "payment_orders"`);
  }
}
