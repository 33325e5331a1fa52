// Functions: named handlers and the triggers that start them. A function is
// plain data plus a handler; the worker decides where and when it runs.

import type { Logger } from 'pino';
import { type Duration, parseDuration } from '../core/duration.ts';
import { MainspringError } from '../core/errors.ts';
import { NAME_LIMITS } from '../core/names.ts';
import type { EventPublisher } from '../events/event.ts';
import type { CronObject } from '../expressions/index.ts';
import type { Locks } from '../locks/locks.ts';
import type { AlertSettings } from '../observability/alerts.ts';
import type { QueueDefinition } from '../queue/define.ts';
import type { Queues } from '../queue/queues.ts';
import type { ScheduleSettings } from '../scheduler/spec.ts';
import type { Workflows } from '../workflow/client.ts';

/** One message of a batch delivered to a batch handler (`fromQueue(q, { batchSize > 1 })`). */
export interface QueueRecord<T = unknown> {
  readonly id: string;
  readonly body: T;
  readonly receiveCount: number;
  readonly sentAt: Date;
  readonly groupId: string | null;
}

/** What a batch handler receives. */
export interface QueueBatch<T = unknown> {
  readonly records: readonly QueueRecord<T>[];
}

/** What a batch handler may return: the ids that failed; the rest succeeded (as SQS `batchItemFailures`). */
export interface BatchResult {
  readonly batchItemFailures: readonly { readonly itemIdentifier: string }[];
}

export interface QueueTrigger {
  readonly kind: 'queue';
  readonly queue: string;
  /** Messages per handler call: 1 passes the body itself; more passes a QueueBatch. */
  readonly batchSize: number;
  /** Handler calls at once for this trigger in one process. */
  readonly concurrency: number;
  /**
   * Messages leased ahead of free handler slots (a local buffer). Given, it is fixed; by default
   * it starts at batchSize × concurrency and grows, while a backlog lasts, with how fast the
   * handler finishes (up to AUTO_PREFETCH_MAX messages and AUTO_PREFETCH_BYTES of bodies), so a
   * fast handler is not one claim per message.
   */
  readonly prefetch: number;
  /** Whether `prefetch` adapts to the handler (it was not given). */
  readonly autoPrefetch: boolean;
}

/** Fires the function on a schedule (`schedule('cron(0 2 * * ? *)')`); stored and reconciled at scheduler start. */
export interface ScheduleTrigger {
  readonly kind: 'schedule';
  /** The stored schedule's name; null: the function's name (`name/2`, `name/3`… for further ones). */
  readonly name: string | null;
  readonly expression: string | CronObject;
  readonly settings: ScheduleSettings;
}

export type Trigger = QueueTrigger | ScheduleTrigger;

/** What started a run, as its handler sees it (`ctx.run.trigger`) and its record stores it. */
export type TriggerInfo =
  | { readonly kind: 'queue'; readonly queue: string; readonly messageIds: readonly string[] }
  | {
      readonly kind: 'event';
      readonly rule: string;
      readonly queue: string;
      readonly messageIds: readonly string[];
    }
  | { readonly kind: 'manual'; readonly by?: string; readonly retryOf?: string }
  | { readonly kind: 'schedule'; readonly schedule: string; readonly tickAt: string }
  | { readonly kind: 'task'; readonly task: string };

/** The attempt being run. */
export interface RunInfo {
  /** The run's id (one per attempt): `GET /v1/runs/:id`. */
  readonly id: string;
  /** Shared by every attempt of one invocation. */
  readonly invocationId: string;
  /** 1 on the first attempt. */
  readonly attempt: number;
  readonly trigger: TriggerInfo;
  /** When the run was due (a tick's time, a retry's backoff end), or null when it ran at once. */
  readonly scheduledFor: Date | null;
}

/**
 * What an in-process handler gets with its input. Command functions run as child
 * processes and get none of it: they read their input on stdin and `MAINSPRING_*` variables.
 */
export interface FunctionContext {
  /** Fires on timeout, on cancellation, and when the process shuts down past its grace period. */
  readonly signal: AbortSignal;
  /**
   * A pino logger whose lines carry the function, run id, attempt and trigger, and are kept
   * with the run. A line's level is the call's: a `level` (or `time`) field it logs is kept
   * as `userLevel` (`userTime`). The handler's `console` output is kept with the run too.
   */
  readonly log: Logger;
  readonly run: RunInfo;
  /** The same as `run.trigger`. */
  readonly trigger: TriggerInfo;
  /** The function's `env` setting. */
  readonly env: Readonly<Record<string, string>>;
  /** Leases: `ctx.locks.withLock('nightly-report', '10m', …)`. */
  readonly locks: Locks;
  /**
   * The app's queues (`ms.queues`), to send messages from a handler.
   *
   * @example
   * ```ts
   * // A webhook receiver hands the slow part to a queue another function consumes.
   * handler: async (hook: { orderId: string; status: string }, ctx) => {
   *   await ctx.queues.send(notifications, { orderId: hook.orderId, text: hook.status });
   *   await ctx.queues.sendBatch('audit', [{ body: hook }, { body: { seen: hook.orderId } }]);
   * }
   * ```
   */
  readonly queues: Queues;
  /**
   * Puts events on the app's bus (`ms.events.put`): they are routed by the stored rules.
   *
   * @example
   * ```ts
   * handler: async (order: { id: string; total: number }, ctx) => {
   *   await ctx.events.put([{ source: 'shop', detailType: 'Order Placed', detail: order }]);
   * }
   * ```
   */
  readonly events: EventPublisher;
  /**
   * The app's workflows (`ms.workflows`), to start an execution of one the app defines.
   *
   * @example
   * ```ts
   * handler: async (input: { day: string }, ctx) => {
   *   const execution = await ctx.workflows.start(report, input, { id: `report-${input.day}` });
   *   return { execution: execution.id };
   * }
   * ```
   */
  readonly workflows: Workflows;
  /** For single-message queue handlers: the message being handled. */
  readonly message?: QueueRecord;
  /**
   * Heartbeat: keep the message(s) invisible to other consumers for `seconds`
   * more from now, as SQS ChangeMessageVisibility. Rejects if the lease was already lost.
   */
  extendVisibility(seconds: number): Promise<void>;
}

/** The app's clients a handler sends with: `ctx.queues`, `ctx.events`, `ctx.workflows`. */
export type HandlerClients = Pick<FunctionContext, 'queues' | 'events' | 'workflows'>;

export type Handler<I, O> = (input: I, ctx: FunctionContext) => Promise<O> | O;

/** Retries of invocations the function owns (manual calls, schedule ticks, tasks). */
export interface FunctionRetryOptions {
  /** Attempts in all, the first included (default 3; 1 turns retries off). */
  readonly maxAttempts?: number;
  /** `fixed`: wait `base` after each failure; `exponential`: base·2^(n−1), capped at `max` (default). */
  readonly backoff?: 'fixed' | 'exponential';
  /** Default 1 s. */
  readonly base?: Duration;
  /** Default 5 minutes. */
  readonly max?: Duration;
  /** Spread each wait over [wait/2, wait] (default true). */
  readonly jitter?: boolean;
}

export interface FunctionOptions<I, O> {
  /** Letters, digits, `-`, `_`, `.`, `:`; at most 100 characters. */
  readonly name: string;
  readonly handler: Handler<I, O>;
  readonly triggers?: readonly Trigger[];
  /** Longest a run may take; then its signal fires and it is `timed_out` (default 15 minutes; null: none). */
  readonly timeout?: Duration | null;
  /**
   * Retries of invocations (manual, schedules, tasks). Queue-triggered runs follow
   * their queue's `maxReceiveCount` and `retry`, as Lambda does for SQS.
   */
  readonly retry?: FunctionRetryOptions;
  /**
   * A number: invocations (not queue messages) running at once in one process (default 10).
   * An object: runs of the function at once across every process, overall or per key
   * (Lambda reserved concurrency, Inngest's keyed `concurrency`), invocations and queue
   * messages alike; a message over the limit waits in its queue.
   *
   * @example
   * ```ts
   * concurrency: { limit: 2, key: (order: { customerId: string }) => order.customerId }
   * ```
   */
  readonly concurrency?: number | ConcurrencyLimit<I>;
  /**
   * At most `limit` runs start per `period`, across every process, overall or per key (BullMQ's
   * limiter, Inngest's `rateLimit`): a message without a token is held back in its queue, not
   * failed. Starts are spaced evenly (GCRA); `burst` lets that many start back to back after a
   * quiet spell.
   *
   * @example
   * ```ts
   * rateLimit: { limit: 10, period: '1s' }                               // 10 starts a second
   * rateLimit: { limit: 1, period: '1m', key: (job: { user: string }) => job.user } // per user
   * ```
   */
  readonly rateLimit?: RateLimit<I>;
  /** Settings the handler reads as `ctx.env`. */
  readonly env?: Readonly<Record<string, string>>;
  /** Where to send an alert when a run fails for the last time or times out (added to the app's). */
  readonly alerts?: AlertSettings;
  /** Largest JSON result kept with a run (default 256 KiB); a larger one fails the run. */
  readonly maxResultBytes?: number;
  /** Log lines kept per run (default 1000); the rest still reach the process log. */
  readonly maxLogLines?: number;
  /**
   * Which queue-triggered runs get a record (default `'all'`): `'failures'` keeps only
   * failed, timed-out and cancelled attempts (with their errors and logs), `'none'` none.
   * Invocations, schedule ticks and tasks are always recorded: their record is how they are
   * tracked. The app-wide `recordRuns: false` turns queue records off for every function.
   */
  readonly record?: RecordRuns;
}

export type RecordRuns = 'all' | 'failures' | 'none';

/** The key a flow limit counts by: runs with equal keys share one limit. */
export type FlowKey<I> = (input: I) => string | number;

export interface ConcurrencyLimit<I = unknown> {
  /** Runs at once, across every process (per key with `key`). */
  readonly limit: number;
  // Method syntax: a limit typed for the function's input fits where any input is expected.
  key?(input: I): string | number;
  /** Invocations at once in one process, as the number form sets it (default 10). */
  readonly perProcess?: number;
}

export interface RateLimit<I = unknown> {
  /** Starts per period (per key with `key`). */
  readonly limit: number;
  readonly period: Duration;
  key?(input: I): string | number;
  /** Starts allowed back to back after a quiet spell (default 1: evenly spaced). */
  readonly burst?: number;
}

/** A function's limits across every process, checked and resolved. */
export interface FunctionFlow {
  readonly concurrency: { readonly limit: number; readonly key: FlowKey<unknown> | null } | null;
  readonly rate: {
    readonly limit: number;
    readonly periodMs: number;
    readonly burst: number;
    readonly key: FlowKey<unknown> | null;
  } | null;
}

/** A function's retry policy with defaults filled in. */
export interface ResolvedRetry {
  readonly maxAttempts: number;
  readonly backoff: 'fixed' | 'exponential';
  readonly baseMs: number;
  readonly maxMs: number;
  readonly jitter: boolean;
}

/** A command function's process settings (see defineCommand). */
export interface CommandSettings {
  readonly argv: readonly string[];
  /** Relative to the app's folder unless absolute. */
  readonly cwd: string | null;
  readonly env: Readonly<Record<string, string>>;
  /** Names of secrets to pass as environment variables. */
  readonly secrets: readonly string[];
  readonly killGraceMs: number;
}

export interface FunctionDefinition<I = unknown, O = unknown> {
  readonly kind: 'function';
  readonly name: string;
  // Method syntax on purpose: a function typed for its own input (FunctionDefinition<Order>)
  // must fit in the app's list of FunctionDefinition<unknown>.
  handler(input: I, ctx: FunctionContext): Promise<O> | O;
  readonly triggers: readonly Trigger[];
  readonly timeoutMs: number | null;
  readonly retry: ResolvedRetry;
  readonly concurrency: number;
  /** Limits across every process (concurrency as an object, rateLimit), or null. */
  readonly flow: FunctionFlow | null;
  readonly env: Readonly<Record<string, string>>;
  readonly alerts: AlertSettings | null;
  readonly maxResultBytes: number;
  readonly maxLogLines: number;
  readonly record: RecordRuns;
  /** Set for command functions: the worker runs this process instead of `handler`. */
  readonly command: CommandSettings | null;
}

export const DEFAULT_TIMEOUT_MS = 15 * 60_000;
export const DEFAULT_MAX_RESULT_BYTES = 256 * 1024;
export const DEFAULT_MAX_LOG_LINES = 1000;
/** The longest timeout: an invocation's lease must outlast it, and leases stop at 12 hours. */
const MAX_TIMEOUT_MS = 11 * 3_600_000;

const NAME = new RegExp(`^[A-Za-z0-9_.:-]{1,${NAME_LIMITS.function}}$`);

function invalid(message: string, field: string, value: unknown): MainspringError {
  return new MainspringError('E_FUNCTION_INVALID', message, { details: { field, value } });
}

function positiveInt(value: number | undefined, fallback: number, field: string, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw invalid(`${field} is ${JSON.stringify(value)}; use a whole number from 1 to ${max}`, field, value);
  }
  return value;
}

/**
 * Declares a function. Its handler gets the input (for a queue trigger, the
 * message body) and a context with a logger, an abort signal, the trigger, and the
 * app's clients to send with (`ctx.queues`, `ctx.events`, `ctx.workflows`).
 *
 * @example
 * ```ts
 * export const sendReceipt = defineFunction({
 *   name: 'send-receipt',
 *   triggers: [fromQueue(orders, { concurrency: 10 })],
 *   handler: async (order: { id: string }, ctx) => {
 *     ctx.log.info({ order: order.id }, 'sending receipt');
 *     await mailer.send(order);
 *     await ctx.events.put([{ source: 'shop', detailType: 'Receipt Sent', detail: order }]);
 *   },
 * });
 * ```
 */
export function defineFunction<I = unknown, O = unknown>(
  options: FunctionOptions<I, O>,
): FunctionDefinition<I, O> {
  const name = checkName(options?.name);
  if (typeof options.handler !== 'function') {
    throw invalid(`function "${name}": handler must be a function`, 'handler', typeof options.handler);
  }
  const triggers = checkTriggers(name, options.triggers ?? []);
  return {
    kind: 'function',
    name,
    handler: options.handler,
    triggers,
    ...commonSettings(name, options),
    command: null,
  };
}

type CommonOptions = Pick<
  FunctionOptions<unknown, unknown>,
  | 'timeout'
  | 'retry'
  | 'concurrency'
  | 'rateLimit'
  | 'env'
  | 'alerts'
  | 'maxResultBytes'
  | 'maxLogLines'
  | 'record'
>;

/** The settings functions and commands share, checked and with defaults filled in. */
export function commonSettings(name: string, options: CommonOptions) {
  const field = (f: string) => `function "${name}": ${f}`;
  const ms = (value: Duration | undefined, fallback: number, f: string) => {
    try {
      return value === undefined ? fallback : parseDuration(value, f);
    } catch (err) {
      throw invalid(`${field(f)}: ${(err as Error).message}`, f, value);
    }
  };
  let timeoutMs: number | null = null;
  if (options.timeout !== null) {
    timeoutMs = ms(options.timeout, DEFAULT_TIMEOUT_MS, 'timeout');
    if (timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
      throw invalid(`${field('timeout')} must be from 1 ms to 11 hours`, 'timeout', options.timeout);
    }
  }
  const retry = options.retry ?? {};
  if (retry.backoff !== undefined && retry.backoff !== 'fixed' && retry.backoff !== 'exponential') {
    throw invalid(
      `${field('retry.backoff')} is ${JSON.stringify(retry.backoff)}; use "fixed" or "exponential"`,
      'retry.backoff',
      retry.backoff,
    );
  }
  const record = options.record ?? 'all';
  if (record !== 'all' && record !== 'failures' && record !== 'none') {
    throw invalid(
      `${field('record')} is ${JSON.stringify(record)}; use "all", "failures" or "none"`,
      'record',
      record,
    );
  }
  const env = options.env ?? {};
  for (const [k, v] of Object.entries(env)) {
    if (typeof v !== 'string') {
      throw invalid(`${field(`env.${k}`)} must be a string`, `env.${k}`, v);
    }
  }
  return {
    timeoutMs,
    retry: {
      maxAttempts: positiveInt(retry.maxAttempts, 3, 'retry.maxAttempts', 1000),
      backoff: retry.backoff ?? 'exponential',
      baseMs: ms(retry.base, 1000, 'retry.base'),
      maxMs: ms(retry.max, 5 * 60_000, 'retry.max'),
      jitter: retry.jitter ?? true,
    },
    concurrency:
      typeof options.concurrency === 'object' && options.concurrency !== null
        ? positiveInt(options.concurrency.perProcess, 10, 'concurrency.perProcess', 10_000)
        : positiveInt(options.concurrency, 10, 'concurrency', 10_000),
    flow: flowOf(name, options.concurrency, options.rateLimit),
    env: { ...env },
    alerts: options.alerts ?? null,
    maxResultBytes: positiveInt(
      options.maxResultBytes,
      DEFAULT_MAX_RESULT_BYTES,
      'maxResultBytes',
      64 * 1024 * 1024,
    ),
    maxLogLines: positiveInt(options.maxLogLines, DEFAULT_MAX_LOG_LINES, 'maxLogLines', 1_000_000),
    record,
  } satisfies Omit<FunctionDefinition, 'kind' | 'name' | 'handler' | 'triggers' | 'command'>;
}

/** The limits across processes, checked: null when the function has none. */
function flowOf(name: string, concurrency: unknown, rateLimit: unknown): FunctionFlow | null {
  const key = (value: unknown, f: string): FlowKey<unknown> | null => {
    if (value === undefined) return null;
    if (typeof value !== 'function') {
      throw invalid(
        `function "${name}": ${f} must be a function of the input returning a string, such as (input) => input.customerId`,
        f,
        typeof value,
      );
    }
    return value as FlowKey<unknown>;
  };
  const object = (value: unknown, f: string, example: string): Record<string, unknown> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalid(`function "${name}": ${f} must be an object such as ${example}`, f, value);
    }
    return value as Record<string, unknown>;
  };
  const required = (value: unknown, f: string, max: number): number => {
    if (value === undefined) {
      throw invalid(`function "${name}": ${f} is missing; give a whole number from 1 to ${max}`, f, value);
    }
    return positiveInt(value as number, 0, f, max);
  };
  let limitAll: FunctionFlow['concurrency'] = null;
  if (typeof concurrency === 'object' && concurrency !== null) {
    const c = object(concurrency, 'concurrency', '{ limit: 5 }');
    limitAll = {
      limit: required(c['limit'], 'concurrency.limit', 10_000),
      key: key(c['key'], 'concurrency.key'),
    };
  }
  let rate: FunctionFlow['rate'] = null;
  if (rateLimit !== undefined) {
    const r = object(rateLimit, 'rateLimit', "{ limit: 10, period: '1s' }");
    const limit = required(r['limit'], 'rateLimit.limit', 1_000_000);
    let periodMs: number;
    try {
      periodMs = parseDuration(r['period'] as Duration, 'rateLimit.period');
    } catch (err) {
      throw invalid(`function "${name}": ${(err as Error).message}`, 'rateLimit.period', r['period']);
    }
    if (periodMs < 1 || periodMs > 86_400_000) {
      throw invalid(
        `function "${name}": rateLimit.period must be from 1 ms to 1 day`,
        'rateLimit.period',
        r['period'],
      );
    }
    if (periodMs / limit < 1) {
      throw invalid(
        `function "${name}": rateLimit allows ${limit} starts in ${periodMs} ms, more than one a millisecond; lower limit or lengthen period`,
        'rateLimit.limit',
        limit,
      );
    }
    const burst = positiveInt(r['burst'] as number, 1, 'rateLimit.burst', limit);
    rate = { limit, periodMs, burst, key: key(r['key'], 'rateLimit.key') };
  }
  if (limitAll?.key && rate?.key && limitAll.key !== rate.key) {
    throw invalid(
      `function "${name}": concurrency.key and rateLimit.key are different functions; a function counts by one key, so pass the same function to both`,
      'rateLimit.key',
      'function',
    );
  }
  return limitAll === null && rate === null ? null : { concurrency: limitAll, rate };
}

export function checkTriggers(name: string, triggers: readonly Trigger[]): readonly Trigger[] {
  triggers.forEach((t, i) => {
    if (t?.kind !== 'queue' && t?.kind !== 'schedule') {
      throw invalid(
        `function "${name}": triggers[${i}] is not a trigger; use fromQueue(…) or schedule(…)`,
        `triggers[${i}]`,
        t,
      );
    }
  });
  return triggers;
}

export function checkName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw invalid(
      `function name ${JSON.stringify(name)} is invalid; use 1–${NAME_LIMITS.function} letters, digits, "-", "_", "." or ":"`,
      'name',
      name,
    );
  }
  return name;
}

/**
 * Runs the function for messages of `queue`.
 *
 * @example
 * ```ts
 * fromQueue(orders)                                  // one message per call, one call at a time
 * fromQueue(orders, { concurrency: 20 })             // up to 20 calls at once in this process
 * fromQueue(events, { batchSize: 10, concurrency: 2 }) // handler gets { records }, may return batchItemFailures
 * ```
 */
export function fromQueue(
  queue: QueueDefinition | string,
  options: { batchSize?: number; concurrency?: number; prefetch?: number } = {},
): QueueTrigger {
  const name = typeof queue === 'string' ? queue : queue?.name;
  if (typeof name !== 'string' || name.length === 0) {
    throw invalid('fromQueue needs a queue definition or a queue name', 'queue', queue);
  }
  const batchSize = positiveInt(options.batchSize, 1, 'batchSize', 1000);
  const concurrency = positiveInt(options.concurrency, 1, 'concurrency', 10_000);
  const autoPrefetch = options.prefetch === undefined;
  const prefetch = positiveInt(options.prefetch, batchSize * concurrency, 'prefetch', 100_000);
  if (prefetch < batchSize) {
    throw invalid(
      `prefetch (${prefetch}) is smaller than batchSize (${batchSize}); raise prefetch`,
      'prefetch',
      prefetch,
    );
  }
  return { kind: 'queue', queue: name, batchSize, concurrency, prefetch, autoPrefetch };
}

export function isFunctionDefinition(value: unknown): value is FunctionDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'function';
}
