// Runs through the public API on both backends: the record of every attempt,
// invocations and their retries, timeouts, cancellation, result checks, run logs
// and retention. Time moves only with the fake clock.

import { describe, expect, it, vi } from 'vitest';
import { NonRetryableError } from '../../src/functions/errors.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction, fromQueue } from '../../src/runtime/function.ts';
import type { Run } from '../../src/runtime/runs.ts';
import { fakeApp, recordEvents, tick, tickUntil } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

const FINAL = ['succeeded', 'failed', 'timed_out', 'cancelled'];

describe.each(BACKENDS)('runs on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  /** Waits (real time, for store I/O) until the run has the status. */
  async function until(ms: { runs: { get(id: string): Promise<Run> } }, id: string, status: string) {
    await vi.waitFor(async () => expect((await ms.runs.get(id)).status).toBe(status), {
      timeout: 10_000,
      interval: 5,
    });
    return ms.runs.get(id);
  }

  it_('records a queue-triggered run with its trigger, result and log lines', async () => {
    const jobs = defineQueue({ name: 'jobs' });
    const fn = defineFunction({
      name: 'work',
      triggers: [fromQueue(jobs)],
      handler: (body: { n: number }, ctx) => {
        ctx.log.info({ n: body.n, note: 'kept' }, 'working on it');
        return { doubled: body.n * 2, run: ctx.run.id, attempt: ctx.run.attempt };
      },
    });
    const { ms } = await fakeApp(backend, { queues: [jobs], functions: [fn] });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    const id = await ms.queues.send(jobs, { n: 21 });
    await events.until('message:acked', 1);
    await vi.waitFor(async () => expect((await ms.runs.list({ function: 'work' })).runs).toHaveLength(1));
    const [run] = (await ms.runs.list({ function: 'work' })).runs;
    expect(run).toMatchObject({
      function: 'work',
      attempt: 1,
      status: 'succeeded',
      trigger: { kind: 'queue', queue: 'jobs', messageIds: [id] },
      result: { doubled: 42, run: run!.id, attempt: 1 },
      error: null,
      durationMs: 0,
    });
    await vi.waitFor(async () => expect(await ms.runs.logs(run!.id)).toHaveLength(1));
    const [line] = await ms.runs.logs(run!.id);
    expect(line).toMatchObject({ seq: 1, level: 30, msg: 'working on it', fields: { n: 21, note: 'kept' } });
    expect((await ms.runs.get(run!.id)).logCount).toBe(1);
  });

  it_('keeps no record of queue-triggered runs when recordRuns is off', async () => {
    const jobs = defineQueue({ name: 'jobs' });
    const fn = defineFunction({ name: 'work', triggers: [fromQueue(jobs)], handler: () => 'ok' });
    const { ms } = await fakeApp(backend, { queues: [jobs], functions: [fn], recordRuns: false });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    await ms.queues.sendBatch(jobs, [{ body: 1 }, { body: 2 }]);
    await events.until('message:acked', 2);
    await worker.stop();
    expect((await ms.runs.list()).runs).toEqual([]);
  });

  it_('runs a manual invocation: queued, then running, then succeeded with the result', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const seen: unknown[] = [];
    const fn = defineFunction({
      name: 'report',
      handler: async (input: { day: number }, ctx) => {
        seen.push({ input, run: ctx.run });
        await gate;
        return { ok: input.day };
      },
    });
    const { ms } = await fakeApp(backend, { functions: [fn] });
    const queued = await ms.runs.invoke('report', { day: 3 });
    expect(queued).toMatchObject({
      status: 'queued',
      attempt: 1,
      trigger: { kind: 'manual' },
      input: { day: 3 },
    });
    await ms.startWorker();
    const running = await until(ms, queued.id, 'running');
    expect(running.startedAt).not.toBeNull();
    expect(seen).toEqual([
      {
        input: { day: 3 },
        run: {
          id: queued.id,
          invocationId: queued.invocationId,
          attempt: 1,
          trigger: { kind: 'manual' },
          scheduledFor: null,
        },
      },
    ]);
    release();
    const done = await ms.runs.wait(queued.id);
    expect(done).toMatchObject({ id: queued.id, status: 'succeeded', result: { ok: 3 } });
  });

  it_('retries a failing invocation with the function’s backoff, then fails it for good', async () => {
    const times: number[] = [];
    let now = () => 0;
    const fn = defineFunction({
      name: 'flaky',
      retry: { maxAttempts: 3, backoff: 'fixed', base: '10s', jitter: false },
      handler: (_input: unknown, ctx) => {
        times.push(now());
        throw new Error(`attempt ${ctx.run.attempt} failed`);
      },
    });
    const { ms, clock } = await fakeApp(backend, { functions: [fn] });
    now = () => clock.now();
    await ms.startWorker();
    const t0 = clock.now();
    const first = await ms.runs.invoke(fn, null);
    await until(ms, first.id, 'failed');
    const second = `${first.invocationId}-2`;
    expect(await ms.runs.get(second)).toMatchObject({ status: 'queued', attempt: 2 });
    expect((await ms.runs.get(second)).scheduledFor).toBe(new Date(t0 + 10_000).toISOString());
    await tick(clock, 9_000);
    expect(times).toEqual([t0]);
    await tickUntil(clock, () => times.length === 3, { maxMs: 30_000 });
    // Each retry starts no sooner than 10 s after the failure before it. How much later
    // depends on where the 250 ms fake-time steps fall against the store's real I/O
    // (on a loaded PostgreSQL a poll can straddle a step), so the bound above is loose.
    const gaps = [times[1]! - times[0]!, times[2]! - times[1]!];
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(10_000);
      expect(gap).toBeLessThan(11_000);
    }
    const last = await ms.runs.wait(first.id);
    expect(last).toMatchObject({ attempt: 3, status: 'failed', error: { message: 'attempt 3 failed' } });
    await tick(clock, 60_000);
    expect(times).toHaveLength(3);
  });

  it_('does not retry a NonRetryableError', async () => {
    let calls = 0;
    const fn = defineFunction({
      name: 'permanent',
      handler: () => {
        calls++;
        throw new NonRetryableError('no such order');
      },
    });
    const { ms, clock } = await fakeApp(backend, { functions: [fn] });
    await ms.startWorker();
    const run = await ms.runs.invoke(fn, {});
    await until(ms, run.id, 'failed');
    await tick(clock, 60_000);
    expect(calls).toBe(1);
    expect(await ms.runs.wait(run.id)).toMatchObject({ attempt: 1, error: { name: 'NonRetryableError' } });
  });

  it_('times out a handler that ignores its signal, fires the signal, and retries it', async () => {
    const signals: AbortSignal[] = [];
    const fn = defineFunction({
      name: 'stuck',
      timeout: '5s',
      retry: { maxAttempts: 2, backoff: 'fixed', base: '1s', jitter: false },
      handler: (_i: unknown, ctx) => {
        signals.push(ctx.signal);
        return new Promise(() => {});
      },
    });
    const { ms, clock } = await fakeApp(backend, { functions: [fn] });
    await ms.startWorker();
    const run = await ms.runs.invoke(fn, {});
    await until(ms, run.id, 'running');
    await tick(clock, 4_000);
    expect((await ms.runs.get(run.id)).status).toBe('running');
    await tickUntil(clock, () => signals[0]?.aborted === true, { maxMs: 2_000 });
    const timedOut = await until(ms, run.id, 'timed_out');
    expect(timedOut.error).toMatchObject({ code: 'E_RUN_TIMED_OUT' });
    expect(timedOut.durationMs).toBe(5_000);
    await tickUntil(clock, () => signals.length === 2, { maxMs: 5_000 });
    await tickUntil(clock, () => signals[1]!.aborted, { maxMs: 10_000 });
    const last = await ms.runs.wait(run.id);
    expect(last).toMatchObject({ attempt: 2, status: 'timed_out' });
  });

  it_('cancels a queued run: it never starts', async () => {
    let calls = 0;
    const fn = defineFunction({ name: 'never', handler: () => void calls++ });
    const other = defineFunction({ name: 'other', handler: () => 'ran' });
    const { ms } = await fakeApp(backend, { functions: [fn, other] });
    const run = await ms.runs.invoke(fn, {});
    const cancelled = await ms.runs.cancel(run.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', error: { code: 'E_RUN_CANCELLED' } });
    await ms.startWorker();
    // A later invocation of another function completing shows the worker is consuming.
    const later = await ms.runs.invoke(other, {});
    await until(ms, later.id, 'succeeded');
    await vi.waitFor(async () => {
      const stats = await ms.queues.stats('fn.never');
      expect(stats.counts.visible + stats.counts.inFlight).toBe(0);
    });
    expect(calls).toBe(0);
    expect((await ms.runs.get(run.id)).status).toBe('cancelled');
  });

  it_('cancels a running run: its signal fires, it is cancelled and not retried', async () => {
    let calls = 0;
    const fn = defineFunction({
      name: 'long',
      handler: async (_i: unknown, ctx) => {
        calls++;
        await new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        );
      },
    });
    const { ms, clock } = await fakeApp(backend, { functions: [fn] });
    await ms.startWorker();
    const run = await ms.runs.invoke(fn, {});
    await until(ms, run.id, 'running');
    const requested = await ms.runs.cancel(run.id);
    expect(requested.status).toBe('running');
    expect(requested.cancelRequestedAt).not.toBeNull();
    const done = await until(ms, run.id, 'cancelled');
    expect(done.error).toMatchObject({ code: 'E_RUN_CANCELLED' });
    await tick(clock, 60_000);
    expect(calls).toBe(1);
    expect(await ms.runs.wait(run.id)).toMatchObject({ attempt: 1, status: 'cancelled' });
  });

  it_('fails runs whose result JSON cannot hold or that is over the cap, and keeps working', async () => {
    const fn = defineFunction({
      name: 'bad-results',
      retry: { maxAttempts: 1 },
      maxResultBytes: 1024,
      handler: (kind: string) => {
        if (kind === 'bigint') return { n: 10n };
        if (kind === 'function') return { f: () => 1 };
        if (kind === 'cycle') {
          const a: Record<string, unknown> = {};
          a.self = a;
          return a;
        }
        if (kind === 'large') return 'x'.repeat(2000);
        if (kind === 'string-thrown') throw 'plain string';
        return { fine: true };
      },
    });
    const { ms } = await fakeApp(backend, { functions: [fn] });
    await ms.startWorker();
    const ids: Record<string, string> = {};
    for (const kind of ['bigint', 'function', 'cycle', 'large', 'string-thrown', 'ok']) {
      ids[kind] = (await ms.runs.invoke(fn, kind)).id;
    }
    const outcome = async (kind: string) => {
      await vi.waitFor(async () => expect(FINAL).toContain((await ms.runs.get(ids[kind]!)).status));
      return ms.runs.get(ids[kind]!);
    };
    expect(await outcome('bigint')).toMatchObject({ status: 'failed', error: { code: 'E_RESULT_INVALID' } });
    expect(await outcome('function')).toMatchObject({
      status: 'failed',
      error: { code: 'E_RESULT_INVALID' },
    });
    expect(await outcome('cycle')).toMatchObject({ status: 'failed', error: { code: 'E_RESULT_INVALID' } });
    expect(await outcome('large')).toMatchObject({ status: 'failed', error: { code: 'E_RESULT_TOO_LARGE' } });
    expect(await outcome('string-thrown')).toMatchObject({
      status: 'failed',
      error: { name: 'NonErrorThrown', message: expect.stringContaining('plain string') },
    });
    expect(await outcome('ok')).toMatchObject({ status: 'succeeded', result: { fine: true } });
  });

  it_('refuses to invoke an unknown function or input JSON cannot hold; nothing is stored', async () => {
    const fn = defineFunction({ name: 'known', handler: () => 1 });
    const { ms } = await fakeApp(backend, { functions: [fn] });
    await expect(ms.runs.invoke('unknown', {})).rejects.toMatchObject({
      code: 'E_FUNCTION_NOT_FOUND',
      message: expect.stringContaining('known'),
    });
    await expect(ms.runs.invoke('known', { n: 1n })).rejects.toMatchObject({ code: 'E_VALIDATION' });
    await expect(ms.runs.invoke('known', () => 1)).rejects.toMatchObject({ code: 'E_VALIDATION' });
    expect((await ms.runs.list()).runs).toEqual([]);
    await expect(ms.runs.get('nope')).rejects.toMatchObject({ code: 'E_RUN_NOT_FOUND' });
    await expect(ms.runs.list({ status: 'done' as never })).rejects.toMatchObject({ code: 'E_VALIDATION' });
  });

  it_('caps the log lines kept per run and says so in the log', async () => {
    const fn = defineFunction({
      name: 'chatty',
      maxLogLines: 3,
      handler: (_i: unknown, ctx) => {
        for (let i = 1; i <= 10; i++) ctx.log.info({ i }, `line ${i}`);
      },
    });
    const { ms } = await fakeApp(backend, { functions: [fn] });
    await ms.startWorker();
    const run = await ms.runs.invoke(fn, {});
    await until(ms, run.id, 'succeeded');
    await vi.waitFor(async () => expect(await ms.runs.logs(run.id)).toHaveLength(4));
    const lines = await ms.runs.logs(run.id);
    expect(lines.map((l) => l.msg)).toEqual([
      'line 1',
      'line 2',
      'line 3',
      'log cap of 3 lines reached; later lines are not kept with the run',
    ]);
  });

  it_(
    'deletes finished runs and their logs past the retention, keeping newer and unfinished ones',
    async () => {
      const fn = defineFunction({
        name: 'logged',
        handler: (input: string, ctx) => {
          ctx.log.info(input);
          return input;
        },
      });
      const waiting = defineFunction({ name: 'waiting', handler: () => 1 });
      const { ms, clock } = await fakeApp(backend, { functions: [fn, waiting], runRetention: '30d' });
      await ms.startWorker();
      const old = await ms.runs.invoke(fn, 'old');
      await until(ms, old.id, 'succeeded');
      await vi.waitFor(async () => expect(await ms.runs.logs(old.id)).toHaveLength(1));
      // Queued with no worker able to start it: a run not finished is never deleted.
      const queuedLater = await ms.runs.invoke(waiting, {}, { at: new Date(clock.now() + 90 * 86_400_000) });
      // Jump (rather than pass) the days, then let every sleeper wake once.
      clock.set(clock.now() + 20 * 86_400_000);
      await tick(clock, 1000);
      const recent = await ms.runs.invoke(fn, 'recent');
      await until(ms, recent.id, 'succeeded');
      clock.set(clock.now() + 11 * 86_400_000);
      await tick(clock, 1000);
      await vi.waitFor(async () =>
        expect(ms.runs.get(old.id)).rejects.toMatchObject({ code: 'E_RUN_NOT_FOUND' }),
      );
      expect(await ms.store.runs.logs(old.id, 0, 10)).toEqual([]);
      expect((await ms.runs.get(recent.id)).status).toBe('succeeded');
      expect((await ms.runs.get(queuedLater.id)).status).toBe('queued');
    },
  );
});
