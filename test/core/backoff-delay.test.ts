import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelayMs } from '../../src/core/backoff.ts';
import { backoffMs } from '../../src/queue/define.ts';

describe('the one backoff', () => {
  const exp = { initialMs: 1000, rate: 2, maxMs: 10_000, jitter: 'none' } as const;

  it('grows by its rate from the initial wait and stops at the maximum', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(exp, n))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
    // A huge attempt number stays finite.
    expect(backoffDelayMs({ ...exp, rate: 100 }, 1000)).toBe(10_000);
  });

  it('spreads each wait by its jitter: full over all of it, half over its upper half', () => {
    expect(backoffDelayMs({ ...exp, jitter: 'full' }, 3, () => 0)).toBe(0);
    expect(backoffDelayMs({ ...exp, jitter: 'full' }, 3, () => 0.999999)).toBe(4000);
    expect(backoffDelayMs({ ...exp, jitter: 'half' }, 3, () => 0)).toBe(2000);
    expect(backoffDelayMs({ ...exp, jitter: 'half' }, 3, () => 0.5)).toBe(3000);
  });

  it("is what a queue's retry settings wait: fixed waits base even past max, as SQS's visibility timeout does", () => {
    const fixed = { backoff: 'fixed', baseMs: 30 * 60_000, maxMs: 15 * 60_000, jitter: false } as const;
    expect(backoffMs(fixed, 1)).toBe(30 * 60_000);
    expect(backoffMs(fixed, 7)).toBe(30 * 60_000);
    const exponential = { backoff: 'exponential', baseMs: 1000, maxMs: 5000, jitter: true } as const;
    expect([1, 2, 3, 4].map((n) => backoffMs(exponential, n, () => 1))).toEqual([1000, 2000, 4000, 5000]);
    expect(backoffMs(exponential, 2, () => 0)).toBe(1000);
  });

  it('is what reconnecting to a lost store waits: doubling from 250 ms to 10 s, in the upper half of each step', () => {
    const low = new Backoff({ random: () => 0 });
    expect(Array.from({ length: 8 }, () => low.next())).toEqual([
      125, 250, 500, 1000, 2000, 4000, 5000, 5000,
    ]);
    const high = new Backoff({ random: () => 1 });
    expect(Array.from({ length: 7 }, () => high.next())).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000]);
    expect(high.failures).toBe(7);
    high.reset();
    expect(high.next()).toBe(250);
  });
});
