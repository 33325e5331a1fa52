// The multi-day-report example end to end on both backends: its REST API over real
// HTTP, its seven-day workflow in fake time (a week in a few real seconds): the status
// sequence day by day, 24 hours apart; the final report against the steps' results;
// listing, the 400s, FAILED for a stopped task, and deleting every task.

import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTaskApi, type TaskView } from '../../examples/multi-day-report/api.ts';
import {
  createReportWorkflow,
  type Notification,
  type TaskStatus,
} from '../../examples/multi-day-report/workflow.ts';
import { createMainspring, type Mainspring } from '../../src/app.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { tick } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';

const SEC = 1000;
const MINUTE = 60 * SEC;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const START = '2026-01-05T10:00:00.000Z';
const CONFIG = { reportType: 'weekly', dataSource: 'analytics', notifyEmail: 'admin@example.com' };

// The worker sleeps until the next wait ends or a send wakes it, but also looks at least every
// poll interval (1 s by default) for workflows, queued messages and cancellations; on SQLite
// each look fits in one turn of the fake clock, so a fake day would be 86,400 of each.
const startWorker = (ms: Mainspring) => ms.startWorker({ pollIntervalMs: HOUR });
const at = (iso: string) => Date.parse(iso);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The example's app on a fresh store with a fake clock, its API listening on a loopback port. */
async function example(backend: BackendFixture, { worker = true } = {}) {
  const clock = new FakeClock(START);
  const notifications: { notification: Notification; statusThen: unknown }[] = [];
  let ms: Mainspring | null = null;
  const workflow = createReportWorkflow({
    clock,
    notify: async (notification) => {
      // The status a client sees while the notification goes out.
      const statusThen = ((await ms!.workflows.get(notification.taskId)).progress as { status: string })
        .status;
      notifications.push({ notification, statusThen });
    },
  });
  ms = await createMainspring({ db: backend.freshUrl(), clock, workflows: [workflow] });
  const app = ms;
  cleanups.push(async () => {
    // Shutdown's grace period runs on the fake clock: move it while closing.
    let closed = false;
    const closing = app.close().finally(() => {
      closed = true;
    });
    while (!closed) await clock.advance(5 * SEC);
    await closing;
  });
  if (worker) await startWorker(ms);
  const api: FastifyInstance = createTaskApi(ms);
  await api.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => api.close());
  const base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;

  const call = async (method: string, path: string, body?: string, type = 'application/json') => {
    const res = await fetch(`${base}${path}`, {
      method,
      ...(body !== undefined ? { body, headers: { 'content-type': type } } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const getTask = async (taskId: string) => {
    const res = await call('GET', `/tasks/${taskId}`);
    expect(res.status).toBe(200);
    return res.body as unknown as TaskView;
  };
  /** Waits (real time, for the worker's store I/O) until the task shows `status`. */
  const settle = async (taskId: string, status: TaskStatus) => {
    await vi.waitFor(async () => expect((await getTask(taskId)).status).toBe(status), {
      timeout: 10_000,
      interval: 5,
    });
    return getTask(taskId);
  };
  /**
   * Moves fake time in steps until the task shows `status`. After each step the worker gets up
   * to 250 ms of real time for its store I/O, so fake time does not run ahead of a loaded store.
   */
  const advanceUntil = async (taskId: string, status: TaskStatus, stepMs: number, maxMs: number) => {
    for (let waited = 0; ; waited += stepMs) {
      const task = await vi
        .waitFor(
          async () => {
            const t = await getTask(taskId);
            expect(t.status).toBe(status);
            return t;
          },
          { timeout: 250, interval: 5 },
        )
        .catch(() => null);
      if (task) return task;
      if (waited >= maxMs) {
        const now = (await getTask(taskId)).status;
        throw new Error(`task ${taskId} still ${now}, not ${status}, after ${maxMs} ms`);
      }
      await tick(clock, stepMs, stepMs);
    }
  };
  return { ms, clock, call, getTask, settle, advanceUntil, notifications };
}

describe.each(BACKENDS)('examples/multi-day-report on $name', (backend) => {
  it.skipIf(backend.skip)('runs the seven days, 24 hours apart, and reports', async () => {
    const { ms, clock, call, getTask, settle, advanceUntil, notifications } = await example(backend, {
      worker: false,
    });

    const posted = await call('POST', '/tasks', JSON.stringify({ config: CONFIG }));
    expect(posted).toEqual({
      status: 200,
      body: { taskId: `TASK-${at(START)}`, status: 'INITIALIZED', message: 'Task started successfully' },
    });
    const taskId = posted.body['taskId'] as string;
    // No worker yet: the task is as the POST left it.
    expect(await getTask(taskId)).toEqual({
      taskId,
      status: 'INITIALIZED',
      currentDay: 1,
      progress: { percentage: 0, completedDays: 0, totalDays: 7, steps: [] },
      config: CONFIG,
      startTime: START,
    });

    await startWorker(ms);
    const day1 = await settle(taskId, 'DAY_1_COMPLETE');
    expect(day1).toMatchObject({ currentDay: 1, progress: { percentage: 14, completedDays: 1 } });
    expect(day1.progress.steps).toEqual([
      {
        day: 1,
        action: 'Data Collection',
        result: { records: expect.any(Number), sources: ['database', 'api', 'files'] },
        completedAt: START,
      },
    ]);

    let second = '';
    for (let day = 2; day <= 7; day++) {
      if (day === 4) {
        // Half-way through the day, a second task: DELETE will find it unfinished and stop it.
        await tick(clock, DAY / 2, 4 * HOUR);
        const res = await call('POST', '/tasks', JSON.stringify({ config: { reportType: 'daily' } }));
        expect(res.body).toMatchObject({ status: 'INITIALIZED' });
        second = res.body['taskId'] as string;
        await settle(second, 'DAY_1_COMPLETE');
        await tick(clock, DAY / 2 - MINUTE, 4 * HOUR);
      } else {
        await tick(clock, DAY - MINUTE, 4 * HOUR);
      }
      // A minute short of the 24-hour wait nothing has moved…
      expect((await getTask(taskId)).status).toBe(`DAY_${day - 1}_COMPLETE`);
      // …and just past it the day's work is done.
      const status = (day === 7 ? 'COMPLETED' : `DAY_${day}_COMPLETE`) as TaskStatus;
      const task = await advanceUntil(taskId, status, 5 * SEC, 2 * MINUTE);
      expect(task).toMatchObject({
        currentDay: day,
        progress: { completedDays: day, totalDays: 7, percentage: Math.round((day / 7) * 100) },
      });
      const last = task.progress.steps[day === 7 ? 6 : day - 1]!;
      expect(last.day).toBe(day);
      const sinceStart = at(last.completedAt) - at(START);
      expect(sinceStart).toBeGreaterThanOrEqual((day - 1) * DAY);
      expect(sinceStart).toBeLessThan((day - 1) * DAY + 2 * MINUTE);
    }

    const done = await getTask(taskId);
    expect(done.progress.steps.map((s) => [s.day, s.action])).toEqual([
      [1, 'Data Collection'],
      [2, 'Batch Processing'],
      [3, 'Batch Processing'],
      [4, 'Batch Processing'],
      [5, 'Batch Processing'],
      [6, 'Batch Processing'],
      [7, 'Report Generation'],
      [7, 'Notification'],
    ]);
    const [collected, ...batches] = done.progress.steps.slice(0, 6) as {
      result: { records: number; recordsProcessed: number; errors: number };
    }[];
    const breakdown: { day: number; type: string; records: number; errors?: number }[] = [
      { day: 1, type: 'collection', records: collected!.result.records },
      ...batches.map((b, i) => ({
        day: i + 2,
        type: 'processing',
        records: b.result.recordsProcessed,
        errors: b.result.errors,
      })),
    ];
    const total = breakdown.reduce((sum, d) => sum + d.records, 0);
    const errors = breakdown.reduce((sum, d) => sum + (d.errors ?? 0), 0);
    expect(done.finalReport).toEqual({
      taskId,
      reportType: 'weekly',
      summary: {
        totalDays: 7,
        totalRecordsProcessed: total,
        totalErrors: errors,
        successRate: `${(((total - errors) / total) * 100).toFixed(2)}%`,
      },
      dailyBreakdown: breakdown,
      generatedAt: done.progress.steps[6]!.completedAt,
    });
    // The report is the execution's output too, and the notification carried it, once.
    // (COMPLETED is the last progress; the execution's own record follows it.)
    expect(await ms.workflows.wait(taskId, { pollMs: 5 })).toMatchObject({
      status: 'succeeded',
      output: done.finalReport,
    });
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({
      notification: { taskId, to: 'admin@example.com', report: done.finalReport },
      statusThen: 'REPORT_GENERATED',
    });

    const listed = await call('GET', '/tasks');
    expect(listed.body['count']).toBe(2);
    const byId = new Map((listed.body['tasks'] as TaskView[]).map((t) => [t.taskId, t]));
    expect(byId.get(taskId)).toEqual(done);
    // Started two and a half days in, it has done three and a half days' work.
    expect(byId.get(second)).toMatchObject({ status: 'DAY_4_COMPLETE', config: { reportType: 'daily' } });

    // DELETE stops the unfinished task and deletes both.
    expect(await call('DELETE', '/tasks')).toEqual({
      status: 200,
      body: { message: 'All tasks deleted successfully', deletedCount: 2 },
    });
    expect(await call('GET', '/tasks')).toEqual({ status: 200, body: { tasks: [], count: 0 } });
    expect((await call('GET', `/tasks/${taskId}`)).status).toBe(404);
  });

  it.skipIf(backend.skip)('rejects a body without a config object, naming config', async () => {
    const { call } = await example(backend, { worker: false });
    for (const body of [
      JSON.stringify({}),
      JSON.stringify({ config: 'weekly' }),
      JSON.stringify({ config: ['weekly'] }),
      JSON.stringify({ config: null }),
    ]) {
      const res = await call('POST', '/tasks', body);
      expect(res.status, body).toBe(400);
      expect(res.body['error']).toMatchObject({
        code: 'E_VALIDATION',
        message: expect.stringMatching(/^config is .+; it must be an object/),
      });
    }
    for (const [body, type] of [
      ['[1, 2]', 'application/json'],
      ['weekly', 'text/plain'],
    ] as const) {
      const res = await call('POST', '/tasks', body, type);
      expect(res.status, body).toBe(400);
      expect(res.body['error']).toMatchObject({ message: expect.stringContaining('{"config": {') });
    }
    const broken = await call('POST', '/tasks', '{"config": ');
    expect(broken.status).toBe(400);
    expect(await call('GET', '/tasks')).toEqual({ status: 200, body: { tasks: [], count: 0 } });
    const missing = await call('GET', '/tasks/TASK-1');
    expect(missing.status).toBe(404);
    expect(missing.body['error']).toMatchObject({
      code: 'E_EXECUTION_NOT_FOUND',
      message: expect.stringContaining('TASK-1'),
    });
  });

  it.skipIf(backend.skip)('shows a stopped task as FAILED, keeping its steps', async () => {
    const { ms, call, getTask, settle } = await example(backend);
    const first = await call('POST', '/tasks', JSON.stringify({ config: CONFIG }));
    const again = await call('POST', '/tasks', JSON.stringify({ config: CONFIG }));
    // Two tasks in the same millisecond get distinct ids.
    expect([first.body['taskId'], again.body['taskId']]).toEqual([
      `TASK-${at(START)}`,
      `TASK-${at(START)}-2`,
    ]);
    const taskId = first.body['taskId'] as string;
    await settle(taskId, 'DAY_1_COMPLETE');
    // Stopped while it waits for day 2 (the execution's record says so once its session has suspended).
    await vi.waitFor(async () => expect((await ms.workflows.get(taskId)).status).toBe('waiting'));
    expect(await ms.workflows.stop(taskId)).toMatchObject({ status: 'stopped' });
    expect(await getTask(taskId)).toMatchObject({
      status: 'FAILED',
      currentDay: 1,
      progress: { completedDays: 1, steps: [{ day: 1 }] },
      error: { code: 'E_EXECUTION_STOPPED' },
    });
    expect(await call('DELETE', '/tasks')).toMatchObject({ body: { deletedCount: 2 } });
  });
});
