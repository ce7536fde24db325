import { CallHandler, ExecutionContext, Injectable, NestInterceptor, UseInterceptors } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { catchError, from, mergeMap, Observable, of, throwError } from 'rxjs';
import { DataSource } from 'typeorm';
import { Clock } from '../clock';
import { DomainError } from '../errors/domain-error';
import { returnedRows } from '../db';
import { IdempotencyKey } from './idempotency-key.entity';

const KEY_RULE = /^[A-Za-z0-9_.:-]{8,255}$/;
const TTL_MS = 24 * 3_600_000;

interface Req {
  method: string;
  originalUrl: string;
  route?: { path?: string };
  path: string;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  user?: { id: string };
}

/**
 * The request a key stands for: the method and the concrete path (ids included, so one key on two
 * bookings is two requests), in the one spelling the router treats alike: routing ignores letter
 * case and a trailing slash, and UUIDs are case-insensitive.
 */
export function requestScope(method: string, originalUrl: string): string {
  const path = originalUrl
    .split('?')[0]
    .toLowerCase()
    .replace(/\/{2,}/g, '/')
    .replace(/(.)\/$/, '$1');
  return `${method.toUpperCase()} ${path}`.slice(0, 300);
}

/**
 * JSON with object keys in code-point order at every depth: the fingerprint of a body whatever
 * order its client serialised the keys in. Array order is kept (it means something).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/**
 * `Idempotency-Key` for POSTs that create money or seats: the same key from the same user within 24 h
 * returns the first answer and does nothing twice; the same key with another body is 422; a repeat
 * while the first is still running is 409. A failed first attempt frees the key for a retry.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const req = http.getRequest<Req>();
    const res = http.getResponse<{ setHeader(k: string, v: string): void }>();
    const raw = req.headers['idempotency-key'];
    if (raw === undefined || !req.user) return next.handle();
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (!KEY_RULE.test(key)) {
      throw new DomainError('VALIDATION_ERROR', 'Invalid Idempotency-Key', [
        { field: 'Idempotency-Key', message: 'must be 8 to 255 characters of letters, digits, _ . : -' },
      ]);
    }
    const scope = requestScope(req.method, req.originalUrl);
    const hash = createHash('sha256')
      .update(scope)
      .update('\n')
      .update(canonicalJson(req.body ?? null))
      .digest('hex');
    const claim = await this.claim(req.user.id, key, scope, hash);
    if (claim.replay) {
      res.setHeader('Idempotent-Replayed', 'true');
      return of(claim.body);
    }
    return next.handle().pipe(
      mergeMap((body) =>
        from(
          this.dataSource.query(
            `UPDATE idempotency_keys SET status = 'completed', response_body = $2 WHERE id = $1`,
            [claim.id, JSON.stringify(body ?? null)],
          ),
        ).pipe(mergeMap(() => of(body))),
      ),
      catchError((err: unknown) =>
        from(this.dataSource.query(`DELETE FROM idempotency_keys WHERE id = $1`, [claim.id])).pipe(
          mergeMap(() => throwError(() => err)),
        ),
      ),
    );
  }

  private async claim(
    userId: string,
    key: string,
    scope: string,
    hash: string,
  ): Promise<{ replay: true; body: unknown } | { replay: false; id: string }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = returnedRows<{ id: string }>(
        await this.dataSource.query(
          `INSERT INTO idempotency_keys (user_id, key, scope, request_hash) VALUES ($1, $2, $3, $4)
           ON CONFLICT (user_id, key) DO NOTHING RETURNING id`,
          [userId, key, scope, hash],
        ),
      );
      if (inserted.length) return { replay: false, id: inserted[0].id };
      const existing = await this.dataSource
        .getRepository(IdempotencyKey)
        .findOne({ where: { userId, key } });
      if (!existing) continue; // released by a failed first attempt in between: claim again
      if (existing.createdAt.getTime() < this.clock.now().getTime() - TTL_MS) {
        await this.dataSource.query(`DELETE FROM idempotency_keys WHERE id = $1`, [existing.id]);
        continue;
      }
      if (existing.scope !== scope || existing.requestHash !== hash) {
        throw new DomainError(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was used with a different request',
        );
      }
      if (existing.status === 'in_progress') {
        throw new DomainError(
          'IDEMPOTENCY_IN_PROGRESS',
          'A request with this Idempotency-Key is still being processed',
        );
      }
      return { replay: true, body: existing.responseBody };
    }
    throw new DomainError(
      'IDEMPOTENCY_IN_PROGRESS',
      'A request with this Idempotency-Key is still being processed',
    );
  }
}

export const Idempotent = () => UseInterceptors(IdempotencyInterceptor);
