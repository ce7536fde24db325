import { Dirent, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = process.cwd();

/** Every environment name the typed config reads (env.NAME, env['NAME'], int(env, 'NAME'), secret('NAME')). */
function namesReadByConfig(): string[] {
  const code = readFileSync(join(ROOT, 'libs/common/src/config/app-config.ts'), 'utf8');
  const names = new Set<string>();
  for (const m of code.matchAll(
    /\benv\.([A-Z][A-Z0-9_]+)|\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]|\(env, '([A-Z][A-Z0-9_]+)'|secret\('([A-Z][A-Z0-9_]+)'/g,
  ))
    names.add(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return [...names].sort();
}

describe('.env.example', () => {
  it('lists every setting the config reads, and nothing it does not', () => {
    const listed = readFileSync(join(ROOT, '.env.example'), 'utf8')
      .split('\n')
      .map((l) => /^([A-Z][A-Z0-9_]+)=/.exec(l)?.[1])
      .filter((n): n is string => Boolean(n))
      .sort();
    const read = namesReadByConfig();
    expect(read.length).toBeGreaterThan(40);
    expect(listed).toEqual(read);
  });

  it('and nothing outside the config reads process.env', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true }) as Dirent[]) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts') && !p.endsWith('.spec.ts') && !p.endsWith('app-config.ts')) {
          if (/process\.env/.test(readFileSync(p, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')))
            offenders.push(p);
        }
      }
    };
    walk(join(ROOT, 'apps'));
    walk(join(ROOT, 'libs'));
    expect(offenders).toEqual([]);
  });
});
