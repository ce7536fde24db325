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

export async function readFigures<F extends Record<string, Fragment<unknown>>>(
  dataSource: DataSource,
  who: string,
  now: Date,
  figures: F,
): Promise<FigureValues<F>> {
  const names = Object.keys(figures);
  const [row] = (await dataSource.query(
    `SELECT ${names.map((name, i) => `(${figures[name].sql}) AS f${i}`).join(',\n       ')}
       FROM (SELECT $1::uuid AS who, $2::timestamptz AS now) params`,
    [who, now],
  )) as Record<string, unknown>[];
  return Object.fromEntries(
    names.map((name, i) => [name, figures[name].read(row[`f${i}`])]),
  ) as FigureValues<F>;
}
