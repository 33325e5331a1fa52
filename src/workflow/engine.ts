// The worker side of workflows: claims due executions through the store's due-time
// index, runs a session for each, keeps their leases alive, and passes stop requests
// on. A waiting execution is only a row with a due time: no timer, no memory, no lease.

import type { Logger } from 'pino';
import { Backoff, isTransient } from '../core/backoff.ts';
import type { Clock } from '../core/clock.ts';
import type { Store, Unlisten } from '../store/types.ts';
import {
  type ExecutionRow,
  type ExecutionStatus,
  isFinished,
  type OpRow,
  WORKFLOW_CHANNEL,
  type WorkflowStore,
} from '../store/workflow-row.ts';
import type { WorkflowDefinition } from './define.ts';
import { type Journal, Session } from './session.ts';

export interface WorkflowEngineOptions {
  /** Executions replaying at once in this process; default 100. */
  readonly concurrency?: number;
  /**
   * How long a claim holds an execution before another worker may take it over; default
   * 30 s. Real time, like the poll and the stop grace, however the clock is scaled.
   */
  readonly leaseMs?: number;
  /** Longest sleep between looks for due executions when no wake-up arrives; default 1 s. */
  readonly pollMs?: number;
}

/** Told of the executions this engine begins and finishes (the app's metrics). */
export interface ExecutionObserver {
  /** A worker began the execution: its first session, the journal still empty. */
  executionStarted(workflow: string): void;
  /** A session committed the execution's final status. */
  executionFinished(workflow: string, status: ExecutionStatus): void;
}

/** A notification on WORKFLOW_CHANNEL with this prefix asks whoever runs the execution to stop it. */
export const STOP_PREFIX = 'stop:';

/** How long to leave an execution this worker has no definition for before looking again. */
const UNKNOWN_WORKFLOW_RETRY_MS = 60_000;

export class WorkflowEngine {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #definitions: ReadonlyMap<string, WorkflowDefinition>;
  readonly #observer: ExecutionObserver | null;
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #sessions = new Map<string, Session>();
  #running = false;
  #nudge: AbortController | null = null;
  #nudged = false;
  #loop: Promise<void> | null = null;
  #renewLoop: Promise<void> | null = null;
  readonly #stopping = new AbortController();
  /** Wakes the renewal loop when the first execution starts after an idle spell. */
  #sessionStarted: (() => void) | null = null;
  #unlisten: Unlisten | null = null;
  /** Waits after failed claims (a lost connection, a restarting server): grows, with jitter. */
  readonly #backoff = new Backoff();

  constructor(
    deps: {
      readonly store: Store;
      readonly clock: Clock;
      readonly log: Logger;
      readonly definitions: ReadonlyMap<string, WorkflowDefinition>;
      readonly observer?: ExecutionObserver | null;
    },
    options: WorkflowEngineOptions = {},
  ) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#definitions = deps.definitions;
    this.#observer = deps.observer ?? null;
    this.#concurrency = options.concurrency ?? 100;
    // Held as the clock durations that last this long in real time (see Clock.real).
    this.#leaseMs = deps.clock.real(options.leaseMs ?? 30_000);
    this.#pollMs = deps.clock.real(options.pollMs ?? 1000);
  }

  /** Executions this process is running now. */
  get active(): number {
    return this.#sessions.size;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#unlisten = await this.#store.listen(WORKFLOW_CHANNEL, (payload) => {
      if (payload.startsWith(STOP_PREFIX)) this.requestStop(payload.slice(STOP_PREFIX.length));
      else this.wake();
    });
    this.#loop = this.#claimLoop();
    this.#renewLoop = this.#renewEvery();
  }

  /** Passes a stop request to the session running that execution here, if any. */
  requestStop(executionId: string): void {
    for (const s of this.#sessions.values()) if (s.id === executionId) s.requestStop();
  }

  /** Look for due executions now (a start or a completion in this process). */
  wake(): void {
    this.#nudged = true;
    this.#nudge?.abort();
  }

  /**
   * Stops claiming and waits up to `graceMs` for running sessions to end; the rest give
   * their leases back (so another worker resumes them at once) and are abandoned.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#stopping.abort();
    this.#nudge?.abort();
    await this.#unlisten?.().catch(() => {});
    await this.#loop;
    const ended = Promise.all([...this.#sessions.values()].map((s) => s.ended));
    const timer = new AbortController();
    await Promise.race([ended, this.#clock.sleep(this.#clock.real(graceMs), timer.signal).catch(() => {})]);
    timer.abort();
    await Promise.all([...this.#sessions.values()].map((s) => s.abandon()));
    await this.#renewLoop;
  }

  async #claimLoop(): Promise<void> {
    while (this.#running) {
      this.#nudged = false;
      let claimed = 0;
      try {
        claimed = await this.#claimOnce();
        this.#backoff.reset();
      } catch (err) {
        if (!this.#running) break;
        const retryInMs = this.#backoff.next();
        if (isTransient(err))
          this.#log.warn({ err, retryInMs }, 'workflow engine lost its connection to the store; retrying');
        else this.#log.error({ err, retryInMs }, 'could not claim workflow executions; retrying');
        await this.#clock.sleep(this.#clock.real(retryInMs), this.#stopping.signal).catch(() => {});
        continue;
      }
      if (!this.#running) break;
      if (claimed > 0 && this.#sessions.size < this.#concurrency) continue;
      if (this.#nudged) continue;
      let wait = this.#pollMs;
      try {
        const next = await this.#store.workflows.nextDueAt();
        if (next !== null) wait = Math.max(0, Math.min(wait, next - this.#clock.now()));
      } catch {
        // polled again below
      }
      if (wait === 0 && this.#sessions.size < this.#concurrency) continue;
      const nudge = new AbortController();
      this.#nudge = nudge;
      if (this.#nudged) continue;
      await this.#clock.sleep(Math.max(wait, 1), nudge.signal).catch(() => {});
      this.#nudge = null;
    }
  }

  async #claimOnce(): Promise<number> {
    const free = this.#concurrency - this.#sessions.size;
    if (free <= 0) return 0;
    const now = this.#clock.now();
    const rows = await this.#store.workflows.claim({ nowMs: now, leaseMs: this.#leaseMs, limit: free });
    // One read for the batch's journals: on PostgreSQL a claim of 100 is then two round trips, not 101.
    const journals = await this.#store.workflows.journals(
      rows.filter((r) => this.#definitions.has(r.workflow)).map((r) => r.id),
    );
    await Promise.all(rows.map((row) => this.#begin(row, journals.get(row.id) ?? [], now)));
    return rows.length;
  }

  async #begin(row: ExecutionRow, journal: OpRow[], now: number): Promise<void> {
    const def = this.#definitions.get(row.workflow);
    if (def === undefined) {
      this.#log.warn(
        { workflow: row.workflow, execution: row.id },
        'no definition of this workflow in this worker; leaving the execution for a worker that has it',
      );
      await this.#store.workflows.checkpoint(
        row.id,
        row.leaseToken ?? '',
        [],
        { release: { dueAtMs: now + this.#clock.real(UNKNOWN_WORKFLOW_RETRY_MS) } },
        now,
      );
      return;
    }
    const observer = this.#observer;
    if (observer && journal.length === 0) observer.executionStarted(row.workflow);
    const session = new Session(
      {
        journal: observer ? observed(this.#store.workflows, row.workflow, observer) : this.#store.workflows,
        clock: this.#clock,
        log: this.#log,
        definitions: this.#definitions,
      },
      def,
      row,
      journal,
    );
    this.#sessions.set(session.token, session);
    this.#sessionStarted?.();
    void session.start().then((end) => {
      this.#sessions.delete(session.token);
      // A child that finished may have woken its parent; a freed slot may take the next.
      if (end !== 'lost') this.wake();
    });
  }

  async #renewEvery(): Promise<void> {
    const every = Math.max(10, Math.floor(this.#leaseMs / 3));
    const stopped = new Promise<void>((resolve) =>
      this.#stopping.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    while (this.#running || this.#sessions.size > 0) {
      if (this.#sessions.size === 0) {
        // Nothing to renew: an idle worker sleeps until an execution starts, not every few seconds.
        await Promise.race([new Promise<void>((resolve) => (this.#sessionStarted = resolve)), stopped]);
        this.#sessionStarted = null;
        continue;
      }
      try {
        await this.#clock.sleep(every, this.#running ? this.#stopping.signal : undefined);
      } catch {
        // stopping: renew once more below, then leave when the sessions are gone
      }
      if (!this.#running && this.#sessions.size === 0) break;
      const tokens = [...this.#sessions.keys()];
      if (tokens.length === 0) continue;
      try {
        const now = this.#clock.now();
        const { lost, stopRequested } = await this.#store.workflows.renew(tokens, now + this.#leaseMs, now);
        for (const t of lost) this.#sessions.get(t)?.lose();
        for (const t of stopRequested) this.#sessions.get(t)?.requestStop();
      } catch (err) {
        this.#log.warn({ err }, 'could not renew workflow leases');
      }
      if (!this.#running) break;
    }
  }
}

/** The store as a session's journal, telling `observer` of the final status a checkpoint committed. */
function observed(store: WorkflowStore, workflow: string, observer: ExecutionObserver): Journal {
  return {
    start: (row, nowMs) => store.start(row, nowMs),
    async checkpoint(executionId, token, ops, patch, nowMs) {
      const written = await store.checkpoint(executionId, token, ops, patch, nowMs);
      if (written && patch.status !== undefined && isFinished(patch.status)) {
        observer.executionFinished(workflow, patch.status);
      }
      return written;
    },
  };
}
