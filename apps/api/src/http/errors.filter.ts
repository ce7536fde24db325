import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { DomainError, ERROR_STATUS, ErrorCode, ErrorDetail } from '@trektribe/common';
import type { Request, Response } from 'express';

interface ErrorBody {
  success: false;
  error: { code: string; message: string; statusCode: number; details?: ErrorDetail[]; requestId?: string };
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION_ERROR',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'BUSINESS_RULE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** Thrown by the validation pipe with per-field details. */
export class ValidationFailed extends HttpException {
  constructor(readonly details: ErrorDetail[]) {
    super('Validation failed', HttpStatus.BAD_REQUEST);
  }
}

/**
 * Every error leaves in one envelope. Domain codes map to statuses here and nowhere else; anything
 * unexpected is a 500 that is logged in full and shown to the client without stack, SQL or secrets.
 */
@Catch()
export class ErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request & { id?: string }>();
    const res = ctx.getResponse<Response>();
    const { status, body, headers } = this.toEnvelope(exception, req);
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(headers ?? {})) res.setHeader(k, v);
    res.status(status).json(body);
  }

  toEnvelope(
    exception: unknown,
    req: Request & { id?: string },
  ): { status: number; body: ErrorBody; headers?: Record<string, string> } {
    const requestId = typeof req.id === 'string' ? req.id : undefined;
    const make = (code: string, message: string, status: number, details?: ErrorDetail[]) => ({
      status,
      body: {
        success: false as const,
        error: { code, message, statusCode: status, ...(details?.length ? { details } : {}), requestId },
      },
    });

    if (exception instanceof DomainError) {
      return {
        ...make(exception.code, exception.message, exception.status, exception.details),
        headers: exception.headers,
      };
    }
    if (exception instanceof ValidationFailed) {
      return make('VALIDATION_ERROR', 'Some fields are invalid', 400, exception.details);
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404 && /^Cannot (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)/.test(exception.message)) {
        return make('ROUTE_NOT_FOUND', `No route for ${req.method} ${req.originalUrl.split('?')[0]}`, 404);
      }
      const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST');
      if (status >= 500) this.logger.error({ err: exception, requestId }, 'unhandled http exception');
      const message = status >= 500 ? 'Something went wrong on our side' : exception.message;
      return make(code, message, status);
    }
    // body-parser and multer errors carry their own status and type
    const e = exception as {
      status?: number;
      statusCode?: number;
      type?: string;
      code?: string;
      message?: string;
    };
    const status = e?.status ?? e?.statusCode;
    if (e?.type === 'entity.parse.failed')
      return make('MALFORMED_JSON', 'The request body is not valid JSON', 400);
    if (e?.type === 'entity.too.large' || e?.code === 'LIMIT_FILE_SIZE') {
      return make('PAYLOAD_TOO_LARGE', 'The request body is too large', 413);
    }
    if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
      return make('UNSUPPORTED_MEDIA_TYPE', 'Unsupported content encoding', 415);
    }
    if (typeof status === 'number' && status >= 400 && status < 500 && e?.type) {
      return make(CODE_BY_STATUS[status] ?? 'BAD_REQUEST', 'The request could not be read', status);
    }
    this.logger.error({ err: exception, requestId }, 'unexpected error');
    return make('INTERNAL_ERROR', 'Something went wrong on our side', ERROR_STATUS.INTERNAL_ERROR);
  }
}
