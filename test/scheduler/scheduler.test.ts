// The scheduler end to end on both backends, in fake time: config-declared and
// run-time schedules firing on time, misfire policies after downtime, overlap
// policies with a slow handler, flexible windows, DST days, start and end dates,
// enable and disable, tasks moved and deleted before they fire, and run-due.

import { describe, expect, it, vi } from 'vitest';
import type { Mainspring } from '../../src/app.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import { parseSchedule } from '../../src/expressions/index.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction, type Trigger } from '../../src/runtime/function.ts';
import type { Run } from '../../src/runtime/runs.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import { schedule } from '../../src/scheduler/trigger.ts';
import { fakeApp, tick } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** A function that records when each run started, by schedule tick. */
function recorder(name = 'job', triggers: Trigger[] = []) {
  const starts: { tickAt: string | null; at: number; scheduledFor: number | null }[] = [];
  let clock: FakeClock | null = null;
  const fn = defineFunction({
    name,
    triggers,
    handler: async (_input: unknown, ctx) => {
      const t = ctx.run.trigger;
      starts.push({
        tickAt: t.kind === 'schedule' ? t.tickAt : t.kind === 'task' ? t.task : null,
        at: clock!.now(),
        scheduledFor: ctx.run.scheduledFor?.getTime() ?? null,
      });
      return 'ok';
    },
  });
  return {
    fn,
    starts,
    bind(c: FakeClock) {
      clock = c;
    },
  };
}

/** Every attempt-1 run a schedule fired, oldest tick first. */
async function runsOf(ms: Mainspring, scheduleName: string): Promise<Run[]> {
  const out: Run[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await ms.runs.list({ trigger: 'schedule', limit: 500, ...(cursor ? { cursor } : {}) });
    out.push(
      ...page.runs.filter((r) => r.trigger.kind === 'schedule' && r.trigger.schedule === scheduleName),
    );
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return out.filter((r) => r.attempt === 1).sort((a, b) => tickOf(a).localeCompare(tickOf(b)));
}

function tickOf(r: Run): string {
  return r.trigger.kind === 'schedule' ? r.trigger.tickAt : '';
}

/** A scheduler not started: passes are driven by the test. */
function manualScheduler(ms: Mainspring, clock: FakeClock, options: { random?: () => number } = {}) {
  return new Scheduler(
    { store: ms.store, clock, functions: new Map(ms.functions.map((f) => [f.name, f])) },
    options,
  );
}

/** Drives passes at each due time up to `untilMs`, without a worker; returns the fired ticks. */
async function fireThrough(ms: Mainspring, clock: FakeClock, untilMs: number): Promise<string[]> {
  const scheduler = manualScheduler(ms, clock);
  const fired: string[] = [];
  for (;;) {
    const next = await ms.store.scheduler.nextDueAt();
    if (next === null || next > untilMs) break;
    if (next > clock.now()) clock.set(next);
    for (const f of await scheduler.fireDue({ nowMs: clock.now(), lookaheadMs: 0 })) {
      fired.push(f.tickAt.toISOString());
    }
  }
  return fired;
}

describe.each(BACKENDS)('scheduler on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('fires a config-declared schedule at its tick, with the tick on the run', async () => {
    const job = recorder('job', [schedule('cron(0/5 * * * ? *)', { payload: { n: 1 } })]);
    const { ms, clock } = await fakeApp(backend, { functions: [job.fn], start: '2026-01-05T10:01:00Z' });
    job.bind(clock);
    await ms.startWorker();
    await ms.startScheduler();
    const info = await ms.schedules.get('job');
    expect(info).toMatchObject({
      source: 'config',
      enabled: true,
      expression: 'cron(0/5 * * * ? *)',
      payload: { n: 1 },
      state: { nextTick: '2026-01-05T10:05:00.000Z', lastTick: null, lastRun: null },
    });
    for (const at of ['2026-01-05T10:04:58Z', '2026-01-05T10:09:58Z']) {
      clock.set(at);
      await tick(clock, 6000, 250);
    }
    await vi.waitFor(() => expect(job.starts).toHaveLength(2));
    expect(job.starts.map((s) => [s.tickAt, s.scheduledFor])).toEqual([
      ['2026-01-05T10:05:00.000Z', Date.parse('2026-01-05T10:05:00Z')],
      ['2026-01-05T10:10:00.000Z', Date.parse('2026-01-05T10:10:00Z')],
    ]);
    // Started at the tick (a step of fake time later at most, while a remote store answers).
    for (const s of job.starts) expect(s.at - s.scheduledFor!).toBeLessThanOrEqual(1000);
    const after = await ms.schedules.get('job');
    expect(after.state).toMatchObject({
      lastTick: '2026-01-05T10:10:00.000Z',
      nextTick: '2026-01-05T10:15:00.000Z',
    });
    await vi.waitFor(async () =>
      expect((await ms.schedules.get('job')).state.lastRun?.status).toBe('succeeded'),
    );
  });

  it_(
    'reconciles config schedules: added once by racing starts, updated in place, removed when gone',
    async () => {
      const job = recorder('job', [
        schedule('rate(1 hour)'),
        schedule('cron(0 3 * * ? *)', { name: 'nightly' }),
      ]);
      const { ms, clock } = await fakeApp(backend, { functions: [job.fn] });
      await Promise.all([
        ms.schedules.reconcile([
          {
            name: 'job',
            input: { expression: 'rate(1 hour)', target: { kind: 'function', function: 'job' } },
          },
        ]),
        ms.startScheduler(),
        ms.startScheduler(),
      ]);
      const names = (await ms.schedules.list()).schedules.map((s) => s.name);
      expect(names).toEqual(['job', 'nightly']);
      await ms.schedules.disable('nightly');
      // Same declaration again: the run-time disable stays.
      await ms.schedules.reconcile([
        { name: 'job', input: { expression: 'rate(1 hour)', target: { kind: 'function', function: 'job' } } },
        {
          name: 'nightly',
          input: { expression: 'cron(0 3 * * ? *)', target: { kind: 'function', function: 'job' } },
        },
      ]);
      expect((await ms.schedules.get('nightly')).enabled).toBe(false);
      // Changed expression: updated in place; 'job' no longer declared: removed.
      clock.set(clock.now() + 1000);
      await ms.schedules.reconcile([
        {
          name: 'nightly',
          input: { expression: 'cron(0 4 * * ? *)', target: { kind: 'function', function: 'job' } },
        },
      ]);
      const nightly = await ms.schedules.get('nightly');
      expect(nightly).toMatchObject({ expression: 'cron(0 4 * * ? *)', enabled: false, source: 'config' });
      await expect(ms.schedules.get('job')).rejects.toMatchObject({ code: 'E_SCHEDULE_NOT_FOUND' });
      await expect(ms.schedules.update('nightly', { payload: 1 })).rejects.toMatchObject({
        code: 'E_SCHEDULE_READ_ONLY',
      });
    },
  );

  it_(
    'after an hour of downtime: skip fires no missed tick, once fires one, all fires each up to its limit',
    async () => {
      const job = recorder();
      const { ms, clock } = await fakeApp(backend, { functions: [job.fn], start: '2026-01-05T10:00:30Z' });
      for (const misfire of ['skip', 'once', 'all'] as const) {
        await ms.schedules.create({
          name: misfire,
          expression: 'cron(* * * * ? *)',
          misfire,
          target: { kind: 'function', function: 'job' },
        });
      }
      await ms.schedules.create({
        name: 'all-10',
        expression: 'cron(* * * * ? *)',
        misfire: 'all',
        misfireLimit: 10,
        target: { kind: 'function', function: 'job' },
      });
      const scheduler = manualScheduler(ms, clock);
      // Up at 10:01 and 10:02, then down until 11:02:10.
      for (const t of ['2026-01-05T10:01:00Z', '2026-01-05T10:02:00Z', '2026-01-05T11:02:10Z']) {
        clock.set(t);
        await scheduler.fireDue({ nowMs: clock.now(), lookaheadMs: 0 });
      }
      const ticks = async (name: string) => (await runsOf(ms, name)).map(tickOf);
      const upTicks = ['2026-01-05T10:01:00.000Z', '2026-01-05T10:02:00.000Z'];
      expect(await ticks('skip')).toEqual(upTicks);
      expect(await ticks('once')).toEqual([...upTicks, '2026-01-05T10:03:00.000Z']);
      const all = await ticks('all');
      expect(all).toHaveLength(2 + 59); // 10:03 … 11:01 missed (11:02 is within the grace: fires next pass)
      expect(all.at(-1)).toBe('2026-01-05T11:01:00.000Z');
      expect(await ticks('all-10')).toHaveLength(2 + 10);
      // Every policy resumes with the tick inside the grace period.
      await scheduler.fireDue({ nowMs: clock.now(), lookaheadMs: 0 });
      for (const name of ['skip', 'once', 'all', 'all-10']) {
        expect((await ticks(name)).at(-1)).toBe('2026-01-05T11:02:00.000Z');
        expect((await ms.schedules.get(name)).state.nextTick).toBe('2026-01-05T11:03:00.000Z');
      }
    },
  );

  it_(
    'overlap with a slow handler: allow runs both, skip passes the tick over, queue starts it when the first ends',
    async () => {
      const results: Record<string, { tickAt: string | null; at: number; end: number }[]> = {};
      const fns = (['allow', 'skip', 'queue'] as const).map((policy) => {
        results[policy] = [];
        return defineFunction({
          name: `slow-${policy}`,
          timeout: '1h',
          handler: async (_: unknown, ctx) => {
            const start = clockRef!.now();
            await clockRef!.sleep(90_000); // 1.5 ticks
            const t = ctx.run.trigger;
            results[policy]!.push({
              tickAt: t.kind === 'schedule' ? t.tickAt : null,
              at: start,
              end: clockRef!.now(),
            });
          },
        });
      });
      let clockRef: FakeClock | null = null;
      const { ms, clock } = await fakeApp(backend, { functions: fns, start: '2026-01-05T10:00:30Z' });
      clockRef = clock;
      for (const policy of ['allow', 'skip', 'queue'] as const) {
        await ms.schedules.create({
          name: policy,
          expression: 'cron(* * * * ? *)',
          overlap: policy,
          end: '2026-01-05T10:03:00Z',
          target: { kind: 'function', function: `slow-${policy}` },
        });
      }
      await ms.startWorker();
      await ms.startScheduler();
      await tick(clock, 8 * MIN, 500);
      await vi.waitFor(() => expect(results['queue']).toHaveLength(3));
      // Fake time moves in steps while the store works in real time, so a start may land a
      // step after its time; precision in real time is what bench:scheduler measures.
      const STEP = 500;
      const near = (at: number, iso: string) => at >= Date.parse(iso) && at <= Date.parse(iso) + 10 * STEP;
      // allow: 10:01, 10:02, 10:03 each at its tick, overlapping.
      const allow = results['allow']!;
      expect(allow.map((r) => r.tickAt)).toEqual([
        '2026-01-05T10:01:00.000Z',
        '2026-01-05T10:02:00.000Z',
        '2026-01-05T10:03:00.000Z',
      ]);
      for (const r of allow) expect(near(r.at, r.tickAt!)).toBe(true);
      expect(allow[1]!.at).toBeLessThan(allow[0]!.end);
      // skip: 10:02 came while 10:01's run was going.
      expect(results['skip']!.map((r) => r.tickAt)).toEqual([
        '2026-01-05T10:01:00.000Z',
        '2026-01-05T10:03:00.000Z',
      ]);
      // queue: every tick runs, each after the previous run ended.
      const q = results['queue']!;
      expect(q.map((r) => r.tickAt)).toEqual([
        '2026-01-05T10:01:00.000Z',
        '2026-01-05T10:02:00.000Z',
        '2026-01-05T10:03:00.000Z',
      ]);
      expect(q[1]!.at).toBeGreaterThanOrEqual(q[0]!.end);
      expect(q[2]!.at).toBeGreaterThanOrEqual(q[1]!.end);
    },
  );

  it_('a flexible window starts each run at a random instant inside the window after its tick', async () => {
    const job = recorder();
    const { ms, clock } = await fakeApp(backend, { functions: [job.fn], start: '2026-01-05T10:00:00Z' });
    job.bind(clock);
    await ms.schedules.create({
      name: 'flex',
      expression: 'rate(2 minutes)',
      flexibleWindow: '1m',
      target: { kind: 'function', function: 'job' },
    });
    await ms.startWorker();
    await ms.startScheduler();
    await tick(clock, 21 * MIN, 1000);
    await vi.waitFor(() => expect(job.starts.length).toBeGreaterThanOrEqual(10));
    const offsets = job.starts.map((s) => s.scheduledFor! - Date.parse(s.tickAt!));
    for (const o of offsets) {
      expect(o).toBeGreaterThanOrEqual(0);
      expect(o).toBeLessThan(MIN);
    }
    expect(new Set(offsets).size).toBeGreaterThan(1); // random, not a fixed delay
    // None started before its drawn instant. (How soon after it is measured in real time by
    // bench:scheduler: here fake time runs on while a remote store answers.)
    for (const s of job.starts) expect(s.at).toBeGreaterThanOrEqual(s.scheduledFor!);
  });

  describe.each([
    ['America/New_York', '2026-03-08', '2026-11-01'],
    ['Europe/Berlin', '2026-03-29', '2026-10-25'],
  ])('DST days in %s', (timezone, springDay, fallDay) => {
    for (const [expression, day] of [
      ['cron(30 2 * * ? *)', springDay],
      ['cron(30 2 * * ? *)', fallDay],
      ['cron(0/15 * * * ? *)', springDay],
      ['cron(0/15 * * * ? *)', fallDay],
    ] as const) {
      it_(`${expression} on ${day} fires each tick of the expression once, no more`, async () => {
        const job = recorder();
        const from = Date.parse(`${day}T00:00:00Z`) - 12 * HOUR;
        const until = from + 48 * HOUR;
        const { ms, clock } = await fakeApp(backend, {
          functions: [job.fn],
          start: new Date(from).toISOString(),
        });
        await ms.schedules.create({
          name: 'dst',
          expression,
          timezone,
          target: { kind: 'function', function: 'job' },
        });
        const fired = await fireThrough(ms, clock, until);
        const expected = parseSchedule(expression, { timezone })
          .next(new Date(from), 1000)
          .filter((d) => d.getTime() <= until)
          .map((d) => d.toISOString());
        expect(fired).toEqual(expected);
        expect(new Set(fired).size).toBe(fired.length);
        const local = (iso: string) =>
          new Intl.DateTimeFormat('en-CA', { timeZone: timezone, dateStyle: 'short' }).format(new Date(iso));
        const onDay = fired.filter((f) => local(f) === day);
        const spring = day === springDay;
        if (expression === 'cron(30 2 * * ? *)') {
          // 02:30 does not exist on the spring day (skipped); on the fall day it happens once.
          expect(onDay).toHaveLength(spring ? 0 : 1);
        } else {
          // A 23-hour day has 92 quarter hours; on the 25-hour day a repeated time fires once.
          expect(onDay).toHaveLength(spring ? 92 : 96);
        }
      });
    }
  });

  it_('fires only between start and end, then shows the schedule as ended', async () => {
    const job = recorder();
    const { ms, clock } = await fakeApp(backend, { functions: [job.fn], start: '2026-01-05T10:00:00Z' });
    await ms.schedules.create({
      name: 'window',
      expression: 'rate(10 minutes)',
      start: '2026-01-05T11:00:00Z',
      end: '2026-01-05T11:30:00Z',
      target: { kind: 'function', function: 'job' },
    });
    expect((await ms.schedules.get('window')).state.nextTick).toBe('2026-01-05T11:00:00.000Z');
    const fired = await fireThrough(ms, clock, Date.parse('2026-01-05T14:00:00Z'));
    expect(fired).toEqual([
      '2026-01-05T11:00:00.000Z',
      '2026-01-05T11:10:00.000Z',
      '2026-01-05T11:20:00.000Z',
      '2026-01-05T11:30:00.000Z',
    ]);
    expect((await ms.schedules.get('window')).state).toMatchObject({ nextTick: null, ended: true });
  });

  it_(
    'a disabled schedule fires nothing; enabled again, it resumes from now without catching up',
    async () => {
      const job = recorder();
      const { ms, clock } = await fakeApp(backend, { functions: [job.fn], start: '2026-01-05T10:00:30Z' });
      await ms.schedules.create({
        name: 'm',
        expression: 'cron(* * * * ? *)',
        misfire: 'all',
        target: { kind: 'function', function: 'job' },
      });
      expect(await fireThrough(ms, clock, Date.parse('2026-01-05T10:02:00Z'))).toHaveLength(2);
      const off = await ms.schedules.disable('m');
      expect(off.state).toMatchObject({ nextTick: null, lastTick: '2026-01-05T10:02:00.000Z' });
      expect(await fireThrough(ms, clock, Date.parse('2026-01-05T11:00:00Z'))).toEqual([]);
      clock.set('2026-01-05T10:30:10Z');
      const on = await ms.schedules.enable('m');
      expect(on.state.nextTick).toBe('2026-01-05T10:31:00.000Z');
      expect(await fireThrough(ms, clock, Date.parse('2026-01-05T10:32:00Z'))).toEqual([
        '2026-01-05T10:31:00.000Z',
        '2026-01-05T10:32:00.000Z',
      ]);
      expect(await ms.schedules.next('m', 2)).toEqual([
        new Date('2026-01-05T10:33:00Z'),
        new Date('2026-01-05T10:34:00Z'),
      ]);
    },
  );

  it_("sends a queue target's payload as a message at each tick", async () => {
    const reports = defineQueue({ name: 'reports' });
    const { ms, clock } = await fakeApp(backend, { queues: [reports], start: '2026-01-05T10:00:00Z' });
    await ms.schedules.create({
      name: 'to-queue',
      expression: 'rate(1 hour)',
      payload: { kind: 'hourly' },
      target: { kind: 'queue', queue: 'reports' },
    });
    await fireThrough(ms, clock, Date.parse('2026-01-05T12:00:00Z'));
    const messages = await ms.store.queues.listMessages('reports', { limit: 10 });
    expect(messages.map((m) => JSON.parse(m.body))).toEqual([{ kind: 'hourly' }, { kind: 'hourly' }]);
  });

  it_(
    'tasks: an overwritten task fires at its new time only; a deleted one never; a past one at once',
    async () => {
      const job = recorder();
      const { ms, clock } = await fakeApp(backend, { functions: [job.fn], start: '2026-01-05T10:00:00Z' });
      job.bind(clock);
      await ms.tasks.upsert({ id: 'moved', due: '2026-01-05T11:00:00Z', action: 'job', payload: { v: 1 } });
      await ms.tasks.upsert({ id: 'moved', due: '2026-01-05T12:00:00Z', action: 'job', payload: { v: 2 } });
      await ms.tasks.upsert({ id: 'deleted', due: '2026-01-05T10:30:00Z', action: 'job' });
      await ms.tasks.upsert({ id: 'late', due: '2025-12-31T00:00:00Z', action: 'job' });
      expect((await ms.tasks.get('moved')).payload).toEqual({ v: 2 });
      await ms.tasks.delete('deleted');
      await ms.startWorker();
      await ms.startScheduler();
      await tick(clock, 5000, 250);
      await vi.waitFor(() => expect(job.starts.map((s) => s.tickAt)).toEqual(['late']));
      expect(job.starts[0]!.at - Date.parse('2026-01-05T10:00:00Z')).toBeLessThanOrEqual(5000);
      clock.set('2026-01-05T10:59:00Z');
      await tick(clock, 2 * MIN, 1000);
      expect(job.starts.map((s) => s.tickAt)).toEqual(['late']);
      clock.set('2026-01-05T11:59:00Z');
      await tick(clock, 2 * MIN, 1000);
      await vi.waitFor(() => expect(job.starts.map((s) => s.tickAt)).toEqual(['late', 'moved']));
      expect(job.starts[1]!.at).toBeGreaterThanOrEqual(Date.parse('2026-01-05T12:00:00Z'));
      expect(job.starts[1]!.at - Date.parse('2026-01-05T12:00:00Z')).toBeLessThanOrEqual(5000);
      const moved = await ms.tasks.get('moved');
      expect(moved).toMatchObject({ status: 'fired', firedAt: expect.any(String) });
      expect((await ms.runs.get(moved.runId!)).input).toEqual({ v: 2 });
      await expect(ms.tasks.get('deleted')).rejects.toMatchObject({ code: 'E_TASK_NOT_FOUND' });
    },
  );

  it_('a task moved after it was taken ahead of its time never runs at the old time', async () => {
    const job = recorder();
    const { ms, clock } = await fakeApp(backend, { functions: [job.fn], start: '2026-01-05T10:59:59.500Z' });
    job.bind(clock);
    await ms.tasks.upsert({ id: 't', due: '2026-01-05T11:00:00Z', action: 'job' });
    const scheduler = manualScheduler(ms, clock);
    // Taken 0.5 s early (within the lookahead): its run is queued for 11:00.
    await scheduler.fireDue({ nowMs: clock.now(), lookaheadMs: 1000 });
    const taken = await ms.tasks.get('t');
    expect(taken.status).toBe('fired');
    await ms.tasks.upsert({ id: 't', due: '2026-01-05T13:00:00Z', action: 'job' });
    expect((await ms.runs.get(taken.runId!)).status).toBe('cancelled');
    await ms.startWorker();
    await tick(clock, 5000, 250);
    expect(job.starts).toEqual([]);
    expect((await ms.tasks.get('t')).status).toBe('pending');
  });

  it_('run-due fires what is due at now once, waits for the runs and reports failures', async () => {
    const ok = recorder('ok');
    const bad = defineFunction({
      name: 'bad',
      retry: { maxAttempts: 1 },
      handler: () => {
        throw new Error('boom');
      },
    });
    const { ms, clock } = await fakeApp(backend, { functions: [ok.fn, bad], start: '2026-01-05T10:00:00Z' });
    ok.bind(clock);
    await ms.tasks.upsert({ id: 'a', due: '2026-01-05T09:00:00Z', action: 'ok' });
    await ms.tasks.upsert({ id: 'b', due: '2026-01-05T10:00:00Z', action: 'bad' });
    await ms.tasks.upsert({ id: 'later', due: '2026-01-05T10:00:01Z', action: 'ok' });
    const result = await ms.runDue();
    expect(result.fired.map((f) => [f.kind, f.name, f.run?.status])).toEqual([
      ['task', 'a', 'succeeded'],
      ['task', 'b', 'failed'],
    ]);
    expect(result.failed).toBe(1);
    expect((await ms.runDue()).fired).toEqual([]);
    expect((await ms.tasks.get('later')).status).toBe('pending');
  });
});
