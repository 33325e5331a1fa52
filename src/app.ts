// The library entry point: one object that owns the store, the clock and the
// services built on them. The CLI's `start` and a user's own process both use it.

import { type Clock, RealClock } from './core/clock.ts';
import { Locks } from './locks/locks.ts';
import { openStore } from './store/open.ts';
import type { Store } from './store/types.ts';

export interface CreateMainspringOptions {
  /** Store URL; defaults to `DATABASE_URL`, then `sqlite:.mainspring/mainspring.db`. */
  readonly db?: string;
  /** Time source; defaults to the real clock. Pass a FakeClock in tests. */
  readonly clock?: Clock;
  /** Folder relative SQLite paths resolve against. */
  readonly cwd?: string;
  /** Owner name this process uses for leases (default host:pid:random). */
  readonly owner?: string;
}

export interface Mainspring {
  readonly store: Store;
  readonly clock: Clock;
  readonly locks: Locks;
  close(): Promise<void>;
}

/**
 * Opens (and migrates) the store and builds the services on it.
 *
 * @example
 * ```ts
 * import { createMainspring } from 'mainspring';
 * const ms = await createMainspring({ db: process.env.DATABASE_URL });
 * await ms.locks.withLock('nightly-export', () => runExport(), { ttl: '5m' });
 * await ms.close();
 * ```
 */
export async function createMainspring(options: CreateMainspringOptions = {}): Promise<Mainspring> {
  const clock = options.clock ?? new RealClock();
  const store = await openStore(options.db, { clock, ...(options.cwd ? { cwd: options.cwd } : {}) });
  const locks = new Locks(store.locks, clock, options.owner);
  return {
    store,
    clock,
    locks,
    close: () => store.close(),
  };
}
