import { MigrationInterface, QueryRunner } from 'typeorm';

/** When the bank confirmed an organizer's auto-pay mandate: the authorisation payment is refunded then. */
export class MandateConfirmed1795962049869 implements MigrationInterface {
  name = 'MandateConfirmed1795962049869';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "subscriptions" ADD "token_confirmed_at" TIMESTAMP WITH TIME ZONE`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "subscriptions" DROP COLUMN "token_confirmed_at"`);
  }
}
