import { MigrationInterface, QueryRunner } from 'typeorm';

export class Bookings1795249776798 implements MigrationInterface {
  name = 'Bookings1795249776798';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "idempotency_keys" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "key" character varying(255) NOT NULL, "scope" character varying(300) NOT NULL, "request_hash" character(64) NOT NULL, "status" character varying(20) NOT NULL DEFAULT 'in_progress', "response_status" integer, "response_body" jsonb, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_idempotency_status" CHECK ("status" IN ('in_progress', 'completed')), CONSTRAINT "PK_8ad20779ad0411107a56e53d0f6" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_idempotency_created" ON "idempotency_keys"  ("created_at") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_idempotency_user_key" ON "idempotency_keys"  ("user_id", "key") `,
    );
    await queryRunner.query(
      `CREATE TABLE "trips" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "organizer_id" uuid NOT NULL, "title" character varying(200) NOT NULL, "description" text NOT NULL, "destination" character varying(200) NOT NULL, "categories" character varying array NOT NULL DEFAULT '{}', "difficulty_level" character varying(20) NOT NULL, "start_date" date NOT NULL, "end_date" date NOT NULL, "timezone" character varying(64) NOT NULL DEFAULT 'Asia/Kolkata', "price" integer NOT NULL, "currency" character(3) NOT NULL DEFAULT 'INR', "capacity" integer NOT NULL, "seats_booked" integer NOT NULL DEFAULT '0', "itinerary" jsonb NOT NULL DEFAULT '[]', "included_items" character varying array NOT NULL DEFAULT '{}', "requirements" character varying array NOT NULL DEFAULT '{}', "images" character varying array NOT NULL DEFAULT '{}', "status" character varying(20) NOT NULL DEFAULT 'active', "rating_avg" numeric(3,2) NOT NULL DEFAULT '0', "review_count" integer NOT NULL DEFAULT '0', "search_vector" tsvector, "cancelled_at" TIMESTAMP WITH TIME ZONE, "cancel_reason" character varying(500), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_trips_difficulty" CHECK ("difficulty_level" IN ('beginner', 'intermediate', 'advanced')), CONSTRAINT "chk_trips_status" CHECK ("status" IN ('active', 'inactive', 'cancelled', 'completed')), CONSTRAINT "chk_trips_dates" CHECK ("end_date" >= "start_date"), CONSTRAINT "chk_trips_price" CHECK ("price" >= 0), CONSTRAINT "chk_trips_capacity" CHECK ("capacity" >= 1), CONSTRAINT "chk_trips_seats" CHECK ("seats_booked" >= 0 AND "seats_booked" <= "capacity"), CONSTRAINT "PK_f71c231dee9c05a9522f9e840f5" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_trips_created" ON "trips"  ("created_at") `);
    await queryRunner.query(`CREATE INDEX "idx_trips_rating" ON "trips"  ("rating_avg") `);
    await queryRunner.query(`CREATE INDEX "idx_trips_difficulty" ON "trips"  ("difficulty_level") `);
    await queryRunner.query(`CREATE INDEX "idx_trips_price" ON "trips"  ("price") `);
    await queryRunner.query(`CREATE INDEX "idx_trips_organizer" ON "trips"  ("organizer_id", "created_at") `);
    await queryRunner.query(
      `CREATE INDEX "idx_trips_status_start" ON "trips"  ("status", "start_date", "id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "booking_participants" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "booking_id" uuid NOT NULL, "name" character varying(120) NOT NULL, "phone" character varying(20), "age" integer, "dietary_restrictions" character varying(300), CONSTRAINT "chk_participants_age" CHECK ("age" IS NULL OR ("age" >= 0 AND "age" <= 120)), CONSTRAINT "PK_9cc32a61bd698b5831f4e5d66e8" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_participants_booking" ON "booking_participants"  ("booking_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "bookings" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "trip_id" uuid NOT NULL, "traveler_id" uuid NOT NULL, "organizer_id" uuid NOT NULL, "seats" integer NOT NULL, "unit_price" integer NOT NULL, "total_amount" integer NOT NULL, "currency" character(3) NOT NULL DEFAULT 'INR', "status" character varying(20) NOT NULL DEFAULT 'pending', "payment_status" character varying(30) NOT NULL DEFAULT 'unpaid', "payment_method" character varying(20) NOT NULL, "hold_expires_at" TIMESTAMP WITH TIME ZONE, "seats_released_at" TIMESTAMP WITH TIME ZONE, "special_requests" character varying(1000), "cancellation_policy" jsonb NOT NULL, "waitlist_entry_id" uuid, "confirmed_at" TIMESTAMP WITH TIME ZONE, "completed_at" TIMESTAMP WITH TIME ZONE, "cancelled_at" TIMESTAMP WITH TIME ZONE, "cancelled_by" uuid, "cancelled_by_role" character varying(20), "cancel_reason" character varying(500), "refund_amount" integer NOT NULL DEFAULT '0', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_bookings_payment_method" CHECK ("payment_method" IN ('online', 'screenshot')), CONSTRAINT "chk_bookings_payment_status" CHECK ("payment_status" IN ('unpaid', 'awaiting_verification', 'paid', 'failed', 'refund_pending', 'refunded', 'partially_refunded')), CONSTRAINT "chk_bookings_status" CHECK ("status" IN ('pending', 'confirmed', 'completed', 'cancelled', 'expired')), CONSTRAINT "chk_bookings_amount" CHECK ("total_amount" >= 0 AND "refund_amount" >= 0 AND "refund_amount" <= "total_amount"), CONSTRAINT "chk_bookings_seats" CHECK ("seats" BETWEEN 1 AND 10), CONSTRAINT "PK_bee6805982cc1e248e94ce94957" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_bookings_hold_expiry" ON "bookings"  ("hold_expires_at") WHERE "status" = 'pending' AND "seats_released_at" IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_bookings_organizer" ON "bookings"  ("organizer_id", "created_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_bookings_traveler" ON "bookings"  ("traveler_id", "created_at") `,
    );
    await queryRunner.query(`CREATE INDEX "idx_bookings_trip_status" ON "bookings"  ("trip_id", "status") `);
    await queryRunner.query(
      `CREATE TABLE "reviews" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "trip_id" uuid NOT NULL, "booking_id" uuid NOT NULL, "traveler_id" uuid NOT NULL, "rating" integer NOT NULL, "comment" character varying(2000) NOT NULL, "organizer_reply" character varying(2000), "replied_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_reviews_rating" CHECK ("rating" BETWEEN 1 AND 5), CONSTRAINT "PK_231ae565c273ee700b283f15c1d" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_reviews_trip" ON "reviews"  ("trip_id", "created_at", "id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_reviews_booking" ON "reviews"  ("booking_id") `);
    await queryRunner.query(
      `CREATE TABLE "waitlist_entries" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "trip_id" uuid NOT NULL, "traveler_id" uuid NOT NULL, "seats" integer NOT NULL, "status" character varying(20) NOT NULL DEFAULT 'waiting', "offer_booking_id" uuid, "offered_at" TIMESTAMP WITH TIME ZONE, "offer_expires_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_waitlist_status" CHECK ("status" IN ('waiting', 'offered', 'accepted', 'expired', 'cancelled')), CONSTRAINT "chk_waitlist_seats" CHECK ("seats" BETWEEN 1 AND 10), CONSTRAINT "PK_bd0ef66fff81d3be7b7a1568a4d" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_waitlist_active" ON "waitlist_entries"  ("trip_id", "traveler_id") WHERE "status" IN ('waiting', 'offered')`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_waitlist_line" ON "waitlist_entries"  ("trip_id", "status", "created_at", "id") `,
    );
    await queryRunner.query(
      `ALTER TABLE "trips" ADD CONSTRAINT "fk_trips_organizer" FOREIGN KEY ("organizer_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "booking_participants" ADD CONSTRAINT "fk_participants_booking" FOREIGN KEY ("booking_id") REFERENCES "bookings"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "bookings" ADD CONSTRAINT "fk_bookings_trip" FOREIGN KEY ("trip_id") REFERENCES "trips"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "bookings" ADD CONSTRAINT "fk_bookings_traveler" FOREIGN KEY ("traveler_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "reviews" ADD CONSTRAINT "fk_reviews_trip" FOREIGN KEY ("trip_id") REFERENCES "trips"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "reviews" ADD CONSTRAINT "fk_reviews_booking" FOREIGN KEY ("booking_id") REFERENCES "bookings"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "reviews" ADD CONSTRAINT "fk_reviews_traveler" FOREIGN KEY ("traveler_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "waitlist_entries" ADD CONSTRAINT "fk_waitlist_trip" FOREIGN KEY ("trip_id") REFERENCES "trips"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "waitlist_entries" ADD CONSTRAINT "fk_waitlist_traveler" FOREIGN KEY ("traveler_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    // Full-text search: a trigger keeps search_vector in step (title and destination weigh most).
    await queryRunner.query(`CREATE FUNCTION trips_search_vector_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector :=
    setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
    setweight(to_tsvector('simple', coalesce(NEW.destination, '')), 'A') ||
    setweight(to_tsvector('english', coalesce(NEW.destination, '')), 'B') ||
    setweight(to_tsvector('english', coalesce(NEW.description, '')), 'C');
  RETURN NEW;
END $$`);
    await queryRunner.query(
      `CREATE TRIGGER trg_trips_search_vector BEFORE INSERT OR UPDATE OF title, description, destination ON "trips" FOR EACH ROW EXECUTE FUNCTION trips_search_vector_update()`,
    );
    await queryRunner.query(`CREATE INDEX "idx_trips_search" ON "trips" USING GIN ("search_vector")`);
    await queryRunner.query(`CREATE INDEX "idx_trips_categories" ON "trips" USING GIN ("categories")`);
    await queryRunner.query(
      `CREATE INDEX "idx_trips_destination_lower" ON "trips" (lower("destination") text_pattern_ops)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "idx_trips_destination_lower"`);
    await queryRunner.query(`DROP INDEX "idx_trips_categories"`);
    await queryRunner.query(`DROP INDEX "idx_trips_search"`);
    await queryRunner.query(`DROP TRIGGER trg_trips_search_vector ON "trips"`);
    await queryRunner.query(`DROP FUNCTION trips_search_vector_update()`);
    await queryRunner.query(`ALTER TABLE "waitlist_entries" DROP CONSTRAINT "fk_waitlist_traveler"`);
    await queryRunner.query(`ALTER TABLE "waitlist_entries" DROP CONSTRAINT "fk_waitlist_trip"`);
    await queryRunner.query(`ALTER TABLE "reviews" DROP CONSTRAINT "fk_reviews_traveler"`);
    await queryRunner.query(`ALTER TABLE "reviews" DROP CONSTRAINT "fk_reviews_booking"`);
    await queryRunner.query(`ALTER TABLE "reviews" DROP CONSTRAINT "fk_reviews_trip"`);
    await queryRunner.query(`ALTER TABLE "bookings" DROP CONSTRAINT "fk_bookings_traveler"`);
    await queryRunner.query(`ALTER TABLE "bookings" DROP CONSTRAINT "fk_bookings_trip"`);
    await queryRunner.query(`ALTER TABLE "booking_participants" DROP CONSTRAINT "fk_participants_booking"`);
    await queryRunner.query(`ALTER TABLE "trips" DROP CONSTRAINT "fk_trips_organizer"`);
    await queryRunner.query(`DROP INDEX "public"."idx_waitlist_line"`);
    await queryRunner.query(`DROP INDEX "public"."uq_waitlist_active"`);
    await queryRunner.query(`DROP TABLE "waitlist_entries"`);
    await queryRunner.query(`DROP INDEX "public"."uq_reviews_booking"`);
    await queryRunner.query(`DROP INDEX "public"."idx_reviews_trip"`);
    await queryRunner.query(`DROP TABLE "reviews"`);
    await queryRunner.query(`DROP INDEX "public"."idx_bookings_trip_status"`);
    await queryRunner.query(`DROP INDEX "public"."idx_bookings_traveler"`);
    await queryRunner.query(`DROP INDEX "public"."idx_bookings_organizer"`);
    await queryRunner.query(`DROP INDEX "public"."idx_bookings_hold_expiry"`);
    await queryRunner.query(`DROP TABLE "bookings"`);
    await queryRunner.query(`DROP INDEX "public"."idx_participants_booking"`);
    await queryRunner.query(`DROP TABLE "booking_participants"`);
    await queryRunner.query(`DROP INDEX "public"."idx_trips_status_start"`);
    await queryRunner.query(`DROP INDEX "public"."idx_trips_organizer"`);
    await queryRunner.query(`DROP INDEX "public"."idx_trips_price"`);
    await queryRunner.query(`DROP INDEX "public"."idx_trips_difficulty"`);
    await queryRunner.query(`DROP INDEX "public"."idx_trips_rating"`);
    await queryRunner.query(`DROP INDEX "public"."idx_trips_created"`);
    await queryRunner.query(`DROP TABLE "trips"`);
    await queryRunner.query(`DROP INDEX "public"."uq_idempotency_user_key"`);
    await queryRunner.query(`DROP INDEX "public"."idx_idempotency_created"`);
    await queryRunner.query(`DROP TABLE "idempotency_keys"`);
  }
}
