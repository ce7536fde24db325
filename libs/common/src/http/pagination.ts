import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const MAX_PAGE_LIMIT = 100;
/** Deeper pages are refused (400): an offset past this is no use to anyone and overflows SQL's bigint past 1e18. */
export const MAX_PAGE = 100_000;

export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE, default: 1, example: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE)
  page: number = 1;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: 20, example: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_LIMIT)
  limit: number = 20;
}

/** A page of results; the response interceptor moves paging into `meta`. */
export class Page<T> {
  constructor(
    readonly items: T[],
    readonly total: number,
    readonly page: number,
    readonly limit: number,
    /** More figures for `meta` (e.g. the inbox's `unread`). */
    readonly extra: Record<string, unknown> = {},
  ) {}

  static of<T>(
    items: T[],
    total: number,
    q: { page: number; limit: number },
    extra?: Record<string, unknown>,
  ): Page<T> {
    return new Page(items, total, q.page, q.limit, extra);
  }
}

export function offsetOf(q: { page: number; limit: number }): number {
  return (q.page - 1) * q.limit;
}
