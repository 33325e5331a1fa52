// Write-behind for run records and run logs. A short run costs one row, written
// when it finishes, batched with every other run that finished meanwhile; a run
// still going after RUNNING_WRITE_DELAY_MS is written as `running` then, so long
// runs show up while they last. Log lines are batched the same way.

import type { Logger } from 'pino';
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
  #logs: NewLogLine[] = [];
  #flushing: Promise<void> | null = null;

  constructor(store: Store, clock: Clock, log: Logger) {
    this.#store = store;
    this.#runs = store.runs;
    this.#log = log;
    this.runningWrites = new FifoDeadlines(clock, RUNNING_WRITE_DELAY_MS);
  }

  /** Queues a full write of the run; resolves once it is stored. */
  write(row: RunWrite): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#writes.push({ row, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  /** Queues a log line; lines are stored in batches and never block the handler. */
  log(line: NewLogLine): void {
    this.#logs.push(line);
    this.#flushing ??= this.#flush();
  }

  /** Resolves once everything queued so far is stored (or failed). */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  close(): void {
    this.runningWrites.close();
  }

  async #flush(): Promise<void> {
    // Let the rest of this turn's completions join the batch.
    await new Promise((r) => setImmediate(r));
    while (this.#writes.length > 0 || this.#logs.length > 0) {
      const writes = this.#writes.splice(0, MAX_BATCH);
      const logs = this.#logs.splice(0, MAX_BATCH * 5);
      // One after the other: a row inserted while its lines are appended could miss them in
      // its logCount. Lines first, so a follower that sees a run finished finds all its lines.
      await this.#storeLogs(logs);
      await this.#storeWrites(writes);
    }
    this.#flushing = null;
  }

  async #storeWrites(batch: PendingWrite[]): Promise<void> {
    if (batch.length === 0) return;
    // A run written twice in one batch (running, then finished) keeps its last write only.
    const last = new Map<string, RunWrite>();
    for (const w of batch) last.set(w.row.id, w.row);
    try {
      await this.#runs.write([...last.values()]);
      for (const w of batch) w.resolve();
    } catch (err) {
      this.#log.error({ err, runs: last.size }, 'could not store run records');
      for (const w of batch) w.reject(err);
    }
  }

  async #storeLogs(lines: NewLogLine[]): Promise<void> {
    if (lines.length === 0) return;
    try {
      await this.#runs.appendLogs(lines);
      const ids = new Set(lines.map((l) => l.runId));
      // Followers (SSE, `logs --follow`) poll too; the notification only shortens their wait.
      if (ids.size <= 5) await Promise.all([...ids].map((id) => this.#store.notify(RUN_LOGS_CHANNEL, id)));
      else await this.#store.notify(RUN_LOGS_CHANNEL, '*');
    } catch (err) {
      this.#log.error({ err, lines: lines.length }, 'could not store run log lines');
    }
  }
}
