import { Module } from '@nestjs/common';
import { CommonModule } from '@trektribe/common';
import { MetricsService } from './metrics.service';

/** The process's Prometheus metrics; served at `GET /metrics` by bootstrap (metrics-endpoint.ts). */
@Module({ imports: [CommonModule], providers: [MetricsService], exports: [MetricsService] })
export class ObservabilityModule {}
