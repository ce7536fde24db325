import { MigrationInterface, QueryRunner } from 'typeorm';

export class AdminBookingsIndex1795982006781 implements MigrationInterface {
  name = 'AdminBookingsIndex1795982006781';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "idx_bookings_created" ON "bookings"  ("created_at", "id") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_bookings_created"`);
  }
}
