import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Google sign-in (issue 16): the Google subject an account signs in with (one account per Google
 * account, a database fact), and when an account without a phone completed its profile (once).
 * users.phone and users.password_hash are already nullable: Google accounts start without either.
 */
export class GoogleSignIn1795990000000 implements MigrationInterface {
  name = 'GoogleSignIn1795990000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "google_sub" character varying(255)`);
    await queryRunner.query(`ALTER TABLE "users" ADD "profile_completed_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_users_google_sub" ON "users" ("google_sub") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."uq_users_google_sub"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "profile_completed_at"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "google_sub"`);
  }
}
