// Debounce and throttle of sends under a key (issue 25), on both backends, as users of BullMQ
// (deduplication's debounce mode), pg-boss (singletonKey + singletonSeconds) and Inngest
// (debounce, throttle) expect them. Time moves only with the fake clock.

import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Mainspring } from '../../src/app.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import { defineQueue } from '../../src/queue/define.ts';
import type { SendOptions } from '../../src/queue/queues.ts';
import { defineFunction, fromQueue } from '../../src/runtime/function.ts';
import { RunRetention } from '../../src/runtime/retention.ts';
import { fakeApp, recordEvents, tick, tickUntil } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';
import { serveApi } from '../helpers/http.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const jobs = defineQueue({ name: 'jobs' });
const other = defineQueue({ name: 'other' });
const ordered = defineQueue({ name: 'ordered', fifo: true });

/** An app whose function on `jobs` records each run's body and fake start time. */
async function appWithRuns(backend: BackendFixture, options: { url?: string } = {}) {
  const runs: { body: unknown; at: number }[] = [];
  let clock!: FakeClock;
  let hold: Promise<void> | null = null;
  const fn = defineFunction({
    name: 'work',
    triggers: [fromQueue(jobs)],
    handler: async (body: unknown) => {
      runs.push({ body, at: clock.now() });
      await hold;
    },
  });
  const app = await fakeApp(backend, { ...options, queues: [jobs, other, ordered], functions: [fn] });
  clock = app.clock;
  return {
    ...app,
    runs,
    /** Makes the next runs wait until the returned function is called. */
    holdRuns: () => {
      let release!: () => void;
      hold = new Promise((r) => {
        release = r;
      });
      return () => {
        hold = null;
        release();
      };
    },
  };
}

const stored = async (ms: Mainspring, queue = 'jobs') => ms.queues.messages(queue);

describe.each(BACKENDS)('debounce and throttle on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_(
    'debounce: three sends within the period run once, with the last body, a period after the last',
    async () => {
      const { ms, clock, runs } = await appWithRuns(backend);
      await ms.startWorker();
      const t0 = clock.now();
      const debounce = { key: 'customer-42', period: '5s' };
      const first = await ms.queues.send(jobs, { v: 1 }, { debounce });
      await tick(clock, 1000);
      expect(await ms.queues.send(jobs, { v: 2 }, { debounce })).toBe(first);
      await tick(clock, 1000);
      // The replacing body travels inside a JSON value on PostgreSQL: every character must survive.
      const last = { v: 3, text: 'quote " backslash \\ \\u0041 newline \n nul \u0000 é 🎉 \ud800' };
      expect(await ms.queues.send(jobs, last, { debounce, priority: 3 })).toBe(first);
      const [pending] = await stored(ms);
      expect(pending).toMatchObject({ id: first, body: last, priority: 3, state: 'delayed' });
      expect(pending!.visibleAt.getTime()).toBe(t0 + 7000);
      expect(pending!.sentAt.getTime()).toBe(t0); // the first send's: maxWait counts from it

      await tick(clock, 4500); // t0 + 6.5 s: still quiet
      expect(runs).toEqual([]);
      await tickUntil(clock, () => runs.length === 1);
      expect(runs[0]!.body).toEqual(last);
      expect(runs[0]!.at).toBeGreaterThanOrEqual(t0 + 7000);
      expect(runs[0]!.at).toBeLessThan(t0 + 7500);
      await tick(clock, 10_000);
      expect(runs).toHaveLength(1);
    },
  );

  it_('debounce: a send after the message started begins a new pending message', async () => {
    const { ms, clock, runs, holdRuns } = await appWithRuns(backend);
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    const release = holdRuns();
    const debounce = { key: 'k', period: '2s' };
    const first = await ms.queues.send(jobs, 'a', { debounce });
    await tickUntil(clock, () => runs.length === 1);
    const started = clock.now();
    const second = await ms.queues.send(jobs, 'b', { debounce });
    expect(second).not.toBe(first);
    expect(await ms.queues.send(jobs, 'c', { debounce })).toBe(second);
    release();
    await events.until('message:acked', 1);
    await tickUntil(clock, () => runs.length === 2);
    expect(runs.map((r) => r.body)).toEqual(['a', 'c']);
    expect(runs[1]!.at).toBeGreaterThanOrEqual(started + 2000);
    await events.until('message:acked', 2);
    // Done: the next send under the key starts a third message.
    const third = await ms.queues.send(jobs, 'd', { debounce });
    expect([first, second]).not.toContain(third);
  });

  it_('debounce: maxWait caps the push, so a constant stream still runs', async () => {
    const { ms, clock, runs } = await appWithRuns(backend);
    await ms.startWorker();
    const t0 = clock.now();
    const debounce = { key: 'k', period: '5s', maxWait: '8s' };
    const id = await ms.queues.send(jobs, 0, { debounce });
    for (const n of [1, 2]) {
      await tick(clock, 3000);
      expect(await ms.queues.send(jobs, n, { debounce })).toBe(id);
    }
    // Sends at 0, 3 and 6 s: due 5, then 8, then min(6 + 5, 0 + 8) = 8 s.
    expect((await ms.queues.getMessage(id)).visibleAt.getTime()).toBe(t0 + 8000);
    await tickUntil(clock, () => runs.length === 1);
    expect(runs[0]).toMatchObject({ body: 2 });
    expect(runs[0]!.at).toBeGreaterThanOrEqual(t0 + 8000);
    expect(runs[0]!.at).toBeLessThan(t0 + 8500);
  });

  it_('debounce: other keys, and the same key in another queue, are independent', async () => {
    const { ms, clock, runs } = await appWithRuns(backend);
    await ms.startWorker();
    const a = await ms.queues.send(jobs, 'a', { debounce: { key: 'a', period: '1s' } });
    const b = await ms.queues.send(jobs, 'b', { debounce: { key: 'b', period: '1s' } });
    const plain = await ms.queues.send(jobs, 'plain', { dedupKey: 'a' });
    const elsewhere = await ms.queues.send(other, 'other', { debounce: { key: 'a', period: '1s' } });
    expect(new Set([a, b, plain, elsewhere]).size).toBe(4);
    expect((await stored(ms, 'other')).map((m) => m.body)).toEqual(['other']);
    await tickUntil(clock, () => runs.length === 3);
    expect(runs.map((r) => r.body).sort()).toEqual(['a', 'b', 'plain']);
  });

  it_('debounce in a batch: entries under one key act as sent one after another', async () => {
    const { ms, clock } = await fakeApp(backend, { queues: [jobs] });
    const d = (key: string) => ({ debounce: { key, period: '3s' } });
    const ids = await ms.queues.sendBatch(jobs, [
      { body: 1, ...d('x') },
      { body: 2, ...d('y') },
      { body: 'plain' },
      { body: 3, ...d('x') },
      { body: 'dedup', dedupKey: 'once' },
      { body: 'dedup again', dedupKey: 'once' },
    ]);
    expect(ids[3]).toBe(ids[0]);
    expect(ids[5]).toBe(ids[4]);
    expect(new Set(ids).size).toBe(4);
    // Ids ascend in send order.
    expect([ids[0], ids[1], ids[2], ids[4]].map(Number)).toEqual(
      [ids[0], ids[1], ids[2], ids[4]].map(Number).sort((a, b) => a - b),
    );
    const messages = await stored(ms);
    expect(messages.map((m) => m.body)).toEqual([3, 2, 'plain', 'dedup']);
    expect(messages[0]!.visibleAt.getTime()).toBe(clock.now() + 3000);
    // A later batch replaces the pending message again.
    const again = await ms.queues.sendBatch(jobs, [{ body: 4, ...d('x') }]);
    expect(again).toEqual([ids[0]]);
    expect((await ms.queues.getMessage(ids[0]!)).body).toBe(4);
  });

  it_('throttle drop: sends within the period store nothing and return the accepted id', async () => {
    const { ms, clock } = await fakeApp(backend, { queues: [jobs] });
    const throttle = { key: 'account-7', period: '1m' };
    const first = await ms.queues.send(jobs, 1, { throttle });
    await tick(clock, 30_000, 10_000);
    expect(await ms.queues.send(jobs, 2, { throttle: { ...throttle, mode: 'drop' } })).toBe(first);
    expect(
      await ms.queues.sendBatch(jobs, [
        { body: 3, throttle },
        { body: 'other', throttle: { key: 'b', period: '1m' } },
      ]),
    ).toEqual([first, expect.not.stringMatching(`^${first}$`)]);
    expect((await stored(ms)).map((m) => m.body)).toEqual([1, 'other']);
    await tick(clock, 30_000, 10_000); // a period after the accepted send
    const next = await ms.queues.send(jobs, 4, { throttle });
    expect(next).not.toBe(first);
    expect((await stored(ms)).map((m) => m.body)).toEqual([1, 'other', 4]);
    // A dedup key of the same text is another namespace.
    expect(await ms.queues.send(jobs, 5, { dedupKey: 'account-7' })).not.toBe(next);
  });

  it_('throttle delay: every send kept, runs spaced by the period, in order', async () => {
    const { ms, clock, runs } = await appWithRuns(backend);
    const t0 = clock.now();
    const throttle = { key: 'k', period: '2s', mode: 'delay' } as const;
    const a = await ms.queues.send(jobs, 'a', { throttle });
    const [b, c] = await ms.queues.sendBatch(jobs, [
      { body: 'b', throttle },
      { body: 'c', throttle },
    ]);
    expect(new Set([a, b, c]).size).toBe(3);
    const due = (await stored(ms)).map((m) => m.visibleAt.getTime() - t0);
    expect(due).toEqual([0, 2000, 4000]);
    await ms.startWorker();
    await tickUntil(clock, () => runs.length === 3);
    expect(runs.map((r) => r.body)).toEqual(['a', 'b', 'c']);
    // Each no sooner than its slot: 2 s after the one before it.
    expect(runs[1]!.at - t0).toBeGreaterThanOrEqual(2000);
    expect(runs[2]!.at - t0).toBeGreaterThanOrEqual(4000);
    // Long after the last, a send is due at once again.
    await tick(clock, 10_000, 1000);
    const sentAt = clock.now();
    await ms.queues.send(jobs, 'd', { throttle });
    await tickUntil(clock, () => runs.length === 4);
    expect(runs[3]!.at - sentAt).toBeLessThan(500);
  });

  it_('refuses every bad option naming the field and the fix; nothing is stored', async () => {
    const { ms } = await fakeApp(backend, { queues: [jobs, ordered] });
    const cases: [SendOptions | Record<string, unknown>, string, RegExp][] = [
      [{ debounce: { key: '', period: '5s' } }, 'debounce.key', /1 to 128 characters/],
      [{ debounce: { key: 'x'.repeat(129), period: '5s' } }, 'debounce.key', /1 to 128/],
      [{ debounce: { key: 7, period: '5s' } }, 'debounce.key', /string/],
      [{ debounce: { key: 'k' } }, 'debounce.period', /is required/],
      [{ debounce: { key: 'k', period: 'soon' } }, 'debounce.period', /"soon"/],
      [{ debounce: { key: 'k', period: 0 } }, 'debounce.period', /1 ms to 12 hours/],
      [{ debounce: { key: 'k', period: '13h' } }, 'debounce.period', /1 ms to 12 hours/],
      [{ debounce: { key: 'k', period: '5s', maxWait: '4s' } }, 'debounce.maxWait', /from the period/],
      [{ debounce: { key: 'k', period: '5s', maxWait: '8d' } }, 'debounce.maxWait', /7 days/],
      [
        { debounce: { key: 'k', period: '5s', ttl: '1m' } },
        'debounce.ttl',
        /known fields are key, period, maxWait/,
      ],
      [{ debounce: 'k' }, 'debounce', /must be an object/],
      [{ debounce: { key: 'k', period: '5s' }, delay: '1s' }, 'delay', /drop delay/],
      [{ throttle: { key: 'k', period: '5s', mode: 'sometimes' } }, 'throttle.mode', /'drop' or 'delay'/],
      [{ throttle: { key: 'k', period: '12h 1ms' } }, 'throttle.period', /1 ms to 12 hours/],
      [
        { throttle: { key: 'k', period: '5s', maxWait: '1m' } },
        'throttle.maxWait',
        /known fields are key, period, mode/,
      ],
      [
        { debounce: { key: 'k', period: '5s' }, throttle: { key: 'k', period: '5s' } },
        'throttle',
        /cannot be combined with debounce/,
      ],
      [
        { throttle: { key: 'k', period: '5s' }, dedupKey: 'k' },
        'dedupKey',
        /cannot be combined with throttle/,
      ],
      [{ debounce: { key: 'k', period: '5s' }, dedupKey: 'k' }, 'dedupKey', /drop dedupKey/],
    ];
    for (const [options, field, message] of cases) {
      await expect(ms.queues.send(jobs, 1, options as SendOptions), field).rejects.toMatchObject({
        code: 'E_MESSAGE_INVALID',
        message: expect.stringMatching(new RegExp(`^${field.replace('.', '\\.')} .*${message.source}`)),
        details: { field },
      });
    }
    // In a batch the entry is named, and the valid entries before it are not stored either.
    await expect(
      ms.queues.sendBatch(jobs, [
        { body: 1, debounce: { key: 'k', period: '1s' } },
        { body: 2, throttle: { key: 'k', period: '1 fortnight' } },
      ]),
    ).rejects.toMatchObject({ code: 'E_MESSAGE_INVALID', details: { field: 'entries[1].throttle.period' } });
    await expect(
      ms.queues.send(ordered, 1, { groupId: 'g', debounce: { key: 'k', period: '1s' } }),
    ).rejects.toMatchObject({
      code: 'E_MESSAGE_INVALID',
      message: expect.stringMatching(/^debounce is not supported on FIFO queue "ordered"/),
      details: { field: 'debounce' },
    });
    await expect(
      ms.queues.send(ordered, 1, { groupId: 'g', throttle: { key: 'k', period: '1s' } }),
    ).rejects.toMatchObject({ details: { field: 'throttle' } });
    // With tx: PostgreSQL refuses the combination; SQLite refuses tx itself.
    const tx = { query: async () => ({ rows: [] }) };
    await expect(ms.queues.send(jobs, 1, { tx, throttle: { key: 'k', period: '1s' } })).rejects.toMatchObject(
      backend.name === 'postgres'
        ? {
            code: 'E_MESSAGE_INVALID',
            details: { field: 'throttle' },
            message: expect.stringMatching(/cannot be combined with tx/),
          }
        : { code: 'E_VALIDATION', details: { field: 'tx' } },
    );
    if (backend.name === 'postgres') {
      await expect(
        ms.queues.sendBatch(jobs, [{ body: 1 }, { body: 2, debounce: { key: 'k', period: '1s' } }], { tx }),
      ).rejects.toMatchObject({ details: { field: 'entries[1].debounce' } });
    }
    expect(await stored(ms)).toEqual([]);
    expect(await stored(ms, 'ordered')).toEqual([]);
  });

  it_('HTTP: POST /v1/queues/:name/messages takes debounce and throttle, and refuses a bad one', async () => {
    const { ms } = await fakeApp(backend, { queues: [jobs] });
    const call = await serve(ms);
    const debounce = { key: 'k', period: '5s', maxWait: '1m' };
    const first = await call('POST', '/v1/queues/jobs/messages', { body: 1, debounce });
    expect(first.status).toBe(201);
    const second = await call('POST', '/v1/queues/jobs/messages', { body: 2, debounce });
    expect(second).toEqual({ status: 201, body: { id: first.body.id } });
    const batch = await call('POST', '/v1/queues/jobs/messages/batch', {
      entries: [
        { body: 'a', throttle: { key: 't', period: '1m' } },
        { body: 'b', throttle: { key: 't', period: '1m', mode: 'drop' } },
      ],
    });
    expect(batch.status).toBe(201);
    const ids = (batch.body as { ids: string[] }).ids;
    expect(ids[1]).toBe(ids[0]);
    expect((await call('GET', `/v1/messages/${first.body.id}`)).body).toMatchObject({ body: 2 });

    const schema = await call('POST', '/v1/queues/jobs/messages', {
      body: 3,
      throttle: { key: 't', period: '1s', mode: 'sometimes' },
    });
    expect(schema.status).toBe(400);
    expect(schema.body.error).toMatchObject({
      code: 'E_VALIDATION',
      details: { field: 'body.throttle.mode' },
    });
    const engine = await call('POST', '/v1/queues/jobs/messages', {
      body: 3,
      debounce: { key: 'k', period: '13h' },
    });
    expect(engine.status).toBe(400);
    expect(engine.body.error).toMatchObject({
      code: 'E_MESSAGE_INVALID',
      details: { field: 'debounce.period' },
      message: expect.stringMatching(/1 ms to 12 hours/),
    });
    expect((await stored(ms)).map((m) => m.body)).toEqual([2, 'a']);
  });

  it_('the retention sweep deletes spent keys only; sends after it behave as they would have', async () => {
    const { ms, clock } = await fakeApp(backend, { queues: [jobs] });
    const sweep = () =>
      new RunRetention({
        store: ms.store,
        clock,
        locks: ms.locks,
        retentionMs: 30 * DAY,
        log: pino({ level: 'silent' }),
      }).sweep();
    const t0 = clock.now();
    const delay = { key: 'spaced', period: '12h', mode: 'delay' } as const;
    const first = await ms.queues.send(jobs, 'dedup', { dedupKey: 'order-1' });
    await ms.queues.send(jobs, 'drop', { throttle: { key: 'dropped', period: '1s' } });
    await ms.queues.send(jobs, 'delay', { throttle: delay });
    const pending = await ms.queues.send(jobs, 'debounce', { debounce: { key: 'quiet', period: '1s' } });
    // Within 12 h (the longest period) of their end, keys stay: a delay key spaces the next send.
    clock.set(t0 + 11 * HOUR);
    expect(await sweep()).toBe(0);
    const spaced = await ms.queues.send(jobs, 'delay-2', { throttle: delay });
    const visibleAt = async (id: string) => (await stored(ms)).find((m) => m.id === id)!.visibleAt.getTime();
    expect(await visibleAt(spaced)).toBe(t0 + 12 * HOUR);
    // The dedup, drop and delay keys are spent; the debounce key still holds a pending message.
    clock.set(t0 + 25 * HOUR);
    expect(await sweep()).toBe(3);
    expect(await sweep()).toBe(0);
    // What is gone acts as it did before it went: over; what stayed still replaces its message.
    const again = await ms.queues.send(jobs, 'dedup-2', { dedupKey: 'order-1' });
    expect(again).not.toBe(first);
    const unspaced = await ms.queues.send(jobs, 'delay-3', { throttle: delay });
    expect(await visibleAt(unspaced)).toBe(t0 + 25 * HOUR);
    expect(await ms.queues.send(jobs, 'debounce-2', { debounce: { key: 'quiet', period: '1s' } })).toBe(
      pending,
    );
  });
});

describe.skipIf(BACKENDS[1]!.skip)('debounce on postgresql across processes', () => {
  it('two apps sending 50 debounced messages under one key at once store and run exactly one', async () => {
    const pgBackend = BACKENDS[1]!;
    const url = pgBackend.freshUrl();
    const one = await appWithRuns(pgBackend, { url });
    const { ms: two } = await fakeApp(pgBackend, { url, queues: [jobs] });
    const debounce = { key: 'race', period: '2s' };
    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, n) => (n % 2 ? two : one.ms).queues.send(jobs, { n }, { debounce })),
    );
    expect(new Set(ids).size).toBe(1);
    const messages = await stored(one.ms);
    expect(messages).toHaveLength(1);
    // Sends race: the last to commit wins, one of the last few sent.
    const { n } = messages[0]!.body as { n: number };
    expect(n).toBeGreaterThanOrEqual(0);
    expect(n).toBeLessThan(50);
    await one.ms.startWorker();
    await tickUntil(one.clock, () => one.runs.length === 1);
    await tick(one.clock, 5000);
    expect(one.runs).toEqual([{ body: { n }, at: expect.any(Number) }]);
  });
});

type Reply = { id?: string; error?: { code: string; message: string; details?: { field?: string } } };

const serve = async (ms: Mainspring) => (await serveApi<Reply>(ms)).call;
