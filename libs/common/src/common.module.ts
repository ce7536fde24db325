import { Module } from '@nestjs/common';
import { AuditService } from './audit/audit.service';
import { CsvExport } from './http/csv-export';
import { ResponseCache } from './http/response-cache';
import { LoopPressure } from './load/loop-pressure';
import { UnitOfWork } from './uow/unit-of-work';

/** Audit, the response cache, loop pressure, the unit of work and CSV exports: imported by every lib module. */
@Module({
  providers: [AuditService, ResponseCache, LoopPressure, UnitOfWork, CsvExport],
  exports: [AuditService, ResponseCache, LoopPressure, UnitOfWork, CsvExport],
})
export class CommonModule {}
