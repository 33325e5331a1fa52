// Many timers that all have the same delay (a consumer's timeout, the write of a
// long run's "running" record) fire in the order they were armed, so one clock
// sleep on the earliest serves them all: no timer per message at thousands a second.

import type { Clock } from '../core/clock.ts';

/** What a deadline calls when it passes. */
export interface DeadlineTarget {
  onDeadline(): void;
}

/** Returned by `arm`; pass it to `disarm` when the work finished first. */
export interface Deadline {
  readonly at: number;
  /** Null once fired or disarmed: a finished run is not kept alive by its place in the queue. */
  target: DeadlineTarget | null;
}

export class FifoDeadlines {
  readonly #clock: Clock;
  readonly #delayMs: number;
  #queue: Deadline[] = [];
  #head = 0;
  /** Disarmed entries still in the queue: compacted away once they are most of it. */
  #dead = 0;
  #timer: AbortController | null = null;
  #closed = false;

  constructor(clock: Clock, delayMs: number) {
    this.#clock = clock;
    this.#delayMs = delayMs;
  }

  /** Calls `target.onDeadline()` after the delay from `nowMs` unless the deadline is disarmed first. */
  arm(target: DeadlineTarget, nowMs: number = this.#clock.now()): Deadline {
    const d: Deadline = { at: nowMs + this.#delayMs, target };
    this.#queue.push(d);
    if (this.#timer === null && !this.#closed) void this.#loop();
    return d;
  }

  disarm(d: Deadline): void {
    if (d.target === null) return;
    d.target = null;
    // Long delays at high rates would otherwise hold every finished entry until its time.
    if (++this.#dead > 1024 && this.#dead * 2 > this.#queue.length - this.#head) this.#compact();
  }

  #compact(): void {
    this.#queue = this.#queue.slice(this.#head).filter((d) => d.target !== null);
    this.#head = 0;
    this.#dead = 0;
  }

  close(): void {
    this.#closed = true;
    this.#timer?.abort();
  }

  async #loop(): Promise<void> {
    const timer = new AbortController();
    this.#timer = timer;
    try {
      while (!this.#closed) {
        while (this.#head < this.#queue.length && this.#queue[this.#head]!.target === null) {
          this.#head++;
          this.#dead--;
        }
        if (this.#head === this.#queue.length) break;
        const next = this.#queue[this.#head]!;
        const wait = next.at - this.#clock.now();
        if (wait > 0) {
          await this.#clock.sleep(wait, timer.signal);
          continue;
        }
        this.#head++;
        const target = next.target!;
        next.target = null;
        target.onDeadline();
      }
    } catch {
      // closed
    } finally {
      this.#compact();
      this.#timer = null;
    }
    // Armed while the loop was finishing: start again.
    if (!this.#closed && this.#queue.some((d) => d.target !== null)) void this.#loop();
  }
}
