import { Module } from '@nestjs/common';
import { AdminStatsController } from './admin-stats.controller';
import { AdminStats } from './admin-stats';

/** The admin's headline counts: a read-only service (AdminStats) and its route. */
@Module({
  controllers: [AdminStatsController],
  providers: [AdminStats],
  exports: [AdminStats],
})
export class AdminStatsModule {}
