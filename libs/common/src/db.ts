import { QueryFailedError } from 'typeorm';

function pgError(err: unknown): { code?: string; constraint?: string } | undefined {
  if (!(err instanceof QueryFailedError)) return undefined;
  return err.driverError as { code?: string; constraint?: string };
}

/** A unique index said no: the database is the referee for "only one". */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = pgError(err);
  return e?.code === '23505' && (!constraint || e.constraint === constraint);
}

export function isCheckViolation(err: unknown, constraint?: string): boolean {
  const e = pgError(err);
  return e?.code === '23514' && (!constraint || e.constraint === constraint);
}

/** node-postgres through TypeORM returns `[rows, count]` for UPDATE/DELETE … RETURNING. */
export function returnedRows<T>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}

/** Escapes LIKE/ILIKE wildcards in user input, so `%` and `_` match themselves. */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}
