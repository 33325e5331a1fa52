// Riding out a lost database: which errors mean "the connection went away, try again"
// (a restart, a terminated session, a failover), and how long to wait before trying.
// Pure: errors are recognised by code and message, which every driver and child process keeps.

// Socket failures (Node), and PostgreSQL SQLSTATEs: class 08 (connection exception),
// 57P01-57P03 (administrator / crash shutdown, cannot connect now), 53300 (too many connections).
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  'E_STORE_UNREACHABLE',
]);

// What node-postgres says when a socket ends or a pool cannot get a connection in time.
const TRANSIENT_MESSAGE =
  /Connection terminated|Connection ended unexpectedly|not queryable|timeout exceeded when trying to connect|terminating connection/i;

/** True when `err` (or an error it wraps) says the store's connection was lost or refused, not that the work was wrong. */
export function isTransient(err: unknown): boolean {
  for (let e = err, depth = 0; e != null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = String((e as { code?: unknown }).code ?? '');
    if (TRANSIENT_CODES.has(code) || code.startsWith('08')) return true;
    if (TRANSIENT_MESSAGE.test(String((e as { message?: unknown }).message ?? ''))) return true;
  }
  return false;
}

/**
 * The one backoff every retry in mainspring waits by. Queue messages (visible again after
 * it), function invocations and schedule targets (which retry through their queues), event
 * rule targets and workflow steps map the options users write onto a policy; Backoff below
 * uses it for reconnecting to a lost store.
 */
/** How long to wait before each next attempt. */
export interface BackoffPolicy {
  /** The wait before the second attempt. */
  readonly initialMs: number;
  /** Each next wait is this many times the last (1: a fixed wait). */
  readonly rate: number;
  /** No wait grows past this. */
  readonly maxMs: number;
  /**
   * `full`: anywhere from 0 to the wait; `half`: from half of it to all of it, so retries
   * of many failures at one instant spread out but none comes back early; `none`: exact.
   */
  readonly jitter: 'full' | 'half' | 'none';
}

/** The wait after failed attempt `attempt` (1 for the first). */
export function backoffDelayMs(
  p: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  // The exponent is capped: past 2^40 every wait is maxMs anyway, and the power stays finite.
  const raw = Math.min(p.maxMs, p.initialMs * p.rate ** Math.min(attempt - 1, 40));
  if (p.jitter === 'none') return Math.round(raw);
  if (p.jitter === 'half') return Math.round(raw / 2 + random() * (raw / 2));
  return Math.round(random() * raw);
}

/**
 * Exponential backoff with jitter: 250 ms, 500 ms, 1 s, … up to `maxMs`, each wait between
 * half and all of that step, so processes cut off at the same instant do not all come back
 * at the same instant. `reset()` after a success.
 *
 * @example
 * ```ts
 * const backoff = new Backoff();
 * for (;;) {
 *   try { await poll(); backoff.reset(); } catch { await sleep(backoff.next()); }
 * }
 * ```
 */
export class Backoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #failures = 0;

  constructor(options: { baseMs?: number; maxMs?: number; random?: () => number } = {}) {
    this.#baseMs = options.baseMs ?? 250;
    this.#maxMs = options.maxMs ?? 10_000;
    this.#random = options.random ?? Math.random;
  }

  /** Failures in a row so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Counts a failure and returns how long to wait before the next try. */
  next(): number {
    this.#failures++;
    return backoffDelayMs(
      { initialMs: this.#baseMs, rate: 2, maxMs: this.#maxMs, jitter: 'half' },
      this.#failures,
      this.#random,
    );
  }

  reset(): void {
    this.#failures = 0;
  }
}
