// The run history of a message across dead-lettering and redrive, on both backends:
// every attempt is a run of its own, with its own log lines, numbered on from the
// attempts before (issue 16). Time moves only with the fake clock.

import { describe, expect, it, vi } from 'vitest';
import type { Mainspring } from '../../src/app.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction, fromQueue, type RecordRuns } from '../../src/runtime/function.ts';
import type { Run } from '../../src/runtime/runs.ts';
import { fakeApp, recordEvents, tickUntil } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

describe.each(BACKENDS)('runs of redriven messages on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  /** A function on a queue with maxReceiveCount 2 and a DLQ, failing its first `failures` attempts. */
  async function flakyApp(failures: number, record?: RecordRuns) {
    const dlq = defineQueue({ name: 'jobs-dlq' });
    const jobs = defineQueue({
      name: 'jobs',
      maxReceiveCount: 2,
      deadLetterQueue: dlq,
      retry: { backoff: 'fixed', base: '1s', jitter: false },
    });
    let calls = 0;
    const fn = defineFunction({
      name: 'work',
      triggers: [fromQueue(jobs)],
      ...(record ? { record } : {}),
      handler: (_body: unknown, ctx) => {
        calls++;
        ctx.log.info({ receiveCount: ctx.message?.receiveCount }, `attempt ${ctx.run.attempt}`);
        if (calls <= failures) throw new Error(`call ${calls} failed`);
        return { call: calls };
      },
    });
    const { ms, clock } = await fakeApp(backend, { queues: [jobs, dlq], functions: [fn] });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    return { ms, clock, events, worker };
  }

  /** The function's runs, oldest first, once `n` of them are stored with their log lines. */
  async function runsOf(ms: Mainspring, n: number): Promise<Run[]> {
    await vi.waitFor(
      async () => {
        const { runs } = await ms.runs.list({ function: 'work' });
        expect(runs).toHaveLength(n);
        expect(runs.every((r) => r.status !== 'running' && r.logCount === 1)).toBe(true);
      },
      { timeout: 10_000, interval: 5 },
    );
    return (await ms.runs.list({ function: 'work' })).runs.reverse();
  }

  async function expectOneLineEach(ms: Mainspring, runs: readonly Run[]) {
    for (const run of runs) {
      const lines = await ms.runs.logs(run.id);
      expect(lines.map((l) => l.msg)).toEqual([`attempt ${run.attempt}`]);
    }
  }

  it_('keeps every attempt before and after a redrive as its own run with its own logs', async () => {
    const { ms, clock, events } = await flakyApp(2);
    const id = await ms.queues.send('jobs', { n: 1 });
    await tickUntil(clock, () => events.ids('message:dead').length === 1);
    expect(await ms.queues.redrive('jobs')).toBe(1);
    await tickUntil(clock, () => events.ids('message:acked').length === 1);

    const runs = await runsOf(ms, 3);
    expect(new Set(runs.map((r) => r.id)).size).toBe(3);
    expect(new Set(runs.map((r) => r.invocationId)).size).toBe(1);
    expect(runs.map((r) => [r.attempt, r.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'succeeded'],
    ]);
    expect(runs.map((r) => r.trigger)).toEqual(
      Array(3).fill({ kind: 'queue', queue: 'jobs', messageIds: [id] }),
    );
    expect(runs[2]!.result).toEqual({ call: 3 });
    await expectOneLineEach(ms, runs);
    // A redriven message gets maxReceiveCount receives again, as in SQS.
    expect((await ms.runs.logs(runs[2]!.id))[0]!.fields).toEqual({ receiveCount: 1 });
  });

  it_('keeps counting attempts across two redrives', async () => {
    const { ms, clock, events } = await flakyApp(4);
    await ms.queues.send('jobs', { n: 1 });
    await tickUntil(clock, () => events.ids('message:dead').length === 1);
    expect(await ms.queues.redrive('jobs')).toBe(1);
    await tickUntil(clock, () => events.ids('message:dead').length === 2);
    expect(await ms.queues.redrive('jobs')).toBe(1);
    await tickUntil(clock, () => events.ids('message:acked').length === 1);

    const runs = await runsOf(ms, 5);
    expect(new Set(runs.map((r) => r.id)).size).toBe(5);
    expect(runs.map((r) => [r.attempt, r.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
      [4, 'failed'],
      [5, 'succeeded'],
    ]);
    expect(runs.map((r) => r.error?.message ?? null)).toEqual([
      'call 1 failed',
      'call 2 failed',
      'call 3 failed',
      'call 4 failed',
      null,
    ]);
    await expectOneLineEach(ms, runs);
  });

  it_('keeps only the failed attempts with record: failures, and none with record: none', async () => {
    const failures = await flakyApp(2, 'failures');
    await failures.ms.queues.send('jobs', { n: 1 });
    await tickUntil(failures.clock, () => failures.events.ids('message:dead').length === 1);
    expect(await failures.ms.queues.redrive('jobs')).toBe(1);
    await tickUntil(failures.clock, () => failures.events.ids('message:acked').length === 1);
    const runs = await runsOf(failures.ms, 2);
    expect(runs.map((r) => [r.attempt, r.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
    ]);
    await expectOneLineEach(failures.ms, runs);
    // Stopping waits for every record queued: the success left none.
    await failures.worker.stop();
    expect((await failures.ms.runs.list({ function: 'work' })).runs).toHaveLength(2);

    const none = await flakyApp(1, 'none');
    await none.ms.queues.send('jobs', { n: 1 });
    await tickUntil(none.clock, () => none.events.ids('message:acked').length === 1);
    expect(none.events.ids('message:failed')).toHaveLength(1);
    await none.worker.stop();
    expect((await none.ms.runs.list({ function: 'work' })).runs).toEqual([]);
  });

  it_('gives a function on the dead-letter queue runs of its own, apart from the source’s', async () => {
    const dlq = defineQueue({ name: 'jobs-dlq' });
    const jobs = defineQueue({ name: 'jobs', maxReceiveCount: 1, deadLetterQueue: dlq });
    const failing = defineFunction({
      name: 'work',
      triggers: [fromQueue(jobs)],
      handler: () => {
        throw new Error('down');
      },
    });
    const triage = defineFunction({
      name: 'triage',
      triggers: [fromQueue(dlq)],
      handler: (_b: unknown, ctx) => ({ attempt: ctx.run.attempt }),
    });
    const { ms } = await fakeApp(backend, { queues: [jobs, dlq], functions: [failing, triage] });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    await ms.queues.send(jobs, { n: 1 });
    await events.until('message:acked', 1);
    await vi.waitFor(
      async () => {
        expect((await ms.runs.list({ function: 'work' })).runs.map((r) => r.status)).toEqual(['failed']);
        expect((await ms.runs.list({ function: 'triage' })).runs.map((r) => r.status)).toEqual(['succeeded']);
      },
      { timeout: 10_000, interval: 5 },
    );
    const [work] = (await ms.runs.list({ function: 'work' })).runs;
    const [seen] = (await ms.runs.list({ function: 'triage' })).runs;
    expect(seen!.id).not.toBe(work!.id);
    expect(seen!.attempt).toBeGreaterThan(work!.attempt);
  });
});
