import { expect, vi } from 'vitest';
import type { FakeClock } from '../../src/core/clock.ts';

/**
 * Advances a fake clock in steps, and after each step waits (in real time) until
 * the code under test is asleep on the clock again: with a real database in the
 * loop, a woken sleeper needs I/O before it sleeps again, not just a microtask.
 */
export async function advanceInSteps(
  clock: FakeClock,
  totalMs: number,
  stepMs: number,
  sleepers = 1,
): Promise<void> {
  for (let done = 0; done < totalMs; done += stepMs) {
    await clock.advance(Math.min(stepMs, totalMs - done));
    await vi.waitFor(() => expect(clock.pendingSleeps).toBeGreaterThanOrEqual(sleepers), {
      timeout: 5000,
      interval: 1,
    });
  }
}
