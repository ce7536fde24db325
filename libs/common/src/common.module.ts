import { Global, Module } from '@nestjs/common';
import { AuditService } from './audit/audit.service';
import { ResponseCache } from './http/response-cache';
import { LoopPressure } from './load/loop-pressure';

@Global()
@Module({
  providers: [AuditService, ResponseCache, LoopPressure],
  exports: [AuditService, ResponseCache, LoopPressure],
})
export class CommonModule {}
