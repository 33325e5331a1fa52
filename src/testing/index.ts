// mainspringjs/testing: an app on an in-memory store and a fake clock, for testing the schedules,
// queues, tasks and workflows a user wrote. `advance('24h')` moves fake time to each moment
// something sleeps until (a tick, a retry's backoff, a workflow's wait, a task's due time) and
// lets what wakes there run to the end before going on, so a week passes in well under a second.

import pino from 'pino';
import { createMainspring, type Mainspring } from '../app.ts';
import { appFromConfig, type MainspringConfig } from '../config.ts';
import { FakeClock } from '../core/clock.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { MainspringError } from '../core/errors.ts';
import { readInstant } from '../core/instant.ts';
import type { MessageInfo } from '../queue/queues.ts';
import type { FunctionDefinition } from '../runtime/function.ts';
import type { Run } from '../runtime/runs.ts';
import type { Worker, WorkerOptions } from '../runtime/worker.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';

export interface TestAppOptions {
  /** Where fake time starts: an ISO-8601 instant with a zone, a Date or epoch ms (default 2026-01-01T00:00:00Z). */
  readonly start?: Date | string | number;
  /**
   * The fake clock to run on, when code built before the app needs it too (a workflow that
   * dates its results); `start` is then where that clock stands.
   */
  readonly clock?: FakeClock;
  /** The store (default `sqlite::memory:`, a fresh one per app). */
  readonly db?: string;
  /**
   * Run a worker for the app's functions and workflows (default true). Its poll interval
   * defaults to an hour of fake time: sends and wake-ups reach it at once in one process, and
   * each poll would be one more stop on the way through a fake week.
   */
  readonly worker?: boolean | WorkerOptions;
  /** Run the scheduler, firing the app's schedules and tasks (default true). */
  readonly scheduler?: boolean;
  /** Folder command functions run in (default: the current folder). */
  readonly appDir?: string;
  /**
   * How long (real time) `advance` waits for what woke at one moment to finish before it
   * gives up, naming what is still busy (default 10 s).
   */
  readonly settleTimeoutMs?: number;
}

export interface TestApp {
  /** The app, as `createMainspring` returns it: send, invoke, start, read. */
  readonly ms: Mainspring;
  /** The fake clock everything runs on. */
  readonly clock: FakeClock;
  /** The worker, when one runs. */
  readonly worker: Worker | null;
  /** Fake time now. */
  now(): Date;
  /**
   * Moves fake time forward by `by` (`'90s'`, `'24h'`, `'7d'` or ms), stopping at every moment
   * something sleeps until, and waiting there until what woke has finished: ticks fired and
   * run, retries run, workflows replayed to their next wait, records written.
   */
  advance(by: Duration): Promise<void>;
  /** As `advance`, to an instant. */
  advanceTo(to: Date | string | number): Promise<void>;
  /** Waits (real time) until nothing due now is left to run and every run has finished. */
  settle(): Promise<void>;
  /** Every run of a function, oldest first. */
  runsOf(fn: string | FunctionDefinition): Promise<Run[]>;
  /** A queue's messages: those waiting or in flight, and its dead letters. */
  messages(queue: string | { readonly name: string }): Promise<{ live: MessageInfo[]; dead: MessageInfo[] }>;
  /** Stops the worker and scheduler and closes the store. */
  close(): Promise<void>;
}

const HOUR_MS = 3_600_000;

/**
 * Starts `config`'s app on a fresh in-memory store with a fake clock, its worker and
 * scheduler running.
 *
 * @example
 * ```ts
 * import { createTestApp } from 'mainspringjs/testing';
 * import config from '../mainspring.config.ts';
 *
 * const t = await createTestApp(config, { start: '2026-03-07T12:00:00Z' });
 * await t.advance('24h');
 * expect((await t.runsOf('nightly-report')).map((r) => r.status)).toEqual(['succeeded']);
 * await t.close();
 * ```
 */
export async function createTestApp(
  config: MainspringConfig = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  if (options.clock !== undefined && options.start !== undefined) {
    throw new MainspringError(
      'E_VALIDATION',
      'give start or clock, not both: a clock already says where time stands',
      {
        details: { field: 'start' },
      },
    );
  }
  let clock = options.clock;
  if (clock === undefined) {
    const start = options.start ?? '2026-01-01T00:00:00Z';
    const startMs = typeof start === 'number' ? start : readInstant(start);
    if (typeof startMs !== 'number') {
      throw new MainspringError('E_VALIDATION', `start ${startMs.why}`, {
        details: { field: 'start', value: start },
      });
    }
    clock = new FakeClock(startMs);
  }
  const ms = await createMainspring({
    ...appFromConfig(config, null),
    ...(options.appDir !== undefined ? { appDir: options.appDir } : {}),
    db: options.db ?? 'sqlite::memory:',
    clock,
    logger: pino({ level: 'silent' }),
  });
  const calls = countStoreCalls(ms);
  let worker: Worker | null = null;
  let scheduler: Scheduler | null = null;
  try {
    const wantWorker = options.worker ?? true;
    if (wantWorker !== false && (ms.functions.length > 0 || ms.workflows.definitions().length > 0)) {
      worker = await ms.startWorker({ pollIntervalMs: HOUR_MS, ...(wantWorker === true ? {} : wantWorker) });
    }
    if (options.scheduler ?? true) scheduler = await ms.startScheduler({ pollIntervalMs: HOUR_MS });
  } catch (err) {
    await ms.close();
    throw err;
  }
  return new FakeTimeApp(ms, clock, worker, scheduler, calls, options.settleTimeoutMs ?? 10_000);
}

/**
 * Counts the store calls in flight, so `advance` never moves time while a loop is between a
 * query and its next sleep: a tick being fired early, a claim, a checkpoint. The services reach
 * the store through these objects at each call, so wrapping their methods here sees them all.
 */
function countStoreCalls(ms: Mainspring): { readonly pending: number } {
  const counter = { pending: 0 };
  const done = () => {
    counter.pending--;
  };
  const { store } = ms;
  for (const part of [
    store.locks,
    store.queues,
    store.events,
    store.runs,
    store.scheduler,
    store.workflows,
  ]) {
    const target = part as unknown as Record<string, unknown>;
    for (
      let proto = Object.getPrototypeOf(part);
      proto && proto !== Object.prototype;
      proto = Object.getPrototypeOf(proto)
    ) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        const method = target[name];
        if (name === 'constructor' || typeof method !== 'function' || Object.hasOwn(target, name)) continue;
        target[name] = (...args: unknown[]) => {
          counter.pending++;
          try {
            return Promise.resolve((method as (...a: unknown[]) => unknown).apply(part, args)).finally(done);
          } catch (err) {
            done();
            throw err;
          }
        };
      }
    }
  }
  return counter;
}

class FakeTimeApp implements TestApp {
  readonly ms: Mainspring;
  readonly clock: FakeClock;
  readonly worker: Worker | null;
  readonly #scheduler: Scheduler | null;
  readonly #calls: { readonly pending: number };
  readonly #settleTimeoutMs: number;

  constructor(
    ms: Mainspring,
    clock: FakeClock,
    worker: Worker | null,
    scheduler: Scheduler | null,
    calls: { readonly pending: number },
    settleTimeoutMs: number,
  ) {
    this.ms = ms;
    this.clock = clock;
    this.worker = worker;
    this.#scheduler = scheduler;
    this.#calls = calls;
    this.#settleTimeoutMs = settleTimeoutMs;
  }

  now(): Date {
    return new Date(this.clock.now());
  }

  async advance(by: Duration): Promise<void> {
    await this.advanceTo(this.clock.now() + parseDuration(by, 'advance'));
  }

  async advanceTo(to: Date | string | number): Promise<void> {
    const target = typeof to === 'number' ? to : readInstant(to);
    if (typeof target !== 'number') {
      throw new MainspringError('E_VALIDATION', `advanceTo ${target.why}`, {
        details: { field: 'to', value: to },
      });
    }
    if (target < this.clock.now()) {
      throw new MainspringError(
        'E_VALIDATION',
        `advanceTo ${new Date(target).toISOString()} is before now (${this.now().toISOString()}); fake time only moves forward`,
        { details: { field: 'to', value: to } },
      );
    }
    await this.settle();
    for (;;) {
      // The next moment something sleeps until, or the store says work falls due (a loop that
      // missed a wake-up would otherwise find it only at its next hourly poll).
      const next = Math.min(this.clock.nextWakeAt ?? Number.POSITIVE_INFINITY, await this.#nextDue());
      const stop = Math.min(next, target);
      await this.clock.advanceTo(stop);
      await this.settle();
      if (stop >= target && (this.clock.nextWakeAt ?? Number.POSITIVE_INFINITY) > target) return;
    }
  }

  /** The earliest time after now that a message, a workflow execution or a tick falls due. */
  async #nextDue(): Promise<number> {
    const now = this.clock.now();
    const { store } = this.ms;
    const due: (number | null)[] = [];
    if (this.worker) {
      for (const queue of this.worker.queues) due.push(await store.queues.nextVisibleAt(queue, now));
      if (this.ms.workflows.definitions().length > 0) due.push(await store.workflows.nextDueAt());
    }
    if (this.#scheduler) due.push(await store.scheduler.nextDueAt());
    return Math.min(...due.map((t) => (t === null || t <= now ? Number.POSITIVE_INFINITY : t)));
  }

  async settle(): Promise<void> {
    const deadline = performance.now() + this.#settleTimeoutMs;
    let quiet = 0;
    let sleepers = -1;
    // Quiet three times in a row with nobody new asleep on the clock: a run that just finished
    // may have sent, woken or scheduled more, and a message claimed is not yet a running handler.
    while (quiet < 3) {
      await new Promise((resolve) => setImmediate(resolve));
      const busy = await this.#busy();
      if (busy === null) {
        quiet = this.clock.pendingSleeps === sleepers ? quiet + 1 : 1;
        sleepers = this.clock.pendingSleeps;
        continue;
      }
      quiet = 0;
      // Work waiting with nobody at it: notifications are a latency hint (one can be lost on
      // PostgreSQL) and the loops poll only hourly here, so wake them as their poll would.
      if (busy.waiting) {
        this.worker?.wake();
        this.#scheduler?.wake();
      }
      if (performance.now() > deadline) {
        throw new MainspringError(
          'E_NOT_SETTLED',
          `the app did not settle within ${this.#settleTimeoutMs} ms of real time at ${this.now().toISOString()}: ${busy.why}; a handler that waits on something outside fake time (a real timer, a network call) keeps it busy`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** What is still running or due now (`waiting`: due, with nobody at it yet), or null when nothing is. */
  async #busy(): Promise<{ readonly why: string; readonly waiting: boolean } | null> {
    const running = (why: string) => ({ why, waiting: false });
    const waiting = (why: string) => ({ why, waiting: true });
    if (this.#calls.pending > 0) return running(`${this.#calls.pending} store call(s) in flight`);
    const now = this.clock.now();
    const { store } = this.ms;
    if (this.worker) {
      if (this.worker.running > 0)
        return running(`${this.worker.running} handler call(s) or workflow execution(s) running`);
      const consumed = new Set(this.worker.queues);
      for (const c of await store.queues.counts(now)) {
        if (consumed.has(c.queue) && c.visible > 0) return waiting(`queue "${c.queue}" has messages to run`);
      }
      const wfDue = await store.workflows.nextDueAt();
      if (wfDue !== null && wfDue <= now && this.ms.workflows.definitions().length > 0)
        return waiting('a workflow execution is due');
      await this.worker.flushed();
    }
    if (this.#scheduler) {
      const due = await store.scheduler.nextDueAt();
      if (due !== null && due <= now) return waiting('a schedule tick or task is due');
    }
    return null;
  }

  async runsOf(fn: string | FunctionDefinition): Promise<Run[]> {
    const functionName = typeof fn === 'string' ? fn : fn.name;
    await this.worker?.flushed();
    const runs: Run[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.ms.runs.list({
        function: functionName,
        limit: 500,
        ...(cursor ? { cursor } : {}),
      });
      runs.push(...page.runs);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return runs.reverse();
  }

  async messages(queue: string | { readonly name: string }) {
    const name = typeof queue === 'string' ? queue : queue.name;
    const settings = await this.ms.queues.settings(name);
    const [live, dead] = await Promise.all([
      this.ms.queues.messages(name, { limit: 1000 }),
      settings.deadLetterQueue ? this.ms.queues.deadLetters(name, { limit: 1000 }) : [],
    ]);
    return { live, dead };
  }

  async close(): Promise<void> {
    // Stopping waits out the worker's grace period in fake time: move the clock while it does.
    let closed = false;
    const closing = this.ms.close().finally(() => {
      closed = true;
    });
    while (!closed) await this.clock.advance(5000);
    await closing;
  }
}
