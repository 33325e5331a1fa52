// Queue semantics through the public API, on both backends: what an SQS, BullMQ
// or pg-boss user expects. Time moves only with the fake clock.

import { describe, expect, it, vi } from 'vitest';
import { NonRetryableError, RetryAfterError } from '../../src/functions/errors.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { AUTO_PREFETCH_BYTES, AUTO_PREFETCH_MAX, nextPrefetch } from '../../src/queue/lease-loop.ts';
import { defineFunction, fromQueue, type QueueBatch } from '../../src/runtime/function.ts';
import { fakeApp, recordEvents, tick, tickUntil } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

describe.each(BACKENDS)('queues on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('delivers a sent message to its function once and deletes it on success', async () => {
    const jobs = defineQueue({ name: 'jobs' });
    const seen: unknown[] = [];
    const fn = defineFunction({
      name: 'work',
      triggers: [fromQueue(jobs)],
      handler: (body: unknown, ctx) => {
        seen.push({ body, id: ctx.message?.id, receiveCount: ctx.message?.receiveCount });
      },
    });
    const { ms } = await fakeApp(backend, { queues: [jobs], functions: [fn] });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    const id = await ms.queues.send(jobs, { hello: 'world' });
    await events.until('message:acked', 1);
    expect(seen).toEqual([{ body: { hello: 'world' }, id, receiveCount: 1 }]);
    expect((await ms.queues.stats('jobs')).counts).toEqual({
      visible: 0,
      inFlight: 0,
      delayed: 0,
      dead: 0,
      waitingForSlot: 0,
      rateLimited: 0,
      oldestAgeMs: null,
    });
    await expect(ms.queues.getMessage(id)).rejects.toMatchObject({ code: 'E_MESSAGE_NOT_FOUND' });
  });

  it_('redelivers a message whose lease expired, and refuses the late ack of the first handler', async () => {
    const jobs = defineQueue({ name: 'jobs', visibilityTimeout: '10s' });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const fn = defineFunction({
      name: 'slow',
      triggers: [fromQueue(jobs, { concurrency: 2 })],
      handler: async (_b: unknown, ctx) => {
        if (ctx.message!.receiveCount === 1) await gate;
      },
    });
    const { ms, clock } = await fakeApp(backend, { queues: [jobs], functions: [fn] });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    const id = await ms.queues.send(jobs, 1);
    await events.until('message:started', 1);
    const start = clock.now();
    await tick(clock, 9000);
    expect(events.ids('message:started')).toEqual([id]);
    // An expired lease is noticed by the next poll (1 s): redelivery comes within a poll of expiry.
    await tickUntil(clock, () => events.ids('message:started').length === 2, { maxMs: 5000 });
    expect(clock.now() - start).toBeGreaterThanOrEqual(10_000);
    expect(clock.now() - start).toBeLessThanOrEqual(12_000);
    await events.until('message:acked', 1);
    expect(events.ids('message:started')).toEqual([id, id]);
    release();
    await events.until('message:lease-lost', 1);
    expect(events.ids('message:acked')).toEqual([id]);
  });

  it_('keeps a message with extendVisibility (heartbeat) past its visibility timeout', async () => {
    const jobs = defineQueue({ name: 'jobs', visibilityTimeout: '10s' });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let beats = 0;
    const fn = defineFunction({
      name: 'beating',
      triggers: [fromQueue(jobs, { concurrency: 2 })],
      handler: async (_b: unknown, ctx) => {
        const timer = setInterval(() => {
          beats++;
          void ctx.extendVisibility(10);
        }, 20);
        await gate;
        clearInterval(timer);
      },
    });
    const { ms, clock } = await fakeApp(backend, { queues: [jobs], functions: [fn] });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    await ms.queues.send(jobs, 1);
    await events.until('message:started', 1);
    for (let i = 0; i < 6; i++) {
      const before = beats;
      await vi.waitFor(() => expect(beats).toBeGreaterThan(before));
      await tick(clock, 5000, 1000); // 30 s in all, three visibility timeouts
    }
    expect(events.ids('message:started')).toHaveLength(1);
    expect((await ms.queues.stats('jobs')).counts.inFlight).toBe(1);
    release();
    await events.until('message:acked', 1);
  });

  it_(
    'retries with exponential backoff, records each error, then dead-letters after maxReceiveCount',
    async () => {
      const dlq = defineQueue({ name: 'jobs-dlq' });
      const jobs = defineQueue({
        name: 'jobs',
        maxReceiveCount: 3,
        deadLetterQueue: dlq,
        retry: { backoff: 'exponential', base: '10s', max: '1m', jitter: false },
      });
      const attempts: number[] = [];
      const fn = defineFunction({
        name: 'flaky',
        triggers: [fromQueue(jobs)],
        handler: (_b: unknown, ctx) => {
          attempts.push(ctx.message!.receiveCount);
          throw new Error(`attempt ${ctx.message!.receiveCount} failed`);
        },
      });
      const { ms, clock } = await fakeApp(backend, { queues: [jobs, dlq], functions: [fn] });
      const worker = await ms.startWorker();
      const events = recordEvents(worker);
      const id = await ms.queues.send(jobs, { n: 1 });
      await events.until('message:failed', 1);
      const m1 = await ms.queues.getMessage(id);
      expect(m1.state).toBe('delayed');
      expect(m1.visibleAt.getTime() - clock.now()).toBe(10_000);
      await tick(clock, 9000);
      expect(attempts).toEqual([1]);
      const failed = () => events.ids('message:failed').length;
      expect(await tickUntil(clock, () => failed() === 2, { maxMs: 5000 })).toBeLessThan(2000);
      await tick(clock, 20_000);
      await events.until('message:dead', 1);
      expect(attempts).toEqual([1, 2, 3]);
      const dead = await ms.queues.deadLetters('jobs');
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ id, queue: 'jobs-dlq', sourceQueue: 'jobs', body: { n: 1 } });
      expect((dead[0]!.errors as { message: string }[]).map((e) => e.message)).toEqual([
        'attempt 1 failed',
        'attempt 2 failed',
        'attempt 3 failed',
      ]);
      expect((await ms.queues.stats('jobs')).counts).toMatchObject({ visible: 0, delayed: 0, dead: 1 });
    },
  );

  it_('redrives dead letters (all, or by id) back to the source queue, and purges', async () => {
    const dlq = defineQueue({ name: 'jobs-dlq' });
    const jobs = defineQueue({ name: 'jobs', maxReceiveCount: 1, deadLetterQueue: dlq });
    let failing = true;
    const handled: unknown[] = [];
    const fn = defineFunction({
      name: 'sometimes',
      triggers: [fromQueue(jobs)],
      handler: (body: unknown) => {
        if (failing) throw new Error('down');
        handled.push(body);
      },
    });
    const { ms } = await fakeApp(backend, { queues: [jobs, dlq], functions: [fn] });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    const ids = await ms.queues.sendBatch(jobs, [{ body: 'a' }, { body: 'b' }, { body: 'c' }]);
    await events.until('message:dead', 3);
    failing = false;
    expect(await ms.queues.redrive('jobs', { ids: [ids[1]!] })).toBe(1);
    await events.until('message:acked', 1);
    expect(handled).toEqual(['b']);
    expect(await ms.queues.redrive('jobs')).toBe(2);
    await events.until('message:acked', 3);
    expect(handled.sort()).toEqual(['a', 'b', 'c']);
    await worker.stop();
    await ms.queues.sendBatch(jobs, [{ body: 1 }, { body: 2, delay: '1h' }]);
    expect(await ms.queues.purge('jobs')).toBe(2);
    expect((await ms.queues.stats('jobs')).counts).toMatchObject({ visible: 0, delayed: 0 });
  });

  it_('sends a NonRetryableError straight to the DLQ and honours RetryAfterError', async () => {
    const dlq = defineQueue({ name: 'dlq' });
    const jobs = defineQueue({ name: 'jobs', maxReceiveCount: 5, deadLetterQueue: dlq });
    const fn = defineFunction({
      name: 'picky',
      triggers: [fromQueue(jobs)],
      handler: (body: string) => {
        if (body === 'bad') throw new NonRetryableError('malformed order');
        throw new RetryAfterError(42_000);
      },
    });
    const { ms, clock } = await fakeApp(backend, { queues: [jobs, dlq], functions: [fn] });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    const [bad, later] = await ms.queues.sendBatch(jobs, [{ body: 'bad' }, { body: 'later' }]);
    await events.until('message:dead', 1);
    await events.until('message:failed', 1);
    expect(events.ids('message:dead')).toEqual([bad]);
    expect((await ms.queues.getMessage(later!)).visibleAt.getTime()).toBe(clock.now() + 42_000);
  });

  it_('deduplicates a dedup key within the window, even after the first message was processed', async () => {
    const jobs = defineQueue({ name: 'jobs', dedupWindow: '5m' });
    const fn = defineFunction({ name: 'f', triggers: [fromQueue(jobs)], handler: () => {} });
    const { ms, clock } = await fakeApp(backend, { queues: [jobs], functions: [fn] });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    const first = await ms.queues.send(jobs, { v: 1 }, { dedupKey: 'order-42' });
    expect(await ms.queues.send(jobs, { v: 2 }, { dedupKey: 'order-42' })).toBe(first);
    await events.until('message:acked', 1);
    await clock.advance(4 * 60_000);
    expect(await ms.queues.send(jobs, { v: 3 }, { dedupKey: 'order-42' })).toBe(first);
    const [x, y] = await ms.queues.sendBatch(jobs, [
      { body: 'x', dedupKey: 'k2' },
      { body: 'y', dedupKey: 'k2' },
    ]);
    expect(y).toBe(x);
    const mixed = await ms.queues.sendBatch(jobs, [
      { body: 'a' },
      { body: 'b', dedupKey: 'order-42' },
      { body: 'c', dedupKey: 'n1' },
      { body: 'd', dedupKey: 'n1' },
      { body: 'e' },
    ]);
    expect(mixed[1]).toBe(first);
    expect(mixed[3]).toBe(mixed[2]);
    const fresh3 = [mixed[0]!, mixed[2]!, mixed[4]!].map(Number);
    expect(fresh3).toEqual([...fresh3].sort((p, q) => p - q)); // ids ascend in send order
    expect(new Set([...fresh3, Number(first), Number(x)]).size).toBe(5);
    await events.until('message:acked', 5);
    await clock.advance(60_001);
    const fresh = await ms.queues.send(jobs, { v: 4 }, { dedupKey: 'order-42' });
    expect(fresh).not.toBe(first);
    await events.until('message:acked', 6);
    expect(events.ids('message:started')).toHaveLength(6);
  });

  it_('delivers FIFO groups in send order, one at a time per group, groups in parallel', async () => {
    const jobs = defineQueue({ name: 'jobs', fifo: true });
    const log: string[] = [];
    const active = new Map<string, number>();
    let maxPerGroup = 0;
    let maxOverall = 0;
    const fn = defineFunction({
      name: 'ordered',
      triggers: [fromQueue(jobs, { concurrency: 6 })],
      handler: async (body: { g: string; n: number }) => {
        active.set(body.g, (active.get(body.g) ?? 0) + 1);
        maxPerGroup = Math.max(maxPerGroup, active.get(body.g)!);
        maxOverall = Math.max(
          maxOverall,
          [...active.values()].reduce((a, b) => a + b, 0),
        );
        await new Promise((r) => setTimeout(r, Math.random() * 4));
        log.push(`${body.g}${body.n}`);
        active.set(body.g, active.get(body.g)! - 1);
      },
    });
    const { ms } = await fakeApp(backend, { queues: [jobs], functions: [fn] });
    const entries = [];
    for (let n = 0; n < 15; n++)
      for (const g of ['a', 'b', 'c']) entries.push({ body: { g, n }, groupId: g });
    await ms.queues.sendBatch(jobs, entries);
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    await events.until('message:acked', 45);
    for (const g of ['a', 'b', 'c']) {
      expect(log.filter((l) => l.startsWith(g))).toEqual(Array.from({ length: 15 }, (_, n) => `${g}${n}`));
    }
    expect(maxPerGroup).toBe(1);
    expect(maxOverall).toBeGreaterThan(1);
  });

  it_('delivers higher priority first, and holds delayed messages until due', async () => {
    const jobs = defineQueue({ name: 'jobs' });
    const order: string[] = [];
    const fn = defineFunction({
      name: 'f',
      triggers: [fromQueue(jobs)],
      handler: (b: string) => {
        order.push(b);
      },
    });
    const { ms, clock } = await fakeApp(backend, { queues: [jobs], functions: [fn] });
    await ms.queues.sendBatch(jobs, [
      { body: 'low', priority: -1 },
      { body: 'normal' },
      { body: 'urgent', priority: 10 },
      { body: 'later', delay: '90d', priority: 100 },
      { body: 'high', priority: 5 },
    ]);
    expect((await ms.queues.stats('jobs')).counts).toMatchObject({ visible: 4, delayed: 1 });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    await events.until('message:acked', 4);
    expect(order).toEqual(['urgent', 'high', 'normal', 'low']);
    clock.set(clock.now() + 90 * 86_400_000 - 1000); // a jump: no need to wake pollers 7.7 million times
    await tick(clock, 500);
    expect(order).toHaveLength(4);
    // Fake time keeps moving until it lands: a poll that straddled a step on a loaded
    // store would otherwise be left waiting for a clock that no longer moves.
    expect(await tickUntil(clock, () => order.length === 5, { maxMs: 5000 })).toBeLessThan(2000);
    expect(order.at(-1)).toBe('later');
  });

  it_('reports partial batch failures: only the failed ids are retried', async () => {
    const jobs = defineQueue({ name: 'jobs', retry: { base: '5s', jitter: false } });
    const calls: string[][] = [];
    const fn = defineFunction({
      name: 'batcher',
      triggers: [fromQueue(jobs, { batchSize: 10 })],
      handler: (batch: QueueBatch<number>) => {
        calls.push(batch.records.map((r) => String(r.body)));
        return {
          batchItemFailures: batch.records
            .filter((r) => r.body % 3 === 0 && r.receiveCount === 1)
            .map((r) => ({ itemIdentifier: r.id })),
        };
      },
    });
    const { ms, clock } = await fakeApp(backend, { queues: [jobs], functions: [fn] });
    await ms.queues.sendBatch(
      jobs,
      Array.from({ length: 7 }, (_, i) => ({ body: i + 1 })),
    );
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    await events.until('message:failed', 2);
    await events.until('message:acked', 5);
    expect(calls).toEqual([['1', '2', '3', '4', '5', '6', '7']]);
    await tick(clock, 5000);
    await events.until('message:acked', 7);
    expect(calls[1]).toEqual(['3', '6']);
  });

  it_('shuts down gracefully: unstarted messages go back at once, running handlers finish', async () => {
    const jobs = defineQueue({ name: 'jobs', visibilityTimeout: '5m' });
    const gates: (() => void)[] = [];
    const fn = defineFunction({
      name: 'slow',
      triggers: [fromQueue(jobs, { concurrency: 2, prefetch: 5 })],
      handler: () => new Promise<void>((r) => gates.push(r)),
    });
    const url = backend.freshUrl();
    const { ms, clock } = await fakeApp(backend, { url, queues: [jobs], functions: [fn] });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    await ms.queues.sendBatch(
      jobs,
      Array.from({ length: 6 }, (_, i) => ({ body: i })),
    );
    await events.until('message:started', 2);
    expect((await ms.queues.stats('jobs')).counts).toMatchObject({ inFlight: 5, visible: 1 });
    const stopping = worker.stop({ graceMs: 10_000 });
    await vi.waitFor(async () =>
      expect((await ms.queues.stats('jobs')).counts).toMatchObject({ inFlight: 2, visible: 4 }),
    );
    gates.shift()!();
    await events.until('message:acked', 1);
    await tick(clock, 10_000, 1000); // the other handler overruns the grace period
    await stopping;
    expect((await ms.queues.stats('jobs')).counts).toMatchObject({ inFlight: 0, visible: 5 });
    expect(events.ids('message:started')).toHaveLength(2);
  });

  it_('a default prefetch grows with a fast handler’s backlog; a given one stays as set', async () => {
    for (const prefetch of [undefined, 1]) {
      const jobs = defineQueue({ name: 'jobs' });
      let handled = 0;
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      const fn = defineFunction({
        name: 'fast',
        triggers: [fromQueue(jobs, prefetch === undefined ? {} : { prefetch })],
        // No-op until the 150th, which waits: what is leased then is what the loop claimed ahead.
        handler: () => (++handled === 150 ? held : undefined),
      });
      const { ms } = await fakeApp(backend, { url: backend.freshUrl(), queues: [jobs], functions: [fn] });
      await ms.queues.sendBatch(
        jobs,
        Array.from({ length: 400 }, (_, i) => ({ body: i })),
      );
      const worker = await ms.startWorker();
      await vi.waitFor(() => expect(handled).toBe(150));
      const { inFlight } = (await ms.queues.stats('jobs')).counts;
      // Claims of 1, 2, 4 … 128 messages had come back full: the buffer holds the rest of one.
      if (prefetch === undefined) expect(inFlight).toBeGreaterThan(10);
      else expect(inFlight).toBe(1);
      release();
      await vi.waitFor(async () => expect((await ms.queues.stats('jobs')).counts.visible).toBe(0));
      await worker.stop();
    }
  });

  it_('refuses bad input with the field named, storing nothing', async () => {
    const dlq = defineQueue({ name: 'dlq' });
    const jobs = defineQueue({ name: 'jobs', maxBodyBytes: 1024 });
    const { ms } = await fakeApp(backend, { queues: [jobs, dlq] });
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [() => ms.queues.send('nope', 1), 'E_QUEUE_NOT_FOUND', /queue "nope" does not exist; define it/],
      [() => ms.queues.send(jobs, circular), 'E_MESSAGE_INVALID', /body is not JSON-serialisable/],
      [
        () => ms.queues.send(jobs, undefined),
        'E_MESSAGE_INVALID',
        /body is undefined, which JSON cannot hold/,
      ],
      [() => ms.queues.send(jobs, () => 1), 'E_MESSAGE_INVALID', /body is a function/],
      [
        () => ms.queues.send(jobs, { big: 'x'.repeat(2000) }),
        'E_PAYLOAD_TOO_LARGE',
        /body is \d+ bytes of JSON, over the queue's limit of 1024/,
      ],
      [() => ms.queues.send(jobs, 1, { delay: -5 }), 'E_MESSAGE_INVALID', /^delay .*non-negative/],
      [() => ms.queues.send(jobs, 1, { delay: 'soonish' }), 'E_MESSAGE_INVALID', /^delay .*"soonish"/],
      [() => ms.queues.send(jobs, 1, { priority: 1.5 }), 'E_MESSAGE_INVALID', /^priority is 1.5/],
      [
        () => ms.queues.send(jobs, 1, { groupId: 'g' }),
        'E_MESSAGE_INVALID',
        /^groupId is set, but queue "jobs" is not FIFO/,
      ],
      [
        () => ms.queues.sendBatch(jobs, [{ body: 1 }, { body: 2, delay: 'x' }]),
        'E_MESSAGE_INVALID',
        /^entries\[1\]\.delay/,
      ],
      [() => ms.queues.sendBatch(jobs, []), 'E_MESSAGE_INVALID', /entries must be a list of 1/],
    ];
    for (const [p, code, message] of cases)
      await expect(p()).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    expect((await ms.queues.stats('jobs')).counts).toMatchObject({ visible: 0, delayed: 0 });
  });
});

describe('queue definitions', () => {
  it('refuse bad settings with the field named', () => {
    expect(() => defineQueue({ name: 'a b' })).toThrow(/queue name "a b" is invalid/);
    expect(() => defineQueue({ name: 'q', deadLetterQueue: 'q', maxReceiveCount: 3 })).toThrow(
      /cannot be its own dead-letter queue/,
    );
    expect(() => defineQueue({ name: 'q', maxReceiveCount: 3 })).toThrow(
      /maxReceiveCount .*needs a deadLetterQueue/,
    );
    expect(() => defineQueue({ name: 'q', deadLetterQueue: 'd' })).toThrow(/needs maxReceiveCount/);
    expect(() => defineQueue({ name: 'q', visibilityTimeout: 'forever' })).toThrow(
      /queue "q": visibilityTimeout is "forever"/,
    );
    expect(() => defineQueue({ name: 'q', retry: { backoff: 'linear' as 'fixed' } })).toThrow(
      /retry.backoff is "linear"/,
    );
  });

  it.skipIf(BACKENDS[0]!.skip)('refuse a dead-letter queue that does not exist', async () => {
    const jobs = defineQueue({ name: 'jobs', maxReceiveCount: 2, deadLetterQueue: 'missing' });
    await expect(fakeApp(BACKENDS[0]!, { queues: [jobs] })).rejects.toMatchObject({
      code: 'E_QUEUE_INVALID',
      message: expect.stringMatching(/deadLetterQueue "missing" does not exist/),
    });
  });
});

describe('adaptive prefetch', () => {
  const p = { floor: 1, slots: 1, visibilityMs: 30_000, bodyBytes: 20 };

  it('doubles toward what the handlers get through in 100 ms, up to 4000', () => {
    expect(AUTO_PREFETCH_MAX).toBe(4000);
    expect(nextPrefetch(1, { ...p, handlerMs: 0.05 })).toBe(2);
    expect(nextPrefetch(512, { ...p, handlerMs: 0.05 })).toBe(1024);
    expect(nextPrefetch(2048, { ...p, handlerMs: 0.01 })).toBe(AUTO_PREFETCH_MAX);
    expect(nextPrefetch(16, { ...p, handlerMs: 2 })).toBe(32);
    expect(nextPrefetch(64, { ...p, handlerMs: 2 })).toBe(50);
    expect(nextPrefetch(64, { ...p, slots: 10, handlerMs: 2 })).toBe(128);
  });

  it('stays at its floor for a slow handler, and drops to it when handlers slow down', () => {
    expect(nextPrefetch(1, { ...p, handlerMs: 250 })).toBe(1);
    expect(nextPrefetch(1000, { ...p, floor: 20, slots: 20, handlerMs: 500 })).toBe(20);
  });

  it('holds no more than 16 MiB of bodies at their measured size, unless the floor is higher', () => {
    expect(AUTO_PREFETCH_BYTES).toBe(16 * 1024 * 1024);
    // 100 KB bodies: 167 fit; a fast handler would otherwise earn 4,000 (400 MB).
    expect(nextPrefetch(2048, { ...p, handlerMs: 0.01, bodyBytes: 100_000 })).toBe(167);
    // Bodies of the default largest size (256 KiB): 64.
    expect(nextPrefetch(64, { ...p, handlerMs: 0.01, bodyBytes: 256 * 1024 })).toBe(64);
    expect(nextPrefetch(64, { ...p, floor: 100, handlerMs: 0.01, bodyBytes: 256 * 1024 })).toBe(100);
  });

  it('holds no more than a tenth of a short visibility timeout of work', () => {
    expect(nextPrefetch(1000, { ...p, handlerMs: 1, visibilityMs: 200 })).toBe(20);
  });
});
