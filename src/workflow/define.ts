// Workflows: durable functions whose every operation is journaled, so a crash, a
// deploy or a week-long wait resumes at the first operation not yet done. The
// operation names follow the AWS durable-execution SDK, so code moves over as is.

import type { Logger } from 'pino';
import { type Duration, parseDuration } from '../core/duration.ts';
import { MainspringError } from '../core/errors.ts';
import { NAME_LIMITS } from '../core/names.ts';
import type { EventPattern } from '../patterns/types.ts';

/** A wait as AWS's SDK writes it (`{ hours: 24 }`), or a Duration (`'24h'`, milliseconds). */
export type WaitDuration =
  | Duration
  | {
      readonly days?: number;
      readonly hours?: number;
      readonly minutes?: number;
      readonly seconds?: number;
    };

/** How a failed step is retried: each retry waits durably, in the store, not in memory. */
export interface RetryStrategy {
  /** Attempts in all, the first included; default 3. 1 means no retry. */
  readonly maxAttempts?: number;
  /** Before the first retry; default 1 s. */
  readonly initialDelay?: WaitDuration;
  /** Each further retry waits this many times longer; default 2. */
  readonly backoffRate?: number;
  /** No retry waits longer; default 5 min. */
  readonly maxDelay?: WaitDuration;
  /** `full`: a random delay up to the computed one (default); `half`: from half of it; `none`. */
  readonly jitter?: 'full' | 'half' | 'none';
  /** Retry only errors whose message contains one of these strings or matches one of these patterns. */
  readonly retryableErrors?: readonly (string | RegExp)[];
  /** Retry only errors with one of these names (`err.name`, e.g. `'TypeError'`). */
  readonly retryableErrorTypes?: readonly string[];
}

/** As in AWS's SDK: what may happen when a worker dies while a step runs. */
export const StepSemantics = {
  /** The step runs again on resume (the default): make it idempotent. */
  AtLeastOncePerRetry: 'at-least-once-per-retry',
  /** The interrupted attempt is not run again: it fails (and the retry strategy decides). */
  AtMostOncePerRetry: 'at-most-once-per-retry',
} as const;
export type StepSemantics = (typeof StepSemantics)[keyof typeof StepSemantics];

export interface StepOptions {
  /** `false`: one attempt. */
  readonly retry?: RetryStrategy | false;
  readonly semantics?: StepSemantics;
}

/** What a step's function receives. */
export interface StepContext {
  /** Fires when the execution is stopped or the worker shuts down. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly log: Logger;
}

export interface CallbackOptions {
  /** Fail with `E_CALLBACK_TIMED_OUT` when not completed within this. Default: no limit. */
  readonly timeout?: WaitDuration;
  /** Fail when no heartbeat (nor completion) arrives within this of the last one. */
  readonly heartbeatTimeout?: WaitDuration;
}

export interface WaitForCallbackOptions extends CallbackOptions {
  /** Retries of the submitter. */
  readonly retry?: RetryStrategy | false;
}

/** `waitForCondition`'s decision after each check. */
export type WaitDecision =
  | { readonly shouldContinue: false }
  | { readonly shouldContinue: true; readonly delay: WaitDuration };

export interface WaitForConditionOptions<S> {
  readonly initialState: S;
  /** Called with each new state and the number of checks so far. */
  readonly waitStrategy: (state: S, attempt: number) => WaitDecision;
}

/** When a `parallel` or `map` is done (default: when every branch has finished). */
export interface CompletionConfig {
  /** Done once this many branches succeeded. */
  readonly minSuccessful?: number;
  /** Done (FAILURE_TOLERANCE_EXCEEDED) once more than this many failed. */
  readonly toleratedFailureCount?: number;
  /** Done once more than this percentage failed. */
  readonly toleratedFailurePercentage?: number;
}

export interface BatchOptions extends CompletionConfig {
  /** Branches running at once; default all. */
  readonly maxConcurrency?: number;
  /** AWS's nesting of the completion rules; the flat fields win. */
  readonly completionConfig?: CompletionConfig;
}

export type BatchItemStatus = 'SUCCEEDED' | 'FAILED' | 'STARTED' | 'NOT_STARTED';
export type CompletionReason = 'ALL_COMPLETED' | 'MIN_SUCCESSFUL_REACHED' | 'FAILURE_TOLERANCE_EXCEEDED';

export interface BatchItem<T> {
  readonly index: number;
  readonly name: string;
  readonly status: BatchItemStatus;
  readonly result?: T;
  readonly error?: Error;
}

/** What `parallel` and `map` return. */
export interface BatchResult<T> {
  readonly all: readonly BatchItem<T>[];
  readonly completionReason: CompletionReason;
  readonly successCount: number;
  readonly failureCount: number;
  /** Branches still running when the batch completed (their results are dropped). */
  readonly startedCount: number;
  readonly totalCount: number;
  readonly hasFailure: boolean;
  succeeded(): BatchItem<T>[];
  failed(): BatchItem<T>[];
  /** The results of the branches that succeeded, in branch order. */
  getResults(): T[];
  getErrors(): Error[];
  /** Throws the first branch error, if any failed. */
  throwIfError(): void;
}

export type Branch<T> =
  | ((ctx: WorkflowContext) => Promise<T>)
  | { readonly name: string; readonly func: (ctx: WorkflowContext) => Promise<T> };

/** An event as `waitForEvent` returns it. */
export interface BusEventShape {
  readonly id: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: unknown;
  readonly time: string;
}

export interface ExecutionInfo {
  readonly id: string;
  readonly workflow: string;
  readonly version: string;
  /** How many times a worker has picked the execution up (1 on its first run). */
  readonly replay: number;
}

/**
 * What a workflow's handler receives. Code outside `step` must be deterministic: it runs
 * again on every resume, and must call the same operations in the same order.
 */
export interface WorkflowContext {
  /**
   * The execution being run: its id (the same on every resume), workflow name, version,
   * and how many times a worker has picked it up.
   *
   * @example
   * ```ts
   * await ctx.step('charge', () => payments.charge({ idempotencyKey: ctx.execution.id }));
   * ```
   */
  readonly execution: ExecutionInfo;
  /** Silent while earlier operations replay, so each line is written once. */
  readonly log: Logger;
  /** Runs `fn` once and journals its result; on replay returns the journaled result. */
  step<T>(name: string, fn: (step: StepContext) => Promise<T> | T, options?: StepOptions): Promise<T>;
  /** A durable timer: no process holds the execution while it waits. */
  wait(duration: WaitDuration): Promise<void>;
  wait(name: string, duration: WaitDuration): Promise<void>;
  waitUntil(date: Date | string | number, name?: string): Promise<void>;
  /** A callback id outside systems complete; await the promise for its result. */
  createCallback<T = unknown>(name?: string, options?: CallbackOptions): Promise<[Promise<T>, string]>;
  /** `createCallback`, then `submitter(callbackId)` as a step, then waits for the callback. */
  waitForCallback<T = unknown>(
    name: string,
    submitter: (callbackId: string, step: StepContext) => Promise<void> | void,
    options?: WaitForCallbackOptions,
  ): Promise<T>;
  /** Checks (as a step) and waits (durably) until the strategy says stop; returns the last state. */
  waitForCondition<S>(
    name: string,
    check: (state: S, step: StepContext) => Promise<S> | S,
    options: WaitForConditionOptions<S>,
  ): Promise<S>;
  parallel<T>(name: string, branches: readonly Branch<T>[], options?: BatchOptions): Promise<BatchResult<T>>;
  parallel<T>(branches: readonly Branch<T>[], options?: BatchOptions): Promise<BatchResult<T>>;
  map<I, T>(
    name: string,
    items: readonly I[],
    fn: (ctx: WorkflowContext, item: I, index: number, items: readonly I[]) => Promise<T>,
    options?: BatchOptions,
  ): Promise<BatchResult<T>>;
  map<I, T>(
    items: readonly I[],
    fn: (ctx: WorkflowContext, item: I, index: number, items: readonly I[]) => Promise<T>,
    options?: BatchOptions,
  ): Promise<BatchResult<T>>;
  /** Starts a child execution and waits for its output (its failure is thrown). */
  invoke<I, O>(name: string, workflow: WorkflowDefinition<I, O> | string, input: I): Promise<O>;
  invoke<I, O>(workflow: WorkflowDefinition<I, O> | string, input: I): Promise<O>;
  /** Groups operations under one name; its result is journaled as one. */
  runInChildContext<T>(name: string, fn: (ctx: WorkflowContext) => Promise<T>): Promise<T>;
  /**
   * Waits for the first event put on the bus (after this call) that matches an EventBridge
   * pattern, and returns it; fails with `E_EVENT_WAIT_TIMED_OUT` after `timeout`.
   */
  waitForEvent<T = BusEventShape>(
    name: string,
    pattern: EventPattern,
    options?: { readonly timeout?: WaitDuration },
  ): Promise<T>;
  /** Stores a JSON progress value on the execution (the API and dashboard show it). */
  progress(value: unknown): Promise<void>;
}

export interface WorkflowDefinition<I = unknown, O = unknown> {
  readonly kind: 'workflow';
  readonly name: string;
  readonly version: string;
  /** Executions started on these versions may resume under this definition too. */
  readonly compatibleVersions: readonly string[];
  /** An execution running longer is timed out (null: never). */
  readonly timeoutMs: number | null;
  // Method syntax on purpose: a definition of any input type fits where WorkflowDefinition is asked for.
  handler(input: I, ctx: WorkflowContext): Promise<O>;
}

export interface WorkflowOptions<I, O> {
  readonly name: string;
  /** Recorded on each execution; resuming under another version fails unless listed compatible. Default '1'. */
  readonly version?: string | number;
  readonly compatibleVersions?: readonly (string | number)[];
  readonly timeout?: WaitDuration;
  readonly handler: (input: I, ctx: WorkflowContext) => Promise<O>;
}

const NAME = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,${NAME_LIMITS.workflow - 1}}$`);
export const MAX_WAIT_MS = 366 * 86_400_000;

/**
 * Defines a workflow.
 *
 * @example
 * ```ts
 * const report = defineWorkflow({
 *   name: 'weekly-report',
 *   handler: async (input: { source: string }, ctx) => {
 *     const rows = await ctx.step('collect', () => collect(input.source));
 *     await ctx.wait({ hours: 24 });
 *     return ctx.step('summarise', () => summarise(rows));
 *   },
 * });
 * ```
 */
export function defineWorkflow<I = unknown, O = unknown>(
  options: WorkflowOptions<I, O>,
): WorkflowDefinition<I, O> {
  const o = options as Partial<WorkflowOptions<I, O>>;
  if (typeof o.name !== 'string' || !NAME.test(o.name)) {
    throw invalid(
      'name',
      o.name,
      `give 1–${NAME_LIMITS.workflow} letters, digits, _ . : or -, starting with a letter or digit`,
    );
  }
  if (typeof o.handler !== 'function')
    throw invalid('handler', o.handler, 'give an async function (input, ctx)');
  const version = String(o.version ?? '1');
  if (version === '' || version.length > 100) throw invalid('version', o.version, 'give 1–100 characters');
  return {
    kind: 'workflow',
    name: o.name,
    version,
    compatibleVersions: (o.compatibleVersions ?? []).map(String),
    timeoutMs: o.timeout === undefined ? null : waitMs(o.timeout, `workflow "${o.name}" timeout`),
    handler: o.handler,
  };
}

function invalid(field: string, value: unknown, fix: string): MainspringError {
  return new MainspringError('E_WORKFLOW_INVALID', `defineWorkflow: ${field} is ${show(value)}; ${fix}`, {
    details: { field },
  });
}

export function show(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const PARTS = { days: 86_400_000, hours: 3_600_000, minutes: 60_000, seconds: 1000 } as const;

/** A WaitDuration in milliseconds; names `field` when it is not one, is negative, or exceeds a year. */
export function waitMs(value: WaitDuration, field: string): number {
  let ms: number;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    const unknown = keys.filter((k) => !(k in PARTS));
    if (keys.length === 0 || unknown.length > 0) {
      throw new MainspringError(
        'E_WORKFLOW_INVALID',
        `${field} is ${show(value)}: give { days, hours, minutes, seconds } or a duration such as '24h'`,
        { details: { field } },
      );
    }
    ms = 0;
    for (const [k, unit] of Object.entries(PARTS)) {
      const n = (value as Record<string, unknown>)[k];
      if (n === undefined) continue;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
        throw new MainspringError(
          'E_WORKFLOW_INVALID',
          `${field}.${k} is ${show(n)}: give a non-negative number`,
          { details: { field: `${field}.${k}` } },
        );
      }
      ms += n * unit;
    }
    ms = Math.round(ms);
  } else {
    try {
      ms = parseDuration(value as Duration, field);
    } catch (err) {
      throw new MainspringError('E_WORKFLOW_INVALID', (err as Error).message, { details: { field } });
    }
  }
  if (ms > MAX_WAIT_MS) {
    throw new MainspringError(
      'E_WORKFLOW_LIMIT',
      `${field} is ${show(value)}: a wait may last at most one year; split it or use a schedule`,
      { details: { field } },
    );
  }
  return ms;
}
