// The send options `debounce` and `throttle` (issue 25): their types, bounds and checks, and
// their resolution into the store's MessageGate. What each does is planned in
// store/message-gate.ts, alike on both backends.

import { type Duration, parseDuration } from '../core/duration.ts';
import { isMainspringError, MainspringError } from '../core/errors.ts';
import type { MessageGate } from '../store/types.ts';

/**
 * Run once, with the last body, after a quiet period: BullMQ's debounce mode of `deduplication`,
 * pg-boss's debounce policy, Inngest's `debounce`.
 *
 * @example
 * ```ts
 * // Three sends within 5 s: one message, with the third body, due 5 s after the third send.
 * await ms.queues.send('reindex', { customer: 42, v: 3 }, { debounce: { key: 'customer-42', period: '5s' } });
 * ```
 */
export interface DebounceOptions {
  /** 1–128 characters. Sends under one key collapse into the key's pending message. */
  readonly key: string;
  /** The quiet period: the message is due this long after the last send under the key. 1 ms to 12 hours. */
  readonly period: Duration;
  /**
   * The pending message is never pushed later than this after its first send, so a constant
   * stream of sends still runs (Inngest's `timeout`). From `period` to 7 days; default none.
   */
  readonly maxWait?: Duration;
}

/**
 * At most one message per key per period: pg-boss's `singletonKey` + `singletonSeconds`,
 * Inngest's `throttle`.
 *
 * @example
 * ```ts
 * await ms.queues.send('sync', body, { throttle: { key: 'account-7', period: '1m' } });                 // extra sends dropped
 * await ms.queues.send('sync', body, { throttle: { key: 'account-7', period: '1m', mode: 'delay' } }); // kept, spaced 1 m apart
 * ```
 */
export interface ThrottleOptions {
  /** 1–128 characters. */
  readonly key: string;
  /** 1 ms to 12 hours. */
  readonly period: Duration;
  /**
   * `'drop'` (default): a send within `period` of the key's last accepted one stores nothing and
   * returns the accepted message's id. `'delay'`: every send is kept, each due at least `period`
   * after the key's previous one, in send order.
   */
  readonly mode?: 'drop' | 'delay';
}

export const MAX_GATE_KEY = 128;
/** The longest period: 12 hours, as a visibility timeout. */
export const MAX_GATE_PERIOD_MS = 12 * 3_600_000;
/** The longest maxWait of a debounce: 7 days, as Inngest's. */
export const MAX_DEBOUNCE_WAIT_MS = 7 * 86_400_000;

const FIELDS = { debounce: ['key', 'period', 'maxWait'], throttle: ['key', 'period', 'mode'] } as const;

interface GatedEntry {
  readonly debounce?: DebounceOptions;
  readonly throttle?: ThrottleOptions;
  readonly dedupKey?: string;
  readonly delay?: Duration;
}

function invalid(field: string, message: string, value: unknown): MainspringError {
  return new MainspringError('E_MESSAGE_INVALID', `${field} ${message}`, { details: { field, value } });
}

function duration(value: unknown, field: string, min: number, max: number, bounds: string): number {
  let ms: number;
  try {
    ms = parseDuration(value as Duration, field);
  } catch (err) {
    if (!isMainspringError(err)) throw err;
    throw invalid(field, err.message.replace(/^\S+ /, ''), value);
  }
  if (ms < min || ms > max) throw invalid(field, `is ${JSON.stringify(value)}; ${bounds}`, value);
  return ms;
}

/**
 * The gate of one send, or null without debounce and throttle. `f` prefixes a field with the
 * entry's place in a batch (`entries[2].`); `fifo` names the queue when it is FIFO.
 */
export function resolveGate(
  e: GatedEntry,
  f: (name: string) => string,
  fifo: string | null,
): MessageGate | null {
  const which = e.debounce !== undefined ? 'debounce' : e.throttle !== undefined ? 'throttle' : null;
  if (which === null) return null;
  const o = (which === 'debounce' ? e.debounce : e.throttle) as unknown;
  if (e.debounce !== undefined && e.throttle !== undefined) {
    throw invalid(f('throttle'), 'cannot be combined with debounce in one send; choose one', e.throttle);
  }
  if (e.dedupKey !== undefined) {
    throw invalid(
      f('dedupKey'),
      `cannot be combined with ${which} in one send: the ${which} key already decides what is stored; drop dedupKey`,
      e.dedupKey,
    );
  }
  if (fifo !== null) {
    throw invalid(
      f(which),
      `is not supported on FIFO queue "${fifo}": its groups already order and serialise delivery; send without ${which}, or use a standard queue`,
      o,
    );
  }
  if (which === 'debounce' && e.delay !== undefined) {
    throw invalid(
      f('delay'),
      'cannot be combined with debounce: a debounced message is due its period after the last send under its key; drop delay',
      e.delay,
    );
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw invalid(f(which), `must be an object such as { key: 'customer-42', period: '5s' }`, o);
  }
  const given = o as Record<string, unknown>;
  const known: readonly string[] = FIELDS[which];
  for (const name of Object.keys(given)) {
    if (!known.includes(name)) {
      throw invalid(
        f(`${which}.${name}`),
        `is not a known field; the known fields are ${known.join(', ')}`,
        given[name],
      );
    }
  }
  const { key } = given;
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_GATE_KEY) {
    throw invalid(f(`${which}.key`), `must be a string of 1 to ${MAX_GATE_KEY} characters`, key);
  }
  if (given['period'] === undefined) {
    throw invalid(
      f(`${which}.period`),
      "is required; give a duration such as '5s' (1 ms to 12 hours)",
      undefined,
    );
  }
  const periodMs = duration(
    given['period'],
    f(`${which}.period`),
    1,
    MAX_GATE_PERIOD_MS,
    'use a duration from 1 ms to 12 hours',
  );
  if (which === 'throttle') {
    const mode = given['mode'] ?? 'drop';
    if (mode !== 'drop' && mode !== 'delay') {
      throw invalid(f('throttle.mode'), `is ${JSON.stringify(mode)}; use 'drop' or 'delay'`, mode);
    }
    return { kind: mode, key, periodMs, maxWaitMs: null };
  }
  const maxWaitMs =
    given['maxWait'] === undefined
      ? null
      : duration(
          given['maxWait'],
          f('debounce.maxWait'),
          periodMs,
          MAX_DEBOUNCE_WAIT_MS,
          `use a duration from the period (${periodMs} ms) to 7 days`,
        );
  return { kind: 'debounce', key, periodMs, maxWaitMs };
}
