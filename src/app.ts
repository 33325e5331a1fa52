// The library entry point: one object that owns the store, the clock and the
// services built on them. The CLI's `start` and a user's own process both use it.

import type { Logger } from 'pino';
import { type Clock, RealClock } from './core/clock.ts';
import { MainspringError } from './core/errors.ts';
import { Locks } from './locks/locks.ts';
import type { QueueDefinition } from './queue/define.ts';
import { Queues } from './queue/queues.ts';
import type { FunctionDefinition } from './runtime/function.ts';
import { Worker, type WorkerOptions } from './runtime/worker.ts';
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
  /** Queues this process defines; stored so every process sharing the store sees them. */
  readonly queues?: readonly QueueDefinition[];
  /** Functions this process can run. */
  readonly functions?: readonly FunctionDefinition[];
  /** Postgres pool size (default 10). */
  readonly poolSize?: number;
  readonly logger?: Logger;
}

export interface Mainspring {
  readonly store: Store;
  readonly clock: Clock;
  readonly locks: Locks;
  readonly queues: Queues;
  readonly functions: readonly FunctionDefinition[];
  /** Starts consuming the queues this app's functions are triggered from. */
  startWorker(options?: WorkerOptions): Promise<Worker>;
  /** Stops workers started here (gracefully) and closes the store. */
  close(): Promise<void>;
}

/**
 * Opens (and migrates) the store, registers the app's queues, and builds the services on it.
 *
 * @example
 * ```ts
 * import { createMainspring, defineQueue } from 'mainspring';
 * const orders = defineQueue({ name: 'orders' });
 * const ms = await createMainspring({ db: process.env.DATABASE_URL, queues: [orders] });
 * await ms.queues.send(orders, { orderId: 42 });
 * await ms.close();
 * ```
 */
export async function createMainspring(options: CreateMainspringOptions = {}): Promise<Mainspring> {
  const clock = options.clock ?? new RealClock();
  const functions = options.functions ?? [];
  const names = new Set<string>();
  for (const fn of functions) {
    if (names.has(fn.name)) {
      throw new MainspringError(
        'E_FUNCTION_INVALID',
        `function "${fn.name}" is defined twice; give each function one name`,
      );
    }
    names.add(fn.name);
  }
  const store = await openStore(options.db, {
    clock,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.poolSize ? { poolSize: options.poolSize } : {}),
  });
  const workers = new Set<Worker>();
  try {
    const queues = new Queues(store.queues, clock, options.queues ?? []);
    await queues.register();
    return {
      store,
      clock,
      locks: new Locks(store.locks, clock, options.owner),
      queues,
      functions,
      async startWorker(workerOptions: WorkerOptions = {}) {
        const worker = new Worker(
          { store, clock, queues, functions },
          { ...(options.logger ? { logger: options.logger } : {}), ...workerOptions },
        );
        await worker.start();
        workers.add(worker);
        return worker;
      },
      async close() {
        await Promise.all([...workers].map((w) => w.stop()));
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
