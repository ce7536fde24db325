import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { MetricsService } from './metrics.service';

/** Probes and scrapes: every few seconds from each load balancer and Prometheus. Logged at debug. */
export const QUIET_PATHS = /^\/(?:metrics|api\/v1\/health(?:\/live|\/ready)?)\/?(?:\?|$)/;
/** Razorpay's deliveries (up to ~1,000/s in a burst): the webhook service logs each by its event id. */
const WEBHOOK_PATH = /^\/api\/v1\/webhooks\//;

/** A request's route template, so a label (and a log field) never holds ids: `/api/v1/bookings/:id`. */
export function routeOf(req: Request): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof route === 'string') return `${req.baseUrl}${route}`;
  return req.path === '/metrics' ? '/metrics' : 'unmatched';
}

/**
 * One compact line per request once it is answered: method, route template, status, duration, user
 * id and request id (no headers, no body, no query string: ids and search terms stay out of logs);
 * and its latency in the `http_request_duration_seconds` histogram.
 */
export function observeRequests(logger: Logger, metrics: MetricsService) {
  return (req: Request & { id?: string; user?: { id?: string } }, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req);
      const status = res.statusCode;
      metrics.observeRequest(req.method, route, status, seconds);
      const quiet = QUIET_PATHS.test(req.originalUrl) || WEBHOOK_PATH.test(req.originalUrl);
      const level = status >= 500 ? 'error' : quiet ? 'debug' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const ms = Math.round(seconds * 10_000) / 10;
      const shown = route === 'unmatched' ? req.path : route;
      logger[level](
        {
          method: req.method,
          route: shown,
          status,
          ms,
          userId: req.user?.id,
          reqId: req.id,
        },
        `${req.method} ${shown} ${status} ${ms}ms`,
      );
    });
    next();
  };
}
