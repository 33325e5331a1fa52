// Flow control (issue 25) in one process on both backends, in fake time: a function's
// concurrency across its queues, overall and per key, and its rate limit (GCRA), overall and
// per key. Messages over a limit wait in their queue, unreceived; nothing is failed. The bad
// options. Pausing a function. Several processes: test/e2e/flow-limits.test.ts.

import { describe, expect, it, vi } from 'vitest';
import type { Mainspring } from '../../src/app.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction, type FunctionOptions, fromQueue } from '../../src/runtime/function.ts';
import { fakeApp, tick, tickUntil } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';

// Two receives and a message is dead: waiting for a limit must not count as one.
const jobs = defineQueue({ name: 'jobs', maxReceiveCount: 2, deadLetterQueue: 'jobs-dlq' });
const dlq = defineQueue({ name: 'jobs-dlq' });
type Job = { n: number; key: string };

/** Handlers that wait until released, recording what runs at once per key. */
function gate() {
  const running = new Map<string, number>();
  const most = new Map<string, number>();
  const started: { n: number; key: string; at: number }[] = [];
  const waiting: (() => void)[] = [];
  return {
    running,
    most,
    started,
    async run(job: Job, clock: FakeClock) {
      started.push({ n: job.n, key: job.key, at: clock.now() });
      const now = (running.get(job.key) ?? 0) + 1;
      running.set(job.key, now);
      most.set(job.key, Math.max(most.get(job.key) ?? 0, now));
      await new Promise<void>((r) => waiting.push(r));
      running.set(job.key, running.get(job.key)! - 1);
    },
    releaseAll() {
      for (const r of waiting.splice(0)) r();
    },
    get blocked() {
      return waiting.length;
    },
  };
}

async function limitedApp(
  backend: BackendFixture,
  options: Partial<FunctionOptions<Job, void>>,
  g: ReturnType<typeof gate>,
) {
  let clockRef: FakeClock | null = null;
  const fn = defineFunction<Job, void>({
    name: 'limited',
    triggers: [fromQueue(jobs, { concurrency: 20 })],
    handler: (job) => g.run(job, clockRef!),
    ...options,
  });
  const { ms, clock } = await fakeApp(backend, { queues: [jobs, dlq], functions: [fn] });
  clockRef = clock;
  await ms.startWorker({ pollIntervalMs: 100 });
  return { ms, clock, fn };
}

async function send(ms: Mainspring, keys: string[]): Promise<void> {
  await ms.queues.sendBatch(
    jobs,
    keys.map((key, n) => ({ body: { n, key } })),
  );
}

describe.each(BACKENDS)('flow limits on $name', (backend: BackendFixture) => {
  const it_ = it.skipIf(backend.skip);

  it_('a keyed concurrency limit holds per key while other keys run; nothing is failed', async () => {
    const g = gate();
    const { ms, clock } = await limitedApp(
      backend,
      { concurrency: { limit: 2, key: (job: Job) => job.key } },
      g,
    );
    await send(ms, [...Array(8).fill('a'), 'b', 'b', 'b', 'c']);
    // a: 2 of 8, b: 2 of 3, c: 1.
    await vi.waitFor(() => expect(g.blocked).toBe(5), { timeout: 10_000, interval: 5 });
    await tick(clock, 3000, 100);
    expect(g.blocked).toBe(5);
    expect(Object.fromEntries(g.running)).toEqual({ a: 2, b: 2, c: 1 });
    const stats = await ms.queues.stats('jobs');
    // Those of a and b the claims turned back are known to wait for a slot; the rest are unread.
    expect(stats.counts).toMatchObject({ inFlight: 5, visible: 7 });
    expect(stats.counts.waitingForSlot).toBeGreaterThanOrEqual(1);
    expect(stats.counts.waitingForSlot).toBeLessThanOrEqual(7);
    // Release round by round: each key keeps to 2 at once until all 12 ran once.
    for (let round = 0; round < 6 && g.started.length < 12; round++) {
      g.releaseAll();
      await tickUntil(clock, () => g.blocked > 0, { stepMs: 50 });
      await tick(clock, 300, 100);
    }
    g.releaseAll();
    await vi.waitFor(
      async () => expect((await ms.queues.stats('jobs')).counts).toMatchObject({ visible: 0, inFlight: 0 }),
      {
        timeout: 10_000,
        interval: 20,
      },
    );
    expect(Object.fromEntries(g.most)).toEqual({ a: 2, b: 2, c: 1 });
    expect(g.started.map((s) => s.n).sort((x, y) => x - y)).toEqual([...Array(12).keys()]);
    // Waiting for a slot is not a receive: no message went near its maxReceiveCount.
    expect((await ms.queues.stats('jobs')).counts.dead).toBe(0);
  });

  it_('an overall limit counts the function’s invocations and queue messages together', async () => {
    const g = gate();
    const { ms, clock, fn } = await limitedApp(backend, { concurrency: { limit: 3 } }, g);
    await send(ms, ['x', 'x']);
    await ms.runs.invoke(fn, { n: 100, key: 'inv' });
    await ms.runs.invoke(fn, { n: 101, key: 'inv' });
    await vi.waitFor(() => expect(g.blocked).toBe(3), { timeout: 10_000, interval: 5 });
    await tick(clock, 2000, 100);
    expect(g.blocked).toBe(3);
    g.releaseAll();
    await tickUntil(clock, () => g.started.length === 4, { stepMs: 50 });
    g.releaseAll();
    expect(Math.max(...[...g.most.values()])).toBeLessThanOrEqual(3);
  });

  it_('a rate limit spaces starts evenly and holds messages back, not fails them', async () => {
    const g = gate();
    const { ms, clock } = await limitedApp(backend, { rateLimit: { limit: 10, period: '1s' } }, g);
    await send(ms, Array(35).fill('k'));
    const t0 = clock.now();
    // An overall rate limit leaves what it holds back unread: visible, not yet keyed.
    for (let i = 0; i < 60 && g.started.length < 35; i++) {
      g.releaseAll();
      await tick(clock, 100, 25);
    }
    g.releaseAll();
    expect(g.started).toHaveLength(35);
    // Tokens come 100 ms apart: the k-th start is no earlier than k tokens in (a handler may
    // start later than its token, while its claim's I/O is under way and the fake clock moves).
    const at = g.started.map((s) => s.at - t0).sort((x, y) => x - y);
    for (const [k, t] of at.entries()) expect(t).toBeGreaterThanOrEqual(k * 100);
    expect((await ms.queues.stats('jobs')).counts.dead).toBe(0);
  });

  it_('a keyed rate limit with a burst: each key its own tokens', async () => {
    const g = gate();
    const { ms, clock } = await limitedApp(
      backend,
      { rateLimit: { limit: 2, period: '1s', burst: 2, key: (job: Job) => job.key } },
      g,
    );
    const t0 = clock.now();
    await send(ms, ['a', 'a', 'a', 'a', 'b', 'b']);
    await vi.waitFor(() => expect(g.started).toHaveLength(4), { timeout: 10_000, interval: 5 });
    // a's other two wait for their tokens, due later: held back by the rate limit.
    await vi.waitFor(
      async () =>
        expect((await ms.queues.stats('jobs')).counts).toMatchObject({ rateLimited: 2, delayed: 2 }),
      { timeout: 10_000, interval: 10 },
    );
    // A burst of 2 per key at once; a's third waits for its next token, half a second on.
    expect(g.started.map((s) => s.key).sort()).toEqual(['a', 'a', 'b', 'b']);
    g.releaseAll();
    for (let i = 0; i < 40 && g.started.length < 6; i++) {
      g.releaseAll();
      await tick(clock, 100, 25);
    }
    g.releaseAll();
    const a = g.started
      .filter((s) => s.key === 'a')
      .map((s) => s.at - t0)
      .sort((x, y) => x - y);
    expect(a).toHaveLength(4);
    // Each later one no earlier than its token: half a second apart.
    expect(a[2]).toBeGreaterThanOrEqual(500);
    expect(a[3]).toBeGreaterThanOrEqual(1000);
  });
});

describe('bad flow options name the field and the fix', () => {
  const handler = () => {};
  const cases: [string, Partial<FunctionOptions<unknown, unknown>>, RegExp][] = [
    [
      'concurrency.limit',
      { concurrency: { limit: 0 } },
      /concurrency\.limit is 0; use a whole number from 1/,
    ],
    ['concurrency.limit', { concurrency: {} as never }, /concurrency\.limit is missing/],
    [
      'concurrency.key',
      { concurrency: { limit: 2, key: 'customerId' as never } },
      /concurrency\.key must be a function of the input/,
    ],
    [
      'rateLimit',
      { rateLimit: 10 as never },
      /rateLimit must be an object such as \{ limit: 10, period: '1s' \}/,
    ],
    ['rateLimit.period', { rateLimit: { limit: 10, period: 'soon' } }, /rateLimit\.period/],
    ['rateLimit.limit', { rateLimit: { limit: 10_000, period: '1s' } }, /more than one a millisecond/],
    [
      'rateLimit.burst',
      { rateLimit: { limit: 5, period: '1s', burst: 6 } },
      /rateLimit\.burst is 6; use a whole number from 1 to 5/,
    ],
    [
      'rateLimit.key',
      { concurrency: { limit: 1, key: () => 'a' }, rateLimit: { limit: 1, period: '1s', key: () => 'b' } },
      /pass the same function to both/,
    ],
  ];
  it.each(cases)('%s', (field, options, message) => {
    let error: unknown;
    try {
      defineFunction({ name: 'f', handler, ...options });
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'E_FUNCTION_INVALID', details: { field } });
    expect((error as Error).message).toMatch(message);
  });

  const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;
  it('a FIFO queue or a keyed limit over batches is refused when the worker starts', async () => {
    const fifo = defineQueue({ name: 'ordered.fifo', fifo: true });
    const a = defineFunction({
      name: 'a',
      concurrency: { limit: 2 },
      triggers: [fromQueue(fifo)],
      handler,
    });
    const first = await fakeApp(sqlite, { queues: [fifo], functions: [a] });
    await expect(first.ms.startWorker()).rejects.toMatchObject({
      code: 'E_FUNCTION_INVALID',
      message: expect.stringMatching(/queue "ordered.fifo" is FIFO/),
    });
    const b = defineFunction({
      name: 'b',
      rateLimit: { limit: 1, period: '1s', key: (x: { k: string }) => x.k },
      triggers: [fromQueue(jobs, { batchSize: 10 })],
      handler,
    });
    const second = await fakeApp(sqlite, { queues: [jobs, dlq], functions: [b] });
    await expect(second.ms.startWorker()).rejects.toMatchObject({
      code: 'E_FUNCTION_INVALID',
      message: expect.stringMatching(/use batchSize 1 or a limit without key/),
    });
  });
});

describe.each(BACKENDS)('pausing a function on $name', (backend: BackendFixture) => {
  it.skipIf(backend.skip)(
    'stops its invocations and queue messages alike; its work waits, stored, and runs on resume',
    async () => {
      const seen: number[] = [];
      const fn = defineFunction({
        name: 'work',
        triggers: [fromQueue(jobs)],
        handler: (input: { n: number }) => {
          seen.push(input.n);
        },
      });
      const other = defineFunction({ name: 'other', triggers: [], handler: () => 'ran' });
      const { ms, clock } = await fakeApp(backend, { queues: [jobs, dlq], functions: [fn, other] });
      await ms.startWorker({ pollIntervalMs: 100 });
      const state = await ms.runs.pauseFunction('work');
      expect(state).toEqual({ name: 'work', paused: true, pausedAt: new Date(clock.now()) });
      expect(await ms.runs.pauseFunction(fn)).toEqual(state);
      expect(await ms.runs.pausedFunctions()).toEqual(new Map([['work', state.pausedAt]]));

      await ms.queues.send(jobs, { n: 1 });
      const run = await ms.runs.invoke(fn, { n: 2 });
      const elsewhere = await ms.runs.invoke(other, null);
      await tick(clock, 3000, 100);
      expect(seen).toEqual([]);
      expect((await ms.queues.stats('jobs')).counts).toMatchObject({ visible: 1, inFlight: 0 });
      expect((await ms.runs.get(run.id)).status).toBe('queued');
      // Another function runs as usual.
      await vi.waitFor(async () => expect((await ms.runs.get(elsewhere.id)).status).toBe('succeeded'), {
        timeout: 10_000,
        interval: 10,
      });

      expect(await ms.runs.resumeFunction('work')).toEqual({ name: 'work', paused: false, pausedAt: null });
      await tickUntil(clock, () => seen.length === 2, { stepMs: 100 });
      expect(seen.sort()).toEqual([1, 2]);
      expect(await ms.runs.pausedFunctions()).toEqual(new Map());
      await expect(ms.runs.pauseFunction('nope')).rejects.toMatchObject({
        code: 'E_FUNCTION_NOT_FOUND',
        message: expect.stringContaining('no function named "nope"'),
      });
    },
  );
});
