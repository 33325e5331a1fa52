// Workflows end to end on both backends, in fake time: steps journaled and never re-run,
// durable waits, retries with backoff, at-most-once steps, callbacks (success, failure,
// timeout, heartbeat timeout), parallel and map completion rules, child invocations,
// stop, replay and version mismatches, limits, and the bad inputs.

import { describe, expect, it, vi } from 'vitest';
import type { Mainspring } from '../../src/app.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import type { Execution } from '../../src/workflow/client.ts';
import { defineWorkflow, StepSemantics, type WorkflowDefinition } from '../../src/workflow/define.ts';
import { fakeApp, tick } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';

const SEC = 1000;
const HOUR = 3_600_000;

async function app(
  backend: BackendFixture,
  workflows: WorkflowDefinition[],
  url?: string,
  worker: { pollIntervalMs?: number } = {},
) {
  const { ms, clock } = await fakeApp(backend, { workflows, ...(url ? { url } : {}) });
  await ms.startWorker(worker);
  return { ms, clock };
}

/** Advances fake time until the execution is in one of `statuses` (real time lets the store I/O settle). */
async function until(
  ms: Mainspring,
  clock: FakeClock,
  id: string,
  statuses: readonly string[],
  { stepMs = 1000, maxMs = 30 * 86_400_000 } = {},
): Promise<Execution> {
  for (let waited = 0; ; waited += stepMs) {
    // Settle what real-time I/O is under way before reading.
    for (let i = 0; i < 50; i++) {
      const e = await ms.workflows.get(id);
      if (statuses.includes(e.status)) return e;
      await new Promise((r) => setTimeout(r, 2));
      if (i > 5 && e.status === 'waiting') break;
    }
    if (waited >= maxMs)
      throw new Error(`execution ${id} not ${statuses.join('/')} after ${maxMs} ms of fake time`);
    await tick(clock, stepMs, stepMs);
  }
}

const done = ['succeeded', 'failed', 'stopped', 'timed_out'];

/** Closes an app whose shutdown may wait on its fake clock (a grace period). */
async function close(ms: Mainspring, clock: FakeClock): Promise<void> {
  let closed = false;
  const closing = ms.close().finally(() => {
    closed = true;
  });
  while (!closed) await tick(clock, 1000, 1000);
  await closing;
}

describe.each(BACKENDS)('workflows on $name', (backend) => {
  it.skipIf(backend.skip)('journals steps, waits durably, and returns the output', async () => {
    const count: Record<string, number> = {};
    const bump = (k: string) => {
      count[k] = (count[k] ?? 0) + 1;
    };
    const wf = defineWorkflow({
      name: 'daily',
      handler: async (input: { days: number }, ctx) => {
        const collected = await ctx.step('collect', () => {
          bump('collect');
          return { records: 10 };
        });
        let total = collected.records;
        for (let d = 2; d <= input.days; d++) {
          await ctx.wait(`day-${d}`, { hours: 24 });
          total += await ctx.step(`process-${d}`, () => {
            bump(`process-${d}`);
            return d;
          });
          await ctx.progress({ day: d, total });
        }
        return { total };
      },
    });
    // Two days pass below: on SQLite every poll of a fake second is a wake-up; poll hourly.
    const { ms, clock } = await app(backend, [wf], undefined, { pollIntervalMs: HOUR });
    const started = clock.now();
    const e = await ms.workflows.start(wf, { days: 3 }, { id: 'report-1' });
    expect(e).toMatchObject({ id: 'report-1', status: 'running', created: true });
    const waiting = await until(ms, clock, 'report-1', ['waiting']);
    expect(waiting.wait).toMatchObject({ kind: 'wait', name: 'day-2' });
    expect(Date.parse(waiting.wait!.until!)).toBe(started + 24 * HOUR);
    const finished = await until(ms, clock, 'report-1', done, { stepMs: HOUR });
    expect(finished).toMatchObject({
      status: 'succeeded',
      output: { total: 15 },
      progress: { day: 3, total: 15 },
    });
    expect(count).toEqual({ collect: 1, 'process-2': 1, 'process-3': 1 });
    expect(Date.parse(finished.finishedAt!) - started).toBeGreaterThanOrEqual(48 * HOUR);
    const history = await ms.workflows.history('report-1');
    expect(history.map((h) => [h.type, h.name, h.status])).toEqual([
      ['step', 'collect', 'succeeded'],
      ['wait', 'day-2', 'succeeded'],
      ['step', 'process-2', 'succeeded'],
      ['wait', 'day-3', 'succeeded'],
      ['step', 'process-3', 'succeeded'],
    ]);
    // Idempotent on id: the stored execution comes back unchanged.
    expect(await ms.workflows.start(wf, { days: 9 }, { id: 'report-1' })).toMatchObject({
      created: false,
      input: { days: 3 },
      status: 'succeeded',
    });
  });

  it.skipIf(backend.skip)(
    'retries a failing step with backoff, waiting durably between attempts',
    async () => {
      const attempts: number[] = [];
      let clockRef: FakeClock | null = null;
      const wf = defineWorkflow({
        name: 'flaky',
        handler: async (_: unknown, ctx) =>
          ctx.step(
            'call',
            (step) => {
              attempts.push(clockRef!.now());
              if (step.attempt < 3) throw new Error(`boom ${step.attempt}`);
              return 'ok';
            },
            { retry: { maxAttempts: 3, initialDelay: '10s', backoffRate: 3, jitter: 'none' } },
          ),
      });
      const { ms, clock } = await app(backend, [wf]);
      clockRef = clock;
      const t0 = clock.now();
      await ms.workflows.start(wf, null, { id: 'f1' });
      const e = await until(ms, clock, 'f1', done, { stepMs: SEC });
      expect(e).toMatchObject({ status: 'succeeded', output: 'ok' });
      expect(attempts).toHaveLength(3);
      expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(10 * SEC);
      expect(attempts[1]! - attempts[0]!).toBeLessThan(12 * SEC);
      expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(30 * SEC);
      expect(attempts[2]! - attempts[1]!).toBeLessThan(32 * SEC);
      expect(attempts[0]! - t0).toBeLessThan(2 * SEC);
      const [op] = await ms.workflows.history('f1');
      expect(op).toMatchObject({ status: 'succeeded', attempts: 3, result: 'ok' });
    },
  );

  it.skipIf(backend.skip)('fails after the last attempt; only retryable errors are retried', async () => {
    let calls = 0;
    const wf = defineWorkflow({
      name: 'picky',
      handler: async (_: unknown, ctx) => {
        try {
          await ctx.step(
            'typed',
            () => {
              calls++;
              throw new TypeError('not retryable here');
            },
            { retry: { maxAttempts: 5, retryableErrorTypes: ['RangeError'], initialDelay: 0 } },
          );
        } catch (err) {
          return { caught: (err as Error).name, message: (err as Error).message };
        }
        return 'unreachable';
      },
    });
    const { ms, clock } = await app(backend, [wf]);
    await ms.workflows.start(wf, null, { id: 'p1' });
    const e = await until(ms, clock, 'p1', done);
    expect(e).toMatchObject({
      status: 'succeeded',
      output: { caught: 'TypeError', message: 'not retryable here' },
    });
    expect(calls).toBe(1);
  });

  it.skipIf(backend.skip)('at most once: an attempt interrupted mid-run is not run again', async () => {
    let calls = 0;
    const wf = defineWorkflow({
      name: 'charge',
      handler: async (_: unknown, ctx) =>
        ctx.step(
          'charge-card',
          () => {
            calls++;
            return 'charged';
          },
          { semantics: StepSemantics.AtMostOncePerRetry, retry: false },
        ),
    });
    // A worker that claimed the execution, journaled the attempt as started, and died.
    const { ms, clock } = await fakeApp(backend, { workflows: [wf] });
    await ms.workflows.start(wf, null, { id: 'c1' });
    const [claimed] = await ms.store.workflows.claim({ nowMs: clock.now(), leaseMs: 30 * SEC, limit: 1 });
    expect(claimed?.id).toBe('c1');
    const now = clock.now();
    const ok = await ms.store.workflows.checkpoint(
      'c1',
      claimed!.leaseToken!,
      [
        {
          executionId: 'c1',
          opId: '1',
          parentOpId: null,
          type: 'step',
          name: 'charge-card',
          status: 'started',
          attempt: 1,
          result: null,
          error: null,
          startedAtMs: now,
          finishedAtMs: null,
          wakeAtMs: null,
          heartbeatAtMs: null,
          callbackId: null,
          childId: null,
          detail: null,
          updatedAtMs: now,
        },
      ],
      {},
      now,
    );
    expect(ok).toBe(true);
    await ms.startWorker();
    const e = await until(ms, clock, 'c1', done, { stepMs: 5 * SEC });
    expect(e.status).toBe('failed');
    expect(e.error).toMatchObject({ code: 'E_STEP_INTERRUPTED' });
    expect(calls).toBe(0);
  });

  it.skipIf(backend.skip)('callbacks: success, failure, timeout and heartbeat timeout', async () => {
    const submitted: string[] = [];
    const wf = defineWorkflow({
      name: 'approval',
      handler: async (input: { mode: string }, ctx) => {
        try {
          const answer = await ctx.waitForCallback<{ approved: boolean }>(
            'approve',
            (callbackId) => {
              submitted.push(callbackId);
            },
            { timeout: '1h', ...(input.mode === 'hb' ? { heartbeatTimeout: '5m' } : {}) },
          );
          return { answer };
        } catch (err) {
          return { error: (err as Error & { code?: string }).code ?? (err as Error).message };
        }
      },
    });
    const { ms, clock } = await app(backend, [wf]);
    const cb = async (id: string, mode: string) => {
      await ms.workflows.start(wf, { mode }, { id });
      const w = await until(ms, clock, id, ['waiting']);
      expect(w.wait).toMatchObject({ kind: 'callback', name: 'approve' });
      return w.wait!.callbackId!;
    };
    const ok = await cb('a-ok', 'ok');
    expect(submitted).toContain(ok);
    await ms.workflows.succeedCallback(ok, { approved: true });
    expect(await until(ms, clock, 'a-ok', done)).toMatchObject({ output: { answer: { approved: true } } });
    await expect(ms.workflows.succeedCallback(ok, { approved: false })).rejects.toMatchObject({
      code: 'E_CALLBACK_CLOSED',
    });

    const bad = await cb('a-bad', 'ok');
    await ms.workflows.failCallback(bad, { message: 'rejected by Alice' });
    expect(await until(ms, clock, 'a-bad', done)).toMatchObject({ output: { error: 'rejected by Alice' } });

    await cb('a-late', 'ok');
    expect(await until(ms, clock, 'a-late', done, { stepMs: 10 * 60 * SEC })).toMatchObject({
      output: { error: 'E_CALLBACK_TIMED_OUT' },
    });

    const hb = await cb('a-hb', 'hb');
    for (let i = 0; i < 3; i++) {
      await tick(clock, 4 * 60 * SEC, 60 * SEC);
      await ms.workflows.heartbeatCallback(hb);
    }
    expect((await ms.workflows.get('a-hb')).status).toBe('waiting');
    expect(await until(ms, clock, 'a-hb', done, { stepMs: 60 * SEC })).toMatchObject({
      output: { error: 'E_CALLBACK_TIMED_OUT' },
    });

    await expect(ms.workflows.succeedCallback('no-such-callback', 1)).rejects.toMatchObject({
      code: 'E_CALLBACK_NOT_FOUND',
    });
  });

  it.skipIf(backend.skip)('parallel and map: completion rules and batch results', async () => {
    const ran: string[] = [];
    const wf = defineWorkflow({
      name: 'fan-out',
      handler: async (_: unknown, ctx) => {
        const all = await ctx.parallel('all', [
          async (c) => c.step('a', () => 1),
          async (c) =>
            c.step(
              'b',
              () => {
                throw new Error('b failed');
              },
              { retry: false },
            ),
          { name: 'c', func: async (c) => c.step('c', () => 3) },
        ]);
        const min = await ctx.map(
          'first-two',
          [1, 2, 3, 4, 5],
          async (c, n) => {
            await c.wait('stagger', { seconds: n * 10 });
            return c.step('square', () => {
              ran.push(`sq${n}`);
              return n * n;
            });
          },
          { minSuccessful: 2 },
        );
        const tolerant = await ctx.map(
          'tolerant',
          [1, 2, 3, 4],
          async (c, n) =>
            c.step(
              'check',
              () => {
                if (n % 2 === 0) throw new Error(`even ${n}`);
                return n;
              },
              { retry: false },
            ),
          { maxConcurrency: 1, toleratedFailureCount: 0 },
        );
        return {
          all: [all.completionReason, all.successCount, all.failureCount, all.getResults()],
          min: [min.completionReason, min.getResults(), min.all.map((i) => i.status)],
          tolerant: [
            tolerant.completionReason,
            tolerant.all.map((i) => i.status),
            tolerant.getErrors()[0]?.message,
          ],
        };
      },
    });
    const { ms, clock } = await app(backend, [wf]);
    await ms.workflows.start(wf, null, { id: 'fan' });
    const e = await until(ms, clock, 'fan', done, { stepMs: 5 * SEC });
    expect(e.output).toEqual({
      all: ['ALL_COMPLETED', 2, 1, [1, 3]],
      min: ['MIN_SUCCESSFUL_REACHED', [1, 4], ['SUCCEEDED', 'SUCCEEDED', 'STARTED', 'STARTED', 'STARTED']],
      tolerant: [
        'FAILURE_TOLERANCE_EXCEEDED',
        ['SUCCEEDED', 'FAILED', 'NOT_STARTED', 'NOT_STARTED'],
        'even 2',
      ],
    });
    // Branches cut off by minSuccessful start nothing further.
    expect(ran.sort()).toEqual(['sq1', 'sq2']);
  });

  it.skipIf(backend.skip)('invokes a child workflow and waits for its output or failure', async () => {
    const child = defineWorkflow({
      name: 'child',
      handler: async (input: { n: number }, ctx) => {
        await ctx.wait('think', '1h');
        if (input.n < 0) throw new Error('negative');
        return ctx.step('double', () => input.n * 2);
      },
    });
    const parent = defineWorkflow({
      name: 'parent',
      handler: async (_: unknown, ctx) => {
        const a = await ctx.invoke('first', child, { n: 21 });
        let b: string;
        try {
          await ctx.invoke('second', 'child', { n: -1 });
          b = 'no error';
        } catch (err) {
          b = (err as Error).message;
        }
        return { a, b };
      },
    });
    const { ms, clock } = await app(backend, [parent, child]);
    await ms.workflows.start(parent, null, { id: 'p' });
    const e = await until(ms, clock, 'p', done, { stepMs: 10 * 60 * SEC });
    expect(e).toMatchObject({ status: 'succeeded', output: { a: 42, b: 'negative' } });
    const kids = await ms.workflows.list({ workflow: 'child' });
    expect(kids.executions.map((k) => [k.parentId, k.status]).sort()).toEqual([
      ['p', 'failed'],
      ['p', 'succeeded'],
    ]);
  });

  it.skipIf(backend.skip)(
    'stop: a waiting execution stops at once; a running step sees its signal',
    async () => {
      let aborted = false;
      const wf = defineWorkflow({
        name: 'stoppable',
        handler: async (input: { mode: string }, ctx) => {
          if (input.mode === 'wait') await ctx.wait('long', '7d');
          await ctx.step(
            'slow',
            (step) =>
              new Promise((resolve) => {
                step.signal.addEventListener('abort', () => {
                  aborted = true;
                  resolve('aborted');
                });
              }),
          );
          await ctx.step('after', () => 'never');
          return 'done';
        },
      });
      const { ms, clock } = await app(backend, [wf]);
      await ms.workflows.start(wf, { mode: 'wait' }, { id: 's-wait' });
      await until(ms, clock, 's-wait', ['waiting']);
      expect(await ms.workflows.stop('s-wait')).toMatchObject({
        status: 'stopped',
        error: { code: 'E_EXECUTION_STOPPED' },
      });

      await ms.workflows.start(wf, { mode: 'run' }, { id: 's-run' });
      await new Promise((r) => setTimeout(r, 200));
      expect((await ms.workflows.get('s-run')).status).toBe('running');
      await ms.workflows.stop('s-run');
      const e = await until(ms, clock, 's-run', done);
      expect(e.status).toBe('stopped');
      expect(aborted).toBe(true);
      expect((await ms.workflows.history('s-run')).map((h) => h.name)).not.toContain('after');
      await ms.workflows.delete('s-run');
      await expect(ms.workflows.get('s-run')).rejects.toMatchObject({ code: 'E_EXECUTION_NOT_FOUND' });
    },
  );

  it.skipIf(backend.skip)(
    'a replay that diverges from the journal fails, naming both operations',
    async () => {
      const url = backend.freshUrl();
      const v1 = defineWorkflow({
        name: 'order',
        handler: async (_: unknown, ctx) => {
          await ctx.step('reserve', () => 'r');
          await ctx.wait('cool-off', '1h');
          return 'v1';
        },
      });
      const first = await app(backend, [v1], url);
      await first.ms.workflows.start(v1, null, { id: 'o1' });
      await until(first.ms, first.clock, 'o1', ['waiting']);
      await close(first.ms, first.clock);

      const changed = defineWorkflow({
        name: 'order',
        handler: async (_: unknown, ctx) => {
          await ctx.step('charge', () => 'c');
          return 'v2';
        },
      });
      const second = await app(backend, [changed], url);
      second.clock.set(first.clock.now());
      const e = await until(second.ms, second.clock, 'o1', done, { stepMs: 10 * 60 * SEC });
      expect(e.status).toBe('failed');
      expect(e.error?.code).toBe('E_WORKFLOW_NONDETERMINISM');
      expect(e.error?.message).toContain('step "reserve"');
      expect(e.error?.message).toContain('step "charge"');
    },
  );

  it.skipIf(backend.skip)('resuming under another version fails unless declared compatible', async () => {
    const url = backend.freshUrl();
    const body = async (input: { hours: number }, ctx: Parameters<WorkflowDefinition['handler']>[1]) => {
      await ctx.wait('w', { hours: input.hours });
      return 'resumed';
    };
    const v1 = defineWorkflow({ name: 'ver', version: 1, handler: body });
    const first = await app(backend, [v1], url);
    await first.ms.workflows.start(v1, { hours: 1 }, { id: 'x1' });
    // Still waiting when version 2 has come and gone.
    await first.ms.workflows.start(v1, { hours: 5 }, { id: 'x2' });
    await until(first.ms, first.clock, 'x1', ['waiting']);
    await until(first.ms, first.clock, 'x2', ['waiting']);
    await close(first.ms, first.clock);

    const v2 = defineWorkflow({ name: 'ver', version: 2, handler: body });
    const second = await app(backend, [v2], url);
    second.clock.set(first.clock.now());
    const e = await until(second.ms, second.clock, 'x1', done, { stepMs: 10 * 60 * SEC });
    expect(e.error?.code).toBe('E_WORKFLOW_VERSION');
    expect(e.error?.message).toContain('"1"');
    expect(e.error?.message).toContain('"2"');
    expect((await second.ms.workflows.get('x2')).status).toBe('waiting');
    await close(second.ms, second.clock);

    const v3 = defineWorkflow({ name: 'ver', version: 3, compatibleVersions: [1], handler: body });
    const third = await app(backend, [v3], url);
    third.clock.set(second.clock.now());
    expect(await until(third.ms, third.clock, 'x2', done, { stepMs: 10 * 60 * SEC })).toMatchObject({
      status: 'succeeded',
      output: 'resumed',
    });
  });

  it.skipIf(backend.skip)('a schedule with a workflow target starts one execution per tick', async () => {
    const wf = defineWorkflow({
      name: 'nightly',
      handler: async (input: { region: string }, ctx) => ctx.step('run', () => `done ${input.region}`),
    });
    const { ms, clock } = await app(backend, [wf]);
    await expect(
      ms.schedules.create({
        name: 'bad',
        expression: 'rate(1 hour)',
        target: { kind: 'workflow', workflow: 'nope' },
      }),
    ).rejects.toMatchObject({ code: 'E_SCHEDULE_INVALID', details: { field: 'target.workflow' } });
    await ms.schedules.create({
      name: 'hourly',
      expression: 'cron(0 * * * ? *)',
      target: { kind: 'workflow', workflow: 'nightly' },
      payload: { region: 'eu' },
    });
    await ms.startScheduler();
    await tick(clock, 2 * HOUR + 60 * SEC, 30 * SEC);
    // The 12:00 tick is due before the clock stops; its start may still be in real-time I/O.
    const listed = async () =>
      (await ms.workflows.list({ workflow: 'nightly' })).executions.map((e) => e.id).sort();
    await vi.waitFor(async () => expect((await listed()).length).toBeGreaterThanOrEqual(2), {
      timeout: 10_000,
      interval: 10,
    });
    const ids = await listed();
    expect(ids).toEqual(['hourly:2026-01-05T11:00:00.000Z', 'hourly:2026-01-05T12:00:00.000Z']);
    for (const id of ids) {
      expect(await until(ms, clock, id, done)).toMatchObject({ status: 'succeeded', output: 'done eu' });
    }
  });

  it.skipIf(backend.skip)('waitForEvent resumes on the first matching event put, or times out', async () => {
    const wf = defineWorkflow({
      name: 'shipping',
      handler: async (input: { orderId: number }, ctx) => {
        try {
          const event = await ctx.waitForEvent<{ detail: { orderId: number; carrier: string } }>(
            'shipped',
            {
              source: ['app.orders'],
              'detail-type': ['Order Shipped'],
              detail: { orderId: [input.orderId] },
            },
            { timeout: '2d' },
          );
          return { carrier: event.detail.carrier };
        } catch (err) {
          return { error: (err as { code?: string }).code };
        }
      },
    });
    // Two days pass below: on SQLite every poll of a fake second is a wake-up; poll hourly.
    const { ms, clock } = await app(backend, [wf], undefined, { pollIntervalMs: HOUR });
    await ms.workflows.start(wf, { orderId: 7 }, { id: 'ship-7' });
    await ms.workflows.start(wf, { orderId: 8 }, { id: 'ship-8' });
    await until(ms, clock, 'ship-7', ['waiting']);
    await until(ms, clock, 'ship-8', ['waiting']);
    const put = (orderId: number, carrier: string) =>
      ms.events.put([{ source: 'app.orders', detailType: 'Order Shipped', detail: { orderId, carrier } }]);
    await put(9, 'nobody');
    await put(7, 'DHL');
    expect(await until(ms, clock, 'ship-7', done)).toMatchObject({
      status: 'succeeded',
      output: { carrier: 'DHL' },
    });
    expect((await ms.workflows.get('ship-8')).status).toBe('waiting');
    expect(await until(ms, clock, 'ship-8', done, { stepMs: HOUR })).toMatchObject({
      output: { error: 'E_EVENT_WAIT_TIMED_OUT' },
    });
  });

  it.skipIf(backend.skip)(
    'waitForCondition polls durably; a finished child context is not replayed',
    async () => {
      const checks: number[] = [];
      const inner: string[] = [];
      let clockRef: FakeClock | null = null;
      const wf = defineWorkflow({
        name: 'poller',
        handler: async (_: unknown, ctx) => {
          const grouped = await ctx.runInChildContext('setup', async (c) => {
            const a = await c.step('a', () => {
              inner.push('a');
              return 2;
            });
            return a + (await c.step('b', () => 3));
          });
          const final = await ctx.waitForCondition(
            'until-ready',
            (state: { polls: number }) => {
              checks.push(clockRef!.now());
              return { polls: state.polls + 1 };
            },
            {
              initialState: { polls: 0 },
              waitStrategy: (state) =>
                state.polls >= 3 ? { shouldContinue: false } : { shouldContinue: true, delay: '5m' },
            },
          );
          return { grouped, polls: final.polls };
        },
      });
      const { ms, clock } = await app(backend, [wf]);
      clockRef = clock;
      await ms.workflows.start(wf, null, { id: 'poll' });
      const e = await until(ms, clock, 'poll', done, { stepMs: 60 * SEC });
      expect(e.output).toEqual({ grouped: 5, polls: 3 });
      expect(checks).toHaveLength(3);
      expect(checks[1]! - checks[0]!).toBeGreaterThanOrEqual(5 * 60 * SEC);
      expect(checks[2]! - checks[1]!).toBeGreaterThanOrEqual(5 * 60 * SEC);
      // Replayed twice after waits; the group's steps ran once.
      expect(inner).toEqual(['a']);
      const history = await ms.workflows.history('poll');
      expect(history.filter((h) => h.parentId === '1').map((h) => h.name)).toEqual(['a', 'b']);
      expect(history.find((h) => h.id === '2')).toMatchObject({
        type: 'condition',
        name: 'until-ready',
        result: { polls: 3 },
      });
    },
  );

  it.skipIf(backend.skip)(
    'an execution journaling more than 25,000 operations fails with E_WORKFLOW_LIMIT',
    async () => {
      const wf = defineWorkflow({
        name: 'huge',
        handler: async (_: unknown, ctx) => {
          // 12,501 branches of two operations each (the branch and its step), written in few transactions.
          const items = Array.from({ length: 12_501 }, (_, i) => i);
          await ctx.map('all', items, async (c, i) => c.step('s', () => i));
          return 'fits';
        },
      });
      const { ms, clock } = await app(backend, [wf]);
      await ms.workflows.start(wf, null, { id: 'huge' });
      const e = await until(ms, clock, 'huge', done, { stepMs: 60 * SEC });
      expect(e.status).toBe('failed');
      expect(e.error).toMatchObject({ code: 'E_WORKFLOW_LIMIT' });
      expect(e.error?.message).toContain('25000');
      expect(e.operations).toBeLessThanOrEqual(25_000);
    },
    120_000,
  );

  it.skipIf(backend.skip)(
    'retention deletes finished executions and their journals, never live ones',
    async () => {
      const wf = defineWorkflow({
        name: 'kept',
        handler: async (input: { days: number }, ctx) => {
          await ctx.step('s', () => 1);
          if (input.days > 0) await ctx.wait('w', { days: input.days });
          return 'ok';
        },
      });
      const { ms, clock } = await fakeApp(backend, { workflows: [wf], runRetention: '30d' });
      await ms.startWorker();
      await ms.workflows.start(wf, { days: 0 }, { id: 'old-done' });
      await ms.workflows.start(wf, { days: 300 }, { id: 'old-waiting' });
      await until(ms, clock, 'old-done', done);
      await until(ms, clock, 'old-waiting', ['waiting']);
      clock.set(clock.now() + 31 * 86_400_000);
      await ms.workflows.start(wf, { days: 0 }, { id: 'recent' });
      await until(ms, clock, 'recent', done);
      await tick(clock, 2 * HOUR, 10 * 60 * SEC);
      await expect(ms.workflows.get('old-done')).rejects.toMatchObject({ code: 'E_EXECUTION_NOT_FOUND' });
      expect(await ms.store.workflows.ops('old-done')).toEqual([]);
      expect((await ms.workflows.get('old-waiting')).status).toBe('waiting');
      expect((await ms.workflows.get('recent')).status).toBe('succeeded');
    },
  );

  it.skipIf(backend.skip)('bad input: clear errors, nothing stored changes', async () => {
    const wf = defineWorkflow({
      name: 'strict',
      handler: async (input: { case: string }, ctx) => {
        try {
          if (input.case === 'dup') {
            await ctx.step('same', () => 1);
            await ctx.step('same', () => 2);
          }
          if (input.case === 'negative') await ctx.wait(-5);
          if (input.case === 'unparseable') await ctx.wait('soon');
          if (input.case === 'year') await ctx.wait({ days: 400 });
          if (input.case === 'big') await ctx.step('big', () => 'x'.repeat(300_000));
        } catch (err) {
          return { code: (err as { code?: string }).code, message: (err as Error).message };
        }
        return 'no error';
      },
    });
    const { ms, clock } = await app(backend, [wf]);
    const outcomes: Record<string, unknown> = {};
    for (const c of ['dup', 'negative', 'unparseable', 'year', 'big']) {
      await ms.workflows.start(wf, { case: c }, { id: `bad-${c}` });
      outcomes[c] = (await until(ms, clock, `bad-${c}`, done)).output;
    }
    expect(outcomes).toMatchObject({
      dup: { code: 'E_WORKFLOW_INVALID' },
      negative: { code: 'E_WORKFLOW_INVALID' },
      unparseable: { code: 'E_WORKFLOW_INVALID' },
      year: { code: 'E_WORKFLOW_LIMIT' },
      big: { code: 'E_WORKFLOW_LIMIT' },
    });
    expect((outcomes['dup'] as { message: string }).message).toContain('"same" is used twice');
    // The duplicate was refused before anything was journaled for it.
    expect((await ms.workflows.history('bad-dup')).map((h) => h.name)).toEqual(['same']);

    await expect(ms.workflows.start('nope', {})).rejects.toMatchObject({ code: 'E_WORKFLOW_NOT_FOUND' });
    await expect(ms.workflows.start('strict', { n: 10n })).rejects.toMatchObject({
      code: 'E_WORKFLOW_INVALID',
    });
    await expect(ms.workflows.start('strict', {}, { id: 'has space' })).rejects.toMatchObject({
      code: 'E_WORKFLOW_INVALID',
    });
    await expect(ms.workflows.get('missing')).rejects.toMatchObject({ code: 'E_EXECUTION_NOT_FOUND' });
    const before = await ms.workflows.list();
    await expect(ms.workflows.start('nope', {}, { id: 'z' })).rejects.toThrow();
    expect((await ms.workflows.list()).executions).toHaveLength(before.executions.length);
    // A callback for a finished execution is refused and the journal stays as it was.
    const cbWf = await ms.workflows.history('bad-dup');
    await expect(
      ms.workflows.heartbeatCallback('00000000-0000-0000-0000-000000000000'),
    ).rejects.toMatchObject({
      code: 'E_CALLBACK_NOT_FOUND',
    });
    expect(await ms.workflows.history('bad-dup')).toEqual(cbWf);
    expect(() => defineWorkflow({ name: 'bad name!', handler: async () => 1 })).toThrow(/name/);
  });
});
