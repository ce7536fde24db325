import type { LoggerService } from '@nestjs/common';
import type { AppConfig } from '@trektribe/common';
import { ClsServiceManager } from 'nestjs-cls';
import { hostname } from 'node:os';
import pino, { type Level, type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * Nest's own start-up chatter: one line per module, controller and route (over a hundred at boot).
 * Kept at debug, so `LOG_LEVEL=debug` still shows it; the boot summary (main.ts) says what matters.
 */
const FRAMEWORK_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
  'WebSocketsController',
]);

/** Fields the pretty output shows in its own way (or not at all). */
const PRETTY_HIDDEN = 'pid,hostname,context,reqId,userId,method,route,status,ms';

/**
 * The process's one pino logger. `json` (production): one object per line on stdout, for a log
 * collector. `pretty` (development): one readable line per entry, coloured on a terminal.
 */
export function createRootLogger(config: Pick<AppConfig, 'logLevel' | 'logFormat'>): Logger {
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    base: config.logFormat === 'json' ? { host: hostname() } : undefined,
    // Credentials never reach a log line, whoever logs an object holding them.
    redact: {
      paths: ['authorization', 'cookie', '*.authorization', '*.cookie', '*.password', '*.token'],
      censor: '[redacted]',
    },
  };
  if (config.logFormat === 'json') return pino(options);
  return pino(
    options,
    pretty({
      colorize: Boolean(process.stdout.isTTY),
      singleLine: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: PRETTY_HIDDEN,
      messageFormat: (log, messageKey) => {
        const context = typeof log.context === 'string' ? `[${log.context}] ` : '';
        const user = typeof log.userId === 'string' ? ` user=${log.userId}` : '';
        const req = typeof log.reqId === 'string' ? ` req=${log.reqId}` : '';
        return `${context}${String(log[messageKey] ?? '')}${user}${req}`;
      },
    }),
  );
}

/**
 * Nest's LoggerService over pino, with the calling conventions the code base uses:
 * `logger.error({ err, job }, 'job failed')` (an object of fields, then the message) and Nest's
 * `log(message, context)`; the context is the last argument, as Nest's Logger appends it. Lines
 * written while a request is being handled carry its request id (from the CLS store).
 */
export class AppLogger implements LoggerService {
  constructor(private readonly root: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    const fields: Record<string, unknown> = {};
    let rest = params;
    if (params.length) {
      const context = params[params.length - 1];
      if (typeof context === 'string') fields.context = context;
      rest = params.slice(0, -1);
    }
    if (level === 'info' && FRAMEWORK_CONTEXTS.has(fields.context as string)) level = 'debug';
    if (!this.root.isLevelEnabled(level)) return;
    const reqId = requestId();
    if (reqId) fields.reqId = reqId;
    if (message instanceof Error) {
      fields.err = message;
      this.root[level](fields, typeof rest[0] === 'string' ? rest[0] : message.message);
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(fields, message);
      this.root[level](fields, typeof rest[0] === 'string' ? rest[0] : undefined);
    } else if (level === 'error' && typeof rest[0] === 'string' && rest[0].includes('\n    at ')) {
      // Nest's exception handlers call error(message, stack, context).
      const err = new Error(String(message));
      err.stack = rest[0];
      fields.err = err;
      this.root.error(fields, String(message));
    } else {
      this.root[level](fields, String(message));
    }
  }
}

function requestId(): string | undefined {
  const cls = ClsServiceManager.getClsService();
  if (!cls.isActive()) return undefined;
  const id: unknown = cls.get('requestId');
  return typeof id === 'string' ? id : undefined;
}
