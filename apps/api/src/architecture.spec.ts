import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The walls between the libs (issue 11), read from the source: each table has one owning lib (the
 * one whose entity maps it), and only that lib's code writes it, by SQL or through TypeORM; a lib
 * reaches another only through its index. Other libs ask the owner through its facade
 * (TripListings, BookingPayments, UserDirectory, RefundsService, OutboxService, AuditService, …).
 */

// Specs run from the repository root (vitest's root).
const ROOT = process.cwd();
const LIBS = readdirSync(join(ROOT, 'libs'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [path] : [];
  });
}

const FILES = LIBS.flatMap((lib) =>
  sources(join(ROOT, 'libs', lib, 'src')).map((path) => ({ lib, path, text: readFileSync(path, 'utf8') })),
);

/** table → owning lib, entity class → owning lib and entity class → table, from the `@Entity('table') export class X` pairs. */
function owners() {
  const tables = new Map<string, string>();
  const classes = new Map<string, string>();
  const tableOf = new Map<string, string>();
  for (const f of FILES) {
    for (const m of f.text.matchAll(/@Entity\('([a-z_]+)'\)[\s\S]*?export class (\w+)/g)) {
      tables.set(m[1], f.lib);
      classes.set(m[2], f.lib);
      tableOf.set(m[2], m[1]);
    }
  }
  return { tables, classes, tableOf };
}

/** Writes in one file: the tables its SQL writes and the entity classes it writes through TypeORM. */
function writes(text: string): { tables: string[]; entities: string[] } {
  // Comments and docstrings may name a statement without running it.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const tables = [...code.matchAll(/\b(?:INSERT INTO|DELETE FROM|UPDATE)\s+"?([a-z_]+)"?/g)]
    .filter((m) => !/FOR (NO KEY )?$/.test(code.slice(Math.max(0, m.index - 12), m.index)))
    .map((m) => m[1]);
  // m.insert(X, …) and the like, a query builder's .into(X) / .update(X), and getRepository(X).save(…) and the like.
  const entities = [
    ...[...code.matchAll(/\.(?:insert|update|delete|upsert|increment|decrement)\(\s*([A-Z]\w+)\s*[,)]/g)].map(
      (m) => m[1],
    ),
    ...[...code.matchAll(/\.into\(\s*([A-Z]\w+)\s*\)/g)].map((m) => m[1]),
    ...[
      ...code.matchAll(
        /getRepository\(\s*([A-Z]\w+)\s*\)\s*\.(?:save|insert|update|delete|upsert|increment|decrement|remove|softDelete)\(/g,
      ),
    ].map((m) => m[1]),
  ];
  // m.save(row) names no class: it is seen when the same file got `row` from m.findOne(X, …) or m.create(X, …).
  for (const d of code.matchAll(
    /(?:const|let)\s+(\w+)\s*=\s*(?:await\s+)?[\w.]+\.(?:findOne|findOneBy|findOneOrFail|findOneByOrFail|create)\(\s*([A-Z]\w+)\s*,/g,
  )) {
    if (new RegExp(`\\.(?:save|remove)\\(\\s*${d[1]}\\s*[,)]`).test(code)) entities.push(d[2]);
  }
  return { tables, entities };
}

/**
 * Inside billing, each money table has one writer (issue 11): `payments` and `payment_orders` are
 * written only by the ledger in ledger/ (PaymentLedger and its LedgerRecords), `refunds` only by the
 * refund recorder in refunds/ (RefundsService, RefundSender, RefundSettlement).
 */
const SOLE_WRITERS: Record<string, RegExp> = {
  payments: /^libs\/billing\/src\/ledger\/(payment-ledger\.service|ledger-records)\.ts$/,
  payment_orders: /^libs\/billing\/src\/ledger\/(payment-ledger\.service|ledger-records)\.ts$/,
  refunds: /^libs\/billing\/src\/refunds\//,
};

describe('the walls between the libs', () => {
  const { tables, classes, tableOf } = owners();

  it('knows who owns every table', () => {
    expect(tables.size).toBeGreaterThanOrEqual(15);
    expect(tables.get('trips')).toBe('booking');
    expect(tables.get('users')).toBe('auth');
    expect(tables.get('refunds')).toBe('billing');
  });

  it("no lib's code writes another lib's table, by SQL or through TypeORM", () => {
    const trespass: string[] = [];
    for (const f of FILES) {
      const w = writes(f.text);
      for (const t of w.tables) {
        const owner = tables.get(t);
        if (owner && owner !== f.lib)
          trespass.push(`${relative(ROOT, f.path)} writes ${t} (owned by ${owner})`);
      }
      for (const e of w.entities) {
        const owner = classes.get(e);
        if (owner && owner !== f.lib)
          trespass.push(`${relative(ROOT, f.path)} writes ${e} (owned by ${owner})`);
      }
    }
    expect(trespass).toEqual([]);
  });

  it('inside billing, only the ledger writes payments and payment_orders, and only refunds/ writes refunds', () => {
    const stray: string[] = [];
    for (const f of FILES) {
      const path = relative(ROOT, f.path);
      const w = writes(f.text);
      const written = [...w.tables, ...w.entities.map((e) => tableOf.get(e) ?? e)];
      for (const t of new Set(written)) {
        const sole = SOLE_WRITERS[t];
        if (sole && !sole.test(path)) stray.push(`${path} writes ${t}`);
      }
    }
    expect(stray).toEqual([]);
    // The rule names real files: each sole writer writes its table.
    for (const [t, sole] of Object.entries(SOLE_WRITERS)) {
      const writers = FILES.filter((f) => sole.test(relative(ROOT, f.path)));
      expect(
        writers.some((f) =>
          [...writes(f.text).tables, ...writes(f.text).entities.map((e) => tableOf.get(e))].includes(t),
        ),
        t,
      ).toBe(true);
    }
  });

  it('catches a trespass when there is one (the check itself works)', () => {
    expect(
      writes("await m.query(`UPDATE trips SET status = 'inactive' WHERE organizer_id = $1`, [id]);").tables,
    ).toEqual(['trips']);
    expect(writes('await m.update(Booking, { id }, { paymentStatus });').entities).toEqual(['Booking']);
    expect(writes('SELECT id FROM trips WHERE id = $1 FOR UPDATE').tables).toEqual([]);
    expect(writes('/** UPDATE trips in a comment */').tables).toEqual([]);
    expect(
      writes('await m.createQueryBuilder().insert().into(PaymentOrder).values(rows).orIgnore().execute();')
        .entities,
    ).toEqual(['PaymentOrder']);
    expect(writes('await this.dataSource.getRepository(Payment).save(p);').entities).toEqual(['Payment']);
    expect(writes("await m.update(Refund, { id }, { status: 'failed' });").entities).toEqual(['Refund']);
    expect(
      writes('const p = await m.findOne(Payment, { where: { id } });\np.status = s;\nawait m.save(p);')
        .entities,
    ).toEqual(['Payment']);
    expect(writes('const p = await m.findOne(Payment, { where: { id } });\nreturn p;').entities).toEqual([]);
  });

  it('the read side (libs/reporting) owns only its summary tables, and no lib depends on it', () => {
    const owned = [...tables].filter(([, lib]) => lib === 'reporting').map(([t]) => t);
    expect(owned.length).toBeGreaterThan(0);
    expect(owned.every((t) => t.startsWith('report_'))).toBe(true);
    const dependents = FILES.filter(
      (f) => f.lib !== 'reporting' && /from '@trektribe\/reporting'/.test(f.text),
    );
    expect(dependents.map((f) => relative(ROOT, f.path))).toEqual([]);
  });

  it('a lib imports another only through its index', () => {
    const deep: string[] = [];
    for (const f of FILES) {
      for (const m of f.text.matchAll(/from '([^']+)'/g)) {
        const spec = m[1];
        if (/^@trektribe\/[^/]+\/.+/.test(spec)) deep.push(`${relative(ROOT, f.path)}: ${spec}`);
        if (spec.startsWith('.')) {
          const target = relative(join(ROOT, 'libs'), resolve(f.path, '..', spec)).split('/')[0];
          if (target !== f.lib) deep.push(`${relative(ROOT, f.path)}: ${spec}`);
        }
      }
    }
    expect(deep).toEqual([]);
  });
});
