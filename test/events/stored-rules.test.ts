// Rules live in the store (issue 17, gap 2): an event put by a process that does not
// declare the rules (a producer with no config, a client) reaches the targets of the
// rules a serving process stored, exactly once; a process with no rules, or a client,
// never changes the stored rules; a config that drops a rule removes it.

import { describe, expect, it } from 'vitest';
import { createMainspring, type Mainspring } from '../../src/app.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { defineRule } from '../../src/events/rules-define.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import { fakeApp, recordEvents } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

const order = { source: 'shop', detailType: 'Order Placed', detail: { id: 'o-1', total: 250 } };

function serverApp() {
  const audit = defineQueue({ name: 'audit' });
  const seen: unknown[] = [];
  const notify = defineFunction({ name: 'notify', handler: (body: unknown) => void seen.push(body) });
  const rules = [
    defineRule({ name: 'to-audit', pattern: { source: ['shop'] }, targets: [audit], input: '$.detail' }),
    defineRule({
      name: 'to-notify',
      pattern: { 'detail-type': ['Order Placed'] },
      targets: [notify],
      input: { orderId: '<$.detail.id>' },
    }),
  ];
  return { options: { queues: [audit], functions: [notify], rules }, seen };
}

const storedNames = async (ms: Mainspring) => (await ms.store.events.rules.list()).rules.map((r) => r.name);

describe.each(BACKENDS)('stored rules on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_("routes an event put by a producer without rules to the server's targets, exactly once", async () => {
    const url = backend.freshUrl();
    const server = serverApp();
    const { ms: a } = await fakeApp(backend, { url, ...server.options });
    const worker = await a.startWorker();
    const events = recordEvents(worker);
    // The order service: its own process, serving (the default) but declaring no rules.
    const { ms: b } = await fakeApp(backend, { url });
    expect(await storedNames(b)).toEqual(['to-audit', 'to-notify']);

    const { entries } = await b.events.put([order]);
    const id = (entries[0] as { eventId: string }).eventId;
    expect((await b.events.get(id)).routedAt).not.toBeNull();
    await events.until('message:acked', 1);
    expect(server.seen).toEqual([{ orderId: 'o-1' }]);
    const audit = await a.store.queues.listMessages('audit', { limit: 10 });
    expect(audit.map((m) => JSON.parse(m.body))).toEqual([order.detail]);

    // The server's sweep finds nothing left to route: the producer routed it.
    expect(await a.events.routePending()).toBe(0);
    expect(await b.events.routePending()).toBe(0);
    expect((await a.queues.stats('audit')).counts.visible).toBe(1);
    expect((await a.queues.stats('rule.to-notify.notify')).counts).toMatchObject({ visible: 0, inFlight: 0 });
    expect(server.seen).toHaveLength(1);
  });

  it_('a producer opened before the server routes by the rules the server stored since', async () => {
    const url = backend.freshUrl();
    const { ms: producer } = await fakeApp(backend, { url });
    await producer.events.put([{ ...order, id: 'before' }]);
    const server = serverApp();
    const { ms: a } = await fakeApp(backend, { url, ...server.options });
    await producer.events.put([{ ...order, id: 'after' }]);
    const bodies = (await a.store.queues.listMessages('audit', { limit: 10 })).map((m) => JSON.parse(m.body));
    expect(bodies).toEqual([order.detail]);
    expect((await a.queues.stats('rule.to-notify.notify')).counts.visible).toBe(1);
  });

  it_('a client never stores the rules of its config, and routes by the stored ones', async () => {
    const url = backend.freshUrl();
    const server = serverApp();
    const { ms: a } = await fakeApp(backend, { url, ...server.options });
    const other = defineQueue({ name: 'other' });
    const client = await createMainspring({
      db: url,
      clock: new FakeClock('2026-01-05T10:00:00Z'),
      access: 'client',
      queues: [other],
      rules: [defineRule({ name: 'client-only', pattern: { source: ['shop'] }, targets: [other] })],
    });
    try {
      expect(await storedNames(a)).toEqual(['to-audit', 'to-notify']);
      await client.events.put([order]);
      expect((await a.queues.stats('audit')).counts.visible).toBe(1);
      expect((await a.queues.stats('rule.to-notify.notify')).counts.visible).toBe(1);
    } finally {
      await client.close();
    }
  });

  it_('a stored rule that cannot be read routes nothing; the other rules still route', async () => {
    const url = backend.freshUrl();
    const server = serverApp();
    const { ms: a } = await fakeApp(backend, { url, ...server.options });
    await a.store.events.rules.declare(
      'by-hand',
      [{ name: 'broken', pattern: '{"source": "shop"}', targets: '[]', input: null }],
      0,
    );
    await a.events.put([order]);
    expect(await a.events.storedRules()).toEqual(['to-audit', 'to-notify']);
    expect((await a.queues.stats('audit')).counts.visible).toBe(1);
  });

  it_('a config that drops a rule removes it; another config with other rules keeps its own', async () => {
    const url = backend.freshUrl();
    const server = serverApp();
    const { ms: a } = await fakeApp(backend, { url, ...server.options });
    const jobs = defineQueue({ name: 'jobs' });
    await fakeApp(backend, {
      url,
      queues: [jobs],
      rules: [defineRule({ name: 'to-jobs', pattern: { source: ['billing'] }, targets: [jobs] })],
    });
    expect(await storedNames(a)).toEqual(['to-audit', 'to-jobs', 'to-notify']);
    // The first app restarts without its function rule.
    await fakeApp(backend, { url, ...server.options, rules: [server.options.rules[0]!] });
    expect(await storedNames(a)).toEqual(['to-audit', 'to-jobs']);
    await a.events.put([order, { ...order, source: 'billing' }]);
    expect((await a.queues.stats('audit')).counts.visible).toBe(1);
    expect((await a.queues.stats('jobs')).counts.visible).toBe(1);
    expect((await a.queues.stats('rule.to-notify.notify')).counts.visible).toBe(0);
    // A rule no config speaks for any more is removed by hand.
    expect(await a.events.removeRule('to-jobs')).toBe(true);
    expect(await a.events.storedRules()).toEqual(['to-audit']);
  });
});
