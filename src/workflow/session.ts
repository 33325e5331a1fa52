// One session of one execution: a worker holds its lease, replays the handler against
// the journal (journaled operations return their recorded outcome without running
// again), runs the operations that are new, and ends in one of four ways: the handler
// settled (finished), nothing can progress until a time or an outside event
// (suspended), a stop was asked (stopped), or the lease was lost (lost: nothing more is
// written; whoever took the lease over replays from the journal).

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Backoff, isTransient } from '../core/backoff.ts';
import type { Clock } from '../core/clock.ts';
import { MainspringError } from '../core/errors.ts';
import { readInstant } from '../core/instant.ts';
import { compilePattern } from '../events/matcher.ts';
import type { EventPattern } from '../events/types.ts';
import { type ErrorRecord, isNonRetryable, retryAfterOf, toErrorRecord } from '../runtime/errors.ts';
import type { Store } from '../store/types.ts';
import type { ExecutionPatch, ExecutionRow, OpRow } from '../store/workflow-row.ts';
import {
  type BatchItem,
  type BatchItemStatus,
  type BatchOptions,
  type BatchResult,
  type Branch,
  type CallbackOptions,
  type CompletionReason,
  type RetryStrategy,
  type StepContext,
  type StepOptions,
  StepSemantics,
  show,
  type WaitDuration,
  type WaitForCallbackOptions,
  type WaitForConditionOptions,
  type WorkflowContext,
  type WorkflowDefinition,
  waitMs,
} from './define.ts';

export const MAX_CHECKPOINT_BYTES = 256 * 1024;
export const MAX_OPERATIONS = 25_000;

export type SessionEnd = 'finished' | 'suspended' | 'stopped' | 'lost';

export interface SessionDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly definitions: ReadonlyMap<string, WorkflowDefinition>;
}

/** What an execution waits for, as its record shows it. */
export interface WaitInfo {
  readonly kind: string;
  readonly name: string;
  readonly operation: string;
  readonly until: string | null;
  readonly callbackId?: string;
}

interface Blocked {
  readonly wakeAtMs: number | null;
  readonly info: WaitInfo;
}

// Settles never: what an operation returns once the session is over, so the handler halts where it is.
const NEVER: Promise<never> = new Promise(() => {});
const noop = () => {};
/** Retries of a checkpoint that failed on a lost connection (see #checkpoint). */
const CHECKPOINT_RETRIES = 6;

class Scope {
  readonly prefix: string;
  readonly parentOpId: string | null;
  readonly parent: Scope | null;
  counter = 0;
  readonly names = new Map<string, string>();
  /** A branch a batch completed without: its operations no longer run. */
  abandoned = false;

  constructor(parent: Scope | null, opId: string | null) {
    this.parent = parent;
    this.parentOpId = opId;
    this.prefix = opId === null ? '' : `${opId}-`;
  }

  get cutOff(): boolean {
    for (let s: Scope | null = this; s; s = s.parent) if (s.abandoned) return true;
    return false;
  }
}

interface Begun {
  readonly id: string;
  readonly name: string;
  readonly entry: OpRow | undefined;
}

/** An error from the journal, rebuilt the same way live and on replay. */
export class WorkflowOperationError extends Error {
  readonly code: string | undefined;
  constructor(record: ErrorRecord) {
    super(record.message);
    this.name = record.name;
    this.code = record.code;
    if (record.stack) this.stack = record.stack;
  }
}

export class Session {
  readonly #deps: SessionDeps;
  readonly #def: WorkflowDefinition;
  readonly #row: ExecutionRow;
  readonly #token: string;
  readonly #journal: Map<string, OpRow>;
  #unvisited: number;
  #opCount: number;
  #busy = 0;
  readonly #blocked = new Map<string, Blocked>();
  #state: 'live' | 'ending' | 'done' = 'live';
  #stopping = false;
  readonly #abort = new AbortController();
  readonly #log: Logger;
  #replaying: boolean;
  #deferredProgress: string | undefined;
  #pendingOps: OpRow[] = [];
  #pendingProgress: string | undefined;
  #flushWaiters: (() => void)[] = [];
  #flushing: Promise<void> | null = null;
  #idleScheduled = false;
  #end!: (end: SessionEnd) => void;
  readonly ended: Promise<SessionEnd>;

  constructor(deps: SessionDeps, def: WorkflowDefinition, row: ExecutionRow, journal: readonly OpRow[]) {
    this.#deps = deps;
    this.#def = def;
    this.#row = row;
    this.#token = row.leaseToken ?? '';
    this.#journal = new Map(journal.map((o) => [o.opId, o]));
    this.#unvisited = this.#journal.size;
    this.#opCount = row.opCount;
    this.#replaying = this.#unvisited > 0;
    this.#log = deps.log.child({ workflow: row.workflow, execution: row.id });
    if (this.#replaying) this.#log.level = 'silent';
    this.ended = new Promise((resolve) => {
      this.#end = resolve;
    });
  }

  get token(): string {
    return this.#token;
  }

  get id(): string {
    return this.#row.id;
  }

  /** Runs the session; `ended` tells how it ended. */
  start(): Promise<SessionEnd> {
    const row = this.#row;
    const now = this.#now();
    if (row.stopRequestedAtMs !== null) {
      void this.#finish({ status: 'stopped', error: json(stoppedError()) }, 'stopped');
    } else if (row.timeoutAtMs !== null && now >= row.timeoutAtMs) {
      void this.#finish({ status: 'timed_out', error: json(timedOutError(this.#def)) }, 'finished');
    } else if (row.version !== this.#def.version && !this.#def.compatibleVersions.includes(row.version)) {
      this.#fatal(
        new MainspringError(
          'E_WORKFLOW_VERSION',
          `execution ${row.id} started on version "${row.version}" of workflow "${row.workflow}", and this worker runs version "${this.#def.version}"; declare compatibleVersions: ['${row.version}'] if the code replays it the same way, or let the old version's workers finish it`,
          { details: { started: row.version, running: this.#def.version } },
        ),
      );
    } else {
      let input: unknown;
      try {
        input = JSON.parse(row.input);
      } catch {
        input = null;
      }
      const ctx = this.#context(new Scope(null, null));
      Promise.resolve()
        .then(() => this.#def.handler(input, ctx))
        .then(
          (value) => this.#complete(value),
          (err: unknown) => this.#failWith(err),
        );
    }
    return this.ended;
  }

  /** The worker was asked to stop it: running steps' signals fire; nothing further starts. */
  requestStop(): void {
    if (this.#stopping || this.#state !== 'live') return;
    this.#stopping = true;
    this.#abort.abort(stoppedAbort());
    this.#idle();
  }

  /** The lease was taken over: write nothing more. */
  lose(): void {
    if (this.#state === 'done') return;
    this.#state = 'done';
    this.#abort.abort(new Error('lease lost'));
    this.#end('lost');
  }

  /** Shutdown: give the lease back so another worker resumes at once; running steps are aborted. */
  async abandon(): Promise<void> {
    if (this.#state !== 'live') return;
    this.#state = 'done';
    this.#abort.abort(new Error('worker shutting down'));
    await this.#deps.store.workflows
      .checkpoint(this.#row.id, this.#token, [], { release: { dueAtMs: this.#now() } }, this.#now())
      .catch(noop);
    this.#end('lost');
  }

  #now(): number {
    return this.#deps.clock.now();
  }

  // --- the context ------------------------------------------------------------------------

  #context(scope: Scope): WorkflowContext {
    const info = {
      id: this.#row.id,
      workflow: this.#row.workflow,
      version: this.#row.version,
      replay: this.#row.replays,
    };
    const ctx: WorkflowContext = {
      execution: info,
      log: this.#log,
      step: (name, fn, options) => this.#step(scope, name, fn, options),
      wait: (a: string | WaitDuration, b?: WaitDuration) =>
        typeof a === 'string' && b !== undefined ? this.#wait(scope, a, b) : this.#wait(scope, null, a),
      waitUntil: (date, name) => this.#waitUntil(scope, name ?? null, date),
      createCallback: <T>(name?: string, options?: CallbackOptions) =>
        this.#createCallback<T>(scope, name ?? null, options ?? {}),
      waitForCallback: (name, submitter, options) =>
        this.#waitForCallback(scope, name, submitter, options ?? {}),
      waitForCondition: (name, check, options) => this.#waitForCondition(scope, name, check, options),
      parallel: <T>(
        a: string | readonly Branch<T>[],
        b?: readonly Branch<T>[] | BatchOptions,
        c?: BatchOptions,
      ) =>
        typeof a === 'string'
          ? this.#batch<T>(scope, 'parallel', a, b as readonly Branch<T>[], c ?? {})
          : this.#batch<T>(scope, 'parallel', null, a, (b as BatchOptions | undefined) ?? {}),
      map: <I, T>(
        a: string | readonly I[],
        b: readonly I[] | MapFn<I, T>,
        c?: MapFn<I, T> | BatchOptions,
        d?: BatchOptions,
      ) => {
        const [name, items, fn, options] =
          typeof a === 'string'
            ? [a, b as readonly I[], c as MapFn<I, T>, d ?? {}]
            : [null, a, b as MapFn<I, T>, (c as BatchOptions | undefined) ?? {}];
        if (!Array.isArray(items)) return Promise.reject(invalid('map', 'items', items, 'give an array'));
        if (typeof fn !== 'function') return Promise.reject(invalid('map', 'fn', fn, 'give a function'));
        const branches = items.map((item, i) => ({
          name: `item-${i}`,
          func: (child: WorkflowContext) => fn(child, item, i, items),
        }));
        return this.#batch<T>(scope, 'map', name, branches, options);
      },
      invoke: <I, O>(a: string | WorkflowDefinition<I, O>, b: unknown, c?: I) =>
        c !== undefined || (typeof a === 'string' && (typeof b === 'string' || isDefinition(b)))
          ? this.#invoke<O>(scope, a as string, b as WorkflowDefinition | string, c)
          : this.#invoke<O>(scope, null, a as WorkflowDefinition | string, b),
      runInChildContext: (name, fn) => this.#childContext(scope, 'context', name, fn),
      waitForEvent: (name, pattern, options) => this.#waitForEvent(scope, name, pattern, options?.timeout),
      progress: (value) => this.#progress(value),
    } as WorkflowContext;
    return ctx;
  }

  /**
   * Takes the next position in `scope`. Returns null when the session is over (the caller
   * then never settles). Throws (to the handler) on a name used twice in the scope; a
   * journal that disagrees with the code, or too many operations, fail the execution.
   */
  #begin(scope: Scope, type: string, name: string | null): Begun | null {
    if (this.#state !== 'live' || this.#stopping || scope.cutOff) return null;
    const position = ++scope.counter;
    const id = `${scope.prefix}${position}`;
    const opName = name ?? `${type}#${position}`;
    if (typeof opName !== 'string' || opName.length === 0 || opName.length > 200) {
      throw invalid(type, 'name', name, 'give a non-empty string of at most 200 characters');
    }
    const taken = scope.names.get(opName);
    if (taken !== undefined) {
      throw new MainspringError(
        'E_WORKFLOW_INVALID',
        `operation name "${opName}" is used twice in one scope (operations ${taken} and ${id}); give each operation in a scope its own name, e.g. \`${opName}-\${i}\``,
        { details: { field: 'name', value: opName } },
      );
    }
    scope.names.set(opName, id);
    const entry = this.#journal.get(id);
    if (entry !== undefined) {
      if (entry.type !== type || entry.name !== opName) {
        this.#fatal(
          new MainspringError(
            'E_WORKFLOW_NONDETERMINISM',
            `replay of execution ${this.#row.id} diverged at operation ${id}: the journal has ${entry.type} "${entry.name}", the code now calls ${type} "${opName}"; code outside steps must call the same operations in the same order on every run (see docs/workflows.md), or start new executions on a new version`,
            {
              details: {
                operation: id,
                journal: { type: entry.type, name: entry.name },
                code: { type, name: opName },
              },
            },
          ),
        );
        return null;
      }
      if (--this.#unvisited === 0) this.#goLive();
      return { id, name: opName, entry };
    }
    this.#goLive();
    if (this.#opCount >= MAX_OPERATIONS) {
      this.#fatal(
        new MainspringError(
          'E_WORKFLOW_LIMIT',
          `execution ${this.#row.id} would journal more than ${MAX_OPERATIONS} operations; split the work into child workflows (ctx.invoke) or batch items into fewer steps`,
          { details: { limit: MAX_OPERATIONS } },
        ),
      );
      return null;
    }
    this.#opCount++;
    return { id, name: opName, entry: undefined };
  }

  #goLive(): void {
    if (!this.#replaying) return;
    this.#replaying = false;
    this.#log.level = this.#deps.log.level;
    if (this.#deferredProgress !== undefined) {
      this.#pendingProgress = this.#deferredProgress;
      this.#deferredProgress = undefined;
      this.#scheduleFlush();
    }
  }

  #op(scope: Scope, b: Begun, type: string, fields: Partial<OpRow>): OpRow {
    const now = this.#now();
    return {
      executionId: this.#row.id,
      opId: b.id,
      parentOpId: scope.parentOpId,
      type,
      name: b.name,
      status: 'succeeded',
      attempt: 0,
      result: null,
      error: null,
      startedAtMs: b.entry?.startedAtMs ?? now,
      finishedAtMs: null,
      wakeAtMs: null,
      heartbeatAtMs: null,
      callbackId: null,
      childId: null,
      detail: null,
      ...(b.entry ?? {}),
      updatedAtMs: now,
      ...fields,
    };
  }

  /** Journals the operation as failed with `err`, then throws it as replay would rebuild it. */
  async #failOp(
    scope: Scope,
    b: Begun,
    type: string,
    err: unknown,
    fields: Partial<OpRow> = {},
  ): Promise<never> {
    const record = toErrorRecord(err);
    await this.#write(
      this.#op(scope, b, type, {
        status: 'failed',
        error: JSON.stringify(record),
        finishedAtMs: this.#now(),
        ...fields,
      }),
    );
    throw new WorkflowOperationError(record);
  }

  /** Blocks on an operation until a time or an outside completion: the session suspends. */
  #block(id: string, wakeAtMs: number | null, info: Omit<WaitInfo, 'operation' | 'until'>): Promise<never> {
    this.#blocked.set(id, {
      wakeAtMs,
      info: { ...info, operation: id, until: wakeAtMs === null ? null : new Date(wakeAtMs).toISOString() },
    });
    this.#idle();
    return NEVER;
  }

  // --- operations --------------------------------------------------------------------------

  async #step<T>(
    scope: Scope,
    name: string,
    fn: (step: StepContext) => Promise<T> | T,
    options: StepOptions = {},
  ): Promise<T> {
    if (typeof name !== 'string')
      throw invalid('step', 'name', name, 'give the step a name: ctx.step(name, fn)');
    if (typeof fn !== 'function')
      throw invalid('step', 'fn', fn, 'give a function: ctx.step(name, async () => …)');
    const retry = resolveRetry(options.retry, `step "${name}" retry`);
    const semantics = options.semantics ?? StepSemantics.AtLeastOncePerRetry;
    const b = this.#begin(scope, 'step', name);
    if (b === null) return NEVER;
    let attempt = 1;
    const e = b.entry;
    if (e !== undefined) {
      if (e.status === 'succeeded') return parseResult(e.result) as T;
      if (e.status === 'failed') throw rebuild(e.error);
      if (e.status === 'retrying') {
        if (e.wakeAtMs !== null && this.#now() < e.wakeAtMs) {
          return this.#block(b.id, e.wakeAtMs, { kind: 'retry', name: b.name });
        }
        attempt = e.attempt + 1;
      } else if (e.status === 'started') {
        // At most once per retry: the attempt a worker died in is not run again.
        const err = new MainspringError(
          'E_STEP_INTERRUPTED',
          `step "${b.name}" attempt ${e.attempt} was interrupted (its worker stopped) and runs at most once`,
        );
        await this.#stepFailed(scope, b, e.attempt, err, retry);
        return NEVER;
      }
    }
    for (;;) {
      if (semantics === StepSemantics.AtMostOncePerRetry) {
        await this.#write(
          this.#op(scope, b, 'step', { status: 'started', attempt, error: null, wakeAtMs: null }),
        );
      }
      this.#busy++;
      let value: unknown;
      let thrown: unknown;
      let ok = false;
      try {
        value = await fn({
          signal: this.#abort.signal,
          attempt,
          log: this.#log.child({ step: b.name, attempt }),
        });
        ok = true;
      } catch (err) {
        thrown = err;
      } finally {
        this.#busy--;
      }
      if (this.#state !== 'live') return NEVER;
      if (this.#stopping) {
        this.#idle();
        return NEVER;
      }
      if (ok) {
        const text = encode(value, `step "${b.name}" result`);
        if (typeof text === 'string' || text === null) {
          await this.#write(
            this.#op(scope, b, 'step', {
              status: 'succeeded',
              attempt,
              result: text,
              error: null,
              wakeAtMs: null,
              finishedAtMs: this.#now(),
            }),
          );
          return parseResult(text) as T;
        }
        // Not storable: retrying would produce the same value.
        await this.#stepFailed(scope, b, attempt, text, NO_RETRY);
        return NEVER;
      }
      // Throws on the final failure, blocks on a durable retry wait, or says try at once.
      await this.#stepFailed(scope, b, attempt, thrown, retry, true);
      attempt++;
    }
  }

  /** Records a failed attempt: a retry (a durable wait, or `again` for no delay) or the final failure. */
  async #stepFailed(
    scope: Scope,
    b: Begun,
    attempt: number,
    thrown: unknown,
    retry: Required<ResolvedRetry>,
    inline = false,
  ): Promise<'again'> {
    const record = toErrorRecord(thrown);
    const delay = retryDelay(retry, attempt, thrown);
    if (delay === null) return this.#failOp(scope, b, 'step', thrown, { attempt, wakeAtMs: null });
    const wakeAtMs = this.#now() + delay;
    await this.#write(
      this.#op(scope, b, 'step', { status: 'retrying', attempt, error: JSON.stringify(record), wakeAtMs }),
    );
    if (delay === 0 && inline) return 'again';
    return this.#block(b.id, wakeAtMs, { kind: 'retry', name: b.name });
  }

  async #wait(scope: Scope, name: string | null, duration: WaitDuration): Promise<void> {
    const ms = waitMs(duration, name === null ? 'wait duration' : `wait "${name}" duration`);
    const b = this.#begin(scope, 'wait', name);
    if (b === null) return NEVER;
    return this.#waitOp(scope, b, this.#now() + ms);
  }

  async #waitUntil(scope: Scope, name: string | null, date: Date | string | number): Promise<void> {
    // Strings and Dates through core/instant.ts: on the calendar, with a zone, years 0000–9999.
    const read = typeof date === 'number' ? date : readInstant(date);
    const at = typeof read === 'number' ? read : Number.NaN;
    if (!Number.isFinite(at)) {
      throw invalid(
        'waitUntil',
        'date',
        date,
        'give a Date, epoch milliseconds, or an ISO-8601 instant with a zone',
      );
    }
    waitMs(Math.max(0, at - this.#now()), 'waitUntil date');
    const b = this.#begin(scope, 'wait', name);
    if (b === null) return NEVER;
    return this.#waitOp(scope, b, at);
  }

  async #waitOp(scope: Scope, b: Begun, wakeAtMs: number): Promise<void> {
    const e = b.entry;
    if (e?.status === 'succeeded') return;
    const until = e?.wakeAtMs ?? wakeAtMs;
    if (this.#now() >= until) {
      await this.#write(
        this.#op(scope, b, 'wait', { status: 'succeeded', wakeAtMs: until, finishedAtMs: this.#now() }),
      );
      return;
    }
    if (e === undefined)
      await this.#write(this.#op(scope, b, 'wait', { status: 'waiting', wakeAtMs: until }));
    return this.#block(b.id, until, { kind: 'wait', name: b.name });
  }

  async #createCallback<T>(
    scope: Scope,
    name: string | null,
    options: CallbackOptions,
  ): Promise<[Promise<T>, string]> {
    const label = name === null ? 'callback' : `callback "${name}"`;
    const timeoutMs = options.timeout === undefined ? null : waitMs(options.timeout, `${label} timeout`);
    const heartbeatMs =
      options.heartbeatTimeout === undefined
        ? null
        : waitMs(options.heartbeatTimeout, `${label} heartbeatTimeout`);
    const b = this.#begin(scope, 'callback', name);
    if (b === null) return NEVER;
    let e = b.entry;
    if (e === undefined) {
      const now = this.#now();
      e = this.#op(scope, b, 'callback', {
        status: 'waiting',
        callbackId: randomUUID(),
        wakeAtMs: timeoutMs === null ? null : now + timeoutMs,
        detail: JSON.stringify({ timeoutMs, heartbeatTimeoutMs: heartbeatMs }),
      });
      await this.#write(e);
    }
    const promise = this.#awaitCallback<T>(scope, b, e);
    promise.catch(noop);
    return [promise, e.callbackId ?? ''];
  }

  async #awaitCallback<T>(scope: Scope, b: Begun, e: OpRow): Promise<T> {
    if (e.status === 'succeeded') return parseResult(e.result) as T;
    if (e.status === 'failed') throw rebuild(e.error);
    const detail = (e.detail ? JSON.parse(e.detail) : {}) as { heartbeatTimeoutMs?: number | null };
    const hb = detail.heartbeatTimeoutMs ?? null;
    // Heartbeats come from another process at real speed: the timeout is real time (Clock.real).
    const heartbeatBy = hb === null ? null : (e.heartbeatAtMs ?? e.startedAtMs) + this.#deps.clock.real(hb);
    const now = this.#now();
    const late =
      e.wakeAtMs !== null && now >= e.wakeAtMs
        ? 'timeout'
        : heartbeatBy !== null && now >= heartbeatBy
          ? 'heartbeat'
          : null;
    if (late !== null) {
      return this.#failOp(
        scope,
        b,
        'callback',
        new MainspringError(
          'E_CALLBACK_TIMED_OUT',
          late === 'timeout'
            ? `callback "${b.name}" (${e.callbackId}) was not completed within its timeout`
            : `callback "${b.name}" (${e.callbackId}) got no heartbeat within its heartbeatTimeout of ${hb} ms`,
        ),
      );
    }
    const deadlines = [e.wakeAtMs, heartbeatBy].filter((x): x is number => x !== null);
    return this.#block(b.id, deadlines.length ? Math.min(...deadlines) : null, {
      kind: 'callback',
      name: b.name,
      callbackId: e.callbackId ?? '',
    });
  }

  #waitForCallback<T>(
    scope: Scope,
    name: string,
    submitter: (callbackId: string, step: StepContext) => Promise<void> | void,
    options: WaitForCallbackOptions,
  ): Promise<T> {
    if (typeof submitter !== 'function') {
      return Promise.reject(
        invalid('waitForCallback', 'submitter', submitter, 'give a function (callbackId) => …'),
      );
    }
    return this.#childContext(scope, 'callback-context', name, async (child) => {
      // Named as the whole operation, so the execution's `wait` shows what it waits for.
      const [result, callbackId] = await child.createCallback<T>(name, options);
      await child.step('submit', (step) => submitter(callbackId, step), {
        ...(options.retry === undefined ? {} : { retry: options.retry }),
      });
      return result;
    });
  }

  #waitForCondition<S>(
    scope: Scope,
    name: string,
    check: (state: S, step: StepContext) => Promise<S> | S,
    options: WaitForConditionOptions<S>,
  ): Promise<S> {
    if (typeof check !== 'function') {
      return Promise.reject(
        invalid('waitForCondition', 'check', check, 'give a function (state) => newState'),
      );
    }
    if (typeof options?.waitStrategy !== 'function') {
      return Promise.reject(
        invalid(
          'waitForCondition',
          'waitStrategy',
          options?.waitStrategy,
          'give (state, attempt) => ({ shouldContinue: false }) or ({ shouldContinue: true, delay: "5m" })',
        ),
      );
    }
    return this.#childContext(scope, 'condition', name, async (child) => {
      let state = options.initialState;
      for (let attempt = 1; ; attempt++) {
        state = await child.step(`check-${attempt}`, (step) => check(state, step));
        const decision = options.waitStrategy(state, attempt);
        if (!decision.shouldContinue) return state;
        await child.wait(`delay-${attempt}`, decision.delay);
      }
    });
  }

  async #childContext<T>(
    scope: Scope,
    type: string,
    name: string,
    fn: (ctx: WorkflowContext) => Promise<T>,
  ): Promise<T> {
    if (typeof name !== 'string') throw invalid(type, 'name', name, 'give it a name');
    if (typeof fn !== 'function') throw invalid(type, 'fn', fn, 'give an async function (ctx) => …');
    const b = this.#begin(scope, type, name);
    if (b === null) return NEVER;
    return this.#runContext(scope, b, type, fn);
  }

  async #runContext<T>(
    scope: Scope,
    b: Begun,
    type: string,
    fn: (ctx: WorkflowContext) => Promise<T>,
    child = new Scope(scope, b.id),
  ): Promise<T> {
    const e = b.entry;
    if (e?.status === 'succeeded') return parseResult(e.result) as T;
    if (e?.status === 'failed') throw rebuild(e.error);
    let value: unknown;
    try {
      value = await fn(this.#context(child));
    } catch (err) {
      if (this.#state !== 'live' || child.cutOff) return NEVER;
      return this.#failOp(scope, b, type, err);
    }
    if (this.#state !== 'live' || child.cutOff) return NEVER;
    const text = encode(value, `${type} "${b.name}" result`);
    if (typeof text !== 'string' && text !== null) return this.#failOp(scope, b, type, text);
    await this.#write(
      this.#op(scope, b, type, { status: 'succeeded', result: text, finishedAtMs: this.#now() }),
    );
    return parseResult(text) as T;
  }

  async #batch<T>(
    scope: Scope,
    type: 'parallel' | 'map',
    name: string | null,
    branches: readonly Branch<T>[],
    options: BatchOptions,
  ): Promise<BatchResult<T>> {
    if (!Array.isArray(branches)) throw invalid(type, 'branches', branches, 'give an array of functions');
    const named = branches.map((br, i) => {
      if (typeof br === 'function') return { name: `branch-${i}`, func: br };
      if (br && typeof br === 'object' && typeof br.func === 'function' && typeof br.name === 'string')
        return br;
      throw invalid(type, `branches[${i}]`, br, 'give a function (ctx) => … or { name, func }');
    });
    const seen = new Set<string>();
    for (const br of named) {
      if (seen.has(br.name)) throw invalid(type, 'branch name', br.name, 'give each branch its own name');
      seen.add(br.name);
    }
    const rules = completionRules(type, options, named.length);
    const b = this.#begin(scope, type, name);
    if (b === null) return NEVER;
    const inner = new Scope(scope, b.id);
    const e = b.entry;
    if (e?.status === 'succeeded') {
      const summary = JSON.parse(e.result ?? '{}') as BatchSummary;
      return batchResult(
        named.map((br, i) => {
          const status = summary.statuses[i] ?? 'NOT_STARTED';
          const op = this.#journal.get(`${inner.prefix}${i + 1}`);
          return item<T>(i, br.name, status, op);
        }),
        summary.reason,
      );
    }
    const statuses: BatchItemStatus[] = named.map(() => 'NOT_STARTED');
    const results: (BatchItem<T> | undefined)[] = named.map(() => undefined);
    const scopes: Scope[] = [];
    let succeeded = 0;
    let failed = 0;
    let next = 0;
    let running = 0;
    let reason: CompletionReason | null = null;
    return new Promise<BatchResult<T>>((resolve, reject) => {
      const launch = () => {
        while (reason === null && next < named.length && running < rules.maxConcurrency) {
          const i = next++;
          const br = named[i]!;
          // Each branch is a child context at a fixed position, whatever order branches start in.
          inner.counter = i;
          const branch = this.#begin(inner, 'branch', br.name);
          if (branch === null) return;
          const child = new Scope(inner, branch.id);
          scopes[i] = child;
          statuses[i] = 'STARTED';
          running++;
          this.#runContext(inner, branch, 'branch', br.func, child).then(
            (value) => settle(i, { index: i, name: br.name, status: 'SUCCEEDED', result: value as T }),
            (err: unknown) =>
              settle(i, {
                index: i,
                name: br.name,
                status: 'FAILED',
                error: err instanceof Error ? err : new Error(String(err)),
              }),
          );
        }
        if (reason === null && next >= named.length && running === 0) done('ALL_COMPLETED');
      };
      const settle = (i: number, result: BatchItem<T>) => {
        if (reason !== null) return;
        running--;
        statuses[i] = result.status;
        results[i] = result;
        if (result.status === 'SUCCEEDED') succeeded++;
        else failed++;
        if (rules.minSuccessful !== null && succeeded >= rules.minSuccessful) done('MIN_SUCCESSFUL_REACHED');
        else if (failed > rules.toleratedFailures) done('FAILURE_TOLERANCE_EXCEEDED');
        else launch();
      };
      const done = (why: CompletionReason) => {
        reason = why;
        for (let i = 0; i < named.length; i++) {
          if (statuses[i] === 'STARTED') scopes[i]!.abandoned = true;
        }
        const summary: BatchSummary = { reason: why, statuses };
        this.#write(
          this.#op(scope, b, type, {
            status: 'succeeded',
            result: JSON.stringify(summary),
            finishedAtMs: this.#now(),
          }),
        ).then(
          () =>
            resolve(
              batchResult(
                named.map(
                  (br, i) => results[i] ?? { index: i, name: br.name, status: statuses[i] ?? 'NOT_STARTED' },
                ),
                why,
              ),
            ),
          reject,
        );
      };
      launch();
    });
  }

  async #invoke<O>(
    scope: Scope,
    name: string | null,
    workflow: WorkflowDefinition | string,
    input: unknown,
  ): Promise<O> {
    const target = typeof workflow === 'string' ? workflow : workflow?.name;
    const def = typeof target === 'string' ? this.#deps.definitions.get(target) : undefined;
    if (def === undefined) {
      throw new MainspringError(
        'E_WORKFLOW_NOT_FOUND',
        `ctx.invoke: workflow ${show(target)} is not defined in this app; add it to the app's workflows`,
        { details: { field: 'workflow', value: target } },
      );
    }
    const inputText = encode(input === undefined ? null : input, `invoke "${def.name}" input`);
    if (typeof inputText !== 'string') throw inputText;
    const b = this.#begin(scope, 'invoke', name ?? def.name);
    if (b === null) return NEVER;
    const e = b.entry;
    if (e?.status === 'succeeded') return parseResult(e.result) as O;
    if (e?.status === 'failed') throw rebuild(e.error);
    const childId = e?.childId ?? `${this.#row.id}/${b.id}`;
    // The operation is journaled first: a child finishing at once then finds it to complete.
    if (e === undefined) {
      await this.#write(
        this.#op(scope, b, 'invoke', {
          status: 'waiting',
          childId,
          detail: JSON.stringify({ workflow: def.name }),
        }),
      );
    }
    this.#busy++;
    try {
      const now = this.#now();
      await this.#deps.store.workflows.start(
        {
          id: childId,
          workflow: def.name,
          version: def.version,
          input: inputText,
          parentId: this.#row.id,
          parentOp: b.id,
          timeoutAtMs: def.timeoutMs === null ? null : now + def.timeoutMs,
        },
        now,
      );
    } finally {
      this.#busy--;
    }
    return this.#block(b.id, null, { kind: 'invoke', name: b.name });
  }

  async #waitForEvent<T>(
    scope: Scope,
    name: string,
    pattern: EventPattern,
    timeout: WaitDuration | undefined,
  ): Promise<T> {
    if (typeof name !== 'string') throw invalid('waitForEvent', 'name', name, 'give it a name');
    let compiled: string;
    try {
      compiled = JSON.stringify(compilePattern(pattern).pattern);
    } catch (err) {
      throw new MainspringError('E_PATTERN_INVALID', `waitForEvent "${name}": ${(err as Error).message}`, {
        cause: err,
        details: { field: 'pattern' },
      });
    }
    const timeoutMs = timeout === undefined ? null : waitMs(timeout, `waitForEvent "${name}" timeout`);
    const b = this.#begin(scope, 'event', name);
    if (b === null) return NEVER;
    let e = b.entry;
    if (e?.status === 'succeeded') return parseResult(e.result) as T;
    if (e?.status === 'failed') throw rebuild(e.error);
    if (e === undefined) {
      e = this.#op(scope, b, 'event', {
        status: 'waiting',
        wakeAtMs: timeoutMs === null ? null : this.#now() + timeoutMs,
        detail: JSON.stringify({ pattern: JSON.parse(compiled) as unknown }),
      });
      await this.#write(e);
    }
    if (e.wakeAtMs !== null && this.#now() >= e.wakeAtMs) {
      return this.#failOp(
        scope,
        b,
        'event',
        new MainspringError(
          'E_EVENT_WAIT_TIMED_OUT',
          `waitForEvent "${b.name}": no matching event within its timeout`,
        ),
      );
    }
    return this.#block(b.id, e.wakeAtMs, { kind: 'event', name: b.name });
  }

  async #progress(value: unknown): Promise<void> {
    const text = encode(value === undefined ? null : value, 'progress');
    if (typeof text !== 'string') throw text;
    if (this.#state !== 'live') return;
    if (this.#replaying) {
      // Replayed progress would move the shown value backwards; the latest goes out once live.
      this.#deferredProgress = text;
      return;
    }
    this.#pendingProgress = text;
    await this.#flushSoon();
  }

  // --- writes ---------------------------------------------------------------------------

  /** Journals an operation; resolves once committed. Never settles when the lease is gone. */
  #write(op: OpRow): Promise<void> {
    if (this.#state !== 'live') return NEVER;
    this.#journal.set(op.opId, op);
    this.#pendingOps.push(op);
    return this.#flushSoon();
  }

  #flushSoon(): Promise<void> {
    this.#busy++;
    return new Promise<void>((resolve) => {
      this.#flushWaiters.push(() => {
        this.#busy--;
        resolve();
        this.#idle();
      });
      this.#scheduleFlush();
    });
  }

  /**
   * Writes a checkpoint, again while it fails on a lost connection (a restart, a cut), for
   * some 8-16 s: fenced by the lease token, a repeat of one that did commit writes the same.
   * Past that the lease is likely gone too, and the execution resumes when it runs out.
   */
  async #checkpoint(ops: readonly OpRow[], patch: ExecutionPatch): Promise<boolean> {
    const backoff = new Backoff();
    for (;;) {
      try {
        return await this.#deps.store.workflows.checkpoint(
          this.#row.id,
          this.#token,
          ops,
          patch,
          this.#now(),
        );
      } catch (err) {
        if (!isTransient(err) || backoff.failures >= CHECKPOINT_RETRIES) throw err;
        const retryInMs = backoff.next();
        this.#deps.log.warn(
          { err, execution: this.#row.id, retryInMs },
          'lost the connection to the store at a checkpoint; retrying',
        );
        await this.#deps.clock.sleep(this.#deps.clock.real(retryInMs)).catch(noop);
      }
    }
  }

  #scheduleFlush(): void {
    this.#flushing ??= this.#flush();
  }

  async #flush(): Promise<void> {
    // Operations completing in the same turn share one transaction.
    await new Promise((r) => setImmediate(r));
    while (this.#state === 'live' && (this.#pendingOps.length > 0 || this.#pendingProgress !== undefined)) {
      const ops = this.#pendingOps;
      const waiters = this.#flushWaiters;
      const progress = this.#pendingProgress;
      this.#pendingOps = [];
      this.#flushWaiters = [];
      this.#pendingProgress = undefined;
      let ok: boolean;
      try {
        ok = await this.#checkpoint(ops, progress === undefined ? {} : { progress });
      } catch (err) {
        this.#log.error({ err }, 'could not checkpoint; the execution resumes when its lease runs out');
        ok = false;
      }
      if (!ok) {
        this.lose();
        break;
      }
      for (const w of waiters) w();
    }
    this.#flushing = null;
  }

  // --- ending ---------------------------------------------------------------------------

  #idle(): void {
    if (this.#busy > 0 || this.#state !== 'live' || this.#idleScheduled) return;
    this.#idleScheduled = true;
    setImmediate(() => {
      this.#idleScheduled = false;
      if (this.#busy > 0 || this.#state !== 'live') return;
      if (this.#stopping) void this.#finish({ status: 'stopped', error: json(stoppedError()) }, 'stopped');
      else if (this.#blocked.size > 0) void this.#suspend();
    });
  }

  async #suspend(): Promise<void> {
    let due: number | null = null;
    let first: Blocked | null = null;
    for (const blocked of this.#blocked.values()) {
      if (
        first === null ||
        (blocked.wakeAtMs !== null && (first.wakeAtMs === null || blocked.wakeAtMs < first.wakeAtMs))
      ) {
        first = blocked;
      }
      if (blocked.wakeAtMs !== null && (due === null || blocked.wakeAtMs < due)) due = blocked.wakeAtMs;
    }
    const timeoutAt = this.#row.timeoutAtMs;
    if (timeoutAt !== null && (due === null || timeoutAt < due)) due = timeoutAt;
    await this.#close(
      {
        status: 'waiting',
        wait: JSON.stringify({ ...first?.info, waiting: this.#blocked.size }),
        release: { dueAtMs: due },
      },
      'suspended',
    );
  }

  #complete(value: unknown): void {
    if (this.#state !== 'live') return;
    const text = encode(value === undefined ? null : value, 'workflow output');
    if (typeof text !== 'string') {
      this.#failWith(text);
      return;
    }
    void this.#finish({ status: 'succeeded', output: text }, 'finished');
  }

  #failWith(err: unknown): void {
    if (this.#state !== 'live') return;
    void this.#finish({ status: 'failed', error: JSON.stringify(toErrorRecord(err)) }, 'finished');
  }

  /** Fails the execution whatever the handler does about it (a broken journal, a limit). */
  #fatal(err: MainspringError): void {
    if (this.#state !== 'live') return;
    this.#abort.abort(err);
    void this.#finish({ status: 'failed', error: JSON.stringify(toErrorRecord(err)) }, 'finished');
  }

  async #finish(patch: ExecutionPatch, end: SessionEnd): Promise<void> {
    await this.#close({ ...patch, wait: null, finishedAtMs: this.#now(), release: { dueAtMs: null } }, end);
  }

  async #close(patch: ExecutionPatch, end: SessionEnd): Promise<void> {
    if (this.#state !== 'live') return;
    this.#state = 'ending';
    while (this.#flushing) await this.#flushing;
    if (this.#state !== 'ending') return;
    const progress = this.#pendingProgress ?? this.#deferredProgress;
    let ok = false;
    try {
      ok = await this.#checkpoint(this.#pendingOps, progress === undefined ? patch : { ...patch, progress });
    } catch (err) {
      this.#log.error(
        { err },
        'could not record the session end; the execution resumes when its lease runs out',
      );
    }
    this.#state = 'done';
    if (!ok) {
      this.#end('lost');
      return;
    }
    if (patch.status === 'succeeded' || patch.status === 'failed' || patch.status === 'timed_out') {
      this.#log.level = this.#deps.log.level;
      this.#log.info({ status: patch.status }, 'workflow execution finished');
    }
    this.#end(end);
  }
}

type MapFn<I, T> = (ctx: WorkflowContext, item: I, index: number, items: readonly I[]) => Promise<T>;

interface BatchSummary {
  readonly reason: CompletionReason;
  readonly statuses: readonly BatchItemStatus[];
}

function item<T>(index: number, name: string, status: BatchItemStatus, op: OpRow | undefined): BatchItem<T> {
  if (status === 'SUCCEEDED' && op) return { index, name, status, result: parseResult(op.result) as T };
  if (status === 'FAILED' && op) return { index, name, status, error: rebuild(op.error) };
  return { index, name, status };
}

function batchResult<T>(all: BatchItem<T>[], reason: CompletionReason): BatchResult<T> {
  const succeeded = all.filter((i) => i.status === 'SUCCEEDED');
  const failed = all.filter((i) => i.status === 'FAILED');
  return {
    all,
    completionReason: reason,
    successCount: succeeded.length,
    failureCount: failed.length,
    startedCount: all.filter((i) => i.status === 'STARTED').length,
    totalCount: all.length,
    hasFailure: failed.length > 0,
    succeeded: () => [...succeeded],
    failed: () => [...failed],
    getResults: () => succeeded.map((i) => i.result as T),
    getErrors: () => failed.map((i) => i.error ?? new Error('branch failed')),
    throwIfError: () => {
      if (failed[0]) throw failed[0].error ?? new Error(`branch ${failed[0].name} failed`);
    },
  };
}

interface Rules {
  readonly maxConcurrency: number;
  readonly minSuccessful: number | null;
  readonly toleratedFailures: number;
}

function completionRules(type: string, options: BatchOptions, total: number): Rules {
  const o = { ...options.completionConfig, ...options };
  const count = (field: string, v: unknown, min: number): number | null => {
    if (v === undefined) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw invalid(type, field, v, `give a whole number of at least ${min}`);
    }
    return v;
  };
  const maxConcurrency = count('maxConcurrency', o.maxConcurrency, 1) ?? Math.max(1, total);
  const minSuccessful = count('minSuccessful', o.minSuccessful, 1);
  const tolerated = count('toleratedFailureCount', o.toleratedFailureCount, 0);
  const pct = o.toleratedFailurePercentage;
  if (pct !== undefined && (typeof pct !== 'number' || !(pct >= 0 && pct <= 100))) {
    throw invalid(type, 'toleratedFailurePercentage', pct, 'give a number from 0 to 100');
  }
  const fromPct = pct === undefined ? null : Math.floor((pct / 100) * total);
  const toleratedFailures =
    tolerated === null && fromPct === null
      ? Number.POSITIVE_INFINITY
      : Math.min(tolerated ?? Infinity, fromPct ?? Infinity);
  return { maxConcurrency, minSuccessful, toleratedFailures };
}

interface ResolvedRetry {
  maxAttempts: number;
  initialDelayMs: number;
  backoffRate: number;
  maxDelayMs: number;
  jitter: 'full' | 'half' | 'none';
  retryableErrors: readonly (string | RegExp)[] | null;
  retryableErrorTypes: readonly string[] | null;
}

const NO_RETRY: Required<ResolvedRetry> = {
  maxAttempts: 1,
  initialDelayMs: 0,
  backoffRate: 1,
  maxDelayMs: 0,
  jitter: 'none',
  retryableErrors: null,
  retryableErrorTypes: null,
};

function resolveRetry(retry: RetryStrategy | false | undefined, field: string): Required<ResolvedRetry> {
  if (retry === false) return NO_RETRY;
  const r = retry ?? {};
  const maxAttempts = r.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 1000) {
    throw invalid('step', `${field}.maxAttempts`, maxAttempts, 'give a whole number from 1 to 1000');
  }
  const backoffRate = r.backoffRate ?? 2;
  if (typeof backoffRate !== 'number' || !(backoffRate >= 1 && backoffRate <= 100)) {
    throw invalid('step', `${field}.backoffRate`, backoffRate, 'give a number from 1 to 100');
  }
  const jitter = r.jitter ?? 'full';
  if (!['full', 'half', 'none'].includes(jitter)) {
    throw invalid('step', `${field}.jitter`, jitter, "give 'full', 'half' or 'none'");
  }
  return {
    maxAttempts,
    initialDelayMs: waitMs(r.initialDelay ?? 1000, `${field}.initialDelay`),
    backoffRate,
    maxDelayMs: waitMs(r.maxDelay ?? 300_000, `${field}.maxDelay`),
    jitter,
    retryableErrors: r.retryableErrors ?? null,
    retryableErrorTypes: r.retryableErrorTypes ?? null,
  };
}

/** Milliseconds until the next attempt, or null when the failure is final. */
function retryDelay(r: Required<ResolvedRetry>, attempt: number, err: unknown): number | null {
  if (attempt >= r.maxAttempts || isNonRetryable(err)) return null;
  const e = err instanceof Error ? err : null;
  if (r.retryableErrors !== null || r.retryableErrorTypes !== null) {
    const byMessage = (r.retryableErrors ?? []).some((m) =>
      typeof m === 'string' ? (e?.message ?? '').includes(m) : m.test(e?.message ?? ''),
    );
    const byType = (r.retryableErrorTypes ?? []).includes(e?.name ?? '');
    if (!byMessage && !byType) return null;
  }
  const after = retryAfterOf(err);
  if (after !== undefined) return after;
  const base = Math.min(r.maxDelayMs, r.initialDelayMs * r.backoffRate ** (attempt - 1));
  if (r.jitter === 'none') return Math.round(base);
  if (r.jitter === 'half') return Math.round(base / 2 + Math.random() * (base / 2));
  return Math.round(Math.random() * base);
}

/** JSON text of a value (null for undefined), or the error to fail with. */
function encode(value: unknown, what: string): string | null | MainspringError {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    return new MainspringError(
      'E_WORKFLOW_INVALID',
      `${what} is not JSON-serialisable (${(err as Error).message}); return plain data`,
      { details: { field: what } },
    );
  }
  if (text === undefined) {
    return new MainspringError(
      'E_WORKFLOW_INVALID',
      `${what} is ${show(value)}, which JSON cannot hold; return plain data`,
      {
        details: { field: what },
      },
    );
  }
  if (text.length > MAX_CHECKPOINT_BYTES / 4 && Buffer.byteLength(text) > MAX_CHECKPOINT_BYTES) {
    return new MainspringError(
      'E_WORKFLOW_LIMIT',
      `${what} is ${Buffer.byteLength(text)} bytes of JSON; a checkpointed value may be at most 256 KiB: store large data elsewhere and return a reference`,
      { details: { field: what, limit: MAX_CHECKPOINT_BYTES } },
    );
  }
  return text;
}

function parseResult(text: string | null): unknown {
  return text === null ? undefined : JSON.parse(text);
}

function rebuild(text: string | null): WorkflowOperationError {
  return new WorkflowOperationError(
    text === null ? { name: 'Error', message: 'failed' } : (JSON.parse(text) as ErrorRecord),
  );
}

function json(err: MainspringError): string {
  return JSON.stringify(toErrorRecord(err));
}

export function stoppedError(): MainspringError {
  return new MainspringError('E_EXECUTION_STOPPED', 'the execution was stopped');
}

function stoppedAbort(): MainspringError {
  return stoppedError();
}

function timedOutError(def: WorkflowDefinition): MainspringError {
  return new MainspringError(
    'E_EXECUTION_TIMED_OUT',
    `the execution ran longer than workflow "${def.name}"'s timeout of ${def.timeoutMs} ms`,
  );
}

function invalid(op: string, field: string, value: unknown, fix: string): MainspringError {
  return new MainspringError('E_WORKFLOW_INVALID', `ctx.${op}: ${field} is ${show(value)}; ${fix}`, {
    details: { field },
  });
}

function isDefinition(v: unknown): v is WorkflowDefinition {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'workflow';
}
