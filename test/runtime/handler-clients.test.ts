// Handlers send through their context on both backends: `ctx.queues` to a queue another
// function consumes (seed 001's webhook receiver), `ctx.events` to a rule's target, and
// `ctx.workflows` to start an execution. Time moves only with the fake clock.

import { describe, expect, it, vi } from 'vitest';
import type { Mainspring } from '../../src/app.ts';
import { defineRule } from '../../src/events/rules-define.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction, fromQueue } from '../../src/runtime/function.ts';
import type { Run } from '../../src/runtime/runs.ts';
import { defineWorkflow } from '../../src/workflow/define.ts';
import { fakeApp, recordEvents } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

/** Waits (real time, for store I/O) until the run has ended, and returns it. */
async function ended(ms: Mainspring, id: string): Promise<Run> {
  await vi.waitFor(async () => expect(['succeeded', 'failed']).toContain((await ms.runs.get(id)).status), {
    timeout: 10_000,
    interval: 5,
  });
  return ms.runs.get(id);
}

describe.each(BACKENDS)('handler clients on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('a webhook receiver puts a notification on a queue that a second function consumes', async () => {
    const notifications = defineQueue({ name: 'notifications' });
    const delivered: unknown[] = [];
    const receive = defineFunction({
      name: 'receive-webhook',
      handler: async (payload: { orderId: string; status: string }, ctx) => {
        const id = await ctx.queues.send(notifications, { orderId: payload.orderId, text: payload.status });
        const more = await ctx.queues.sendBatch('notifications', [
          { body: { orderId: payload.orderId, text: 'audit' } },
        ]);
        return { sent: [id, ...more] };
      },
    });
    const notify = defineFunction({
      name: 'notify',
      triggers: [fromQueue(notifications)],
      handler: (body: unknown) => void delivered.push(body),
    });
    const { ms } = await fakeApp(backend, { queues: [notifications], functions: [receive, notify] });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    const run = await ms.runs.invoke(receive, { orderId: 'o-7', status: 'shipped' });
    const done = await ended(ms, run.id);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect((done.result as { sent: string[] }).sent).toHaveLength(2);
    await vi.waitFor(() => expect(events.ids('message:acked').length).toBeGreaterThanOrEqual(3), {
      timeout: 10_000,
      interval: 5,
    });
    expect(delivered).toEqual(
      expect.arrayContaining([
        { orderId: 'o-7', text: 'shipped' },
        { orderId: 'o-7', text: 'audit' },
      ]),
    );
    expect(delivered).toHaveLength(2);
  });

  it_("an event put from a handler reaches its rule's target", async () => {
    const seen: unknown[] = [];
    const ship = defineFunction({ name: 'ship', handler: (body: unknown) => void seen.push(body) });
    const placeOrder = defineFunction({
      name: 'place-order',
      handler: async (order: { id: string; total: number }, ctx) => {
        const result = await ctx.events.put([
          { source: 'shop', detailType: 'Order Placed', detail: { id: order.id, total: order.total } },
        ]);
        return { failed: result.failedEntryCount };
      },
    });
    const rules = [
      defineRule({
        name: 'placed',
        pattern: { source: ['shop'], 'detail-type': ['Order Placed'] },
        targets: [ship],
        input: '$.detail',
      }),
    ];
    const { ms } = await fakeApp(backend, { functions: [placeOrder, ship], rules });
    await ms.startWorker();
    const run = await ms.runs.invoke(placeOrder, { id: 'o-1', total: 250 });
    const done = await ended(ms, run.id);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.result).toEqual({ failed: 0 });
    await vi.waitFor(() => expect(seen).toEqual([{ id: 'o-1', total: 250 }]), {
      timeout: 10_000,
      interval: 5,
    });
  });

  it_('a handler starts a workflow execution, which runs to its end', async () => {
    const report = defineWorkflow({
      name: 'report',
      handler: async (input: { day: string }, ctx) => {
        const rows = await ctx.step('collect', () => 3);
        return { day: input.day, rows };
      },
    });
    const kickOff = defineFunction({
      name: 'kick-off',
      handler: async (input: { day: string }, ctx) => {
        const execution = await ctx.workflows.start(report, input, { id: `report-${input.day}` });
        return { id: execution.id, created: execution.created };
      },
    });
    const { ms } = await fakeApp(backend, { functions: [kickOff], workflows: [report] });
    await ms.startWorker();
    const run = await ms.runs.invoke(kickOff, { day: '2026-01-05' });
    const done = await ended(ms, run.id);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.result).toEqual({ id: 'report-2026-01-05', created: true });
    await vi.waitFor(
      async () =>
        expect(await ms.workflows.get('report-2026-01-05')).toMatchObject({
          status: 'succeeded',
          output: { day: '2026-01-05', rows: 3 },
        }),
      { timeout: 10_000, interval: 5 },
    );
  });
});
