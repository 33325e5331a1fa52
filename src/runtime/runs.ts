// The run history as users see it, and invocations: a manual call (or, later, a
// schedule tick or task) becomes a queued run plus a message on the function's
// own invocation queue, so it is retried, leased and recovered like any message.

import type { Clock } from '../core/clock.ts';
import { MainspringError } from '../core/errors.ts';
import type { ErrorRecord } from '../functions/errors.ts';
import { attemptRunId, invocationQueueName } from '../functions/ids.ts';
import type { QueueDefinition, QueueSettings } from '../queue/define.ts';
import type { Queues } from '../queue/queues.ts';
import { MESSAGES_CHANNEL } from '../store/message-row.ts';
import {
  type LogRow,
  newRunId,
  RUN_STATUSES,
  type RunRow,
  type RunStatus,
  type RunWrite,
  TERMINAL_STATUSES,
  type TriggerKind,
} from '../store/run-row.ts';
import type { Store } from '../store/types.ts';
import type { FunctionDefinition, TriggerInfo } from './function.ts';
import { RUN_CANCEL_CHANNEL, RUN_LOGS_CHANNEL } from './recorder.ts';

/** A run as the client, API and CLI return it. */
export interface Run {
  readonly id: string;
  readonly function: string;
  readonly invocationId: string;
  readonly attempt: number;
  readonly status: RunStatus;
  readonly trigger: TriggerInfo;
  readonly input: unknown;
  readonly scheduledFor: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly result: unknown;
  readonly error: (ErrorRecord & { readonly exitCode?: number | null }) | null;
  readonly cancelRequestedAt: string | null;
  readonly owner: string | null;
  readonly logCount: number;
}

export interface RunLogLine {
  readonly runId: string;
  readonly function: string;
  readonly seq: number;
  readonly id: number;
  readonly time: string;
  readonly level: number;
  readonly msg: string;
  readonly fields: Record<string, unknown> | null;
}

export interface ListRunsOptions {
  readonly function?: string;
  readonly status?: RunStatus;
  /** Any of these statuses. */
  readonly statuses?: readonly RunStatus[];
  readonly trigger?: TriggerKind;
  /** Only the attempts of this invocation. */
  readonly invocation?: string;
  /** A case-insensitive substring of the input, the error or a log line (1 to 200 characters). */
  readonly search?: string;
  readonly from?: Date;
  readonly to?: Date;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
  /** Default 50, at most 500. */
  readonly limit?: number;
}

export interface InvokeOptions {
  /** What started it (default: manual). */
  readonly trigger?: TriggerInfo;
  /** Start no earlier than this. */
  readonly at?: Date;
}

/** Messages of a function's invocation queue. */
export interface InvocationMessage {
  readonly invocationId: string;
  readonly input: unknown;
  readonly trigger: TriggerInfo;
  readonly scheduledForMs: number | null;
  /** Limits of this invocation's own (a schedule's retry policy), over the function's. */
  readonly retry?: { readonly maxAttempts: number | null; readonly maxEventAgeMs: number | null };
}

/** A new invocation: its first attempt's queued row and the message that starts it. */
export interface NewInvocation {
  readonly row: RunWrite;
  readonly queue: string;
  readonly message: InvocationMessage;
}

/**
 * Builds an invocation of function `fn` (its first attempt's queued row and its message);
 * the caller stores both. `atMs`: start no earlier than this.
 */
export function newInvocation(
  fn: string,
  input: unknown,
  inputJson: string | null,
  trigger: TriggerInfo,
  atMs: number | null,
  nowMs: number,
  retry?: InvocationMessage['retry'],
): NewInvocation {
  const invocationId = newRunId(nowMs);
  const row: RunWrite = {
    id: attemptRunId(invocationId, 1),
    functionName: fn,
    invocationId,
    attempt: 1,
    status: 'queued',
    triggerKind: trigger.kind,
    trigger: JSON.stringify(trigger),
    input: inputJson,
    scheduledForMs: atMs,
    createdAtMs: nowMs,
    startedAtMs: null,
    finishedAtMs: null,
    result: null,
    error: null,
    owner: null,
    logCount: 0,
  };
  const message: InvocationMessage = {
    invocationId,
    input: input ?? null,
    trigger,
    scheduledForMs: atMs,
    ...(retry !== undefined ? { retry } : {}),
  };
  return { row, queue: invocationQueueName(fn), message };
}

export { RUN_STATUSES };

/** The error a cancelled run is stored with (a queued run cancelled never starts). */
export const CANCELLED_ERROR = JSON.stringify({
  name: 'MainspringError',
  code: 'E_RUN_CANCELLED',
  message: 'the run was cancelled',
});

const MINUTE = 60_000;
const MAX_LEASE_MS = 12 * 3_600_000;

/** The invocation queue of a function: its lease outlasts the timeout; its retries are the function's. */
export function invocationQueue(fn: FunctionDefinition): QueueDefinition {
  const grace = fn.command?.killGraceMs ?? 0;
  const settings: QueueSettings = {
    visibilityTimeoutMs: Math.min(MAX_LEASE_MS, (fn.timeoutMs ?? MAX_LEASE_MS) + grace + MINUTE),
    maxReceiveCount: fn.retry.maxAttempts,
    deadLetterQueue: null,
    retry: {
      backoff: fn.retry.backoff,
      baseMs: fn.retry.baseMs,
      maxMs: fn.retry.maxMs,
      jitter: fn.retry.jitter,
    },
    fifo: false,
    maxBodyBytes: 1024 * 1024,
    dedupWindowMs: 5 * MINUTE,
  };
  return { kind: 'queue', name: invocationQueueName(fn.name), settings };
}

const TRIGGER_KINDS: readonly TriggerKind[] = ['manual', 'queue', 'event', 'schedule', 'task', 'webhook'];

/**
 * The run history and manual invocation.
 *
 * @example
 * ```ts
 * const run = await ms.runs.invoke('db-cleanup', { dryRun: true });
 * const done = await ms.runs.wait(run.id);           // follows retries to the last attempt
 * for (const r of (await ms.runs.list({ function: 'db-cleanup', status: 'failed' })).runs) console.log(r.error);
 * ```
 */
/** A function's pause state, as pauseFunction and resumeFunction return it. */
export interface FunctionPauseInfo {
  readonly name: string;
  /** Paused: no process starts a run of it until it is resumed. */
  readonly paused: boolean;
  readonly pausedAt: Date | null;
}

export class Runs {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #queues: Queues;
  readonly #functions: ReadonlyMap<string, FunctionDefinition>;

  constructor(store: Store, clock: Clock, queues: Queues, functions: readonly FunctionDefinition[]) {
    this.#store = store;
    this.#clock = clock;
    this.#queues = queues;
    this.#functions = new Map(functions.map((f) => [f.name, f]));
  }

  /** The app's functions, by name. */
  get functions(): ReadonlyMap<string, FunctionDefinition> {
    return this.#functions;
  }

  /**
   * Pauses the function in every process: none starts a run of it (invocations, schedule
   * ticks, tasks and queue messages stay stored and wait) until it is resumed; runs already
   * started finish as usual. Idempotent; it stays paused across restarts.
   */
  async pauseFunction(fn: string | FunctionDefinition): Promise<FunctionPauseInfo> {
    const name = this.function(typeof fn === 'string' ? fn : fn?.name).name;
    const state = await this.#queues.pause(invocationQueueName(name));
    return { name, paused: state.paused, pausedAt: state.pausedAt };
  }

  /** Resumes a paused function and wakes its consumers everywhere; idempotent. */
  async resumeFunction(fn: string | FunctionDefinition): Promise<FunctionPauseInfo> {
    const name = this.function(typeof fn === 'string' ? fn : fn?.name).name;
    const state = await this.#queues.resume(invocationQueueName(name));
    // Its trigger queues' consumers sleep too: wake every consumer rather than list them.
    await this.#store.notify(MESSAGES_CHANNEL, '*');
    return { name, paused: state.paused, pausedAt: state.pausedAt };
  }

  /** Since when each paused function of the app is paused. */
  async pausedFunctions(): Promise<Map<string, Date>> {
    const byQueue = new Map([...this.#functions.keys()].map((f) => [invocationQueueName(f), f]));
    const paused = new Map<string, Date>();
    for (const q of await this.#store.queues.listQueues()) {
      const fn = byQueue.get(q.name);
      if (fn !== undefined && q.pausedAtMs !== null) paused.set(fn, new Date(q.pausedAtMs));
    }
    return paused;
  }

  function(name: string): FunctionDefinition {
    const fn = this.#functions.get(name);
    if (!fn) {
      const known = [...this.#functions.keys()];
      throw new MainspringError(
        'E_FUNCTION_NOT_FOUND',
        `no function named "${name}"; ${known.length > 0 ? `defined: ${known.join(', ')}` : 'the app defines none'}`,
        { details: { field: 'function', value: name } },
      );
    }
    return fn;
  }

  /**
   * Queues a run of the function with `input`; any worker of the app runs it, retrying
   * per the function's `retry`. Resolves with the queued run.
   */
  async invoke(fn: string | FunctionDefinition, input: unknown, options: InvokeOptions = {}): Promise<Run> {
    const def = this.function(typeof fn === 'string' ? fn : fn.name);
    const inputJson = checkInput(input);
    const now = this.#clock.now();
    const at = options.at?.getTime() ?? null;
    const { row, queue, message } = newInvocation(
      def.name,
      input,
      inputJson,
      options.trigger ?? { kind: 'manual' },
      at,
      now,
    );
    // The row first: a worker that claims the message must find it queued.
    await this.#store.runs.write([row]);
    try {
      await this.#queues.send(queue, message, at === null ? {} : { delay: Math.max(0, at - now) });
    } catch (err) {
      await this.#store.runs.write([
        {
          ...row,
          status: 'failed',
          finishedAtMs: this.#clock.now(),
          error: JSON.stringify({
            name: 'MainspringError',
            message: `could not queue the run: ${(err as Error).message}`,
          }),
        },
      ]);
      throw err;
    }
    return toRun({ ...row, cancelRequestedAtMs: null });
  }

  async get(id: string): Promise<Run> {
    return toRun(await this.#row(id));
  }

  async list(options: ListRunsOptions = {}): Promise<{ runs: Run[]; nextCursor: string | null }> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
      throw invalid('limit', limit, 'use a whole number from 1 to 500');
    }
    if (options.status !== undefined && !RUN_STATUSES.includes(options.status)) {
      throw invalid('status', options.status, `use one of ${RUN_STATUSES.join(', ')}`);
    }
    for (const s of options.statuses ?? []) {
      if (!RUN_STATUSES.includes(s))
        throw invalid('status', s, `use one or more of ${RUN_STATUSES.join(', ')}`);
    }
    if (options.search !== undefined && (options.search.length < 1 || options.search.length > 200)) {
      throw invalid('q', options.search, 'search for 1 to 200 characters');
    }
    if (options.trigger !== undefined && !TRIGGER_KINDS.includes(options.trigger)) {
      throw invalid('trigger', options.trigger, `use one of ${TRIGGER_KINDS.join(', ')}`);
    }
    for (const f of ['from', 'to'] as const) {
      const d = options[f];
      if (d !== undefined && !(d instanceof Date && Number.isFinite(d.getTime()))) {
        throw invalid(f, d, 'give an ISO-8601 instant such as 2026-11-22T10:00:00Z');
      }
    }
    const rows = await this.#store.runs.list({
      limit: limit + 1,
      ...(options.function !== undefined ? { functionName: options.function } : {}),
      ...(options.status !== undefined ? { status: options.status } : {}),
      ...(options.trigger !== undefined ? { triggerKind: options.trigger } : {}),
      ...(options.statuses !== undefined ? { statuses: options.statuses } : {}),
      ...(options.invocation !== undefined ? { invocationId: options.invocation } : {}),
      ...(options.search !== undefined ? { search: options.search } : {}),
      ...(options.from !== undefined ? { fromMs: options.from.getTime() } : {}),
      ...(options.to !== undefined ? { toMs: options.to.getTime() } : {}),
      ...(options.cursor !== undefined ? { beforeId: options.cursor } : {}),
    });
    const page = rows.slice(0, limit);
    return {
      runs: page.map(toRun),
      nextCursor: rows.length > limit ? page[page.length - 1]!.id : null,
    };
  }

  /**
   * Runs created in the last `hours` hours, per hour and status (oldest hour first), for
   * the dashboard's chart.
   */
  async hourly(
    hours: number,
  ): Promise<{ from: Date; hours: { start: Date; counts: Partial<Record<RunStatus, number>> }[] }> {
    if (!Number.isInteger(hours) || hours < 1 || hours > 168) throw invalid('hours', hours, 'use 1 to 168');
    const hour = 3_600_000;
    const fromMs = (Math.floor(this.#clock.now() / hour) - hours + 1) * hour;
    const buckets = Array.from({ length: hours }, (_, i) => ({
      start: new Date(fromMs + i * hour),
      counts: {} as Partial<Record<RunStatus, number>>,
    }));
    for (const { bucket, status, count } of await this.#store.runs.countByBucket(fromMs, hour)) {
      const b = buckets[Math.floor(bucket)];
      if (b) b.counts[status] = (b.counts[status] ?? 0) + count;
    }
    return { from: new Date(fromMs), hours: buckets };
  }

  /**
   * Invokes a finished run's function again with the same input, as a new invocation whose
   * trigger names the run (`{ kind: 'manual', retryOf }`). Only runs that did not succeed.
   */
  async retry(id: string): Promise<Run> {
    const run = toRun(await this.#row(id));
    if (run.status !== 'failed' && run.status !== 'timed_out' && run.status !== 'cancelled') {
      throw new MainspringError(
        'E_CONFLICT',
        `run ${id} is ${run.status}: only a failed, timed-out or cancelled run can be retried`,
        { details: { id, status: run.status } },
      );
    }
    return this.invoke(run.function, run.input, { trigger: { kind: 'manual', retryOf: id } });
  }

  /** A run's stored log lines after `afterSeq`. */
  async logs(id: string, options: { afterSeq?: number; limit?: number } = {}): Promise<RunLogLine[]> {
    await this.#row(id);
    const rows = await this.#store.runs.logs(id, options.afterSeq ?? 0, options.limit ?? 1000);
    return rows.map(toLogLine);
  }

  /**
   * Cancels a run: a queued one never starts; a running one's signal fires (a command
   * gets SIGTERM) wherever it runs. Resolves with the run after the request.
   */
  async cancel(id: string): Promise<Run> {
    const now = this.#clock.now();
    const row = await this.#store.runs.cancel(id, CANCELLED_ERROR, now);
    if (!row) throw notFound(id);
    if (row.status === 'running') await this.#store.notify(RUN_CANCEL_CHANNEL, id);
    return toRun(row);
  }

  /**
   * Waits until the invocation the run belongs to is over — it succeeded, was cancelled,
   * or failed with no attempt left — and resolves with its last attempt. If `signal`
   * fires first, resolves at once with the attempt as it is then.
   */
  async wait(id: string, options: { signal?: AbortSignal; pollMs?: number } = {}): Promise<Run> {
    let row = await this.#row(id);
    const pollMs = options.pollMs ?? 200;
    for (;;) {
      if (TERMINAL_STATUSES.includes(row.status)) {
        if (row.status === 'succeeded' || row.status === 'cancelled') return toRun(row);
        // A retry's queued row is written in the same batch as the failed attempt's.
        const next = await this.#store.runs.get(attemptRunId(row.invocationId, row.attempt + 1));
        if (next === null) return toRun(row);
        row = next;
        continue;
      }
      await this.#pause(pollMs, RUN_LOGS_CHANNEL, row.id, options.signal);
      if (options.signal?.aborted) return toRun(await this.#row(row.id));
      row = await this.#row(row.id);
    }
  }

  /**
   * Yields a run's log lines as they are stored, from the first (or after `afterSeq`),
   * and ends once the run has finished and every line is out.
   */
  async *follow(
    id: string,
    options: { afterSeq?: number; signal?: AbortSignal; pollMs?: number } = {},
  ): AsyncGenerator<RunLogLine> {
    let after = options.afterSeq ?? 0;
    await this.#row(id);
    for (;;) {
      const run = await this.#row(id);
      const lines = await this.#store.runs.logs(id, after, 1000);
      for (const l of lines) {
        after = l.seq;
        yield toLogLine(l);
      }
      if (lines.length === 1000) continue;
      if (TERMINAL_STATUSES.includes(run.status)) return;
      if (options.signal?.aborted) return;
      await this.#pause(options.pollMs ?? 500, RUN_LOGS_CHANNEL, id, options.signal);
    }
  }

  /**
   * Throws E_FUNCTION_NOT_FOUND unless the function is defined here or has runs in the store
   * (a process that did not load the app's config still reads its history).
   */
  async checkFunction(name: string): Promise<void> {
    if (this.#functions.has(name)) return;
    const { runs } = await this.list({ function: name, limit: 1 });
    if (runs.length === 0) this.function(name);
  }

  /** A page of the log lines of a function's runs stored at or after `since`, after line `afterId`. */
  async functionLogs(
    name: string,
    options: { since?: Date; afterId?: number; limit?: number } = {},
  ): Promise<RunLogLine[]> {
    const rows = await this.#store.runs.functionLogs(
      name,
      options.afterId ?? 0,
      options.since?.getTime() ?? 0,
      options.limit ?? 1000,
    );
    return rows.map(toLogLine);
  }

  /** Yields the log lines of every run of a function stored at or after `since`, then new ones as they come, until `signal`. */
  async *followFunction(
    name: string,
    options: { since?: Date; afterId?: number; signal?: AbortSignal; pollMs?: number; follow?: boolean } = {},
  ): AsyncGenerator<RunLogLine> {
    await this.checkFunction(name);
    let after = options.afterId ?? 0;
    const sinceMs = options.since?.getTime() ?? 0;
    for (;;) {
      const lines = await this.#store.runs.functionLogs(name, after, sinceMs, 1000);
      for (const l of lines) {
        after = l.id;
        yield toLogLine(l);
      }
      if (lines.length === 1000) continue;
      if (options.follow === false || options.signal?.aborted) return;
      await this.#pause(options.pollMs ?? 500, RUN_LOGS_CHANNEL, null, options.signal);
    }
  }

  async #row(id: string): Promise<RunRow> {
    const row = await this.#store.runs.get(id);
    if (!row) throw notFound(id);
    return row;
  }

  /** Sleeps up to `ms` (real time: followers poll the store), waking early on a matching notification. */
  async #pause(ms: number, channel: string, id: string | null, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const unlisten = await this.#store.listen(channel, (payload) => {
      if (id === null || payload === id || payload === '*') ac.abort();
    });
    try {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        ac.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await unlisten();
    }
  }
}

function checkInput(input: unknown): string | null {
  if (input === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(input);
  } catch (err) {
    throw invalid('input', undefined, `cannot be sent as JSON (${(err as Error).message})`);
  }
  if (text === undefined)
    throw invalid('input', undefined, 'is not JSON (a function or symbol); send plain data');
  return text;
}

function invalid(field: string, value: unknown, fix: string): MainspringError {
  return new MainspringError('E_VALIDATION', `${field} ${JSON.stringify(value) ?? ''} is invalid; ${fix}`, {
    details: { field, value },
  });
}

function notFound(id: string): MainspringError {
  return new MainspringError(
    'E_RUN_NOT_FOUND',
    `no run with id "${id}" (runs older than the retention are deleted)`,
    {
      details: { field: 'id', value: id },
    },
  );
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

export function toRun(r: RunRow): Run {
  return {
    id: r.id,
    function: r.functionName,
    invocationId: r.invocationId,
    attempt: r.attempt,
    status: r.status,
    trigger: parse(r.trigger) as TriggerInfo,
    input: parse(r.input),
    scheduledFor: iso(r.scheduledForMs),
    createdAt: iso(r.createdAtMs)!,
    startedAt: iso(r.startedAtMs),
    finishedAt: iso(r.finishedAtMs),
    durationMs: r.startedAtMs !== null && r.finishedAtMs !== null ? r.finishedAtMs - r.startedAtMs : null,
    result: parse(r.result),
    error: parse(r.error) as Run['error'],
    cancelRequestedAt: iso(r.cancelRequestedAtMs),
    owner: r.owner,
    logCount: r.logCount,
  };
}

export function toLogLine(l: LogRow): RunLogLine {
  return {
    runId: l.runId,
    function: l.functionName,
    seq: l.seq,
    id: l.id,
    time: new Date(l.atMs).toISOString(),
    level: l.level,
    msg: l.msg,
    fields: l.fields === null ? null : (JSON.parse(l.fields) as Record<string, unknown>),
  };
}
