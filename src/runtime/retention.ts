// Deletes finished runs (and their log lines), fired tasks and finished workflow
// executions (with their journals) past the retention, and queue keys (dedup, throttle,
// debounce) that are spent: every hour, in small batches, each its own short
// transaction, by one replica at a time.

import type { Logger } from 'pino';
import { Backoff, isTransient } from '../core/backoff.ts';
import type { Clock } from '../core/clock.ts';
import type { Locks } from '../locks/locks.ts';
import { MAX_GATE_PERIOD_MS } from '../queue/gate-options.ts';
import { runIdPrefix } from '../store/run-row.ts';
import type { Store } from '../store/types.ts';

export const DEFAULT_RUN_RETENTION_MS = 30 * 86_400_000;
const EVERY_MS = 3_600_000;
const BATCH = 500;
const LOCK = 'mainspring.runs.retention';

export class RunRetention {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #locks: Locks;
  readonly #retentionMs: number;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  #loop: Promise<void> | null = null;

  constructor(options: { store: Store; clock: Clock; locks: Locks; retentionMs: number; log: Logger }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#locks = options.locks;
    this.#retentionMs = options.retentionMs;
    this.#log = options.log;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  /**
   * One pass: deletes every finished run created, task fired, and workflow execution finished
   * before now − retention, and every spent queue key; returns how many.
   */
  async sweep(signal: AbortSignal = this.#stop.signal): Promise<number> {
    const cutoff = this.#clock.now() - this.#retentionMs;
    const beforeId = runIdPrefix(cutoff);
    let total = 0;
    const held = await this.#locks.withLock(
      LOCK,
      async ({ signal: lost }) => {
        for (;;) {
          if (signal.aborted || lost.aborted) break;
          const n = await this.#store.runs.deleteFinishedBefore(beforeId, BATCH);
          total += n;
          if (n < BATCH) break;
          // Let other writers in between batches.
          await new Promise((r) => setImmediate(r));
        }
        for (;;) {
          if (signal.aborted || lost.aborted) break;
          const n = await this.#store.scheduler.deleteFiredTasks(cutoff, BATCH);
          total += n;
          if (n < BATCH) break;
          await new Promise((r) => setImmediate(r));
        }
        for (;;) {
          if (signal.aborted || lost.aborted) break;
          const n = await this.#store.workflows.deleteFinished(cutoff, BATCH);
          total += n;
          if (n < BATCH) break;
          await new Promise((r) => setImmediate(r));
        }
        // Keys are not history: they go once they can no longer change a send, whatever the retention.
        for (;;) {
          if (signal.aborted || lost.aborted) break;
          const n = await this.#store.queues.deleteSpentKeys(this.#clock.now(), MAX_GATE_PERIOD_MS, BATCH);
          total += n;
          if (n < BATCH) break;
          await new Promise((r) => setImmediate(r));
        }
      },
      { ttl: '5m' },
    );
    if (held.acquired && total > 0)
      this.#log.info(
        { deleted: total, beforeId },
        'deleted runs, fired tasks and finished workflow executions past their retention, and spent queue keys',
      );
    return total;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    // A sweep cut off by a lost connection tries again soon rather than in an hour.
    const backoff = new Backoff({ baseMs: 5_000, maxMs: 300_000 });
    while (!signal.aborted) {
      let waitMs = EVERY_MS;
      try {
        await this.sweep(signal);
        backoff.reset();
      } catch (err) {
        if (signal.aborted) return;
        if (isTransient(err)) {
          waitMs = backoff.next();
          this.#log.warn(
            { err, retryInMs: waitMs },
            'run retention lost its connection to the store; retrying',
          );
        } else this.#log.warn({ err }, 'run retention failed; trying again in an hour');
      }
      try {
        await this.#clock.sleep(this.#clock.real(waitMs), signal);
      } catch {
        return;
      }
    }
  }
}
