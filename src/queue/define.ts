// Queue definitions: what a user declares with defineQueue, checked once and
// resolved into settings with every default filled in (SQS's defaults where SQS has one).

import { backoffDelayMs } from '../core/backoff.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { isMainspringError, MainspringError } from '../core/errors.ts';
import { NAME_LIMITS } from '../core/names.ts';

export interface RetryOptions {
  /** `fixed`: wait `base` after each failure; `exponential`: base·2^(n−1), capped at `max`. */
  readonly backoff?: 'fixed' | 'exponential';
  /** Default: the visibility timeout, so a failed message reappears when SQS would show it again. */
  readonly base?: Duration;
  /** Cap for exponential backoff (default 15 minutes). */
  readonly max?: Duration;
  /** Spread each wait uniformly over [wait/2, wait] so failures don't retry in lockstep (default true). */
  readonly jitter?: boolean;
}

export interface QueueOptions {
  /** Letters, digits, `-`, `_`, `.`; at most 80 characters (as SQS). */
  readonly name: string;
  /** How long a received message stays invisible to others (default 30 s). */
  readonly visibilityTimeout?: Duration;
  /** After this many receives a failing message moves to `deadLetterQueue` (requires it). */
  readonly maxReceiveCount?: number;
  readonly deadLetterQueue?: string | QueueDefinition;
  readonly retry?: RetryOptions;
  /** Deliver the messages of each `groupId` in send order, one at a time. */
  readonly fifo?: boolean;
  /** Largest JSON body in bytes (default 256 KiB). */
  readonly maxBodyBytes?: number;
  /** How long a `dedupKey` keeps deduplicating after its first send (default 5 minutes). */
  readonly dedupWindow?: Duration;
}

/** Resolved settings; stored with the queue so every process agrees on them. */
export interface QueueSettings {
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number | null;
  readonly deadLetterQueue: string | null;
  readonly retry: {
    readonly backoff: 'fixed' | 'exponential';
    readonly baseMs: number;
    readonly maxMs: number;
    readonly jitter: boolean;
  };
  readonly fifo: boolean;
  readonly maxBodyBytes: number;
  readonly dedupWindowMs: number;
}

export interface QueueDefinition {
  readonly kind: 'queue';
  readonly name: string;
  readonly settings: QueueSettings;
}

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
const NAME = new RegExp(`^[A-Za-z0-9_.-]{1,${NAME_LIMITS.queue}}$`);
const MAX_VISIBILITY_MS = 12 * 3600_000; // SQS's limit

export function checkQueueName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new MainspringError(
      'E_QUEUE_INVALID',
      `queue ${field} ${JSON.stringify(name)} is invalid; use 1–${NAME_LIMITS.queue} letters, digits, "-", "_" or "."`,
      { details: { field, value: name } },
    );
  }
  return name;
}

function duration(value: Duration | undefined, fallback: number, queue: string, field: string): number {
  if (value === undefined) return fallback;
  try {
    return parseDuration(value, field);
  } catch (err) {
    if (!isMainspringError(err)) throw err;
    throw new MainspringError('E_QUEUE_INVALID', `queue "${queue}": ${err.message}`, {
      details: { field, value },
    });
  }
}

function invalid(queue: string, field: string, value: unknown, fix: string): never {
  throw new MainspringError(
    'E_QUEUE_INVALID',
    `queue "${queue}": ${field} is ${JSON.stringify(value)}; ${fix}`,
    {
      details: { field, value },
    },
  );
}

/**
 * Declares a queue. Defaults follow SQS: a 30 s visibility timeout, no
 * dead-letter queue unless configured, a 256 KiB body limit, a 5-minute dedup window.
 *
 * @example
 * ```ts
 * const ordersDlq = defineQueue({ name: 'orders-dlq' });
 * const orders = defineQueue({
 *   name: 'orders',
 *   visibilityTimeout: '2m',
 *   maxReceiveCount: 5,
 *   deadLetterQueue: ordersDlq,
 *   retry: { backoff: 'exponential', base: '1s', max: '5m', jitter: true },
 * });
 * ```
 */
export function defineQueue(options: QueueOptions): QueueDefinition {
  const name = checkQueueName(options?.name);
  const visibilityTimeoutMs = duration(options.visibilityTimeout, 30_000, name, 'visibilityTimeout');
  if (visibilityTimeoutMs < 1 || visibilityTimeoutMs > MAX_VISIBILITY_MS) {
    invalid(name, 'visibilityTimeout', options.visibilityTimeout, 'use between 1 ms and 12 hours');
  }
  const dlq =
    options.deadLetterQueue === undefined
      ? null
      : typeof options.deadLetterQueue === 'string'
        ? checkQueueName(options.deadLetterQueue, 'deadLetterQueue')
        : checkQueueName(options.deadLetterQueue.name, 'deadLetterQueue');
  if (dlq === name)
    invalid(name, 'deadLetterQueue', dlq, 'a queue cannot be its own dead-letter queue; name another queue');
  const max = options.maxReceiveCount;
  if (max !== undefined && (!Number.isInteger(max) || max < 1 || max > 1000)) {
    invalid(name, 'maxReceiveCount', max, 'use a whole number from 1 to 1000');
  }
  if (max !== undefined && dlq === null) {
    invalid(
      name,
      'maxReceiveCount',
      max,
      'it needs a deadLetterQueue for the messages that reach it; set deadLetterQueue',
    );
  }
  if (dlq !== null && max === undefined) {
    invalid(
      name,
      'deadLetterQueue',
      dlq,
      'it needs maxReceiveCount: after how many receives should a message move there?',
    );
  }
  const backoff = options.retry?.backoff ?? 'fixed';
  if (backoff !== 'fixed' && backoff !== 'exponential') {
    invalid(name, 'retry.backoff', backoff, 'use "fixed" or "exponential"');
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1 || maxBodyBytes > 64 * 1024 * 1024) {
    invalid(name, 'maxBodyBytes', maxBodyBytes, 'use a whole number of bytes up to 64 MiB');
  }
  return {
    kind: 'queue',
    name,
    settings: {
      visibilityTimeoutMs,
      maxReceiveCount: max ?? null,
      deadLetterQueue: dlq,
      retry: {
        backoff,
        baseMs: duration(options.retry?.base, visibilityTimeoutMs, name, 'retry.base'),
        maxMs: duration(options.retry?.max, 15 * 60_000, name, 'retry.max'),
        jitter: options.retry?.jitter ?? true,
      },
      fifo: options.fifo ?? false,
      maxBodyBytes,
      dedupWindowMs: duration(options.dedupWindow, 5 * 60_000, name, 'dedupWindow'),
    },
  };
}

export function isQueueDefinition(value: unknown): value is QueueDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'queue';
}

/**
 * The wait before a message that failed on its `receiveCount`-th receive is visible again:
 * `fixed` waits `base` every time (past `max` too: by default it is the visibility timeout,
 * as with SQS), `exponential` doubles from `base` up to `max`; `jitter` spreads each wait
 * over its upper half.
 */
export function backoffMs(
  retry: QueueSettings['retry'],
  receiveCount: number,
  random: () => number = Math.random,
): number {
  const fixed = retry.backoff === 'fixed';
  return backoffDelayMs(
    {
      initialMs: retry.baseMs,
      rate: fixed ? 1 : 2,
      maxMs: fixed ? Number.POSITIVE_INFINITY : retry.maxMs,
      jitter: retry.jitter ? 'half' : 'none',
    },
    receiveCount,
    random,
  );
}
