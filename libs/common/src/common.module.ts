import { Global, Module } from '@nestjs/common';
import { AuditService } from './audit/audit.service';
import { ResponseCache } from './http/response-cache';

@Global()
@Module({ providers: [AuditService, ResponseCache], exports: [AuditService, ResponseCache] })
export class CommonModule {}
