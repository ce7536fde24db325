import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  Inject,
  Injectable,
  Logger,
  StreamableFile,
} from '@nestjs/common';
import { ApiHeader, ApiProduces } from '@nestjs/swagger';
import { stringify } from 'csv-stringify';
import type { Request, Response } from 'express';
import QueryStream from 'pg-query-stream';
import { finished, pipeline, Readable, Transform } from 'node:stream';
import { DataSource, ObjectLiteral, QueryRunner, SelectQueryBuilder } from 'typeorm';
import { Clock } from '../clock';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { istDate } from './date-range';

/**
 * Every admin list also answers `Accept: text/csv` with every matching row (API.md, Admin): the same
 * filters as its JSON page, no paging, streamed. 100,000 rows are never held in memory: rows come
 * from the database a batch at a time, only as fast as the client reads the file (backpressure runs
 * from the socket back to the database), and the query stops when the client goes away.
 *
 * - On a PostgreSQL server the rows come from one query through a cursor (pg-query-stream: a portal
 *   fetched `batchSize` rows at a time), on a connection of its own for as long as the download lasts.
 * - On the embedded PGlite a cursor works but blocks every other connection until it is closed (PGlite
 *   has one backend session: an open portal keeps its implicit transaction open, and a second
 *   connection's query waited for it), and the app has one pooled connection there anyway. So there
 *   the rows come in keyset-paged batches (`WHERE (sort keys) < (last row's) ORDER BY … LIMIT n`),
 *   each a short query that gives the connection back, so other requests run between batches.
 *
 * Cells are spreadsheet-safe: text that a spreadsheet would read as a formula is prefixed with `'`.
 */

export type CsvExportMode = 'cursor' | 'keyset';

/** How one admin list reads its rows for a CSV export. */
export interface CsvQuery {
  /**
   * `SELECT <expr> AS "<column>", … FROM … [WHERE …]`, without ORDER BY or LIMIT: the same filters as
   * the JSON page. Every selected alias is a CSV column; `columns` names them in order.
   */
  sql: string;
  params: unknown[];
  columns: readonly string[];
  /**
   * The sort, by selected column: the last key must be unique (the id) so the order is total, and no
   * key may be null (keyset paging compares them).
   */
  orderBy: readonly (readonly [column: string, direction: 'ASC' | 'DESC'])[];
}

/**
 * A CsvQuery from a list's filtered query builder: `select` maps each CSV column to the SQL
 * expression it reads (in the builder's aliases). The builder's own selection, order and paging are
 * dropped; its joins and WHERE stay, so the CSV has exactly the rows of the JSON list.
 */
export function csvQueryFrom<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  select: Record<string, string>,
  orderBy: CsvQuery['orderBy'],
): CsvQuery {
  const q = qb.clone();
  q.select([]);
  for (const [column, expr] of Object.entries(select)) q.addSelect(expr, column);
  q.orderBy().offset(undefined).limit(undefined).skip(undefined).take(undefined);
  const [sql, params] = q.getQueryAndParameters();
  return { sql, params, columns: Object.keys(select), orderBy };
}

/** A cell a spreadsheet would evaluate (`=`, `+`, `-`, `@`, or a leading TAB/CR) gets a leading `'`. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One value as CSV cell text: instants in ISO-8601 UTC, JSON for objects and arrays, '' for null. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return FORMULA_START.test(text) ? `'${text}` : text;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The keyset batch: the rows after `after` (the sort keys of the last row sent), `limit` of them. */
export function keysetSql(
  q: Pick<CsvQuery, 'sql' | 'orderBy'>,
  firstParam: number,
  withAfter: boolean,
): string {
  const keys = q.orderBy.map(([c, dir]) => ({ col: `x.${quoteIdent(c)}`, dir }));
  const texts = q.orderBy.map(([c], i) => `x.${quoteIdent(c)}::text AS "__k${i}"`).join(', ');
  const p = (i: number) => `$${firstParam + i}`;
  let where = '';
  if (withAfter) {
    const uniform = keys.every((k) => k.dir === keys[0].dir);
    if (uniform) {
      // A row comparison: PostgreSQL starts an index scan right there.
      const op = keys[0].dir === 'DESC' ? '<' : '>';
      where = `WHERE (${keys.map((k) => k.col).join(', ')}) ${op} (${keys.map((_, i) => p(i)).join(', ')})`;
    } else {
      // Mixed directions: k1 beyond, or k1 equal and k2 beyond, …; the first bound alone lets an
      // index on k1 start at the right place.
      const beyond = (i: number) => `${keys[i].col} ${keys[i].dir === 'DESC' ? '<' : '>'} ${p(i)}`;
      const ors = keys.map((_, i) =>
        [...keys.slice(0, i).map((k, j) => `${k.col} = ${p(j)}`), beyond(i)].join(' AND '),
      );
      const first = `${keys[0].col} ${keys[0].dir === 'DESC' ? '<=' : '>='} ${p(0)}`;
      where = `WHERE ${first} AND ((${ors.join(') OR (')}))`;
    }
  }
  const order = keys.map((k) => `${k.col} ${k.dir}`).join(', ');
  const limit = p(withAfter ? keys.length : 0);
  return `SELECT x.*, ${texts} FROM (${q.sql}) x ${where} ORDER BY ${order} LIMIT ${limit}`;
}

/**
 * The response for `Accept: text/csv`: a file download. Nest's adapter pipes it with backpressure and
 * destroys it (and so the database query behind it) when the client goes away.
 */
export class CsvFile extends StreamableFile {
  private static readonly logger = new Logger('CsvExport');

  constructor(stream: Readable, filename: string) {
    super(stream, {
      type: 'text/csv; charset=utf-8',
      disposition: `attachment; filename="${filename.replace(/[^\w.-]/g, '_')}"`,
    });
    this.setErrorLogger((err) => CsvFile.logger.error({ err }, 'CSV export failed'));
    this.setErrorHandler((err, response) => {
      const res = response as unknown as Response;
      CsvFile.logger.error({ err }, 'CSV export failed');
      if (res.destroyed) return;
      if (res.headersSent) {
        // Part of the file is out: cut the connection, so the client sees a failed download rather
        // than a file that looks complete but is not.
        res.destroy();
        return;
      }
      const requestId = (res.req as (Request & { id?: string }) | undefined)?.id;
      res.status(500).setHeader('Content-Type', 'application/json; charset=utf-8');
      res.removeHeader('Content-Disposition');
      res.end(
        JSON.stringify({
          success: false,
          error: { code: 'INTERNAL_ERROR', message: 'Internal server error', statusCode: 500, requestId },
        }),
      );
    });
  }
}

/** `Accept: text/csv` (preferred over JSON): the handler answers with the CSV export. */
export const WantsCsv = createParamDecorator((_: unknown, ctx: ExecutionContext): boolean => {
  const req = ctx.switchToHttp().getRequest<Request>();
  return req.accepts(['application/json', 'text/csv']) === 'text/csv';
});

/** Documents a list that also answers `Accept: text/csv` (every matching row, no paging). */
export const CsvExportable = () =>
  applyDecorators(
    ApiProduces('application/json', 'text/csv'),
    ApiHeader({
      name: 'Accept',
      required: false,
      description:
        '`text/csv`: every matching row as a CSV file (same filters, no paging, streamed); JSON otherwise',
    }),
  );

export interface CsvExportOptions {
  /** Default: `cursor` on a PostgreSQL server, `keyset` on the embedded PGlite. */
  mode?: CsvExportMode;
  /** Rows per database round trip. */
  batchSize?: number;
}

@Injectable()
export class CsvExport {
  static readonly BATCH_SIZE = 1000;
  /** The stringifier emits a chunk per record: one socket write per ~300 bytes otherwise. */
  static readonly CHUNK_BYTES = 64 * 1024;
  private readonly defaultMode: CsvExportMode;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.defaultMode = config.databaseUrl ? 'cursor' : 'keyset';
  }

  /** The download of `name` (e.g. `bookings` → `bookings-2026-11-29.csv`, the IST date). */
  file(q: CsvQuery, name: string, options: CsvExportOptions = {}): CsvFile {
    return new CsvFile(this.csv(q, options), `${name}-${istDate(this.clock.now())}.csv`);
  }

  /** The CSV text as a byte stream: a header row, then one record per row. */
  csv(q: CsvQuery, options: CsvExportOptions = {}): Readable {
    const rows = this.rows(q, options);
    const text = stringify({ header: true, columns: [...q.columns], record_delimiter: 'windows' });
    const out = coalesce(CsvExport.CHUNK_BYTES);
    // Any of them failing or closing early destroys the others: a client gone stops the query.
    pipeline(rows, text, out, () => undefined);
    return out;
  }

  /**
   * The rows as arrays of cell text, in `q.orderBy` order. Lazy: nothing touches the database until
   * the first read, so a file that is never sent holds no connection.
   */
  rows(q: CsvQuery, options: CsvExportOptions = {}): Readable {
    const mode = options.mode ?? this.defaultMode;
    const batchSize = options.batchSize ?? CsvExport.BATCH_SIZE;
    return mode === 'cursor'
      ? new CursorRows(this.dataSource, q, batchSize)
      : new KeysetRows(this.dataSource, q, batchSize);
  }
}

/** Joins small chunks into writes of about `bytes` (the last one smaller). */
function coalesce(bytes: number): Transform {
  let parts: Buffer[] = [];
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      parts.push(chunk);
      size += chunk.length;
      if (size < bytes) return callback();
      const joined = Buffer.concat(parts, size);
      parts = [];
      size = 0;
      callback(null, joined);
    },
    flush(callback) {
      callback(null, size ? Buffer.concat(parts, size) : undefined);
    },
  });
}

const toRecord = (q: CsvQuery, row: Record<string, unknown>) => q.columns.map((c) => csvCell(row[c]));

/**
 * One query read through a cursor on a connection of its own: the portal is fetched `batchSize`
 * rows at a time, and only while the consumer keeps up (the stream pauses, so no FETCH is sent).
 * Ended, failed or destroyed (the client went away), the portal is closed before the connection
 * goes back to the pool.
 */
class CursorRows extends Readable {
  private runner?: QueryRunner;
  private opening?: Promise<void>;
  private cursor?: QueryStream;

  constructor(
    private readonly dataSource: DataSource,
    private readonly q: CsvQuery,
    private readonly batchSize: number,
  ) {
    super({ objectMode: true, highWaterMark: 64 });
  }

  override _read(): void {
    if (this.cursor) this.cursor.resume();
    else
      this.opening ??= this.open().catch((err: Error) => {
        this.destroy(err);
      });
  }

  private async open(): Promise<void> {
    this.runner = this.dataSource.createQueryRunner();
    const client = (await this.runner.connect()) as { query(stream: QueryStream): QueryStream };
    if (this.destroyed) return;
    const order = this.q.orderBy.map(([c, dir]) => `x.${quoteIdent(c)} ${dir}`).join(', ');
    const cursor = client.query(
      new QueryStream(`SELECT x.* FROM (${this.q.sql}) x ORDER BY ${order}`, this.q.params, {
        batchSize: this.batchSize,
      }),
    );
    this.cursor = cursor;
    cursor.on('data', (row: Record<string, unknown>) => {
      if (!this.push(toRecord(this.q, row))) cursor.pause();
    });
    cursor.on('end', () => this.push(null));
    cursor.on('error', (err) => this.destroy(err));
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const done = () => {
      const runner = this.runner;
      if (!runner || runner.isReleased) return callback(err);
      runner.release().then(
        () => callback(err),
        () => callback(err),
      );
    };
    // A connection still being taken is released once it is there.
    void Promise.resolve(this.opening).then(() => {
      const cursor = this.cursor;
      if (!cursor) return done();
      if (!cursor.destroyed) cursor.destroy();
      finished(cursor, () => done());
    });
  }
}

/**
 * Keyset-paged batches (PGlite): each batch one short query after the last row sent, so the
 * connection is free between batches; the next batch is read only when the consumer wants it.
 */
class KeysetRows extends Readable {
  private after: string[] | undefined;
  private fetching = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly q: CsvQuery,
    private readonly batchSize: number,
  ) {
    super({ objectMode: true, highWaterMark: 64 });
  }

  override _read(): void {
    if (this.fetching) return;
    this.fetching = true;
    this.fetch().catch((err: Error) => {
      this.destroy(err);
    });
  }

  private async fetch(): Promise<void> {
    const { q, batchSize } = this;
    const rows = (await this.dataSource.query(keysetSql(q, q.params.length + 1, this.after !== undefined), [
      ...q.params,
      ...(this.after ?? []),
      batchSize,
    ])) as Record<string, unknown>[];
    if (this.destroyed) return;
    const last = rows.length === batchSize ? rows[rows.length - 1] : undefined;
    this.after = last && q.orderBy.map((_, i) => last[`__k${i}`] as string);
    this.fetching = false;
    for (const row of rows) this.push(toRecord(q, row));
    if (!last) this.push(null);
  }
}
