import { Inject, Injectable, SetMetadata } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../clock';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { UnitOfWork } from '../uow/unit-of-work';

export const CACHED_RESPONSE = 'tt:cachedResponse';

/**
 * Micro-caches a public GET answer (already enveloped and serialized) per URL for
 * SEARCH_CACHE_TTL_MS. `table` names the only table the answer is read from: its writer calls
 * `invalidateAfterCommit` on every write, and the commit drops every cached answer of that table, so this process never serves a page older than
 * its last write, and other instances serve one at most a TTL old.
 *
 * Only for answers that do not depend on who asks (no viewer, no role): the cache key is the URL.
 */
export const CachedResponse = (table: string) => SetMetadata(CACHED_RESPONSE, table);

interface Entry {
  at: number;
  body: string;
}

@Injectable()
export class ResponseCache {
  /** Bounds memory against callers that vary the query string: oldest entries go first. */
  static readonly MAX_ENTRIES = 500;
  private readonly entries = new Map<string, Entry>();
  /** Bumped on every committed write; an answer computed across a bump is not stored. */
  private readonly generations = new Map<string, number>();
  readonly ttlMs: number;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.ttlMs = config.searchCacheTtlMs;
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /** Also starts watching `table`: writes to tables no cached answer reads are not tracked. */
  generation(table: string): number {
    let g = this.generations.get(table);
    if (g === undefined) this.generations.set(table, (g = 0));
    return g;
  }

  get(table: string, url: string): string | undefined {
    const key = `${table} ${url}`;
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    const age = this.clock.now().getTime() - hit.at;
    // A clock that went back (tests, NTP) also invalidates: the answer may be from "the future".
    if (age >= 0 && age < this.ttlMs) return hit.body;
    this.entries.delete(key);
    return undefined;
  }

  /** Stores unless `table` was written since `generation` was read (the answer may predate it). */
  set(table: string, url: string, body: string, generation: number): void {
    if (!this.enabled || generation !== this.generation(table)) return;
    const key = `${table} ${url}`;
    this.entries.delete(key);
    if (this.entries.size >= ResponseCache.MAX_ENTRIES)
      this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { at: this.clock.now().getTime(), body });
  }

  /**
   * Called by the writer of `table` for every write an answer may show (the trips writer: listings,
   * seats, status, ratings). The cached answers go once the write commits; nothing on rollback.
   */
  invalidateAfterCommit(manager: EntityManager, table: string): void {
    if (this.generations.has(table)) this.uow.afterCommit(manager, () => this.invalidate(table));
  }

  invalidate(table: string): void {
    this.generations.set(table, (this.generations.get(table) ?? 0) + 1);
    for (const key of this.entries.keys()) if (key.startsWith(`${table} `)) this.entries.delete(key);
  }
}
