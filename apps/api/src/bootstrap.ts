import { INestApplication, Logger as NestLogger, VersioningType } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { allErrorCodes, type AppConfig, type Clock } from '@trektribe/common';
import cookieParser from 'cookie-parser';
import express, { Express, NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { EmbeddedPostgres, startEmbeddedPostgres } from './database/embedded-postgres';
import { ErrorsFilter } from './http/errors.filter';
import { requestIdFor } from './http/request-id';
import { AppLogger, createRootLogger } from './observability/logger';
import { metricsEndpoint } from './observability/metrics-endpoint';
import { MetricsService } from './observability/metrics.service';
import { observeRequests } from './observability/request-log';
import { RedisIoAdapter } from './realtime/redis-io.adapter';

export const BODY_LIMIT = '1mb';

/**
 * Transport-level setup shared by `main.ts` and the e2e tests, so tests exercise the real stack:
 * request ids, body limits, envelopes for parser errors, helmet, CORS, versioning and Swagger.
 */
export function configureApp(app: NestExpressApplication, config: AppConfig, logger: Logger): void {
  const filter = new ErrorsFilter();
  // Off unless TRUST_PROXY names the proxies: otherwise any caller could pick its own rate-limit key.
  app.set('trust proxy', config.trustProxy);
  if (config.trustProxy === false) {
    // A proxy in front that nobody told us about makes every client share its address: say so once.
    let warned = false;
    app.use((req: Request, _res: Response, next: NextFunction) => {
      if (!warned && req.headers['x-forwarded-for'] !== undefined) {
        warned = true;
        new NestLogger('TrustProxy').warn(
          "A request came with X-Forwarded-For, which is ignored: TRUST_PROXY is unset. Behind a proxy, set it (docs/OPERATIONS.md) or every client shares the proxy's rate limits.",
        );
      }
      next();
    });
  }
  app.disable('x-powered-by');
  app.use((req: Request & { id?: string }, res: Response, next: NextFunction) => {
    req.id = requestIdFor(req, res);
    next();
  });
  const metrics = app.get(MetricsService);
  app.use(observeRequests(logger, metrics));
  // Outside /api/v1 and Nest's guards: scrapes are neither rate limited nor signed in (METRICS_TOKEN).
  (app.getHttpAdapter().getInstance() as Express).get('/metrics', metricsEndpoint(config, metrics));
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: { 'img-src': ["'self'", 'data:', 'https:'], 'script-src': ["'self'", "'unsafe-inline'"] },
      },
    }),
  );
  app.enableCors({ origin: config.corsOrigins.length ? config.corsOrigins : false, credentials: true });
  app.use(cookieParser());
  app.use(
    express.json({
      limit: BODY_LIMIT,
      // The Razorpay signature is over the exact bytes received, so webhooks keep them.
      verify: (req: Request & { rawBody?: Buffer }, _res, buf) => {
        if (req.url.startsWith('/api/v1/webhooks/')) req.rawBody = Buffer.from(buf);
      },
    }),
  );
  app.use(express.urlencoded({ extended: false, limit: BODY_LIMIT }));
  // Parser errors (malformed JSON, too large) happen before Nest's router: envelope them here.
  app.use((err: unknown, req: Request & { id?: string }, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const { status, body } = filter.toEnvelope(err, req);
    res.status(status).json(body);
  });
  app.setGlobalPrefix('api');
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
  app.useWebSocketAdapter(new RedisIoAdapter(app, config));

  const doc = new DocumentBuilder()
    .setTitle('TrekTribe API')
    .setDescription(
      'Marketplace for trekking and adventure travel. Every answer is `{ success, data, meta? }` or `{ success: false, error }`. Money is integer paise.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .addCookieAuth('access_token')
    .build();
  SwaggerModule.setup('api/docs', app, () => withErrorEnvelope(SwaggerModule.createDocument(app, doc)), {
    jsonDocumentUrl: 'api/docs-json',
  });
}

export interface RunningApp {
  app: INestApplication;
  /** The process's pino logger (the one Nest's Logger writes to). */
  logger: Logger;
  embedded?: EmbeddedPostgres;
  close(): Promise<void>;
}

/** Builds the app; starts embedded PostgreSQL first when no DATABASE_URL is configured. */
export async function createApp(config: AppConfig, overrides: { clock?: Clock } = {}): Promise<RunningApp> {
  const logger = createRootLogger(config);
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir);
  try {
    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot(config, config.databaseUrl ?? embedded!.url, {
        ...overrides,
        embedded: Boolean(embedded),
      }),
      { bodyParser: false, logger: new AppLogger(logger) },
    );
    configureApp(app, config, logger);
    return {
      app,
      logger,
      embedded,
      async close() {
        await app.close();
        await embedded?.stop();
      },
    };
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
}

/**
 * The error envelope every route answers with, and every code it may carry with its HTTP status:
 * the shared ones and those each lib registers (booking.errors.ts, billing.errors.ts).
 */
function withErrorEnvelope(document: OpenAPIObject): OpenAPIObject {
  const codes = Object.entries(allErrorCodes()).sort(([a], [b]) => (a < b ? -1 : 1));
  document.components ??= {};
  document.components.schemas = {
    ...document.components.schemas,
    ErrorEnvelope: {
      type: 'object',
      required: ['success', 'error'],
      properties: {
        success: { type: 'boolean', enum: [false] },
        error: {
          type: 'object',
          required: ['code', 'message', 'statusCode'],
          properties: {
            code: {
              type: 'string',
              enum: codes.map(([code]) => code),
              description: codes.map(([code, status]) => `${code} (${status})`).join(', '),
            },
            message: { type: 'string' },
            statusCode: { type: 'integer' },
            details: {
              type: 'array',
              items: {
                type: 'object',
                properties: { field: { type: 'string' }, message: { type: 'string' } },
              },
            },
            requestId: { type: 'string' },
          },
        },
      },
    },
  };
  return document;
}
