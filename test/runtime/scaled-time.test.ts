// Scaled time (MAINSPRING_TIME_SCALE) speeds up what users wait for — schedules,
// delays, due times — and never the safety margins, which stay in real time. Issue 17
// gap 7: at a scale of 10080 a daily run outlived its 36 ms (scaled) lease and ran three
// times for one tick; at 86400 a third of the daily ticks were taken more than the
// (scaled: 0.7 ms) misfire grace late and skipped. These run the real engine on a
// ScaledClock, on both backends, and count runs, never durations.

import { setTimeout as realDelay } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMainspring, type Mainspring } from '../../src/app.ts';
import { FakeClock, ScaledClock } from '../../src/core/clock.ts';
import { defineFunction, type FunctionDefinition } from '../../src/runtime/function.ts';
import type { Run } from '../../src/runtime/runs.ts';
import { declaredSchedules, schedule } from '../../src/scheduler/trigger.ts';
import { BACKENDS } from '../helpers/backends.ts';

const apps: Mainspring[] = [];
afterEach(async () => {
  for (const ms of apps.splice(0)) await ms.close();
});

const DAY = 86_400_000;
const FIRST_TICK = Date.parse('2026-03-02T06:00:00Z');

/** A function on a daily 06:00 schedule that records the tick of each call. */
function daily(work: () => Promise<void>) {
  const calls: string[] = [];
  const fn = defineFunction({
    name: 'daily-report',
    triggers: [schedule('cron(0 6 * * ? *)')],
    handler: async (_input: unknown, ctx) => {
      const trigger = ctx.run.trigger;
      calls.push(trigger.kind === 'schedule' ? trigger.tickAt : trigger.kind);
      await work();
    },
  });
  return { fn, calls };
}

/**
 * Stores the function's schedule as it stands a minute before its first tick (in fake
 * time), so the scaled app below owes that tick however long it takes to start.
 */
async function storeSchedule(fn: FunctionDefinition, url: string): Promise<void> {
  const ms = await createMainspring({ functions: [fn], db: url, clock: new FakeClock(FIRST_TICK - 60_000) });
  await ms.schedules.reconcile(declaredSchedules(ms.functions));
  await ms.close();
}

async function runsOf(ms: Mainspring): Promise<Run[]> {
  return (await ms.runs.list({ function: 'daily-report', limit: 100 })).runs;
}

const ENDED = ['succeeded', 'failed', 'timed_out', 'cancelled'];

describe.each(BACKENDS)('scaled time on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('a handler taking 200 ms of real time at scale 10080 runs once for its tick', async () => {
    // 200 ms real is 34 minutes of clock time: past the 15-minute run timeout and the
    // 16-minute lease, were they scaled.
    const { fn, calls } = daily(() => realDelay(200).then(() => {}));
    const db = backend.freshUrl();
    await storeSchedule(fn, db);
    // A week passes in a real minute; the tick is a minute of clock time (6 ms) away.
    const clock = new ScaledClock(10_080, FIRST_TICK - 60_000);
    const ms = await createMainspring({ functions: [fn], db, clock });
    apps.push(ms);
    const scheduler = await ms.startScheduler();
    const worker = await ms.startWorker();

    await vi.waitFor(
      async () => {
        const runs = await runsOf(ms);
        expect(runs.length).toBeGreaterThan(0);
        expect(runs.every((r) => ENDED.includes(r.status))).toBe(true);
      },
      { timeout: 15_000, interval: 20 },
    );
    await scheduler.stop();
    await worker.stop();

    const tick = new Date(FIRST_TICK).toISOString();
    expect(calls).toEqual([tick]);
    const runs = await runsOf(ms);
    expect(runs.map((r) => [r.attempt, r.status, r.error?.code ?? null])).toEqual([[1, 'succeeded', null]]);
    expect(runs[0]!.trigger).toEqual({ kind: 'schedule', schedule: 'daily-report', tickAt: tick });
  });

  it_('a lock taken for 30 s at scale 10080 lasts 30 real seconds, and withLock renews it', async () => {
    const clock = new ScaledClock(10_080);
    const ms = await createMainspring({ db: backend.freshUrl(), clock });
    apps.push(ms);
    const lease = await ms.locks.acquire('nightly', { ttl: '30s' });
    expect(lease!.expiresAt.getTime() - lease!.acquiredAt.getTime()).toBe(30_000 * 10_080);
    // Held across 200 ms of real work: 34 minutes of clock time, a minute past a scaled TTL.
    const ran = await ms.locks.withLock('report', () => realDelay(200).then(() => 'done'), { ttl: '30s' });
    expect(ran).toEqual({ acquired: true, result: 'done' });
  });

  it_(
    'a daily schedule at scale 86400 fires every tick, the first taken an hour (of its clock) late',
    async () => {
      const { fn, calls } = daily(async () => {});
      const db = backend.freshUrl();
      await storeSchedule(fn, db);
      // A day passes in a real second. The scheduler starts an hour of clock time (42 ms
      // real) after the first tick, as after a deploy: well within the one-minute misfire
      // grace, which is real time (scaled, it would be 0.7 ms).
      const clock = new ScaledClock(86_400, FIRST_TICK + 3_600_000);
      const ms = await createMainspring({ functions: [fn], db, clock });
      apps.push(ms);
      const scheduler = await ms.startScheduler();
      const worker = await ms.startWorker();

      const third = FIRST_TICK + 2 * DAY;
      await vi.waitFor(
        async () => {
          const { nextTick } = (await ms.schedules.get('daily-report')).state;
          expect(Date.parse(nextTick!)).toBeGreaterThan(third);
        },
        { timeout: 15_000, interval: 20 },
      );
      await scheduler.stop();
      await vi.waitFor(
        async () => expect((await runsOf(ms)).every((r) => ENDED.includes(r.status))).toBe(true),
        { timeout: 15_000, interval: 20 },
      );
      await worker.stop();

      // Every day from the first, each once, none skipped.
      const runs = await runsOf(ms);
      const fired = runs
        .map((r) => (r.trigger.kind === 'schedule' ? Date.parse(r.trigger.tickAt) : 0))
        .sort();
      expect(fired.length).toBeGreaterThanOrEqual(3);
      const days = fired.map((_, d) => FIRST_TICK + d * DAY);
      expect(fired).toEqual(days);
      expect([...calls].sort()).toEqual(days.map((t) => new Date(t).toISOString()));
      expect(runs.every((r) => r.status === 'succeeded' && r.attempt === 1)).toBe(true);
    },
  );
});
