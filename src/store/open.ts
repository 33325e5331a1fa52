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
  /**
   * `'read'`: the store must already exist at the current schema version (a typo in the URL is
   * an error, not a new empty store), and the connection refuses every write. `'write'`
   * (default): as today, creating the SQLite file when missing.
   */
  readonly access?: 'read' | 'write';
  /** With `access: 'write'`: refuse a store that does not exist or is not migrated, as `'read'` does. */
  readonly mustExist?: boolean;
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
  const readOnly = options.access === 'read';
  const existing = readOnly || options.mustExist === true;
  const migrate = !existing && (options.migrate ?? true);
  if (target.backend === 'sqlite') {
    return SqliteStore.open({
      path: target.path,
      display: target.display,
      clock,
      migrate,
      readOnly,
      existing,
    });
  }
  return PgStore.open({
    ...target,
    clock,
    migrate,
    readOnly,
    existing,
    ...(options.poolSize ? { poolSize: options.poolSize } : {}),
  });
}
