// PostgreSQL connections cut in the middle of store operations (pg_terminate_backend, as an
// administrator, a restart or a failover does), on a disposable cluster. Each operation is
// held mid-statement by a lock another session takes, every session is terminated, and the
// operation must reject like any failed query — never an unhandled 'error' event, which
// ends the process — and the same operation must work again on fresh connections.

import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newRunId, type RunWrite, runIdPrefix } from '../../src/store/run-row.ts';
import type { NewScheduleRow } from '../../src/store/schedule-row.ts';
import type { NewMessage, Store } from '../../src/store/types.ts';
import { BACKENDS, REQUIRE_PG } from '../helpers/backends.ts';
import { PG_CLUSTER_UNAVAILABLE, PgCluster } from '../helpers/pg-cluster.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const skip = PG_CLUSTER_UNAVAILABLE !== undefined && !REQUIRE_PG;
const postgres = BACKENDS.find((b) => b.name === 'postgres')!;

let cluster: PgCluster;
let schemaN = 0;

// What the process would have died of: an 'error' event nobody listened to.
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  if (!skip) cluster = await PgCluster.create();
  // initdb on a busy CI machine may take a while.
}, 60_000);
afterEach(() => {
  expect(uncaught.splice(0).map(String)).toEqual([]);
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await cluster?.destroy();
});

async function openStore(): Promise<Store> {
  return postgres.open({ url: cluster.url(`faults_${++schemaN}`) });
}

async function admin(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: cluster.url() });
  // The blocker is terminated along with everyone else.
  c.on('error', () => {});
  await c.connect();
  return c;
}

/**
 * Runs `op` while `lock` (SQL run in an open transaction of another session) holds it up,
 * terminates every session once `op` waits on that lock, and returns how `op` settled.
 */
async function cutMidway<T>(store: Store, lock: string, op: () => Promise<T>) {
  const blocker = await admin();
  await blocker.query(`SET search_path = ${(store as { schema?: string }).schema}`);
  await blocker.query('BEGIN');
  await blocker.query(lock);
  const settled = op().then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({ ok: false as const, err: err as Error }),
  );
  const watcher = await admin();
  try {
    for (let i = 0; ; i++) {
      const { rows } = await watcher.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE wait_event_type = 'Lock' AND application_name = 'mainspring'`,
      );
      if (rows[0]!.n > 0) break;
      if (i > 2000) throw new Error('the operation never waited on the lock');
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await watcher.end();
  }
  // The store's sessions go first, and are gone, while the lock still holds them: were the
  // blocker terminated with them, its lock could pass to the operation, which on a busy
  // machine may finish its statement before its own termination lands.
  const killer = await admin();
  try {
    const { rows } = await killer.query<{ pid: number }>(
      `WITH store AS MATERIALIZED (SELECT pid FROM pg_stat_activity
          WHERE application_name = 'mainspring' AND pid <> pg_backend_pid())
       SELECT pid FROM store WHERE pg_terminate_backend(pid)`,
    );
    const pids = rows.map((r) => r.pid);
    expect(pids.length).toBeGreaterThan(0);
    for (let i = 0; ; i++) {
      const left = await killer.query('SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1::int[])', [pids]);
      if (left.rowCount === 0) break;
      if (i > 2000) throw new Error('terminated sessions did not end');
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await killer.end();
  }
  await cluster.terminateAll();
  await blocker.end().catch(() => {});
  return settled;
}

function message(body: string, dedupKey: string | null = null): NewMessage {
  return { body, priority: 0, visibleAtMs: T0, groupId: null, dedupKey };
}

function run(id = newRunId(T0)): RunWrite {
  return {
    id,
    functionName: 'f',
    invocationId: id,
    attempt: 1,
    status: 'succeeded',
    triggerKind: 'manual',
    trigger: '{"kind":"manual"}',
    input: null,
    scheduledForMs: null,
    createdAtMs: T0,
    startedAtMs: T0,
    finishedAtMs: T0 + 1,
    result: null,
    error: null,
    owner: null,
    logCount: 0,
  };
}

function schedule(name: string): NewScheduleRow {
  return {
    name,
    spec: `{"expression":"rate(1 minute)","name":"${name}"}`,
    source: 'config',
    enabled: true,
    createdAtMs: T0,
    updatedAtMs: T0,
    nextTickMs: T0,
    dueAtMs: T0,
    lastTickMs: null,
    lastFiredAtMs: null,
    lastInvocationId: null,
  };
}

describe.skipIf(skip)('PostgreSQL connections terminated mid-operation', () => {
  it('queues: a deduplicated send, a receive and an ack reject, then work again', async () => {
    const store = await openStore();
    await store.queues.upsertQueue('jobs', '{}', T0);

    const send = await cutMidway(store, 'LOCK TABLE queue_dedup IN EXCLUSIVE MODE', () =>
      store.queues.send('jobs', [message('a', 'k1')], T0, 60_000),
    );
    expect(send.ok).toBe(false);
    const [sent] = await store.queues.send('jobs', [message('a', 'k1')], T0, 60_000);
    expect(sent!.deduplicated).toBe(false);

    const claim = () =>
      store.queues.claim('jobs', { limit: 10, nowMs: T0, dueByMs: T0, visibilityMs: 30_000, fifo: false });
    const cut = await cutMidway(store, 'LOCK TABLE messages IN EXCLUSIVE MODE', claim);
    expect(cut.ok).toBe(false);
    const [claimed] = await claim();
    expect(claimed!.id).toBe(sent!.id);

    const receipt = { id: claimed!.id, receiveCount: claimed!.receiveCount };
    const ack = await cutMidway(store, 'LOCK TABLE messages IN EXCLUSIVE MODE', () =>
      store.queues.ack([receipt]),
    );
    expect(ack.ok).toBe(false);
    expect(await store.queues.ack([receipt])).toEqual([claimed!.id]);
  });

  it('runs: a batch of queue run records rejects, then is written', async () => {
    const store = await openStore();
    // One source object, as a consumer has: the store remembers its stored id by it.
    const source = { functionName: 'f', queue: 'jobs', rule: null, owner: null };
    const queueRun = (messageId: number): RunWrite => {
      const invocationId = `${runIdPrefix(T0)}m${messageId.toString(36)}`;
      return { ...run(`${invocationId}-1`), invocationId, source, messageId };
    };
    // The source row is stored first (once per consumer): only the records' insert is cut.
    await store.runs.write([queueRun(9)]);
    const rows = [queueRun(1), queueRun(2)];
    const cut = await cutMidway(store, 'LOCK TABLE queue_runs IN EXCLUSIVE MODE', () =>
      store.runs.write(rows),
    );
    expect(cut.ok).toBe(false);
    await store.runs.write(rows);
    expect((await store.runs.get(rows[0]!.id))?.status).toBe('succeeded');
  });

  it('scheduler: a tick claim rejects and changes nothing, then fires', async () => {
    const store = await openStore();
    await store.scheduler.insertSchedule(schedule('nightly'));
    const fire = () =>
      store.scheduler.fire(
        { nowMs: T0, scheduleHorizonMs: T0, taskHorizonMs: T0, limit: 10 },
        (schedules) => ({
          schedules: schedules.map((s) => ({
            name: s.row.name,
            nextTickMs: T0 + 60_000,
            dueAtMs: T0 + 60_000,
            lastTickMs: T0,
            lastFiredAtMs: T0,
            lastInvocationId: 'inv-1',
          })),
          tasks: [],
          runs: [],
          messages: [],
        }),
      );
    const cut = await cutMidway(store, 'LOCK TABLE schedules IN EXCLUSIVE MODE', fire);
    expect(cut.ok).toBe(false);
    expect((await store.scheduler.getSchedule('nightly'))?.dueAtMs).toBe(T0);
    expect(await fire()).toEqual({ schedules: 1, tasks: 0 });
    expect((await store.scheduler.getSchedule('nightly'))?.dueAtMs).toBe(T0 + 60_000);
  });

  it('workflows: a step checkpoint rejects, then is journaled', async () => {
    const store = await openStore();
    const e = {
      id: 'wf-1',
      workflow: 'w',
      version: 'v1',
      input: '{}',
      parentId: null,
      parentOp: null,
      timeoutAtMs: null,
    };
    await store.workflows.start(e, T0);
    const [claimed] = await store.workflows.claim({ nowMs: T0, leaseMs: 30_000, limit: 1 });
    const op = {
      executionId: 'wf-1',
      opId: '1',
      parentOpId: null,
      type: 'step',
      name: 'charge',
      status: 'succeeded',
      attempt: 1,
      result: '{"ok":true}',
      error: null,
      startedAtMs: T0,
      finishedAtMs: T0 + 1,
      wakeAtMs: null,
      heartbeatAtMs: null,
      callbackId: null,
      childId: null,
      detail: null,
      updatedAtMs: T0 + 1,
    };
    const checkpoint = () => store.workflows.checkpoint('wf-1', claimed!.leaseToken!, [op], {}, T0 + 1);
    const cut = await cutMidway(
      store,
      `SELECT 1 FROM workflow_executions WHERE id = 'wf-1' FOR UPDATE`,
      checkpoint,
    );
    expect(cut.ok).toBe(false);
    expect(await store.workflows.ops('wf-1')).toEqual([]);
    expect(await checkpoint()).toBe(true);
    expect((await store.workflows.ops('wf-1')).map((o) => o.name)).toEqual(['charge']);
  });

  it('a restart: operations reject while the server is down, then every part works again', async () => {
    const store = await openStore();
    await store.queues.upsertQueue('jobs', '{}', T0);
    await cluster.stop('fast');
    const down = await store.queues.send('jobs', [message('x')], T0, 0).then(
      () => 'sent',
      (err: Error) => err.message,
    );
    expect(down).not.toBe('sent');
    await cluster.start();
    const [sent] = await store.queues.send('jobs', [message('x', 'k')], T0, 60_000);
    expect(sent!.id).toBeGreaterThan(0);
    await store.runs.write([run()]);
    expect(await store.scheduler.countPendingTasks()).toBe(0);
  });
});
