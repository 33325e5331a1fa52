// Flow limits a function keeps across every process (issue 25): how many of its runs may be
// running at once, and how many may start per period, overall or per key. The store holds
// the state every process must agree on, and a claim of a limited function's queue is one
// transaction serialised per function (an advisory lock on PostgreSQL; SQLite has one
// writer), so two processes never both take the last slot.
//
// The data shape:
//  - a running run is a leased message: its lease is its slot, so a crashed process's slots
//    come back when its leases end, as its messages do, and nothing is kept to clean up;
//  - a message's key is computed by the consumer (the key function is the user's code) on
//    first receipt and kept in messages.flow_key, so a claim skips the messages of a key at
//    its limit in SQL rather than leasing them and handing them back;
//  - a rate limit is GCRA, one "theoretical arrival time" per key in flow_rates: a start
//    at `now` conforms when tat − tolerance ≤ now, and moves tat to max(tat, now) + interval.
//    A message without a token waits in its queue, due when its key's next token is.
//
// This file is the arithmetic both backends share; each backend runs it inside its claim.

export interface FlowLimits {
  /** Names the limits' state in the store (the function's name). */
  readonly scope: string;
  /** Every queue whose messages run under these limits: where running messages are counted. */
  readonly queues: readonly string[];
  readonly concurrency: { readonly limit: number; readonly keyed: boolean } | null;
  /** `intervalMs` = period / limit; `toleranceMs` = (burst − 1) · interval. */
  readonly rate: {
    readonly intervalMs: number;
    readonly toleranceMs: number;
    readonly keyed: boolean;
  } | null;
}

/** What a limited claim leased (claimed messages), and when to look again if a rate limit held messages back. */
export interface LimitedClaim<M> {
  readonly claimed: M[];
  /** The earliest time a held-back message gets a rate token, or null when none waits for one. */
  readonly retryAtMs: number | null;
}

/** Idle rate-limit keys (their tat passed) are deleted at most this often, per process. */
export const FORGET_EVERY_MS = 60_000;

/** The key of an unkeyed limit's one state row. */
export const WHOLE = '';

/** Starts a rate allows at `nowMs` (at most `max`), from the key's tat (absent: idle). */
export function tokens(
  rate: NonNullable<FlowLimits['rate']>,
  tat: number | undefined,
  nowMs: number,
  max: number,
) {
  const start = Math.max(tat ?? nowMs, nowMs);
  const ahead = start - nowMs;
  if (ahead > rate.toleranceMs) return 0;
  return Math.min(max, Math.floor((rate.toleranceMs - ahead) / rate.intervalMs) + 1);
}

/** The key's tat after `n` starts at `nowMs`. */
export function took(
  rate: NonNullable<FlowLimits['rate']>,
  tat: number | undefined,
  nowMs: number,
  n: number,
) {
  return Math.max(tat ?? nowMs, nowMs) + n * rate.intervalMs;
}

/** When the next start conforms, given the key's tat. */
export function nextToken(rate: NonNullable<FlowLimits['rate']>, tat: number): number {
  return tat - rate.toleranceMs;
}

/** How many of an unkeyed limit's messages a claim may lease now, and when a rate token frees. */
export function budget(
  limits: FlowLimits,
  room: number,
  running: number,
  tat: number | undefined,
  nowMs: number,
): { limit: number; retryAtMs: number | null } {
  let limit = room;
  if (limits.concurrency && !limits.concurrency.keyed)
    limit = Math.min(limit, limits.concurrency.limit - running);
  let retryAtMs: number | null = null;
  if (limits.rate && !limits.rate.keyed) {
    const n = tokens(limits.rate, tat, nowMs, limit);
    if (n < limit) retryAtMs = nextToken(limits.rate, took(limits.rate, tat, nowMs, n));
    limit = n;
  }
  return { limit: Math.max(0, limit), retryAtMs };
}

/** A claimed message the keyed limits turn back: it waits in its queue, due at `dueAtMs` (null: as it was). */
export interface Deferred<M> {
  readonly message: M;
  readonly key: string;
  readonly dueAtMs: number | null;
}

export interface Admission<M> {
  readonly admitted: M[];
  /** The key of every claimed message, by id. */
  readonly keys: Map<number, string>;
  readonly deferred: Deferred<M>[];
  /** Keyed rate state after the admitted starts. */
  readonly tats: Map<string, number>;
  readonly retryAtMs: number | null;
}

/**
 * Admits claimed messages in claim order while their key has a free slot (`running` counts
 * the key's other running messages) and a rate token; the rest are deferred.
 */
export function admit<M extends { readonly id: number }>(
  limits: FlowLimits,
  claimed: readonly M[],
  keyOf: (m: M) => string,
  running: ReadonlyMap<string, number>,
  tats: ReadonlyMap<string, number>,
  nowMs: number,
): Admission<M> {
  const keys = new Map<number, string>();
  const admitted: M[] = [];
  const deferred: Deferred<M>[] = [];
  const taken = new Map<string, number>();
  const after = new Map<string, number>();
  const waiting = new Map<string, number>();
  let retryAtMs: number | null = null;
  const concurrency = limits.concurrency?.keyed ? limits.concurrency : null;
  const rate = limits.rate?.keyed ? limits.rate : null;
  for (const m of claimed) {
    const key = keyOf(m);
    keys.set(m.id, key);
    const n = taken.get(key) ?? 0;
    if (concurrency && (running.get(key) ?? 0) + n >= concurrency.limit) {
      deferred.push({ message: m, key, dueAtMs: null });
      continue;
    }
    if (rate) {
      const tat = after.get(key) ?? tats.get(key);
      if (tokens(rate, tat, nowMs, 1) === 0) {
        // Deferred messages of one key come due a token apart; only starts move the stored tat.
        const queued = waiting.get(key) ?? 0;
        const due = nextToken(rate, tat!) + queued * rate.intervalMs;
        waiting.set(key, queued + 1);
        deferred.push({ message: m, key, dueAtMs: due });
        retryAtMs = retryAtMs === null ? due : Math.min(retryAtMs, due);
        continue;
      }
      after.set(key, took(rate, tat, nowMs, 1));
    }
    taken.set(key, n + 1);
    admitted.push(m);
  }
  return { admitted, keys, deferred, tats: after, retryAtMs };
}
