import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CACHED_RESPONSE, ResponseCache } from '@trektribe/common';
import type { Request, Response } from 'express';
import { map, Observable, of } from 'rxjs';

/**
 * Serves @CachedResponse routes from ResponseCache. It sits outside the envelope interceptor, so it
 * keeps the final JSON text: a hit skips the handler, the database and JSON.stringify, but not the
 * guards (rate limits still count every request).
 */
@Injectable()
export class ResponseCacheInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly cache: ResponseCache,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const table =
      context.getType() === 'http' && this.cache.enabled
        ? this.reflector.get<string | undefined>(CACHED_RESPONSE, context.getHandler())
        : undefined;
    if (!table) return next.handle();
    const http = context.switchToHttp();
    const url = http.getRequest<Request>().originalUrl;
    const res = http.getResponse<Response>();
    const cached = this.cache.get(table, url);
    if (cached !== undefined) {
      res.type('json');
      return of(cached);
    }
    const generation = this.cache.generation(table);
    return next.handle().pipe(
      map((value: unknown) => {
        const body = JSON.stringify(value);
        this.cache.set(table, url, body, generation);
        res.type('json');
        return body;
      }),
    );
  }
}
