import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * How the modules are wired (issue 11), read from the source: dependencies are explicit imports
 * (no global modules but config, no ModuleRef lookups), workers are kicked by the unit of work once
 * a transaction commits (never by a service), and the trips writer drops cached search answers itself.
 */

const ROOT = process.cwd();

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [path] : [];
  });
}

const FILES = [...sources(join(ROOT, 'libs')), ...sources(join(ROOT, 'apps'))].map((path) => ({
  file: relative(ROOT, path),
  // Comments and docstrings may name what the code must not do.
  code: readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, ''),
}));

describe('module wiring', () => {
  it('has no global module except the configuration', () => {
    const global = FILES.filter((f) => /@Global\(\)/.test(f.code)).map((f) => f.file);
    expect(global).toEqual(['apps/api/src/config/config.module.ts']);
  });

  it('looks nothing up through ModuleRef', () => {
    expect(FILES.filter((f) => /\bModuleRef\b/.test(f.code)).map((f) => f.file)).toEqual([]);
  });

  it('kicks workers only from the unit of work (after commit) or from the worker itself', () => {
    const calls = FILES.flatMap((f) =>
      [...f.code.matchAll(/([\w.?]+)\.kick\(\)/g)].map((m) => `${f.file}: ${m[1]}`),
    );
    expect(calls.length).toBeGreaterThan(0);
    const strays = calls.filter((c) => !/^libs\/common\/src\/uow\/|: this\.(runner|puller)$/.test(c));
    expect(strays).toEqual([]);
  });

  it('has one drain loop: the outbox, refund and webhook workers run on QueueRunner', () => {
    for (const file of [
      'libs/notifications/src/outbox/outbox-dispatcher.ts',
      'libs/billing/src/refunds/refund-sender.ts',
      'libs/billing/src/webhooks/webhook-applier.ts',
    ]) {
      const f = FILES.find((x) => x.file === file)!;
      expect(f.code, file).toMatch(/new QueueRunner\(this\)/);
      expect(f.code, file).not.toMatch(/setImmediate|for \(;;\)/);
    }
  });

  it('drops cached trip answers from every trips writer, on commit', () => {
    const writers = FILES.filter((f) =>
      /\b(?:UPDATE|INSERT INTO|DELETE FROM)\s+trips\b|\bm\.save\(trip\)/.test(f.code),
    );
    expect(writers.length).toBeGreaterThanOrEqual(3);
    for (const w of writers) expect(w.code, w.file).toMatch(/invalidateAfterCommit\(m, 'trips'\)/);
    // No cache that guesses from SQL text what a statement wrote.
    const cache = FILES.find((f) => f.file === 'libs/common/src/http/response-cache.ts')!;
    expect(cache.code).not.toMatch(/afterQuery|subscribers/);
  });
});
