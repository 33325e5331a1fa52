// Task upserts, workflow starts and event puts in the caller's own PostgreSQL transaction
// (issue 25; sends are in transactional-send.test.ts): each exists if and only if the caller
// commits, and is acted on after the commit. The fake clock never moves unless a test moves
// it, so work done without moving it was woken by the commit's NOTIFY, not by a poll. Last,
// postgres.js: the four calls inside sql.begin through fromPostgresJs.

import type pg from 'pg';
import postgresJs from 'postgres';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineRule } from '../../src/events/rules-define.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction, fromQueue } from '../../src/runtime/function.ts';
import { fromPostgresJs } from '../../src/store/sql-client.ts';
import type { SqlClient } from '../../src/store/types.ts';
import { defineWorkflow } from '../../src/workflow/define.ts';
import { fakeApp, tickUntil } from '../helpers/app.ts';
import { BACKENDS, freshSchemaName, ownPgClient, PG_URL, pgUrlWithSchema } from '../helpers/backends.ts';

const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;
const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

const pgjs: postgresJs.Sql[] = [];
afterEach(async () => {
  for (const s of pgjs.splice(0)) await s.end().catch(() => {});
});

const audit = defineQueue({ name: 'audit' });
const orderPlaced = { source: 'shop', detailType: 'Order Placed', detail: { orderId: 42 } };

/** What the app's handlers saw: task payloads, audit messages, workflow inputs. */
interface Seen {
  reminders: unknown[];
  audited: unknown[];
  fulfilled: unknown[];
}

/**
 * An app with a task action (`remind`), a rule routing shop events to the `audit` queue and a
 * function on it, a workflow (`fulfil`) and one waiting for an order's shipment (`ship`).
 */
async function txApp(backend = postgres) {
  const seen: Seen = { reminders: [], audited: [], fulfilled: [] };
  const remind = defineFunction({ name: 'remind', handler: (p: unknown) => void seen.reminders.push(p) });
  const onAudit = defineFunction({
    name: 'on-audit',
    triggers: [fromQueue(audit)],
    handler: (body: unknown) => void seen.audited.push(body),
  });
  const fulfil = defineWorkflow({
    name: 'fulfil',
    handler: async (input: { orderId: number }, ctx) => {
      await ctx.step('pack', () => void seen.fulfilled.push(input));
      return { packed: input.orderId };
    },
  });
  const ship = defineWorkflow({
    name: 'ship',
    handler: async (input: { orderId: number }, ctx) => {
      const e = await ctx.waitForEvent<{ detail: { carrier: string } }>('shipped', {
        source: ['shop'],
        'detail-type': ['Order Shipped'],
        detail: { orderId: [input.orderId] },
      });
      return { carrier: e.detail.carrier };
    },
  });
  const rules = [defineRule({ name: 'shop-audit', pattern: { source: ['shop'] }, targets: [audit] })];
  const schema = freshSchemaName();
  const { ms, clock } = await fakeApp(backend, {
    ...(backend === postgres ? { url: pgUrlWithSchema(schema) } : {}),
    queues: [audit],
    functions: [remind, onAudit],
    rules,
    workflows: [fulfil, ship],
  });
  return { ms, clock, seen, fulfil, ship };
}

/** Runs `work` in a transaction of `client`, then commits or rolls back. */
async function inTransaction(client: pg.Client, end: 'COMMIT' | 'ROLLBACK', work: () => Promise<unknown>) {
  await client.query('BEGIN');
  await work();
  await client.query(end);
}

const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 10_000, interval: 5 });

describe('tasks.upsert in your own transaction on postgres', () => {
  const it_ = postgres.skip ? it.skip : it;

  it_('stores no task when the transaction rolls back', async () => {
    const { ms, clock } = await txApp();
    const client = await ownPgClient();
    await inTransaction(client, 'ROLLBACK', async () => {
      const info = await ms.tasks.upsert(
        { id: 'trial-end:1', due: new Date(clock.now()), action: 'remind', payload: 1 },
        { tx: client },
      );
      expect(info).toMatchObject({ id: 'trial-end:1', status: 'pending' });
      expect(
        await ms.tasks.upsertMany([{ id: 'other', due: new Date(clock.now()), action: 'remind' }], {
          tx: client,
        }),
      ).toBe(1);
    });
    await expect(ms.tasks.get('trial-end:1')).rejects.toMatchObject({ code: 'E_TASK_NOT_FOUND' });
    expect((await ms.tasks.list()).tasks).toEqual([]);
  });

  it_('wakes the running scheduler on commit, which fires each task when due', async () => {
    const { ms, clock, seen } = await txApp();
    await ms.startWorker();
    await ms.startScheduler();
    const client = await ownPgClient();
    await inTransaction(client, 'COMMIT', async () => {
      await ms.tasks.upsert(
        { id: 'now', due: new Date(clock.now()), action: 'remind', payload: 'now' },
        { tx: client },
      );
      await ms.tasks.upsert(
        { id: 'later', due: new Date(clock.now() + 600_000), action: 'remind', payload: 'later' },
        { tx: client },
      );
      expect((await ms.tasks.list()).tasks).toEqual([]);
    });
    // The clock has not moved: the scheduler fired 'now' because the commit woke it.
    await waitFor(() => expect(seen.reminders).toEqual(['now']));
    expect(await ms.tasks.get('later')).toMatchObject({ status: 'pending' });
    await tickUntil(clock, () => seen.reminders.length === 2, { stepMs: 5000, maxMs: 700_000 });
    expect(seen.reminders).toEqual(['now', 'later']);
    expect(await ms.tasks.get('later')).toMatchObject({ status: 'fired' });
  });

  it_('cancels the queued run of a task fired early only if the move commits', async () => {
    const { ms, clock } = await txApp();
    await ms.startScheduler();
    // Due within the scheduler's second of lookahead: fired ahead of time, its run queued.
    await ms.tasks.upsert({ id: 'soon', due: new Date(clock.now() + 500), action: 'remind' });
    let runId = '';
    await waitFor(async () => {
      const t = await ms.tasks.get('soon');
      expect(t.status).toBe('fired');
      runId = t.runId!;
    });
    const move = { id: 'soon', due: new Date(clock.now() + 3_600_000), action: 'remind' };
    const client = await ownPgClient();
    await inTransaction(client, 'ROLLBACK', () => ms.tasks.upsert(move, { tx: client }));
    expect(await ms.tasks.get('soon')).toMatchObject({ status: 'fired', runId });
    expect(await ms.runs.get(runId)).toMatchObject({ status: 'queued' });

    await inTransaction(client, 'COMMIT', () => ms.tasks.upsert(move, { tx: client }));
    expect(await ms.tasks.get('soon')).toMatchObject({ status: 'pending', runId: null });
    expect(await ms.runs.get(runId)).toMatchObject({ status: 'cancelled' });
  });
});

describe('workflows.start in your own transaction on postgres', () => {
  const it_ = postgres.skip ? it.skip : it;

  it_('stores no execution when the transaction rolls back', async () => {
    const { ms, fulfil, seen } = await txApp();
    await ms.startWorker();
    const client = await ownPgClient();
    await inTransaction(client, 'ROLLBACK', async () => {
      const e = await ms.workflows.start(fulfil, { orderId: 1 }, { id: 'order-1', tx: client });
      expect(e).toMatchObject({ id: 'order-1', status: 'running', created: true });
      // A second start of the id in the same transaction sees the first.
      const again = await ms.workflows.start(fulfil, { orderId: 1 }, { id: 'order-1', tx: client });
      expect(again).toMatchObject({ id: 'order-1', created: false });
    });
    await expect(ms.workflows.get('order-1')).rejects.toMatchObject({ code: 'E_EXECUTION_NOT_FOUND' });
    expect((await ms.workflows.list()).executions).toEqual([]);
    expect(seen.fulfilled).toEqual([]);
  });

  it_('runs a committed execution, its worker woken by the commit', async () => {
    const { ms, fulfil, seen } = await txApp();
    await ms.startWorker();
    const client = await ownPgClient();
    await inTransaction(client, 'COMMIT', async () => {
      await ms.workflows.start(fulfil, { orderId: 42 }, { id: 'order-42', tx: client });
      expect((await ms.workflows.list()).executions).toEqual([]);
    });
    // The clock has not moved: the worker claimed it because the commit woke it.
    expect(await ms.workflows.wait('order-42', { pollMs: 5 })).toMatchObject({
      status: 'succeeded',
      output: { packed: 42 },
    });
    expect(seen.fulfilled).toEqual([{ orderId: 42 }]);
  });
});

describe('events.put in your own transaction on postgres', () => {
  const it_ = postgres.skip ? it.skip : it;

  it_('stores no event and routes nothing when the transaction rolls back', async () => {
    const { ms, seen } = await txApp();
    await ms.startWorker();
    const client = await ownPgClient();
    await inTransaction(client, 'ROLLBACK', async () => {
      const result = await ms.events.put([{ ...orderPlaced, id: 'evt-1' }, { source: '' }], { tx: client });
      // Checked as any put: the bad entry is refused in its place, the other stored.
      expect(result).toMatchObject({
        failedEntryCount: 1,
        entries: [{ eventId: 'evt-1' }, { errorCode: 'E_EVENT_INVALID' }],
      });
    });
    await expect(ms.events.get('evt-1')).rejects.toMatchObject({ code: 'E_EVENT_NOT_FOUND' });
    expect(await ms.events.routePending()).toBe(0);
    expect(await ms.queues.messages('audit')).toEqual([]);
    expect(seen.audited).toEqual([]);
  });

  it_(
    'routes a committed event after the commit, as any put: delivered, and a waiting workflow resumed',
    async () => {
      const { ms, seen, ship } = await txApp();
      await ms.startWorker();
      await ms.workflows.start(ship, { orderId: 42 }, { id: 'ship-42' });
      await waitFor(async () => expect((await ms.workflows.get('ship-42')).status).toBe('waiting'));
      const client = await ownPgClient();
      await inTransaction(client, 'COMMIT', async () => {
        await ms.events.put(
          [
            { ...orderPlaced, id: 'evt-42' },
            {
              source: 'shop',
              detailType: 'Order Shipped',
              detail: { orderId: 42, carrier: 'DHL' },
              id: 'evt-43',
            },
          ],
          { tx: client },
        );
        expect(await ms.queues.messages('audit')).toEqual([]);
      });
      // The clock has not moved: the bus routed them on hearing the commit.
      await waitFor(() => expect(seen.audited).toHaveLength(2));
      expect(seen.audited.map((e) => (e as { id: string }).id).sort()).toEqual(['evt-42', 'evt-43']);
      // Marked routed once its deliveries are sent, so a worker may have handled them first.
      await waitFor(async () => expect((await ms.events.get('evt-42')).routedAt).not.toBeNull());
      expect(await ms.workflows.wait('ship-42', { pollMs: 5 })).toMatchObject({
        status: 'succeeded',
        output: { carrier: 'DHL' },
      });
      // Routed exactly once: nothing is left for the sweep, and no delivery went out twice.
      expect(await ms.events.routePending()).toBe(0);
      expect(seen.audited).toHaveLength(2);
    },
  );
});

describe('a tx that is not a client on postgres', () => {
  const it_ = postgres.skip ? it.skip : it;

  it_('is refused by each call before anything is stored', async () => {
    const { ms, clock, fulfil } = await txApp();
    const tx = { query: 'SELECT 1' } as unknown as SqlClient;
    for (const attempt of [
      () => ms.tasks.upsert({ id: 't', due: new Date(clock.now()), action: 'remind' }, { tx }),
      () => ms.tasks.upsertMany([{ id: 't', due: new Date(clock.now()), action: 'remind' }], { tx }),
      () => ms.workflows.start(fulfil, { orderId: 0 }, { tx }),
      () => ms.events.put([orderPlaced], { tx }),
    ]) {
      await expect(attempt()).rejects.toMatchObject({
        code: 'E_VALIDATION',
        details: { field: 'tx' },
        message: expect.stringMatching(/tx must be a client with query\(text, values\)/),
      });
    }
    expect((await ms.tasks.list()).tasks).toEqual([]);
    expect((await ms.workflows.list()).executions).toEqual([]);
  });
});

describe('postgres.js through fromPostgresJs', () => {
  const it_ = postgres.skip ? it.skip : it;

  it_(
    'sends, upserts, starts and puts inside sql.begin: all acted on if committed, nothing if rolled back',
    async () => {
      const { ms, clock, seen, fulfil } = await txApp();
      await ms.startWorker();
      await ms.startScheduler();
      const sql = postgresJs(PG_URL, { max: 1, onnotice: () => {} });
      pgjs.push(sql);
      const all = async (tx: SqlClient, n: number) => {
        await ms.queues.send(audit, { sent: n }, { tx });
        await ms.tasks.upsert(
          { id: `task-${n}`, due: new Date(clock.now()), action: 'remind', payload: n },
          { tx },
        );
        await ms.workflows.start(fulfil, { orderId: n }, { id: `order-${n}`, tx });
        await ms.events.put([{ ...orderPlaced, id: `evt-${n}`, detail: { orderId: n } }], { tx });
      };
      await expect(
        sql.begin(async (tx) => {
          await all(fromPostgresJs(tx), 1);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      await sql.begin((tx) => all(fromPostgresJs(tx), 2));

      await waitFor(() => expect(seen.audited).toHaveLength(2));
      expect(seen.audited).toContainEqual({ sent: 2 });
      expect(seen.audited).toContainEqual(expect.objectContaining({ id: 'evt-2', detail: { orderId: 2 } }));
      await waitFor(() => expect(seen.reminders).toEqual([2]));
      expect(await ms.workflows.wait('order-2', { pollMs: 5 })).toMatchObject({ status: 'succeeded' });
      expect(seen.fulfilled).toEqual([{ orderId: 2 }]);
      await expect(ms.tasks.get('task-1')).rejects.toMatchObject({ code: 'E_TASK_NOT_FOUND' });
      await expect(ms.workflows.get('order-1')).rejects.toMatchObject({ code: 'E_EXECUTION_NOT_FOUND' });
      await expect(ms.events.get('evt-1')).rejects.toMatchObject({ code: 'E_EVENT_NOT_FOUND' });
    },
  );
});

describe('tasks, workflows and events in your own transaction on sqlite', () => {
  it('refuses tx on each call: it is PostgreSQL-only', async () => {
    const { ms, clock, fulfil } = await txApp(sqlite);
    let called = false;
    const tx = {
      query: async () => {
        called = true;
        return { rows: [] };
      },
    };
    for (const [attempt, verb] of [
      [
        () => ms.tasks.upsert({ id: 't', due: new Date(clock.now()), action: 'remind' }, { tx }),
        'upsert the task',
      ],
      [
        () => ms.tasks.upsertMany([{ id: 't', due: new Date(clock.now()), action: 'remind' }], { tx }),
        'upsert the task',
      ],
      [() => ms.workflows.start(fulfil, { orderId: 0 }, { tx }), 'start the execution'],
      [() => ms.events.put([orderPlaced], { tx }), 'put the events'],
    ] as const) {
      await expect(attempt()).rejects.toMatchObject({
        code: 'E_VALIDATION',
        details: { field: 'tx' },
        message: expect.stringMatching(
          new RegExp(`^tx is PostgreSQL-only: .*On SQLite, ${verb} after your own commit`),
        ),
      });
    }
    expect(called).toBe(false);
    expect((await ms.tasks.list()).tasks).toEqual([]);
    expect((await ms.workflows.list()).executions).toEqual([]);
  });
});
