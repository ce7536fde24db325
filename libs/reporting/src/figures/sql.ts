/**
 * The definitions every figure shares, in SQL. The triggers of the summary tables (migration
 * ReportingSummaries) count with the same ones; test/dashboards-admin.e2e-spec.ts restates them in
 * its recount, which the summary tables must equal.
 */

/** People's months and weeks are cut in IST, the platform's timezone. */
export const IST = 'Asia/Kolkata';

/** A payment whose amount was captured (some or all of it may have been refunded since). */
export const PAID_PAYMENT = `('captured', 'partially_refunded', 'refunded')`;

/** A refund whose money reached the payer: processed by the gateway, or paid out by hand. */
export const REFUND_DONE = `('processed', 'manual_paid')`;

/** A refund owed and not yet paid out. */
export const REFUND_OWED = `('pending', 'failed', 'manual_due')`;

/** `$n::timestamptz` as the first day of its IST month, minus `back` months. */
export const istMonthStart = (at: string, back = 0) =>
  `(date_trunc('month', (${at}) AT TIME ZONE '${IST}') - make_interval(months => ${back}))`;

/** An instant as the API writes instants: ISO-8601 in UTC, with milliseconds (what Date#toISOString gives). */
export const isoSql = (expr: string) =>
  `to_char((${expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** `{ key: 0, … }` for every key of a fixed list, then the counts the query found (unknown keys kept). */
export function zeroFilled<K extends string>(
  keys: readonly K[],
  rows: { key: string; n: number | string }[],
): Record<K, number> {
  const out = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  for (const r of rows) (out as Record<string, number>)[r.key] = Number(r.n);
  return out;
}
