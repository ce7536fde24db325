import { Module } from '@nestjs/common';
import { AuditService } from './audit/audit.service';
import { ResponseCache } from './http/response-cache';
import { LoopPressure } from './load/loop-pressure';
import { UnitOfWork } from './uow/unit-of-work';

/** Audit, the response cache, loop pressure and the unit of work: imported by every lib module. */
@Module({
  providers: [AuditService, ResponseCache, LoopPressure, UnitOfWork],
  exports: [AuditService, ResponseCache, LoopPressure, UnitOfWork],
})
export class CommonModule {}
