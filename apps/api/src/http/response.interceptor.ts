import { CallHandler, ExecutionContext, Injectable, NestInterceptor, StreamableFile } from '@nestjs/common';
import { Page } from '@trektribe/common';
import { map, Observable } from 'rxjs';

/**
 * `{ success: true, data, meta? }` for every successful JSON answer; a Page puts its paging in meta.
 * A file (a CSV export) is not JSON: it goes out as it is, streamed.
 */
@Injectable()
export class ResponseEnvelopeInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    return next.handle().pipe(
      map((value: unknown) => {
        const res = context.switchToHttp().getResponse<{ statusCode: number }>();
        if (res.statusCode === 204) return undefined;
        if (value instanceof StreamableFile) return value;
        if (value instanceof Page) {
          return {
            success: true,
            data: value.items,
            meta: { page: value.page, limit: value.limit, total: value.total, ...value.extra },
          };
        }
        return { success: true, data: value ?? null };
      }),
    );
  }
}
