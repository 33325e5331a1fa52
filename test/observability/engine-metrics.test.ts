// The metrics the engine records, on both backends in fake time: workflow executions
// started and finished (a resumed execution is not started again) and the waiting ones
// read from the store; schedule ticks fired, missed by the misfire policy and skipped for
// overlap; tasks fired; a tick's lateness at its run's start; API requests by route
// template and status code. Values are read back from the app's own exposition.

import { describe, expect, it, vi } from 'vitest';
import { buildApi } from '../../src/api/server.ts';
import type { Mainspring } from '../../src/app.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import { defineWorkflow } from '../../src/workflow/define.ts';
import { fakeApp, tick } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

/** The samples of a scrape, keyed `name{label="value",…}` as written (labels in their order). */
async function scrape(ms: Mainspring): Promise<Map<string, number>> {
  const samples = new Map<string, number>();
  for (const line of (await ms.metrics.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

const greet = defineWorkflow({
  name: 'greet',
  handler: async (input: unknown, ctx) => ctx.step('hello', () => ({ hello: input })),
});
const nap = defineWorkflow({
  name: 'nap',
  handler: async (_: unknown, ctx) => {
    await ctx.wait('nap', { hours: 1 });
    return 'rested';
  },
});
const broken = defineWorkflow({
  name: 'broken',
  handler: async () => {
    throw new Error('broken always fails');
  },
});

/** Moves fake time until the execution's status is one of `statuses` (real time lets the store I/O settle). */
async function until(ms: Mainspring, clock: FakeClock, id: string, statuses: readonly string[]) {
  for (let round = 0; round < 2000; round++) {
    const e = await ms.workflows.get(id);
    if (statuses.includes(e.status)) return e;
    await tick(clock, 1000, 1000);
  }
  throw new Error(`execution ${id} never reached ${statuses.join('/')}`);
}

/** A scheduler whose passes the test drives, recording into the app's metrics. */
function manualScheduler(ms: Mainspring, clock: FakeClock): Scheduler {
  return new Scheduler({
    store: ms.store,
    clock,
    functions: new Map(ms.functions.map((f) => [f.name, f])),
    metrics: ms.metrics,
  });
}

const job = defineFunction({ name: 'job', handler: () => 'done' });

describe.each(BACKENDS)('engine metrics on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_(
    'counts workflow executions started and finished, and reads the waiting ones from the store',
    async () => {
      const { ms, clock } = await fakeApp(backend, { workflows: [greet, nap, broken] });
      await ms.startWorker();

      await ms.workflows.start(greet, 'ada', { id: 'g1' });
      await until(ms, clock, 'g1', ['succeeded']);
      let s = await scrape(ms);
      expect(s.get('mainspring_workflow_executions_started_total{workflow="greet"}')).toBe(1);
      expect(
        s.get('mainspring_workflow_executions_finished_total{workflow="greet",status="succeeded"}'),
      ).toBe(1);
      expect(s.get('mainspring_workflow_executions_started_total{workflow="nap"}')).toBeUndefined();

      await ms.workflows.start(broken, null, { id: 'b1' });
      await until(ms, clock, 'b1', ['failed']);
      await ms.workflows.start(nap, null, { id: 'n1' });
      await ms.workflows.start(nap, null, { id: 'n2' });
      await until(ms, clock, 'n1', ['waiting']);
      await until(ms, clock, 'n2', ['waiting']);
      s = await scrape(ms);
      expect(s.get('mainspring_workflow_executions_finished_total{workflow="broken",status="failed"}')).toBe(
        1,
      );
      expect(s.get('mainspring_workflow_executions_started_total{workflow="nap"}')).toBe(2);
      expect(s.get('mainspring_workflow_executions_waiting{workflow="nap"}')).toBe(2);
      expect(s.get('mainspring_workflow_executions_waiting{workflow="greet"}')).toBeUndefined();

      // A waiting execution stopped at once by the client; the other resumes and is not started again.
      await ms.workflows.stop('n2');
      await tick(clock, 3_600_000, 60_000);
      await until(ms, clock, 'n1', ['succeeded']);
      s = await scrape(ms);
      expect(s.get('mainspring_workflow_executions_started_total{workflow="nap"}')).toBe(2);
      expect(s.get('mainspring_workflow_executions_finished_total{workflow="nap",status="succeeded"}')).toBe(
        1,
      );
      expect(s.get('mainspring_workflow_executions_finished_total{workflow="nap",status="stopped"}')).toBe(1);
      expect(s.get('mainspring_workflow_executions_waiting{workflow="nap"}')).toBeUndefined();
      // Stopping it again changes nothing.
      await ms.workflows.stop('n2');
      s = await scrape(ms);
      expect(s.get('mainspring_workflow_executions_finished_total{workflow="nap",status="stopped"}')).toBe(1);
    },
  );

  it_("records a tick fired late as its run's lateness, and counts the tick", async () => {
    const { ms, clock } = await fakeApp(backend, { functions: [job], start: '2026-01-05T10:00:30Z' });
    await ms.schedules.create({
      name: 'every-5',
      expression: 'cron(0/5 * * * ? *)',
      target: { kind: 'function', function: 'job' },
    });
    // Due at 10:05:00, taken 30 s late (within the misfire grace): its run starts at once.
    clock.set('2026-01-05T10:05:30Z');
    const fired = await manualScheduler(ms, clock).fireDue({ nowMs: clock.now(), lookaheadMs: 0 });
    expect(fired.map((f) => f.catchUp)).toEqual([false]);
    await ms.startWorker();
    await vi.waitFor(
      async () =>
        expect(
          (await scrape(ms)).get('mainspring_runs_finished_total{function="job",status="succeeded"}'),
        ).toBe(1),
      { timeout: 10_000, interval: 5 },
    );
    const s = await scrape(ms);
    const late = (le: string) =>
      s.get(`mainspring_schedule_lateness_seconds_bucket{le="${le}",schedule="every-5"}`);
    expect(late('10')).toBe(0);
    expect(late('30')).toBe(1);
    expect(s.get('mainspring_schedule_lateness_seconds_count{schedule="every-5"}')).toBe(1);
    expect(s.get('mainspring_schedule_lateness_seconds_sum{schedule="every-5"}')).toBe(30);
    expect(s.get('mainspring_schedule_ticks_fired_total{schedule="every-5"}')).toBe(1);
    expect(s.get('mainspring_schedule_ticks_missed_total{schedule="every-5"}')).toBeUndefined();
  });

  it_('counts ticks missed by the misfire policy, ticks skipped for overlap, and tasks fired', async () => {
    const { ms, clock } = await fakeApp(backend, { functions: [job], start: '2026-01-05T10:00:30Z' });
    for (const misfire of ['skip', 'once'] as const) {
      await ms.schedules.create({
        name: misfire,
        expression: 'cron(* * * * ? *)',
        misfire,
        target: { kind: 'function', function: 'job' },
      });
    }
    // No worker: the 10:01 run stays queued, so the 10:02 tick of an overlap: skip schedule is skipped.
    await ms.schedules.create({
      name: 'no-overlap',
      expression: 'cron(* * * * ? *)',
      overlap: 'skip',
      target: { kind: 'function', function: 'job' },
    });
    await ms.tasks.upsert({ id: 'once-off', due: '2026-01-05T10:01:00Z', action: 'job' });
    const scheduler = manualScheduler(ms, clock);
    // Up at 10:01 and 10:02, then down until 10:10:10: 10:03 … 10:09 are missed (10:10 is within the grace).
    for (const t of ['2026-01-05T10:01:00Z', '2026-01-05T10:02:00Z', '2026-01-05T10:10:10Z']) {
      clock.set(t);
      await scheduler.fireDue({ nowMs: clock.now(), lookaheadMs: 0 });
    }
    const s = await scrape(ms);
    const ticks = (what: string, schedule: string) =>
      s.get(`mainspring_schedule_ticks_${what}_total{schedule="${schedule}"}`);
    // skip: 10:01 and 10:02 fired; the seven missed ticks are passed over.
    expect(ticks('fired', 'skip')).toBe(2);
    expect(ticks('missed', 'skip')).toBe(7);
    // once: 10:03 fires for the seven missed ticks; the other six are coalesced into it.
    expect(ticks('fired', 'once')).toBe(3);
    expect(ticks('missed', 'once')).toBe(6);
    expect(ticks('fired', 'no-overlap')).toBe(1);
    expect(ticks('overlap_skipped', 'no-overlap')).toBe(1);
    expect(s.get('mainspring_tasks_fired_total{function="job"}')).toBe(1);
    // A preview records nothing.
    await scheduler.previewDue({ nowMs: clock.now(), lookaheadMs: 0 });
    expect((await scrape(ms)).get('mainspring_schedule_ticks_fired_total{schedule="skip"}')).toBe(2);
  });

  it_('counts API requests by method, route template and status code', async () => {
    const { ms } = await fakeApp(backend, { functions: [job] });
    const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024, routes: ['queues', 'metrics', 'health'] });
    try {
      expect((await api.inject('/v1/queues/fn.job')).statusCode).toBe(200);
      expect((await api.inject('/v1/queues/fn.job')).statusCode).toBe(200);
      expect((await api.inject('/v1/queues/nope')).statusCode).toBe(404);
      expect((await api.inject('/no/such/path/4711')).statusCode).toBe(404);
      const s = await scrape(ms);
      const requests = (route: string, code: number) =>
        s.get(`mainspring_http_requests_total{method="GET",route="${route}",status_code="${code}"}`);
      expect(requests('/v1/queues/:name', 200)).toBe(2);
      expect(requests('/v1/queues/:name', 404)).toBe(1);
      expect(requests('unmatched', 404)).toBe(1);
      expect(
        s.get('mainspring_http_request_duration_seconds_count{method="GET",route="/v1/queues/:name"}'),
      ).toBe(3);
      // No sample carries a raw URL.
      expect([...s.keys()].filter((k) => k.includes('nope') || k.includes('4711'))).toEqual([]);
    } finally {
      await api.close();
    }
  });
});
