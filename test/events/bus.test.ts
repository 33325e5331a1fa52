// The event bus on both backends: put with per-entry errors, fan-out to functions
// and queues exactly once, retries and dead letters per target, crash recovery,
// replay and retention. Time moves only with the fake clock.

import { describe, expect, it, vi } from 'vitest';
import type { BusEvent } from '../../src/events/event.ts';
import { defineRule } from '../../src/events/rules-define.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import { fakeApp, recordEvents, tick } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

const order = { source: 'shop', detailType: 'Order Placed', detail: { id: 'o-1', total: 250 } };

describe.each(BACKENDS)('event bus on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_(
    'stores valid entries, returns per-entry errors for the others, and stores nothing for them',
    async () => {
      const { ms } = await fakeApp(backend);
      const result = await ms.events.put([
        order,
        { source: 'shop', detail: {} },
        { source: 'shop', detailType: 'X', detail: '{not json' },
        { source: 'shop', detailType: 'X', detail: { big: 'x'.repeat(256 * 1024) } },
        { source: 'shop', detailType: 'X', detail: {}, time: 'yesterday' },
        { ...order, id: 'fixed-1', time: '2026-01-01T00:00:00Z' },
      ]);
      expect(result.failedEntryCount).toBe(4);
      expect(result.entries[0]).toEqual({ eventId: expect.any(String) });
      expect(result.entries[1]).toEqual({
        errorCode: 'E_EVENT_INVALID',
        errorMessage: expect.stringMatching(/entries\[1\]\.detailType is missing/),
      });
      expect(result.entries[2]).toMatchObject({
        errorCode: 'E_EVENT_INVALID',
        errorMessage: expect.stringMatching(/not valid JSON/),
      });
      expect(result.entries[3]).toMatchObject({ errorCode: 'E_PAYLOAD_TOO_LARGE' });
      expect(result.entries[4]).toMatchObject({
        errorMessage: expect.stringMatching(
          /time "yesterday" is not an ISO-8601 instant; give one with a zone/,
        ),
      });
      expect(result.entries[5]).toEqual({ eventId: 'fixed-1' });
      const stored = await ms.events.get('fixed-1');
      expect(stored).toMatchObject({
        source: 'shop',
        detailType: 'Order Placed',
        time: '2026-01-01T00:00:00.000Z',
      });
      // The same id again stores nothing new.
      await ms.events.put([{ ...order, id: 'fixed-1', detail: { other: true } }]);
      expect((await ms.events.get('fixed-1')).detail).toEqual({ id: 'o-1', total: 250 });
      await expect(ms.events.put([])).rejects.toMatchObject({ code: 'E_EVENT_INVALID' });
    },
  );

  it_('refuses a time without a zone, off the calendar or past year 9999, and stores none', async () => {
    const { ms } = await fakeApp(backend);
    const times: Record<string, RegExp> = {
      '2026-01-01T00:00:00': /not an ISO-8601 instant; give one with a zone/,
      '2026-01-01': /not an ISO-8601 instant/,
      '2026-02-30T00:00:00Z': /not on the calendar: month 2 of 2026 has 28 days/,
      '9999-12-31T23:59:59-14:00': /outside the years 0000–9999/,
      '+275760-09-13T00:00:00Z': /not an ISO-8601 instant/,
      '': /not an ISO-8601 instant/,
    };
    const result = await ms.events.put(
      Object.keys(times).map((time, i) => ({ ...order, id: `bad-time-${i}`, time })),
    );
    expect(result.failedEntryCount).toBe(Object.keys(times).length);
    Object.values(times).forEach((why, i) => {
      expect(result.entries[i]).toEqual({
        errorCode: 'E_EVENT_INVALID',
        errorMessage: expect.stringMatching(new RegExp(`^entries\\[${i}\\]\\.time .*${why.source}`)),
      });
    });
    for (let i = 0; i < Object.keys(times).length; i++) {
      await expect(ms.events.get(`bad-time-${i}`)).rejects.toMatchObject({ code: 'E_EVENT_NOT_FOUND' });
    }
    await expect(
      ms.events.replay({ from: '2026-02-30T00:00:00Z', to: '2026-03-05T00:00:00Z' }),
    ).rejects.toMatchObject({ code: 'E_EVENT_INVALID', details: { field: 'from' } });
  });

  it_('delivers one event matching 3 rules to all 3 targets exactly once', async () => {
    const audit = defineQueue({ name: 'audit' });
    const seen: { fn: string; body: unknown }[] = [];
    const mk = (name: string) =>
      defineFunction({ name, handler: (body: unknown) => void seen.push({ fn: name, body }) });
    const notify = mk('notify');
    const ship = mk('ship');
    const rules = [
      defineRule({ name: 'all-orders', pattern: { source: ['shop'] }, targets: [notify] }),
      defineRule({
        name: 'big-orders',
        pattern: { detail: { total: [{ numeric: ['>=', 100] }] } },
        targets: [ship],
        input: { orderId: '<$.detail.id>', note: 'order <$.detail.id> of <$.detail.total>' },
      }),
      defineRule({
        name: 'audit',
        pattern: { 'detail-type': ['Order Placed'] },
        targets: [audit],
        input: '$.detail',
      }),
      defineRule({ name: 'never', pattern: { source: ['other'] }, targets: [notify] }),
    ];
    const { ms } = await fakeApp(backend, { queues: [audit], functions: [notify], rules });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    const { entries } = await ms.events.put([order]);
    const id = (entries[0] as { eventId: string }).eventId;
    await events.until('message:acked', 2);
    // A retried fan-out (after a crash) sends nothing twice.
    await ms.events.routePending();
    expect(
      await ms.queues.sendBatch('rule.all-orders.notify', [
        { body: 'x', dedupKey: `${id}:all-orders:fn:notify` },
      ]),
    ).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.filter((s) => s.fn === 'ship')).toEqual([
      { fn: 'ship', body: { orderId: 'o-1', note: 'order o-1 of 250' } },
    ]);
    const notified = seen.filter((s) => s.fn === 'notify');
    expect(notified).toHaveLength(1);
    expect(notified[0]!.body as BusEvent).toEqual({
      id,
      source: 'shop',
      detailType: 'Order Placed',
      detail: order.detail,
      time: '2026-01-05T10:00:00.000Z',
    });
    const inAudit = await ms.queues.stats('audit');
    expect(inAudit.counts.visible).toBe(1);
    expect((await ms.events.get(id)).routedAt).toBe('2026-01-05T10:00:00.000Z');
  });

  it_('routes events a crash left unrouted, once', async () => {
    const jobs = defineQueue({ name: 'jobs' });
    const rules = [defineRule({ name: 'r', pattern: { source: ['shop'] }, targets: [jobs] })];
    const { ms } = await fakeApp(backend, { queues: [jobs], rules });
    // As if the process died after storing and before routing: store directly.
    await ms.store.events.insert(
      [{ id: 'e1', source: 'shop', detailType: 'T', detail: '{}', timeMs: 0 }],
      ms.clock.now(),
    );
    expect((await ms.events.get('e1')).routedAt).toBeNull();
    expect(await ms.events.routePending()).toBe(1);
    expect(await ms.events.routePending()).toBe(0);
    expect((await ms.queues.stats('jobs')).counts.visible).toBe(1);
  });

  it_('answers a put once stored even when routing fails; the sweep routes it later', async () => {
    const jobs = defineQueue({ name: 'jobs' });
    const rules = [defineRule({ name: 'r', pattern: { source: ['shop'] }, targets: [jobs] })];
    const { ms, clock } = await fakeApp(backend, { queues: [jobs], rules });
    const send = vi.spyOn(ms.queues, 'sendBatch').mockRejectedValueOnce(new Error('connection lost'));
    const result = await ms.events.put([{ ...order, id: 'e1' }]);
    expect(result).toEqual({ failedEntryCount: 0, entries: [{ eventId: 'e1' }] });
    send.mockRestore();
    expect((await ms.events.get('e1')).routedAt).toBeNull();
    await ms.events.start();
    expect((await ms.events.get('e1')).routedAt).not.toBeNull();
    expect((await ms.queues.stats('jobs')).counts.visible).toBe(1);
    await tick(clock, 120_000, 30_000);
    expect((await ms.queues.stats('jobs')).counts.visible).toBe(1);
    await ms.events.stop();
  });

  it_('retries a failing target and dead-letters it without blocking the others', async () => {
    let okCalls = 0;
    const attempts: number[] = [];
    const good = defineFunction({ name: 'good', handler: () => void okCalls++ });
    const bad = defineFunction({
      name: 'bad',
      handler: (_b: unknown, ctx) => {
        attempts.push(ctx.message!.receiveCount);
        throw new Error(`attempt ${ctx.message!.receiveCount}`);
      },
    });
    const rules = [
      defineRule({ name: 'r1', pattern: { source: ['shop'] }, targets: [good] }),
      defineRule({
        name: 'r2',
        pattern: { source: ['shop'] },
        targets: [bad],
        retry: { maxReceiveCount: 3, backoff: 'fixed', base: '10s', jitter: false },
      }),
    ];
    const { ms, clock } = await fakeApp(backend, { functions: [good, bad], rules });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    await ms.events.put([order]);
    await events.until('message:failed', 1);
    await events.until('message:acked', 1);
    expect(okCalls).toBe(1);
    await ms.events.put([{ ...order, detail: { id: 'o-2' } }]);
    await events.until('message:acked', 2);
    expect(okCalls).toBe(2);
    await tick(clock, 25_000);
    await events.until('message:dead', 2);
    expect(attempts).toEqual([1, 1, 2, 2, 3, 3]);
    const dead = await ms.queues.deadLetters('rule.r2.bad');
    expect(dead).toHaveLength(2);
    expect(dead[0]).toMatchObject({ queue: 'rule.r2.bad.dlq', body: { source: 'shop' } });
    expect(okCalls).toBe(2);
  });

  it_('replays a time range to every rule or one rule, marked replayed, delivered again', async () => {
    const a = defineQueue({ name: 'a' });
    const b = defineQueue({ name: 'b' });
    const rules = [
      defineRule({ name: 'to-a', pattern: { source: ['shop'] }, targets: [a] }),
      defineRule({ name: 'to-b', pattern: { source: ['shop'] }, targets: [b] }),
    ];
    const { ms } = await fakeApp(backend, { queues: [a, b], rules });
    await ms.events.put([
      { ...order, id: 'e-1', time: '2026-01-01T10:00:00Z' },
      { ...order, id: 'e-2', time: '2026-01-02T10:00:00Z' },
      { ...order, id: 'e-3', time: '2026-01-03T10:00:00Z' },
    ]);
    const r1 = await ms.events.replay({ from: '2026-01-01T00:00:00Z', to: '2026-01-03T00:00:00Z' });
    expect(r1).toMatchObject({ events: 2, deliveries: 4 });
    const r2 = await ms.events.replay({
      from: '2026-01-01T00:00:00Z',
      to: '2026-01-02T00:00:00Z',
      rule: 'to-b',
    });
    expect(r2).toMatchObject({ events: 1, deliveries: 1 });
    expect((await ms.queues.stats('a')).counts.visible).toBe(3 + 2);
    expect((await ms.queues.stats('b')).counts.visible).toBe(3 + 2 + 1);
    const replayed = (await ms.store.queues.listMessages('b', { limit: 100 })).map(
      (m) => JSON.parse(m.body) as BusEvent,
    );
    expect(replayed.map((e) => [e.id, e.replayed ?? false])).toEqual([
      ['e-1', false],
      ['e-2', false],
      ['e-3', false],
      ['e-1', true],
      ['e-2', true],
      ['e-1', true],
    ]);
    await expect(
      ms.events.replay({ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }),
    ).rejects.toMatchObject({
      code: 'E_EVENT_INVALID',
    });
    await expect(
      ms.events.replay({ from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', rule: 'nope' }),
    ).rejects.toMatchObject({
      code: 'E_RULE_INVALID',
    });
  });

  it_('deletes events past their retention', async () => {
    const { ms, clock } = await fakeApp(backend, { eventRetentionMs: 86_400_000 });
    await ms.events.put([{ ...order, id: 'old' }]);
    await clock.advance(86_400_000 + 1);
    await ms.events.put([{ ...order, id: 'new' }]);
    expect(await ms.events.sweepRetention()).toBe(1);
    await expect(ms.events.get('old')).rejects.toMatchObject({ code: 'E_EVENT_NOT_FOUND' });
    expect((await ms.events.get('new')).id).toBe('new');
  });
});

describe('defineRule', () => {
  it('names the rule in a pattern error and refuses bad targets and inputs', () => {
    expect(() => defineRule({ name: 'orders', pattern: { source: 'shop' } as never, targets: [] })).toThrow(
      /^rule "orders": pattern at source: must be an array/,
    );
    expect(() => defineRule({ name: 'orders', pattern: { source: ['shop'] }, targets: [] })).toThrow(
      /rule "orders": targets is empty/,
    );
    expect(() =>
      defineRule({ name: 'orders', pattern: { source: ['shop'] }, targets: [{ kind: 'workflow' } as never] }),
    ).toThrow(/workflow targets are not supported yet/);
    expect(() =>
      defineRule({
        name: 'orders',
        pattern: { source: ['shop'] },
        targets: [defineQueue({ name: 'q' })],
        input: 'detail',
      }),
    ).toThrow(/a JSON path starts with "\$"/);
  });
});
