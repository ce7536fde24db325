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

const FILES = LIBS.flatMap((lib) => sources(join(ROOT, 'libs', lib, 'src')).map((path) => ({ lib, path, text: readFileSync(path, 'utf8') })));

/** table → owning lib, and entity class → owning lib, from the `@Entity('table') export class X` pairs. */
function owners() {
  const tables = new Map<string, string>();
  const classes = new Map<string, string>();
  for (const f of FILES) {
    for (const m of f.text.matchAll(/@Entity\('([a-z_]+)'\)[\s\S]*?export class (\w+)/g)) {
      tables.set(m[1], f.lib);
      classes.set(m[2], f.lib);
    }
  }
  return { tables, classes };
}

/** Writes in one file: the tables its SQL writes and the entity classes it writes through TypeORM. */
function writes(text: string): { tables: string[]; entities: string[] } {
  // Comments and docstrings may name a statement without running it.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const tables = [...code.matchAll(/\b(?:INSERT INTO|DELETE FROM|UPDATE)\s+"?([a-z_]+)"?/g)]
    .filter((m) => !/FOR (NO KEY )?$/.test(code.slice(Math.max(0, m.index - 12), m.index)))
    .map((m) => m[1]);
  const entities = [...code.matchAll(/\.(?:insert|update|delete|upsert|increment|decrement)\(\s*([A-Z]\w+)\s*,/g)].map((m) => m[1]);
  return { tables, entities };
}

describe('the walls between the libs', () => {
  const { tables, classes } = owners();

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
        if (owner && owner !== f.lib) trespass.push(`${relative(ROOT, f.path)} writes ${t} (owned by ${owner})`);
      }
      for (const e of w.entities) {
        const owner = classes.get(e);
        if (owner && owner !== f.lib) trespass.push(`${relative(ROOT, f.path)} writes ${e} (owned by ${owner})`);
      }
    }
    expect(trespass).toEqual([]);
  });

  it('catches a trespass when there is one (the check itself works)', () => {
    expect(writes("await m.query(`UPDATE trips SET status = 'inactive' WHERE organizer_id = $1`, [id]);").tables).toEqual(['trips']);
    expect(writes('await m.update(Booking, { id }, { paymentStatus });').entities).toEqual(['Booking']);
    expect(writes('SELECT id FROM trips WHERE id = $1 FOR UPDATE').tables).toEqual([]);
    expect(writes('/** UPDATE trips in a comment */').tables).toEqual([]);
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
