// The store.scheduler contract, on both backends: schedules with compare-and-set updates,
// bulk task upserts that return what they replaced, paging with filters, retention of fired
// tasks, and fire: one transaction that claims what is due, applies the plan (or nothing, if
// it throws) and, across store instances, claims each due schedule once.

import { describe, expect, it, vi } from 'vitest';
import { newRunId, type RunWrite } from '../../src/store/run-row.ts';
import type {
  DueSchedule,
  FirePlan,
  NewScheduleRow,
  NewTask,
  TaskRow,
} from '../../src/store/schedule-row.ts';
import type { NewMessage, Store } from '../../src/store/types.ts';
import { BACKENDS } from '../helpers/backends.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function schedule(name: string, overrides: Partial<NewScheduleRow> = {}): NewScheduleRow {
  return {
    name,
    spec: `{"expression":"rate(1 minute)","name":"${name}"}`,
    source: 'config',
    enabled: true,
    createdAtMs: T0,
    updatedAtMs: T0,
    nextTickMs: T0 + 60_000,
    dueAtMs: T0 + 60_000,
    lastTickMs: null,
    lastFiredAtMs: null,
    lastInvocationId: null,
    ...overrides,
  };
}

function task(id: string, dueMs: number, overrides: Partial<NewTask> = {}): NewTask {
  return { id, action: 'send-email', payload: `{"id":"${id}"}`, dueMs, ...overrides };
}

function run(overrides: Partial<RunWrite> = {}): RunWrite {
  return {
    id: newRunId(T0),
    functionName: 'f',
    invocationId: 'inv-1',
    attempt: 1,
    status: 'queued',
    triggerKind: 'schedule',
    trigger: '{"kind":"schedule"}',
    input: null,
    scheduledForMs: null,
    createdAtMs: T0,
    startedAtMs: null,
    finishedAtMs: null,
    result: null,
    error: null,
    owner: null,
    logCount: 0,
    ...overrides,
  };
}

function message(body: string): NewMessage {
  return { body, priority: 0, visibleAtMs: T0, groupId: null, dedupKey: null };
}

const EMPTY: FirePlan = { schedules: [], tasks: [], runs: [], messages: [] };

/** Options claiming everything due by `atMs`. */
function due(atMs: number, limit = 100) {
  return { nowMs: atMs, scheduleHorizonMs: atMs, taskHorizonMs: atMs, limit };
}

/** Fires with a plan that only records what it was given (claimed rows stay as they were). */
async function peek(store: Store, options: Parameters<Store['scheduler']['fire']>[0]) {
  let seen: { schedules: DueSchedule[]; tasks: TaskRow[] } = { schedules: [], tasks: [] };
  let calls = 0;
  const outcome = await store.scheduler.fire(options, (schedules, tasks) => {
    calls++;
    seen = { schedules, tasks };
    return EMPTY;
  });
  return { outcome, calls, ...seen };
}

describe.each(BACKENDS)('store.scheduler on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  describe('schedules', () => {
    it_('inserts a schedule at version 1 once, reads and deletes it', async () => {
      const store = await backend.open();
      const s = schedule('a', { lastTickMs: T0 - 1, lastFiredAtMs: T0 - 2, lastInvocationId: 'inv-0' });
      expect(await store.scheduler.insertSchedule(s)).toBe(true);
      expect(await store.scheduler.insertSchedule(schedule('a', { spec: '{}' }))).toBe(false);
      expect(await store.scheduler.getSchedule('a')).toEqual({ ...s, version: 1 });
      expect(await store.scheduler.getSchedule('nope')).toBeNull();
      const ended = schedule('b', { source: 'api', enabled: false, nextTickMs: null, dueAtMs: null });
      await store.scheduler.insertSchedule(ended);
      expect(await store.scheduler.getSchedule('b')).toEqual({ ...ended, version: 1 });
      expect(await store.scheduler.countSchedules()).toBe(2);
      expect(await store.scheduler.deleteSchedule('a')).toEqual({ ...s, version: 1 });
      expect(await store.scheduler.deleteSchedule('a')).toBeNull();
      expect(await store.scheduler.countSchedules()).toBe(1);
    });

    it_('pages in name order with source and enabled filters', async () => {
      const store = await backend.open();
      const names = Array.from({ length: 25 }, (_, i) => `s${String(i).padStart(2, '0')}`);
      for (const [i, name] of [...names].reverse().entries()) {
        await store.scheduler.insertSchedule(
          schedule(name, { source: i % 2 === 0 ? 'api' : 'config', enabled: i % 3 !== 0 }),
        );
      }
      const all: string[] = [];
      let afterName: string | undefined;
      for (;;) {
        const page = await store.scheduler.listSchedules({ limit: 10, ...(afterName ? { afterName } : {}) });
        all.push(...page.map((s) => s.name));
        if (page.length < 10) break;
        afterName = page.at(-1)!.name;
      }
      expect(all).toEqual(names);
      const byName = new Map([...names].reverse().map((n, i) => [n, i]));
      const api = await store.scheduler.listSchedules({ source: 'api', limit: 100 });
      expect(api.map((s) => s.name)).toEqual(names.filter((n) => byName.get(n)! % 2 === 0));
      const disabled = await store.scheduler.listSchedules({ enabled: false, limit: 100 });
      expect(disabled.map((s) => s.name)).toEqual(names.filter((n) => byName.get(n)! % 3 === 0));
      expect(disabled.every((s) => !s.enabled)).toBe(true);
      const both = await store.scheduler.listSchedules({
        source: 'config',
        enabled: true,
        afterName: 's10',
        limit: 3,
      });
      expect(both.map((s) => s.name)).toEqual(
        names.filter((n) => n > 's10' && byName.get(n)! % 2 === 1 && byName.get(n)! % 3 !== 0).slice(0, 3),
      );
    });

    it_('updates only the given fields when the version matches, and bumps it', async () => {
      const store = await backend.open();
      const s = schedule('a');
      await store.scheduler.insertSchedule(s);
      expect(await store.scheduler.updateSchedule('a', 1, { enabled: false, dueAtMs: null })).toBe(true);
      expect(await store.scheduler.getSchedule('a')).toEqual({
        ...s,
        enabled: false,
        dueAtMs: null,
        version: 2,
      });
      // A writer that read version 1 loses.
      expect(await store.scheduler.updateSchedule('a', 1, { spec: '{"x":1}' })).toBe(false);
      const update = {
        spec: '{"x":2}',
        source: 'api' as const,
        enabled: true,
        updatedAtMs: T0 + 5,
        nextTickMs: T0 + 10,
        dueAtMs: T0 + 11,
        lastTickMs: T0 + 1,
        lastFiredAtMs: T0 + 2,
      };
      expect(await store.scheduler.updateSchedule('a', 2, update)).toBe(true);
      expect(await store.scheduler.getSchedule('a')).toEqual({ ...s, ...update, version: 3 });
      expect(await store.scheduler.updateSchedule('a', 3, {})).toBe(true);
      expect((await store.scheduler.getSchedule('a'))?.version).toBe(4);
      expect(await store.scheduler.updateSchedule('nope', 1, { enabled: false })).toBe(false);
    });
  });

  describe('tasks', () => {
    it_('creates tasks and returns null for each new id', async () => {
      const store = await backend.open();
      const ts = [task('a', T0 + 2), task('b', T0 + 1, { payload: null })];
      expect(await store.scheduler.upsertTasks(ts, T0)).toEqual([null, null]);
      expect(await store.scheduler.getTask('b')).toEqual({
        ...ts[1],
        status: 'pending',
        createdAtMs: T0,
        updatedAtMs: T0,
        firedAtMs: null,
        invocationId: null,
      });
      expect(await store.scheduler.getTask('nope')).toBeNull();
      expect(await store.scheduler.upsertTasks([], T0)).toEqual([]);
      expect(await store.scheduler.countPendingTasks()).toBe(2);
    });

    it_('overwrites existing tasks, returning the rows before; a fired task is pending again', async () => {
      const store = await backend.open();
      await store.scheduler.upsertTasks([task('a', T0 + 10), task('b', T0 + 20)], T0);
      await store.scheduler.fire(due(T0 + 10), (_, tasks) => ({
        ...EMPTY,
        tasks: tasks.map((t) => ({ id: t.id, invocationId: `inv-${t.id}` })),
      }));
      const fired = await store.scheduler.getTask('a');
      expect(fired).toMatchObject({ status: 'fired', firedAtMs: T0 + 10, invocationId: 'inv-a' });
      const before = await store.scheduler.upsertTasks(
        [task('c', T0 + 5), task('a', T0 + 30, { action: 'other', payload: '{"v":2}' }), task('b', T0 + 40)],
        T0 + 100,
      );
      expect(before).toEqual([null, fired, await expectTask('b', T0 + 20)]);
      expect(await store.scheduler.getTask('a')).toEqual({
        id: 'a',
        action: 'other',
        payload: '{"v":2}',
        dueMs: T0 + 30,
        status: 'pending',
        createdAtMs: T0,
        updatedAtMs: T0 + 100,
        firedAtMs: null,
        invocationId: null,
      });
      expect(await store.scheduler.countPendingTasks()).toBe(3);

      async function expectTask(id: string, dueMs: number): Promise<TaskRow> {
        return {
          ...task(id, dueMs),
          status: 'pending',
          createdAtMs: T0,
          updatedAtMs: T0,
          firedAtMs: null,
          invocationId: null,
        };
      }
    });

    it_('lets the last of a repeated id win; each gets the row from before the call', async () => {
      const store = await backend.open();
      await store.scheduler.upsertTasks([task('a', T0)], T0);
      const old = await store.scheduler.getTask('a');
      const before = await store.scheduler.upsertTasks(
        [task('a', T0 + 1), task('n', T0 + 2), task('a', T0 + 3), task('n', T0 + 4)],
        T0 + 9,
      );
      expect(before).toEqual([old, null, old, null]);
      expect((await store.scheduler.getTask('a'))?.dueMs).toBe(T0 + 3);
      expect((await store.scheduler.getTask('n'))?.dueMs).toBe(T0 + 4);
    });

    it_('upserts 5,000 tasks in one call, then again with the previous rows returned', async () => {
      const store = await backend.open();
      const ts = Array.from({ length: 5000 }, (_, i) => task(`t${i}`, T0 + (i % 97)));
      expect((await store.scheduler.upsertTasks(ts, T0)).every((r) => r === null)).toBe(true);
      const before = await store.scheduler.upsertTasks(
        ts.map((t) => ({ ...t, dueMs: t.dueMs + 1 })),
        T0 + 1,
      );
      expect(before.map((r) => r?.dueMs)).toEqual(ts.map((t) => t.dueMs));
      expect(before.map((r) => r?.id)).toEqual(ts.map((t) => t.id));
      expect(await store.scheduler.countPendingTasks()).toBe(5000);
      expect((await store.scheduler.getTask('t4999'))?.dueMs).toBe(T0 + (4999 % 97) + 1);
    });

    it_('lists in (due, id) order with a cursor and each filter', async () => {
      const store = await backend.open();
      const ts = Array.from({ length: 30 }, (_, i) =>
        task(`t${String(i).padStart(2, '0')}`, T0 + (i % 5) * 10, { action: i % 2 === 0 ? 'even' : 'odd' }),
      );
      await store.scheduler.upsertTasks(ts, T0);
      // Fire the three earliest: due T0, ids t00, t05, t10.
      await store.scheduler.fire({ ...due(T0), limit: 3 }, (_, tasks) => ({
        ...EMPTY,
        tasks: tasks.map((t) => ({ id: t.id, invocationId: null })),
      }));
      const order = [...ts].sort((x, y) => x.dueMs - y.dueMs || (x.id < y.id ? -1 : 1)).map((t) => t.id);
      const paged: string[] = [];
      let after: { dueMs: number; id: string } | undefined;
      for (;;) {
        const page = await store.scheduler.listTasks({ limit: 7, ...(after ? { after } : {}) });
        paged.push(...page.map((t) => t.id));
        if (page.length < 7) break;
        after = { dueMs: page.at(-1)!.dueMs, id: page.at(-1)!.id };
      }
      expect(paged).toEqual(order);
      const ids = async (filter: Parameters<Store['scheduler']['listTasks']>[0]) =>
        (await store.scheduler.listTasks(filter)).map((t) => t.id);
      const byId = new Map(ts.map((t) => [t.id, t]));
      expect(await ids({ action: 'odd', limit: 100 })).toEqual(
        order.filter((id) => byId.get(id)!.action === 'odd'),
      );
      expect(await ids({ status: 'fired', limit: 100 })).toEqual(['t00', 't05', 't10']);
      expect(await ids({ status: 'pending', limit: 100 })).toEqual(
        order.filter((id) => !['t00', 't05', 't10'].includes(id)),
      );
      expect(await ids({ dueAfterMs: T0 + 10, dueBeforeMs: T0 + 30, limit: 100 })).toEqual(
        order.filter((id) => byId.get(id)!.dueMs >= T0 + 10 && byId.get(id)!.dueMs < T0 + 30),
      );
      expect(
        await ids({ action: 'even', status: 'pending', after: { dueMs: T0 + 20, id: 't12' }, limit: 3 }),
      ).toEqual(
        order
          .filter((id) => {
            const t = byId.get(id)!;
            return t.action === 'even' && (t.dueMs > T0 + 20 || (t.dueMs === T0 + 20 && id > 't12'));
          })
          .slice(0, 3),
      );
    });

    it_('deletes a task, and fired ones in batches, the earliest due first', async () => {
      const store = await backend.open();
      await store.scheduler.upsertTasks(
        Array.from({ length: 10 }, (_, i) => task(`t${i}`, T0 + i)),
        T0,
      );
      const t9 = await store.scheduler.getTask('t9');
      expect(await store.scheduler.deleteTask('t9')).toEqual(t9);
      expect(await store.scheduler.deleteTask('t9')).toBeNull();
      // t0..t4 fire at T0 + 100, t5..t6 at T0 + 200; t7, t8 stay pending.
      const fireUpTo = async (dueMs: number, atMs: number) =>
        store.scheduler.fire(
          { nowMs: atMs, scheduleHorizonMs: atMs, taskHorizonMs: dueMs, limit: 100 },
          (_, tasks) => ({ ...EMPTY, tasks: tasks.map((t) => ({ id: t.id, invocationId: null })) }),
        );
      expect(await fireUpTo(T0 + 4, T0 + 100)).toEqual({ schedules: 0, tasks: 5 });
      expect(await fireUpTo(T0 + 6, T0 + 200)).toEqual({ schedules: 0, tasks: 2 });
      expect(await store.scheduler.deleteFiredTasks(T0 + 201, 3)).toBe(3);
      expect((await store.scheduler.listTasks({ limit: 100 })).map((t) => t.id)).toEqual([
        't3',
        't4',
        't5',
        't6',
        't7',
        't8',
      ]);
      // Only those fired before the cutoff.
      expect(await store.scheduler.deleteFiredTasks(T0 + 200, 10)).toBe(2);
      expect(await store.scheduler.deleteFiredTasks(T0 + 201, 10)).toBe(2);
      expect(await store.scheduler.deleteFiredTasks(T0 + 201, 10)).toBe(0);
      expect((await store.scheduler.listTasks({ limit: 100 })).map((t) => t.id)).toEqual(['t7', 't8']);
    });
  });

  describe('fire', () => {
    it_(
      'claims only due enabled schedules and due pending tasks, earliest first, up to the limit',
      async () => {
        const store = await backend.open();
        await store.scheduler.insertSchedule(schedule('late', { dueAtMs: T0 + 3 }));
        await store.scheduler.insertSchedule(schedule('early', { dueAtMs: T0 + 1 }));
        await store.scheduler.insertSchedule(schedule('tie-b', { dueAtMs: T0 + 2 }));
        await store.scheduler.insertSchedule(schedule('tie-a', { dueAtMs: T0 + 2 }));
        await store.scheduler.insertSchedule(schedule('future', { dueAtMs: T0 + 1000 }));
        await store.scheduler.insertSchedule(schedule('off', { enabled: false, dueAtMs: T0 }));
        await store.scheduler.insertSchedule(schedule('ended', { nextTickMs: null, dueAtMs: null }));
        await store.scheduler.upsertTasks(
          [
            task('t3', T0 + 3),
            task('t1', T0 + 1),
            task('t2b', T0 + 2),
            task('t2a', T0 + 2),
            task('tf', T0 + 999),
          ],
          T0,
        );
        let r = await peek(store, { nowMs: T0, scheduleHorizonMs: T0 + 10, taskHorizonMs: T0 + 2, limit: 3 });
        expect(r.outcome).toEqual({ schedules: 3, tasks: 3 });
        expect(r.schedules.map((s) => s.row.name)).toEqual(['early', 'tie-a', 'tie-b']);
        expect(r.schedules[0]).toEqual({
          row: { ...schedule('early', { dueAtMs: T0 + 1 }), version: 1 },
          lastActive: false,
        });
        expect(r.tasks.map((t) => t.id)).toEqual(['t1', 't2a', 't2b']);
        expect(r.tasks[0]).toEqual(await store.scheduler.getTask('t1'));
        // The plan left them out, so they are still due.
        r = await peek(store, due(T0 + 3, 100));
        expect(r.schedules.map((s) => s.row.name)).toEqual(['early', 'tie-a', 'tie-b', 'late']);
        expect(r.tasks.map((t) => t.id)).toEqual(['t1', 't2a', 't2b', 't3']);
        // Separate horizons for schedules and tasks.
        r = await peek(store, { nowMs: T0, scheduleHorizonMs: T0, taskHorizonMs: T0 + 1, limit: 100 });
        expect(r.outcome).toEqual({ schedules: 0, tasks: 1 });
      },
    );

    it_('claims only the schedules and tasks named in `only`, still when due', async () => {
      const store = await backend.open();
      for (const name of ['a', 'b', 'c'])
        await store.scheduler.insertSchedule(schedule(name, { dueAtMs: T0 }));
      await store.scheduler.insertSchedule(schedule('d', { dueAtMs: T0 + 100 }));
      await store.scheduler.upsertTasks([task('x', T0), task('y', T0), task('z', T0 + 100)], T0);
      let r = await peek(store, {
        ...due(T0),
        only: { schedules: ['c', 'a', 'd', 'nope'], tasks: ['y', 'z'] },
      });
      expect(r.schedules.map((s) => s.row.name)).toEqual(['a', 'c']);
      expect(r.tasks.map((t) => t.id)).toEqual(['y']);
      r = await peek(store, { ...due(T0), only: { tasks: ['x'] } });
      expect(r.outcome).toEqual({ schedules: 0, tasks: 1 });
      r = await peek(store, { ...due(T0), only: { schedules: ['b'] } });
      expect(r.outcome).toEqual({ schedules: 1, tasks: 0 });
      r = await peek(store, { ...due(T0), only: { schedules: ['d'], tasks: ['z'] } });
      expect(r).toMatchObject({ outcome: { schedules: 0, tasks: 0 }, calls: 0 });
    });

    it_('returns nothing without calling the plan when nothing is due', async () => {
      const store = await backend.open();
      let r = await peek(store, due(T0));
      expect(r).toMatchObject({ outcome: { schedules: 0, tasks: 0 }, calls: 0 });
      await store.scheduler.insertSchedule(schedule('a', { dueAtMs: T0 + 1 }));
      await store.scheduler.upsertTasks([task('t', T0 + 1)], T0);
      r = await peek(store, due(T0));
      expect(r).toMatchObject({ outcome: { schedules: 0, tasks: 0 }, calls: 0 });
      r = await peek(store, due(T0 + 1));
      expect(r).toMatchObject({ outcome: { schedules: 1, tasks: 1 }, calls: 1 });
    });

    it_('tells whether an attempt of the last invocation is queued or running', async () => {
      const store = await backend.open();
      await store.scheduler.insertSchedule(schedule('none', { dueAtMs: T0 }));
      await store.scheduler.insertSchedule(schedule('queued', { dueAtMs: T0, lastInvocationId: 'inv-q' }));
      await store.scheduler.insertSchedule(schedule('running', { dueAtMs: T0, lastInvocationId: 'inv-r' }));
      await store.scheduler.insertSchedule(schedule('done', { dueAtMs: T0, lastInvocationId: 'inv-d' }));
      await store.scheduler.insertSchedule(schedule('retry', { dueAtMs: T0, lastInvocationId: 'inv-x' }));
      await store.scheduler.insertSchedule(schedule('prefix', { dueAtMs: T0, lastInvocationId: 'inv' }));
      const r1 = run({ id: 'inv-r-1', invocationId: 'inv-r' });
      await store.runs.write([
        run({ id: 'inv-q-1', invocationId: 'inv-q' }),
        r1,
        run({ id: 'inv-d-1', invocationId: 'inv-d', status: 'succeeded', finishedAtMs: T0 }),
        run({ id: 'inv-x-1', invocationId: 'inv-x', status: 'failed', finishedAtMs: T0 }),
        run({ id: 'inv-x-2', invocationId: 'inv-x', attempt: 2 }),
      ]);
      await store.runs.start([r1.id], 'w', T0);
      const active = async () =>
        Object.fromEntries((await peek(store, due(T0))).schedules.map((s) => [s.row.name, s.lastActive]));
      expect(await active()).toEqual({
        none: false,
        queued: true,
        running: true,
        done: false,
        retry: true,
        prefix: false,
      });
      await store.runs.write([
        { ...r1, status: 'succeeded', startedAtMs: T0, finishedAtMs: T0 + 1, owner: 'w' },
        run({ id: 'inv-x-2', invocationId: 'inv-x', attempt: 2, status: 'cancelled', finishedAtMs: T0 }),
      ]);
      await store.runs.cancel('inv-q-1', '{"name":"CancelledError"}', T0 + 1);
      expect(await active()).toEqual({
        none: false,
        queued: false,
        running: false,
        done: false,
        retry: false,
        prefix: false,
      });
    });

    it_('applies the plan: schedules advanced, tasks fired, runs and messages inserted', async () => {
      const store = await backend.open();
      await store.queues.upsertQueue('q', {}, T0);
      await store.queues.upsertQueue('r', {}, T0);
      const s = schedule('a', { dueAtMs: T0 });
      await store.scheduler.insertSchedule(s);
      await store.scheduler.insertSchedule(schedule('b', { dueAtMs: T0 }));
      await store.scheduler.upsertTasks([task('t1', T0), task('t2', T0)], T0);
      const runA = run({ id: 'inv-a-1', invocationId: 'inv-a', scheduledForMs: T0, input: '{"tick":1}' });
      const runT = run({ id: 'inv-t-1', invocationId: 'inv-t', triggerKind: 'task' });
      const woken: string[] = [];
      const unlisten = await store.listen('messages', (queue) => woken.push(queue));
      const outcome = await store.scheduler.fire(due(T0 + 5), (schedules, tasks) => {
        expect(schedules.map((x) => x.row.name)).toEqual(['a', 'b']);
        expect(tasks.map((t) => t.id)).toEqual(['t1', 't2']);
        return {
          schedules: [
            {
              name: 'a',
              nextTickMs: T0 + 60_000,
              dueAtMs: T0 + 59_000,
              lastTickMs: T0,
              lastFiredAtMs: T0 + 5,
              lastInvocationId: 'inv-a',
            },
          ],
          tasks: [
            { id: 't1', invocationId: 'inv-t' },
            { id: 't2', invocationId: null },
          ],
          runs: [runA, runT],
          messages: [
            { queue: 'q', message: message('"m1"') },
            { queue: 'r', message: message('"r1"') },
            { queue: 'q', message: message('"m2"') },
          ],
        };
      });
      expect(outcome).toEqual({ schedules: 2, tasks: 2 });
      expect(await store.scheduler.getSchedule('a')).toEqual({
        ...s,
        nextTickMs: T0 + 60_000,
        dueAtMs: T0 + 59_000,
        lastTickMs: T0,
        lastFiredAtMs: T0 + 5,
        lastInvocationId: 'inv-a',
        version: 2,
      });
      // Left out of the plan: unchanged, still due.
      expect(await store.scheduler.getSchedule('b')).toMatchObject({ version: 1, dueAtMs: T0 });
      expect(await store.scheduler.getTask('t1')).toMatchObject({
        status: 'fired',
        firedAtMs: T0 + 5,
        invocationId: 'inv-t',
      });
      expect(await store.scheduler.getTask('t2')).toMatchObject({ status: 'fired', invocationId: null });
      expect(await store.scheduler.countPendingTasks()).toBe(0);
      expect(await store.runs.get(runA.id)).toEqual({ ...runA, cancelRequestedAtMs: null });
      expect(await store.runs.get(runT.id)).toEqual({ ...runT, cancelRequestedAtMs: null });
      const claim = { limit: 10, nowMs: T0 + 5, dueByMs: T0 + 5, visibilityMs: 1000, fifo: false };
      const q = await store.queues.claim('q', claim);
      expect(q.map((m) => m.body)).toEqual(['"m1"', '"m2"']);
      expect(q[0]!.id).toBeLessThan(q[1]!.id);
      expect(q[0]!.sentAtMs).toBe(T0 + 5);
      expect((await store.queues.claim('r', claim)).map((m) => m.body)).toEqual(['"r1"']);
      // The schedule is due again only at its new due time; the last fire is active now.
      expect(await store.scheduler.nextDueAt()).toBe(T0);
      const again = await peek(store, due(T0 + 59_000));
      expect(again.schedules).toEqual([
        { row: await store.scheduler.getSchedule('b'), lastActive: false },
        { row: await store.scheduler.getSchedule('a'), lastActive: true },
      ]);
      await vi.waitFor(() => expect(woken).toEqual(expect.arrayContaining(['q', 'r'])));
      await unlisten();
    });

    it_('changes nothing when the plan throws', async () => {
      const store = await backend.open();
      await store.queues.upsertQueue('q', {}, T0);
      await store.scheduler.insertSchedule(schedule('a', { dueAtMs: T0 }));
      await store.scheduler.upsertTasks([task('t', T0)], T0);
      const before = [await store.scheduler.getSchedule('a'), await store.scheduler.getTask('t')];
      const r = run({ id: 'inv-a-1', invocationId: 'inv-a' });
      await expect(
        store.scheduler.fire(due(T0), () => {
          throw new Error('plan failed');
        }),
      ).rejects.toThrow('plan failed');
      // A plan that fails in the apply step (the run already exists) rolls back its earlier writes too.
      await store.runs.write([run({ id: 'inv-b-1', invocationId: 'inv-b' })]);
      await expect(
        store.scheduler.fire(due(T0), () => ({
          schedules: [
            {
              name: 'a',
              nextTickMs: T0 + 1,
              dueAtMs: T0 + 1,
              lastTickMs: T0,
              lastFiredAtMs: T0,
              lastInvocationId: 'inv-a',
            },
          ],
          tasks: [{ id: 't', invocationId: 'inv-a' }],
          runs: [r, run({ id: 'inv-b-1', invocationId: 'inv-b' })],
          messages: [{ queue: 'q', message: message('1') }],
        })),
      ).rejects.toThrow();
      expect([await store.scheduler.getSchedule('a'), await store.scheduler.getTask('t')]).toEqual(before);
      expect(await store.runs.get(r.id)).toBeNull();
      expect(await store.queues.listMessages('q', { limit: 10 })).toEqual([]);
      // The store is usable afterwards.
      expect((await peek(store, due(T0))).outcome).toEqual({ schedules: 1, tasks: 1 });
    });

    it_('gives the earliest due time of an enabled schedule or a pending task', async () => {
      const store = await backend.open();
      expect(await store.scheduler.nextDueAt()).toBeNull();
      await store.scheduler.insertSchedule(schedule('off', { enabled: false, dueAtMs: T0 }));
      await store.scheduler.insertSchedule(schedule('ended', { nextTickMs: null, dueAtMs: null }));
      expect(await store.scheduler.nextDueAt()).toBeNull();
      await store.scheduler.upsertTasks([task('t', T0 + 50)], T0);
      expect(await store.scheduler.nextDueAt()).toBe(T0 + 50);
      await store.scheduler.insertSchedule(schedule('a', { dueAtMs: T0 + 70 }));
      expect(await store.scheduler.nextDueAt()).toBe(T0 + 50);
      await store.scheduler.insertSchedule(schedule('b', { dueAtMs: T0 + 20 }));
      expect(await store.scheduler.nextDueAt()).toBe(T0 + 20);
      await store.scheduler.fire(due(T0 + 100), (schedules, tasks) => ({
        ...EMPTY,
        schedules: schedules.map((s) => ({
          name: s.row.name,
          nextTickMs: null,
          dueAtMs: s.row.name === 'a' ? T0 + 500 : null,
          lastTickMs: null,
          lastFiredAtMs: null,
          lastInvocationId: null,
        })),
        tasks: tasks.map((t) => ({ id: t.id, invocationId: null })),
      }));
      expect(await store.scheduler.nextDueAt()).toBe(T0 + 500);
    });

    it_('claims each due schedule and task once across two store instances firing at once', async () => {
      const url = backend.freshUrl();
      const a = await backend.open({ url, poolSize: 4 });
      const b = await backend.open({ url, poolSize: 4 });
      for (let i = 0; i < 50; i++) {
        await a.scheduler.insertSchedule(
          schedule(`s${String(i).padStart(2, '0')}`, { dueAtMs: T0 + (i % 7) }),
        );
      }
      await a.scheduler.upsertTasks(
        Array.from({ length: 50 }, (_, i) => task(`t${i}`, T0 + (i % 5))),
        T0,
      );
      const claims: { store: string; name: string; dueAtMs: number }[] = [];
      const fired: string[] = [];
      const loop = async (store: Store, label: string) => {
        for (let round = 0; round < 40; round++) {
          await store.scheduler.fire(due(T0 + 10, 4), (schedules, tasks) => {
            for (const s of schedules)
              claims.push({ store: label, name: s.row.name, dueAtMs: s.row.dueAtMs! });
            fired.push(...tasks.map((t) => t.id));
            return {
              ...EMPTY,
              schedules: schedules.map((s) => ({
                name: s.row.name,
                nextTickMs: T0 + 60_000,
                dueAtMs: T0 + 60_000,
                lastTickMs: s.row.nextTickMs,
                lastFiredAtMs: T0 + 10,
                lastInvocationId: `${label}-${s.row.name}`,
              })),
              tasks: tasks.map((t) => ({ id: t.id, invocationId: `${label}-${t.id}` })),
              runs: [],
            };
          });
        }
      };
      await Promise.all([loop(a, 'a'), loop(b, 'b'), loop(a, 'a2'), loop(b, 'b2')]);
      expect(claims).toHaveLength(50);
      expect(new Set(claims.map((c) => c.name)).size).toBe(50);
      expect(fired.toSorted()).toEqual(Array.from({ length: 50 }, (_, i) => `t${i}`).toSorted());
      // Each schedule's stored state is what its one claimer's plan wrote.
      for (const c of claims) {
        expect(await a.scheduler.getSchedule(c.name)).toMatchObject({
          lastInvocationId: `${c.store}-${c.name}`,
          version: 2,
        });
      }
      if (backend.name === 'postgres') {
        // Both instances took part (each claim round takes at most 4 of each).
        expect(new Set(claims.map((c) => c.store[0])).size).toBe(2);
      }
    });
  });
});
