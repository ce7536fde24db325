import type { AppConfig } from '@trektribe/common';
import type { Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MetricsService } from './metrics.service';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * `GET /metrics`, outside the versioned API (and outside its guards: no rate limit, no sign-in).
 * With METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>` gets the metrics; others
 * get 401 in the API's error envelope.
 */
export function metricsEndpoint(config: Pick<AppConfig, 'metricsToken'>, metrics: MetricsService) {
  const expected = config.metricsToken ? digest(config.metricsToken) : undefined;
  return async (req: Request & { id?: string }, res: Response) => {
    if (expected) {
      const given = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
      if (!given || !timingSafeEqual(digest(given), expected)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
        res.status(401).json({
          success: false,
          error: {
            code: 'UNAUTHORIZED',
            message: 'Metrics need Authorization: Bearer <METRICS_TOKEN>',
            statusCode: 401,
            requestId: req.id,
          },
        });
        return;
      }
    }
    try {
      const { contentType, body } = await metrics.render();
      res.setHeader('Content-Type', contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.status(200).send(body);
    } catch {
      res.status(503).json({
        success: false,
        error: {
          code: 'SERVICE_UNAVAILABLE',
          message: 'Metrics could not be collected (the database may be down)',
          statusCode: 503,
          requestId: req.id,
        },
      });
    }
  };
}
