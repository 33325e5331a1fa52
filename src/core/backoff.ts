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
    const step = Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    return Math.round(step / 2 + (this.#random() * step) / 2);
  }

  reset(): void {
    this.#failures = 0;
  }
}
