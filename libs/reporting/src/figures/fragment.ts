import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';

/**
 * A figure: a SQL expression (a scalar subquery, usually building JSON) and how to read its value.
 * The figures a response needs are read together in one statement (`readFigures`), so a dashboard
 * costs one round trip whatever the number of its figures: on our hosts each round trip costs
 * about 0.6 ms of syscalls in the API alone (bench/README.md, Dashboards). Every fragment may use
 * `$1` (whose figures: a user's id, or PLATFORM_SCOPE) and `$2` (now, from the injected clock).
 */
export interface Fragment<T> {
  readonly sql: string;
  read(value: unknown): T;
}

export function fragment<T>(sql: string, read: (value: never) => T): Fragment<T> {
  return { sql, read: read as (value: unknown) => T };
}

export type FigureValues<F extends Record<string, Fragment<unknown>>> = {
  [K in keyof F]: F[K] extends Fragment<infer T> ? T : never;
};

interface Statement {
  keys: string[];
  /** A name for PostgreSQL: the statement is prepared once per connection, then only bound and run. */
  name: string;
  text: string;
}

const STATEMENTS = new WeakMap<object, Statement>();

function statementOf(figures: Record<string, Fragment<unknown>>): Statement {
  let statement = STATEMENTS.get(figures);
  if (!statement) {
    const keys = Object.keys(figures);
    const text = `SELECT ${keys.map((key, i) => `(${figures[key].sql}) AS f${i}`).join(',\n       ')}
       FROM (SELECT $1::uuid AS who, $2::timestamptz AS now) params`;
    const name = `tt_figures_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statement = { keys, name, text };
    STATEMENTS.set(figures, statement);
  }
  return statement;
}

/**
 * Reads `figures` (a constant object: its statement is built once) for `who` at `now`, in one
 * named prepared statement: the figures' SQL is long, and PostgreSQL spent about 1 ms planning it on
 * every request (more than running it, for a traveler), so each pooled connection plans it once.
 * TypeORM's query() takes no statement name, so this runs on the pooled connection TypeORM hands out.
 */
export async function readFigures<F extends Record<string, Fragment<unknown>>>(
  dataSource: DataSource,
  who: string,
  now: Date,
  figures: F,
): Promise<FigureValues<F>> {
  const { keys, name, text } = statementOf(figures);
  const runner = dataSource.createQueryRunner();
  let row: Record<string, unknown>;
  try {
    const client = (await runner.connect()) as {
      query(q: {
        name: string;
        text: string;
        values: unknown[];
      }): Promise<{ rows: Record<string, unknown>[] }>;
    };
    [row] = (await client.query({ name, text, values: [who, now] })).rows;
  } finally {
    await runner.release();
  }
  return Object.fromEntries(keys.map((key, i) => [key, figures[key].read(row[`f${i}`])])) as FigureValues<F>;
}
