// run-due at a made-up instant, on both backends in fake time: away from the clock it
// fires due tasks and leaves every schedule as stored unless asked to tick them too;
// near the clock (or without an instant) it does both, as a scheduler would; a dry
// run reports what would fire and writes nothing.

import { describe, expect, it } from 'vitest';
import type { Mainspring } from '../../src/app.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

const CLOCK = '2026-01-05T10:00:00Z';
// Fourteen months after the clock; the daily tick at 06:00 is half an hour old then.
const FAR = new Date('2027-03-02T06:30:00Z');

const job = defineFunction({ name: 'job', handler: (input: unknown) => input });

/** An app at CLOCK with a daily schedule and two tasks, one due by FAR and one after it. */
async function app(backend: (typeof BACKENDS)[number]): Promise<Mainspring> {
  const { ms } = await fakeApp(backend, { functions: [job], start: CLOCK });
  await ms.schedules.create({
    name: 'daily',
    expression: 'cron(0 6 * * ? *)',
    target: { kind: 'function', function: 'job' },
    payload: { report: 'daily' },
  });
  await ms.tasks.upsert({ id: 'due', due: '2027-03-02T06:10:00Z', action: 'job', payload: { n: 1 } });
  await ms.tasks.upsert({ id: 'after', due: '2027-03-02T07:00:00Z', action: 'job' });
  return ms;
}

/** Every stored schedule, task, run and message, as the store returns them. */
async function snapshot(ms: Mainspring) {
  const queues = await ms.store.queues.listQueues();
  const messages = [];
  for (const q of queues) messages.push(...(await ms.store.queues.listMessages(q.name, { limit: 1000 })));
  return {
    schedules: await ms.store.scheduler.listSchedules({ limit: 1000 }),
    tasks: await ms.store.scheduler.listTasks({ limit: 1000 }),
    runs: await ms.store.runs.list({ limit: 1000 }),
    messages,
  };
}

describe.each(BACKENDS)('run-due at a made-up instant on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('far from the clock, fires the due tasks only and leaves every schedule as stored', async () => {
    const ms = await app(backend);
    const before = await ms.store.scheduler.getSchedule('daily');
    expect(before?.nextTickMs).toBe(Date.parse('2026-01-06T06:00:00Z'));

    const result = await ms.runDue({ now: FAR });

    expect(
      result.fired.map((f) => [f.kind, f.name, f.tickAt.toISOString(), f.target, f.run?.status]),
    ).toEqual([['task', 'due', '2027-03-02T06:10:00.000Z', 'function job', 'succeeded']]);
    expect(result).toMatchObject({ now: FAR, dryRun: false, schedules: false, wouldFire: [], failed: 0 });
    // What --schedules would have added: the tick half an hour before the instant.
    expect(result.leftAlone.map((d) => [d.kind, d.name, d.tickAt.toISOString(), d.target])).toEqual([
      ['schedule', 'daily', '2027-03-02T06:00:00.000Z', 'function job'],
    ]);
    expect(await ms.store.scheduler.getSchedule('daily')).toEqual(before);
    expect((await ms.tasks.get('due')).status).toBe('fired');
    expect((await ms.tasks.get('after')).status).toBe('pending');
    // The store's records are in the clock's time, not the made-up instant's.
    expect((await ms.tasks.get('due')).firedAt).toBe(new Date(CLOCK).toISOString());
    const run = await ms.runs.get(result.fired[0]!.runId!);
    expect(run).toMatchObject({
      status: 'succeeded',
      input: { n: 1 },
      createdAt: new Date(CLOCK).toISOString(),
    });
  });

  it_('with schedules: true, ticks the schedules as of that instant too', async () => {
    const ms = await app(backend);
    const result = await ms.runDue({ now: FAR, schedules: true });
    expect(
      result.fired.map((f) => [f.kind, f.name, f.tickAt.toISOString(), f.target, f.run?.status]).sort(),
    ).toEqual([
      ['schedule', 'daily', '2027-03-02T06:00:00.000Z', 'function job', 'succeeded'],
      ['task', 'due', '2027-03-02T06:10:00.000Z', 'function job', 'succeeded'],
    ]);
    expect(result).toMatchObject({ schedules: true, leftAlone: [] });
    const daily = await ms.schedules.get('daily');
    expect(daily.state).toMatchObject({
      lastTick: '2027-03-02T06:00:00.000Z',
      nextTick: '2027-03-03T06:00:00.000Z',
      lastRun: { status: 'succeeded' },
    });
  });

  it_('with schedules: true and no task due, the tick after skipped missed ticks still fires', async () => {
    const ms = await app(backend);
    await ms.tasks.delete('due');
    // The first pass only skips the ticks missed since January; the 06:00 tick is due after it.
    const result = await ms.runDue({ now: FAR, schedules: true });
    expect(result.fired.map((f) => [f.kind, f.name, f.tickAt.toISOString(), f.run?.status])).toEqual([
      ['schedule', 'daily', '2027-03-02T06:00:00.000Z', 'succeeded'],
    ]);
  });

  // Issue 17 gap 6: after days without a scheduler, one run-due used to only move the
  // schedule past the missed ticks and fire nothing, even the tick due exactly at its
  // instant; a second identical call fired it. One call now fires what a scheduler
  // waking at that instant fires, by the misfire policy.
  it_('after a gap, one call fires the tick due exactly at now, by each misfire policy', async () => {
    const at = (day: number) => `2026-01-0${day}T06:00:00.000Z`;
    const cases = [
      // skip: the missed ticks are passed over; the one due at now is on time.
      { misfire: 'skip', fired: [[at(9), false]] },
      // once: one catch-up for the missed ticks (the first of them), then the one due now.
      {
        misfire: 'once',
        fired: [
          [at(6), true],
          [at(9), false],
        ],
      },
      // all: each missed tick, oldest first, then the one due now.
      {
        misfire: 'all',
        fired: [
          [at(6), true],
          [at(7), true],
          [at(8), true],
          [at(9), false],
        ],
      },
    ] as const;
    for (const viaClock of [false, true]) {
      for (const { misfire, fired } of cases) {
        const what = `${misfire}${viaClock ? ', clock at now' : ', --now --schedules'}`;
        const { ms, clock } = await fakeApp(backend, { functions: [job], start: CLOCK });
        await ms.schedules.create({
          name: 'daily',
          expression: 'cron(0 6 * * ? *)',
          target: { kind: 'function', function: 'job' },
          misfire,
        });
        expect((await ms.schedules.get('daily')).state.nextTick, what).toBe(at(6));
        const now = new Date(at(9));
        // Either the process starts at the instant after the gap (run-due from cron), or it
        // is given the instant (run-due --now … --schedules).
        if (viaClock) clock.set(now);
        const call = () => (viaClock ? ms.runDue() : ms.runDue({ now, schedules: true }));

        const preview = await (viaClock
          ? ms.runDue({ dryRun: true })
          : ms.runDue({ now, schedules: true, dryRun: true }));
        expect(
          preview.wouldFire.map((d) => [d.tickAt.toISOString(), d.catchUp]),
          `${what}: dry run`,
        ).toEqual(fired);

        const first = await call();
        expect(first.schedules, what).toBe(true);
        expect(
          first.fired.map((f) => [f.tickAt.toISOString(), f.catchUp]),
          what,
        ).toEqual(fired);
        expect(
          first.fired.every((f) => f.run?.status === 'succeeded'),
          what,
        ).toBe(true);
        expect((await ms.schedules.get('daily')).state, what).toMatchObject({
          lastTick: at(9),
          nextTick: '2026-01-10T06:00:00.000Z',
        });
        // The same call again has nothing left to fire.
        expect((await call()).fired, `${what}: again`).toEqual([]);
        await ms.close();
      }
    }
  });

  it_('near the clock, or at it, ticks schedules and fires tasks as a scheduler would', async () => {
    const { ms, clock } = await fakeApp(backend, { functions: [job], start: '2026-01-06T05:59:00Z' });
    await ms.schedules.create({
      name: 'daily',
      expression: 'cron(0 6 * * ? *)',
      target: { kind: 'function', function: 'job' },
    });
    await ms.tasks.upsert({ id: 'soon', due: '2026-01-06T06:00:20Z', action: 'job' });
    clock.set('2026-01-06T06:00:00Z');
    // Thirty seconds ahead of the clock is near it: the tick fires.
    const near = await ms.runDue({ now: new Date('2026-01-06T06:00:30Z') });
    expect(near.schedules).toBe(true);
    expect(near.fired.map((f) => [f.kind, f.name, f.run?.status]).sort()).toEqual([
      ['schedule', 'daily', 'succeeded'],
      ['task', 'soon', 'succeeded'],
    ]);
    expect((await ms.schedules.get('daily')).state.nextTick).toBe('2026-01-07T06:00:00.000Z');

    clock.set('2026-01-07T06:00:00Z');
    const atClock = await ms.runDue();
    expect(atClock).toMatchObject({ now: new Date('2026-01-07T06:00:00Z'), schedules: true });
    expect(atClock.fired.map((f) => [f.kind, f.name, f.tickAt.toISOString()])).toEqual([
      ['schedule', 'daily', '2026-01-07T06:00:00.000Z'],
    ]);
  });

  it_('rejects a now that is not a valid Date, naming the field, and fires nothing', async () => {
    const ms = await app(backend);
    await expect(ms.runDue({ now: new Date('March next year') })).rejects.toMatchObject({
      code: 'E_VALIDATION',
      details: { field: 'now' },
    });
    expect((await ms.tasks.get('due')).status).toBe('pending');
  });

  it_('dryRun reports what would fire, with due times and targets, and changes nothing', async () => {
    const ms = await app(backend);
    const before = await snapshot(ms);

    const tasksOnly = await ms.runDue({ now: FAR, dryRun: true });
    expect(tasksOnly).toMatchObject({ now: FAR, dryRun: true, schedules: false, fired: [], failed: 0 });
    expect(
      tasksOnly.wouldFire.map((d) => [d.kind, d.name, d.tickAt.toISOString(), d.target, d.catchUp]),
    ).toEqual([['task', 'due', '2027-03-02T06:10:00.000Z', 'function job', false]]);
    expect(tasksOnly.leftAlone.map((d) => [d.kind, d.name, d.tickAt.toISOString()])).toEqual([
      ['schedule', 'daily', '2027-03-02T06:00:00.000Z'],
    ]);

    const both = await ms.runDue({ now: FAR, dryRun: true, schedules: true });
    const listed = both.wouldFire.map((d) => [d.kind, d.name, d.tickAt.toISOString(), d.target]);
    expect(listed).toEqual([
      ['schedule', 'daily', '2027-03-02T06:00:00.000Z', 'function job'],
      ['task', 'due', '2027-03-02T06:10:00.000Z', 'function job'],
    ]);
    expect(both.leftAlone).toEqual([]);

    expect(await snapshot(ms)).toEqual(before);

    // What the dry run listed is what a real run then fires.
    const real = await ms.runDue({ now: FAR, schedules: true });
    expect(real.fired.map((f) => [f.kind, f.name, f.tickAt.toISOString(), f.target]).sort()).toEqual(
      [...listed].sort(),
    );
  });
});
