// The one source of time. Engine code never calls Date.now(): it asks an injected
// Clock, so tests drive time with FakeClock and demos compress it with ScaledClock.
// (`run-due --now` keeps the real clock: the instant only decides what is due.)
//
// Two kinds of duration meet the clock. What users wait for — a schedule's ticks, a
// message's delay, a workflow's wait, a task's due time, retry backoff — is clock time
// and goes straight to it. Safety margins and intervals that cost work — leases and
// visibility timeouts, heartbeats, run timeouts, misfire grace, lock TTLs, stop graces,
// polls — are real time: the engine passes them through `clock.real(ms)`, so a scaled
// clock speeds up the first and never shrinks the second (a handler runs at real speed).

import { MainspringError } from './errors.ts';

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves once `ms` of this clock's time has passed; rejects with the signal's reason on abort. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * How much of this clock's time lasts `ms` of real time: the conversion for safety
   * margins (a lease, a heartbeat, a misfire grace, a poll), which must not shrink when
   * time is scaled. `ms × scale` on a ScaledClock; `ms` on the real and the fake clock (in
   * tests, fake time governs margins as it governs everything else).
   *
   * @example
   * ```ts
   * const leaseUntil = clock.now() + clock.real(30_000); // 30 real seconds, at any scale
   * await clock.sleep(clock.real(1000));                // poll once a real second
   * ```
   */
  real(ms: number): number;
}

// A real timer is never armed for longer than this; on waking we re-read the clock,
// so a suspended laptop or a wall-clock jump never leaves a sleeper asleep for hours.
const MAX_TIMER_MS = 30_000;

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

function realDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Wall-clock time.
 *
 * @example
 * ```ts
 * const clock = new RealClock();
 * await clock.sleep(1000);
 * ```
 */
export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }

  real(ms: number): number {
    return ms;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const until = this.now() + Math.max(0, ms);
    for (;;) {
      const left = until - this.now();
      if (left <= 0) {
        if (signal?.aborted) throw abortReason(signal);
        return;
      }
      await realDelay(Math.min(left, MAX_TIMER_MS), signal);
    }
  }
}

/**
 * Wall-clock time running `scale` times faster from the moment it is created:
 * with a scale of 1440 a day passes in a minute. For demos; set through
 * `MAINSPRING_TIME_SCALE`. Schedules, delays and waits speed up; safety margins do
 * not (`real`): a lease of 30 s still lasts 30 real seconds.
 *
 * @example
 * ```ts
 * const clock = new ScaledClock(1440); // clock.sleep(86_400_000) takes one real minute
 * ```
 */
export class ScaledClock implements Clock {
  readonly scale: number;
  readonly #originMs: number;
  readonly #realOriginMs: number;

  constructor(scale: number, originMs: number = Date.now()) {
    if (!Number.isFinite(scale) || scale <= 0) {
      throw new MainspringError(
        'E_CLOCK_INVALID',
        `time scale must be a positive number, got ${String(scale)}; use e.g. 1440 to make a day pass in a minute`,
      );
    }
    this.scale = scale;
    this.#originMs = originMs;
    this.#realOriginMs = Date.now();
  }

  now(): number {
    return Math.floor(this.#originMs + (Date.now() - this.#realOriginMs) * this.scale);
  }

  /** `ms` of real time in this clock's time: `ms × scale` (a real 30 s lease is 30 s × scale). */
  real(ms: number): number {
    return ms * this.scale;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const until = this.now() + Math.max(0, ms);
    for (;;) {
      const left = until - this.now();
      if (left <= 0) {
        if (signal?.aborted) throw abortReason(signal);
        return;
      }
      await realDelay(Math.min(Math.ceil(left / this.scale), MAX_TIMER_MS), signal);
    }
  }
}

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * A clock that moves only when told to. Sleepers wake in deadline order as
 * `advance` passes their deadlines, each seeing `now()` equal to its deadline.
 *
 * @example
 * ```ts
 * const clock = new FakeClock('2026-03-08T06:00:00Z');
 * const woke = clock.sleep(60_000);
 * await clock.advance(60_000); // `woke` is now resolved
 * ```
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #sleepers: Sleeper[] = [];

  constructor(start: Date | number | string = 0) {
    this.#now = toMs(start);
  }

  now(): number {
    return this.#now;
  }

  /** As is: margins pass in fake time like everything else, so tests move the clock past a lease. */
  real(ms: number): number {
    return ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const sleeper: Sleeper = {
        at: this.#now + ms,
        seq: this.#seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.push(sleeper);
    });
  }

  /** Jumps to `to` without waking anyone whose deadline lies between (a clock jump); use `advance` to pass time. */
  set(to: Date | number | string): void {
    this.#now = toMs(to);
  }

  /** Moves time forward by `ms`, waking each sleeper at its deadline and letting its continuation run. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms);
  }

  async advanceTo(to: Date | number | string): Promise<void> {
    const target = toMs(to);
    for (;;) {
      await flushMacrotask();
      const next = this.#earliest();
      if (next === undefined || next.at > target) break;
      this.#sleepers = this.#sleepers.filter((s) => s !== next);
      if (next.at > this.#now) this.#now = next.at;
      next.resolve();
    }
    if (target > this.#now) this.#now = target;
    await flushMacrotask();
  }

  /** When the earliest sleeper wakes, or null when nobody sleeps. */
  get nextWakeAt(): number | null {
    return this.#earliest()?.at ?? null;
  }

  /** Number of pending sleepers: lets a test wait until the code under test is idle. */
  get pendingSleeps(): number {
    return this.#sleepers.length;
  }

  #earliest(): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.#sleepers) {
      if (!best || s.at < best.at || (s.at === best.at && s.seq < best.seq)) best = s;
    }
    return best;
  }
}

function flushMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function toMs(value: Date | number | string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new MainspringError(
      'E_CLOCK_INVALID',
      `clock time ${JSON.stringify(String(value))} is not a valid instant; use an ISO-8601 time such as 2026-01-31T09:00:00Z`,
    );
  }
  return ms;
}

/**
 * The clock a process should use, from its environment: a ScaledClock when
 * `MAINSPRING_TIME_SCALE` is set (and not 1), the real clock otherwise.
 */
export function clockFromEnv(env: NodeJS.ProcessEnv = process.env): Clock {
  const raw = env['MAINSPRING_TIME_SCALE'];
  if (raw === undefined || raw.trim() === '') return new RealClock();
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new MainspringError(
      'E_CLOCK_INVALID',
      `MAINSPRING_TIME_SCALE is ${JSON.stringify(raw)}; it must be a positive number such as 1440 (a day per minute), or unset`,
    );
  }
  return scale === 1 ? new RealClock() : new ScaledClock(scale);
}
