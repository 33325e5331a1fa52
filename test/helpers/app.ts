// Builds a mainspring app on a fresh store of the given backend, with a fake clock.

import { afterEach, expect, vi } from 'vitest';
import { type CreateMainspringOptions, createMainspring, type Mainspring } from '../../src/app.ts';
import { FakeClock } from '../../src/core/clock.ts';
import type { WorkerEventMap } from '../../src/queue/consumer-events.ts';
import type { Worker } from '../../src/runtime/worker.ts';
import { PgStore } from '../../src/store/postgres/pg-store.ts';
import type { BackendFixture } from './backends.ts';

const apps = new Map<Mainspring, FakeClock>();

afterEach(async () => {
  for (const [app, clock] of apps) {
    // Closing stops workers gracefully; move fake time so a stuck handler's grace period ends.
    let closed = false;
    const closing = app.close().finally(() => {
      closed = true;
    });
    while (!closed) await clock.advance(5000);
    await closing.catch(() => {});
  }
  apps.clear();
});

export async function fakeApp(
  backend: BackendFixture,
  options: Omit<CreateMainspringOptions, 'db' | 'clock'> & { url?: string; start?: string } = {},
): Promise<{ ms: Mainspring; clock: FakeClock }> {
  const clock = new FakeClock(options.start ?? '2026-01-05T10:00:00Z');
  const ms = await createMainspring({ ...options, db: options.url ?? backend.freshUrl(), clock });
  apps.set(ms, clock);
  return { ms, clock };
}

/** Records every event a worker emits, in order. */
export function recordEvents(worker: Worker) {
  const seen: { event: keyof WorkerEventMap; id?: string; queue?: string }[] = [];
  for (const event of [
    'message:started',
    'message:acked',
    'message:failed',
    'message:dead',
    'message:dropped',
    'message:lease-lost',
  ] as const) {
    worker.events.on(event, (e: { id: string; queue: string }) =>
      seen.push({ event, id: e.id, queue: e.queue }),
    );
  }
  const ids = (event: keyof WorkerEventMap) => seen.filter((s) => s.event === event).map((s) => s.id);
  return {
    seen,
    ids,
    /** Waits (real time, for the store's I/O) until `event` has fired `n` times. */
    async until(event: keyof WorkerEventMap, n: number) {
      await vi.waitFor(() => expect(ids(event).length).toBeGreaterThanOrEqual(n), {
        timeout: 10_000,
        interval: 2,
      });
    },
  };
}

/** Whether an app on `clock` has a PostgreSQL query under way or waiting for a connection. */
function storeBusy(clock: FakeClock): boolean {
  for (const [app, appClock] of apps) {
    if (appClock !== clock || !(app.store instanceof PgStore)) continue;
    for (const pool of [app.store.pool, app.store.leasePool]) {
      if (pool.totalCount > pool.idleCount || pool.waitingCount > 0) return true;
    }
  }
  return false;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Lets the store I/O that the last step of fake time set off finish before the next step:
 * a few milliseconds, or as long as a query is under way (a loaded machine answers slower,
 * and fake time running ahead of the store would make "at once" look late). Capped, so a
 * query that waits on fake time itself cannot hang the test.
 */
async function settle(clock: FakeClock): Promise<void> {
  await pause(5);
  for (let waited = 0; waited < 2000 && storeBusy(clock); waited += 2) await pause(2);
}

/** Advances the fake clock in steps, letting the worker's store I/O settle after each. */
export async function tick(clock: FakeClock, totalMs: number, stepMs = 250): Promise<void> {
  for (let done = 0; done < totalMs; done += stepMs) {
    await clock.advance(Math.min(stepMs, totalMs - done));
    await settle(clock);
  }
}

/**
 * Advances the fake clock in steps until `done()` holds, and returns how much fake
 * time that took. For outcomes promised "after" a time rather than exactly at it
 * (a lease expiry is found by the next poll), so the test asserts a bound.
 */
export async function tickUntil(
  clock: FakeClock,
  done: () => boolean,
  { stepMs = 250, maxMs = 60_000 }: { stepMs?: number; maxMs?: number } = {},
): Promise<number> {
  let waited = 0;
  while (!done()) {
    if (waited >= maxMs) throw new Error(`condition still false after ${maxMs} ms of fake time`);
    await tick(clock, stepMs, stepMs);
    waited += stepMs;
  }
  return waited;
}
