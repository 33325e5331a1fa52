// Chooses and opens the backend a URL names, and by default brings its schema up to date.

import { type Clock, RealClock } from '../core/clock.ts';
import { PgStore } from './postgres/pg-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './types.ts';
import { parseStoreUrl, resolveStoreUrl } from './url.ts';

export interface OpenStoreOptions {
  /** Time source for the migration record; defaults to the real clock. */
  readonly clock?: Clock;
  /** Apply pending migrations (default true). */
  readonly migrate?: boolean;
  /** Postgres pool size (default 10). */
  readonly poolSize?: number;
  /** Folder relative SQLite paths resolve against (default: the working directory). */
  readonly cwd?: string;
}

/**
 * Opens the store at `url` (else `DATABASE_URL`, else `sqlite:.mainspring/mainspring.db`).
 *
 * @example
 * ```ts
 * const store = await openStore('postgres://postgres@127.0.0.1:5432/app');
 * const lease = await store.locks.acquire('nightly', 'me', 30_000, Date.now());
 * ```
 */
export async function openStore(url?: string, options: OpenStoreOptions = {}): Promise<Store> {
  const target = parseStoreUrl(resolveStoreUrl(url), options.cwd);
  const clock = options.clock ?? new RealClock();
  const migrate = options.migrate ?? true;
  if (target.backend === 'sqlite') {
    return SqliteStore.open({ path: target.path, display: target.display, clock, migrate });
  }
  return PgStore.open({
    ...target,
    clock,
    migrate,
    ...(options.poolSize ? { poolSize: options.poolSize } : {}),
  });
}
