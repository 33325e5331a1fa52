// Write-behind for run records and run logs. A short run costs one row, written
// when it finishes, batched with every other run that finished meanwhile; a run
// still going after RUNNING_WRITE_DELAY_MS is written as `running` then, so long
// runs show up while they last. Log lines are batched the same way.

import type { Logger } from 'pino';
import { Backoff, isTransient } from '../core/backoff.ts';
import type { Clock } from '../core/clock.ts';
import type { NewLogLine, RunStore, RunWrite } from '../store/run-row.ts';
import type { Store } from '../store/types.ts';
import { FifoDeadlines } from './deadlines.ts';

/** A run's logs changed: the payload is the run id. */
export const RUN_LOGS_CHANNEL = 'mainspring_run_logs';
/** Someone asked to cancel a run: the payload is the run id. */
export const RUN_CANCEL_CHANNEL = 'mainspring_run_cancel';
export const RUNNING_WRITE_DELAY_MS = 1000;
const MAX_BATCH = 2000;
/**
 * On a remote store, how long a write nobody waits for may wait for others to join its batch
 * (real time: this is I/O batching, not business time). Fewer, larger statements cost the
 * server less per run. An embedded store writes in-process: there, waiting only adds stalls.
 */
const COALESCE_MS = 20;
/**
 * Tries of a write that failed on a lost connection: with the backoff's jittered doubling
 * from 250 ms, the last starts some 8-16 s after the first, long enough for a restart.
 */
const WRITE_TRIES = 7;

interface PendingWrite {
  readonly row: RunWrite;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class RunRecorder {
  readonly #runs: RunStore;
  readonly #store: Store;
  readonly #log: Logger;
  readonly runningWrites: FifoDeadlines;
  #writes: PendingWrite[] = [];
  /** Writes nobody waits for: no promise, no wrapper. */
  #later: RunWrite[] = [];
  #logs: NewLogLine[] = [];
  #flushing: Promise<void> | null = null;
  readonly #coalesceMs: number;
  /** Ends the coalescing wait early: an urgent write arrived or the batch is full. */
  #hurry: (() => void) | null = null;

  constructor(store: Store, clock: Clock, log: Logger) {
    this.#store = store;
    this.#runs = store.runs;
    this.#log = log;
    this.runningWrites = new FifoDeadlines(clock, clock.real(RUNNING_WRITE_DELAY_MS));
    this.#coalesceMs = store.capabilities.remote ? COALESCE_MS : 0;
  }

  /**
   * Queues a full write of the run; resolves once it is stored. `urgent`: someone waits for
   * it (an invocation's outcome goes before its message is acked), so it goes out at once.
   */
  write(row: RunWrite, urgent = false): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#writes.push({ row, resolve, reject });
      if (urgent || this.#writes.length >= MAX_BATCH) this.#hurry?.();
      this.#flushing ??= this.#flush(urgent);
    });
  }

  /** Queues a write nobody waits for (a queue-triggered run's record): no promise per run. A failure is logged. */
  writeLater(row: RunWrite): void {
    this.#later.push(row);
    if (this.#later.length >= MAX_BATCH) this.#hurry?.();
    this.#flushing ??= this.#flush(false);
  }

  /** Queues a log line; lines are stored in batches and never block the handler. */
  log(line: NewLogLine): void {
    this.#logs.push(line);
    this.#flushing ??= this.#flush(false);
  }

  /** Resolves once everything queued so far is stored (or failed). */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  close(): void {
    this.runningWrites.close();
  }

  async #flush(urgent: boolean): Promise<void> {
    if (urgent || this.#coalesceMs === 0) {
      // Let the rest of this turn's completions join the batch.
      await new Promise((r) => setImmediate(r));
    } else {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.#coalesceMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#hurry = done;
      });
      this.#hurry = null;
    }
    while (this.#writes.length > 0 || this.#later.length > 0 || this.#logs.length > 0) {
      const writes = this.#writes.splice(0, MAX_BATCH);
      const later = this.#later.splice(0, MAX_BATCH);
      const logs = this.#logs.splice(0, MAX_BATCH * 5);
      // One after the other: a row inserted while its lines are appended could miss them in
      // its logCount. Lines first, so a follower that sees a run finished finds all its lines.
      await this.#storeLogs(logs);
      await this.#store1(writes, later);
    }
    this.#flushing = null;
  }

  /** Stores the rows of `waiting` and `later` in one batch; `waiting` learn the outcome, a failure of `later` is logged. */
  async #store1(waiting: PendingWrite[], later: RunWrite[]): Promise<void> {
    if (waiting.length === 0 && later.length === 0) return;
    const rows = waiting.length === 0 ? later : [...waiting.map((w) => w.row), ...later];
    try {
      await this.#retrying('run records', () => this.#runs.write(rows));
      for (const w of waiting) w.resolve();
    } catch (err) {
      this.#log.error({ err, runs: rows.length }, 'could not store run records');
      for (const w of waiting) w.reject(err);
    }
  }

  /** Runs `write` again while it fails on a lost connection (a restart, a cut): a write is idempotent. */
  async #retrying(what: string, write: () => Promise<void>): Promise<void> {
    const backoff = new Backoff();
    for (;;) {
      try {
        return await write();
      } catch (err) {
        if (!isTransient(err) || backoff.failures + 1 >= WRITE_TRIES) throw err;
        const retryInMs = backoff.next();
        this.#log.warn({ err, retryInMs }, `lost the connection to the store writing ${what}; retrying`);
        await new Promise((r) => setTimeout(r, retryInMs));
      }
    }
  }

  async #storeLogs(lines: NewLogLine[]): Promise<void> {
    if (lines.length === 0) return;
    try {
      await this.#retrying('run log lines', () => this.#runs.appendLogs(lines));
      const ids = new Set(lines.map((l) => l.runId));
      // Followers (SSE, `logs --follow`) poll too; the notification only shortens their wait.
      if (ids.size <= 5) await Promise.all([...ids].map((id) => this.#store.notify(RUN_LOGS_CHANNEL, id)));
      else await this.#store.notify(RUN_LOGS_CHANNEL, '*');
    } catch (err) {
      this.#log.error({ err, lines: lines.length }, 'could not store run log lines');
    }
  }
}
