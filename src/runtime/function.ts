// Functions: named handlers and the triggers that start them. A function is
// plain data plus a handler; the worker decides where and when it runs.

import type { Logger } from 'pino';
import { MainspringError } from '../core/errors.ts';
import type { QueueDefinition } from '../queue/define.ts';

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
  /** Messages leased ahead of free handler slots (a local buffer); default batchSize × concurrency. */
  readonly prefetch: number;
}

export type Trigger = QueueTrigger;

export interface TriggerInfo {
  readonly kind: 'queue';
  readonly queue: string;
  readonly messageIds: readonly string[];
}

export interface FunctionContext {
  /** Fires when the process shuts down past its grace period (and, later, on timeout and cancel). */
  readonly signal: AbortSignal;
  /** A pino logger whose lines carry the function, trigger and message ids. */
  readonly log: Logger;
  readonly trigger: TriggerInfo;
  /** For single-message queue handlers: the message being handled. */
  readonly message?: QueueRecord;
  /**
   * Heartbeat: keep the message(s) invisible to other consumers for `seconds`
   * more from now, as SQS ChangeMessageVisibility. Rejects if the lease was already lost.
   */
  extendVisibility(seconds: number): Promise<void>;
}

export type Handler<I, O> = (input: I, ctx: FunctionContext) => Promise<O> | O;

export interface FunctionOptions<I, O> {
  /** Letters, digits, `-`, `_`, `.`, `:`; at most 100 characters. */
  readonly name: string;
  readonly handler: Handler<I, O>;
  readonly triggers?: readonly Trigger[];
}

export interface FunctionDefinition<I = unknown, O = unknown> {
  readonly kind: 'function';
  readonly name: string;
  // Method syntax on purpose: a function typed for its own input (FunctionDefinition<Order>)
  // must fit in the app's list of FunctionDefinition<unknown>.
  handler(input: I, ctx: FunctionContext): Promise<O> | O;
  readonly triggers: readonly Trigger[];
}

const NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

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
 * message body) and a context with a logger, an abort signal and the trigger.
 *
 * @example
 * ```ts
 * export const sendReceipt = defineFunction({
 *   name: 'send-receipt',
 *   triggers: [fromQueue(orders, { concurrency: 10 })],
 *   handler: async (order: { id: string }, ctx) => {
 *     ctx.log.info({ order: order.id }, 'sending receipt');
 *     await mailer.send(order);
 *   },
 * });
 * ```
 */
export function defineFunction<I = unknown, O = unknown>(
  options: FunctionOptions<I, O>,
): FunctionDefinition<I, O> {
  if (typeof options?.name !== 'string' || !NAME.test(options.name)) {
    throw invalid(
      `function name ${JSON.stringify(options?.name)} is invalid; use 1–100 letters, digits, "-", "_", "." or ":"`,
      'name',
      options?.name,
    );
  }
  if (typeof options.handler !== 'function') {
    throw invalid(
      `function "${options.name}": handler must be a function`,
      'handler',
      typeof options.handler,
    );
  }
  const triggers = options.triggers ?? [];
  triggers.forEach((t, i) => {
    if (t?.kind !== 'queue') {
      throw invalid(
        `function "${options.name}": triggers[${i}] is not a trigger; use fromQueue(…)`,
        `triggers[${i}]`,
        t,
      );
    }
  });
  return { kind: 'function', name: options.name, handler: options.handler, triggers };
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
  const prefetch = positiveInt(options.prefetch, batchSize * concurrency, 'prefetch', 100_000);
  if (prefetch < batchSize) {
    throw invalid(
      `prefetch (${prefetch}) is smaller than batchSize (${batchSize}); raise prefetch`,
      'prefetch',
      prefetch,
    );
  }
  return { kind: 'queue', queue: name, batchSize, concurrency, prefetch };
}

export function isFunctionDefinition(value: unknown): value is FunctionDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'function';
}
