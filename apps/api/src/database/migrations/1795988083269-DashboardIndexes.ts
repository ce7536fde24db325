import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * For the organizer's pendingVerifications (libs/reporting), measured on the dashboards bench:
 * the organizer's booking ids from the index alone (id added to idx_bookings_organizer, which the
 * organizer's lists sort by, created_at then id), and the pending proofs by booking.
 */
export class DashboardIndexes1795988083269 implements MigrationInterface {
  name = 'DashboardIndexes1795988083269';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_bookings_organizer"`);
    await queryRunner.query(
      `CREATE INDEX "idx_bookings_organizer" ON "bookings"  ("organizer_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_proofs_pending_booking" ON "payment_proofs"  ("booking_id") WHERE "status" = 'pending'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_proofs_pending_booking"`);
    await queryRunner.query(`DROP INDEX "public"."idx_bookings_organizer"`);
    await queryRunner.query(
      `CREATE INDEX "idx_bookings_organizer" ON "bookings" ("organizer_id", "created_at") `,
    );
  }
}
