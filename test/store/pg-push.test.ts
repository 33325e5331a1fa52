// Push delivery on PostgreSQL (migration 0019): an idle consumer offers itself for a queue's next
// message, and a single due message sent then is leased to it by the send and handed over in the
// send's notification, with no claim of its own. What must hold: the lease is a claim's lease
// (receive count 1, the visibility timeout, the receipt acks it); nothing is pushed where a claim
// would not take the message (paused queue or function, delayed, grouped) or the notification
// cannot carry it, nor to a consumer whose LISTEN connection is gone; a push to a consumer that
// froze is delivered again once its lease runs out; one that became busy hands it back; and
// the send commits before its WAL flush only so the consumer sees it sooner: a send that returned
// survives the server crashing at once.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMainspring } from '../../src/app.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction, fromQueue } from '../../src/runtime/function.ts';
import { MESSAGES_CHANNEL, pushedMessage } from '../../src/store/message-row.ts';
import type { PgStore } from '../../src/store/postgres/pg-store.ts';
import type { NewMessage, PushOffer, Store } from '../../src/store/types.ts';
import { BACKENDS, REQUIRE_PG } from '../helpers/backends.ts';
import { PG_CLUSTER_UNAVAILABLE, PgCluster } from '../helpers/pg-cluster.ts';

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;
const it_ = postgres.skip ? it.skip : it;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const APP = fileURLToPath(new URL('../../src/app.ts', import.meta.url));
const DEFINE_QUEUE = fileURLToPath(new URL('../../src/queue/define.ts', import.meta.url));
const FUNCTION = fileURLToPath(new URL('../../src/runtime/function.ts', import.meta.url));

const message = (over: Partial<NewMessage> = {}): NewMessage => ({
  body: JSON.stringify({ n: 1 }),
  priority: 0,
  visibleAtMs: T0,
  groupId: null,
  dedupKey: null,
  traceContext: null,
  ...over,
});

const offer = (over: Partial<PushOffer> = {}): PushOffer => ({
  consumer: 'w1.0',
  functionQueue: 'fn.f',
  visibilityMs: 60_000,
  untilMs: T0 + 3000,
  ...over,
});

/** A store with queue q, and every notification on the messages channel collected. */
async function listening(): Promise<{ store: Store; heard: string[] }> {
  const store = await postgres.open();
  await store.queues.upsertQueue('q', {}, T0);
  const heard: string[] = [];
  await store.listen(MESSAGES_CHANNEL, (payload) => heard.push(payload));
  return { store, heard };
}

describe('push delivery on PostgreSQL', () => {
  it_(
    'a send leases the message to the consumer that offered itself and carries it in the notification',
    async () => {
      const { store, heard } = await listening();
      await store.queues.offer!('q', offer(), T0);
      const body = JSON.stringify({ text: 'quote " backslash \\ é 😀 \u0000' });
      const trace = JSON.stringify({
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      });
      const [sent] = await store.queues.send(
        'q',
        [message({ body, priority: 3, traceContext: trace })],
        T0,
        0,
      );
      await vi.waitFor(() => expect(heard).toHaveLength(1));
      const push = pushedMessage(heard[0]!);
      expect(push).toEqual({
        consumer: 'w1.0',
        message: {
          id: sent!.id,
          body,
          priority: 3,
          receiveCount: 1,
          priorReceives: 0,
          sentAtMs: T0,
          groupId: null,
          visibleAtMs: T0,
          traceContext: trace,
        },
      });
      // Leased as a claim leases: no one else receives it until the visibility timeout ends.
      expect(await store.queues.getMessage(sent!.id)).toMatchObject({ receiveCount: 1 });
      const claim = { limit: 10, dueByMs: T0 + 59_999, visibilityMs: 60_000, fifo: false };
      expect(await store.queues.claim('q', { ...claim, nowMs: T0 + 59_999 })).toEqual([]);
      // The offer is spent: the next send goes to every consumer of the queue by name.
      const [next] = await store.queues.send('q', [message()], T0, 0);
      await vi.waitFor(() => expect(heard).toHaveLength(2));
      expect(heard[1]).toBe('q');
      expect(pushedMessage('q')).toBeNull();
      const claimed = await store.queues.claim('q', { ...claim, nowMs: T0 });
      expect(claimed.map((m) => m.id)).toEqual([next!.id]);
      // The pushed receipt acks the message.
      expect(await store.queues.ack([push!.message])).toEqual([sent!.id]);
    },
  );

  it_('a lease that runs out unacknowledged is delivered again, as a claimed one is', async () => {
    const { store, heard } = await listening();
    await store.queues.offer!('q', offer({ visibilityMs: 1000 }), T0);
    const [sent] = await store.queues.send('q', [message()], T0, 0);
    await vi.waitFor(() => expect(heard).toHaveLength(1));
    const claim = { limit: 10, visibilityMs: 1000, fifo: false };
    expect(await store.queues.claim('q', { ...claim, nowMs: T0 + 999, dueByMs: T0 + 999 })).toEqual([]);
    const again = await store.queues.claim('q', { ...claim, nowMs: T0 + 1000, dueByMs: T0 + 1000 });
    expect(again.map((m) => [m.id, m.receiveCount])).toEqual([[sent!.id, 2]]);
    // The first receipt no longer holds it.
    expect(await store.queues.ack([{ id: sent!.id, receiveCount: 1 }])).toEqual([]);
  });

  it_(
    'nothing is pushed that a claim would not take now, nor after the offer ends or is withdrawn',
    async () => {
      const { store, heard } = await listening();
      const q = store.queues;
      const pushes = () => heard.filter((p) => pushedMessage(p) !== null).length;
      const sendsUnpushed = async (what: string, send: () => Promise<unknown>) => {
        const before = heard.length;
        await send();
        await vi.waitFor(() => expect(heard.length, what).toBeGreaterThan(before));
        expect(pushes(), what).toBe(0);
      };
      await q.offer!('q', offer(), T0);
      await sendsUnpushed('delayed', () => q.send('q', [message({ visibleAtMs: T0 + 1 })], T0, 0));
      await sendsUnpushed('grouped', () => q.send('q', [message({ groupId: 'g' })], T0, 0));
      await sendsUnpushed('dedup key', () => q.send('q', [message({ dedupKey: 'k' })], T0, 60_000));
      await sendsUnpushed('two at once', () => q.send('q', [message(), message()], T0, 0));
      await sendsUnpushed('a body past what a notification carries', () =>
        q.send('q', [message({ body: JSON.stringify('x'.repeat(3000)) })], T0, 0),
      );
      await q.setPaused('q', true, T0);
      await sendsUnpushed('queue paused', () => q.send('q', [message()], T0, 0));
      await q.setPaused('q', false, T0);
      await q.upsertQueue('fn.f', {}, T0);
      await q.setPaused('fn.f', true, T0);
      await sendsUnpushed('function paused', () => q.send('q', [message()], T0, 0));
      await q.setPaused('fn.f', false, T0);
      await sendsUnpushed('the offer over', () => q.send('q', [message()], T0 + 3000, 0));
      await q.offer!('q', offer({ untilMs: T0 + 10_000 }), T0);
      await q.withdraw!('q', 'w1.0');
      await sendsUnpushed('the offer withdrawn', () => q.send('q', [message()], T0, 0));
      // Every one of them is in the queue, unleased.
      const all = await q.claim('q', {
        limit: 100,
        nowMs: T0 + 10,
        dueByMs: T0 + 10,
        visibilityMs: 1,
        fifo: false,
      });
      expect(all.map((m) => m.receiveCount)).toEqual(Array(10).fill(1));
      // And with an offer standing again, the next one is pushed.
      await q.offer!('q', offer(), T0);
      await q.send('q', [message()], T0, 0);
      await vi.waitFor(() => expect(pushes()).toBe(1));
    },
  );

  it_('an offer through a LISTEN connection that is gone is not taken: its push would be lost', async () => {
    const { store, heard } = await listening();
    const pool = (store as unknown as PgStore).pool;
    expect(await store.queues.offer!('q', offer(), T0)).toBe(true);
    const { rows } = await pool.query<{ pid: number }>('SELECT listener_pid AS pid FROM queue_waiters');
    const pid = rows[0]!.pid;
    await pool.query('SELECT pg_terminate_backend($1)', [pid]);
    await vi.waitFor(async () => {
      const left = await pool.query('SELECT 1 FROM pg_stat_get_activity($1)', [pid]);
      expect(left.rows).toEqual([]);
    });
    const [sent] = await store.queues.send('q', [message()], T0, 0);
    const claimed = await store.queues.claim('q', {
      limit: 10,
      nowMs: T0,
      dueByMs: T0,
      visibilityMs: 1000,
      fifo: false,
    });
    expect(claimed.map((m) => [m.id, m.receiveCount])).toEqual([[sent!.id, 1]]);
    expect(heard.filter((p) => pushedMessage(p) !== null)).toEqual([]);
  });

  it_('an offer a sender sees from behind leases from when it was made, not from the send', async () => {
    // A consumer whose clock is ahead of the sender's (a test's fake clock, a skewed host).
    const { store, heard } = await listening();
    await store.queues.offer!('q', offer({ untilMs: T0 + 100_000 }), T0 + 50_000);
    const [sent] = await store.queues.send('q', [message()], T0, 0);
    await vi.waitFor(() => expect(heard).toHaveLength(1));
    const claim = { limit: 10, visibilityMs: 60_000, fifo: false };
    expect(await store.queues.claim('q', { ...claim, nowMs: T0 + 60_000, dueByMs: T0 + 60_000 })).toEqual([]);
    const again = await store.queues.claim('q', { ...claim, nowMs: T0 + 110_000, dueByMs: T0 + 110_000 });
    expect(again.map((m) => m.id)).toEqual([sent!.id]);
  });

  it_(
    'a message pushed to a consumer that became busy is handed back at once, not after its lease',
    async () => {
      const url = postgres.freshUrl();
      const jobs = defineQueue({ name: 'jobs' });
      let open!: () => void;
      const gate = new Promise<void>((r) => {
        open = r;
      });
      const handled: unknown[] = [];
      const fn = defineFunction({
        name: 'consume',
        triggers: [fromQueue(jobs, { concurrency: 1 })],
        handler: async (body: unknown) => {
          handled.push(body);
          await gate;
        },
      });
      const ms = await createMainspring({ db: url, queues: [jobs], functions: [fn] });
      const pool = (ms.store as unknown as PgStore).pool;
      const offers = async () =>
        (
          await pool.query<{ consumer: string; listener_pid: number }>(
            `SELECT consumer, listener_pid FROM queue_waiters WHERE queue = 'jobs'`,
          )
        ).rows;
      const worker = await ms.startWorker();
      try {
        await vi.waitFor(async () => expect(await offers()).toHaveLength(1));
        const [{ consumer, listener_pid }] = (await offers()) as [{ consumer: string; listener_pid: number }];
        await ms.queues.send(jobs, { n: 1 });
        await vi.waitFor(() => expect(handled).toEqual([{ n: 1 }]));
        // Its one slot is taken; an offer of it still standing (a send that raced its withdrawal).
        await pool.query(
          `INSERT INTO queue_waiters (queue, consumer, function_queue, visibility_ms, offered_at_ms,
                                      expires_at_ms, listener_pid)
           VALUES ('jobs', $1, 'fn.consume', 60000, 0, $2, $3)`,
          [consumer, Date.now() + 60_000, listener_pid],
        );
        const second = await ms.queues.send(jobs, { n: 2 });
        expect(await offers()).toEqual([]);
        // Pushed to the busy consumer, and back in the queue well before its 30 s lease ends.
        await vi.waitFor(async () =>
          expect(await ms.queues.getMessage(second)).toMatchObject({ state: 'visible', receiveCount: 1 }),
        );
        open();
        await vi.waitFor(() => expect(handled).toEqual([{ n: 1 }, { n: 2 }]));
      } finally {
        open();
        await worker.stop();
        await ms.close();
      }
    },
  );

  it_(
    'a worker in another process starts what is pushed to it; a push to one that froze comes back after its lease',
    async () => {
      const url = postgres.freshUrl();
      const jobs = defineQueue({ name: 'jobs', visibilityTimeout: '1s' });
      const ms = await createMainspring({ db: url, queues: [jobs] });
      const pool = (ms.store as unknown as PgStore).pool;
      const offers = async () =>
        (await pool.query<{ consumer: string }>(`SELECT consumer FROM queue_waiters WHERE queue = 'jobs'`))
          .rows;
      const heard: string[] = [];
      await ms.store.listen(MESSAGES_CHANNEL, (p) => heard.push(p));

      const script = `
      import { createMainspring } from ${JSON.stringify(APP)};
      import { defineQueue } from ${JSON.stringify(DEFINE_QUEUE)};
      import { defineFunction, fromQueue } from ${JSON.stringify(FUNCTION)};
      const jobs = defineQueue({ name: 'jobs', visibilityTimeout: '1s' });
      const consume = defineFunction({ name: 'consume', triggers: [fromQueue(jobs)],
        handler: (body) => { process.stdout.write(JSON.stringify(body) + '\\n'); } });
      const ms = await createMainspring({ db: process.env.STORE_URL, queues: [jobs], functions: [consume] });
      await ms.startWorker();
      process.stdout.write('ready\\n');`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, STORE_URL: url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d;
      });
      child.stderr.on('data', (d: Buffer) => {
        err += d;
      });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      try {
        await vi.waitFor(() => expect(out, err).toContain('ready'), { timeout: 20_000 });
        await vi.waitFor(async () => expect(await offers()).toHaveLength(1), { timeout: 10_000 });
        const [theirs] = await offers();

        await ms.queues.send(jobs, { n: 1 });
        await vi.waitFor(() => expect(out).toContain('{"n":1}'), { timeout: 10_000 });
        expect(heard.map((p) => pushedMessage(p)?.consumer)).toEqual([theirs!.consumer]);

        // It offers itself again once idle; then it freezes (a hung process, a partition) with the
        // offer standing and its LISTEN connection open, so the next send is pushed to it.
        await vi.waitFor(async () => expect(await offers()).toHaveLength(1), { timeout: 10_000 });
        child.kill('SIGSTOP');
        heard.length = 0;
        const lost = await ms.queues.send(jobs, { n: 3 });
        await vi.waitFor(() => expect(heard).toHaveLength(1));
        expect(pushedMessage(heard[0]!)?.consumer).toBe(theirs!.consumer);

        // A worker here takes it once the frozen consumer's lease (1 s) runs out.
        const handled: unknown[] = [];
        const app = await createMainspring({
          db: url,
          queues: [jobs],
          functions: [
            defineFunction({
              name: 'consume',
              triggers: [fromQueue(jobs)],
              handler: (b: unknown) => void handled.push(b),
            }),
          ],
        });
        const worker = await app.startWorker();
        try {
          await vi.waitFor(() => expect(handled).toEqual([{ n: 3 }]), { timeout: 10_000 });
          // Acknowledged by the receipt of its second receive.
          await vi.waitFor(async () => expect(await ms.store.queues.getMessage(Number(lost))).toBeNull());
        } finally {
          await worker.stop();
          await app.close();
        }
        child.kill('SIGKILL');
        await exited;
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        await ms.close();
      }
    },
    40_000,
  );
});

describe('a single send on PostgreSQL, committed before its flush', () => {
  const skip = PG_CLUSTER_UNAVAILABLE !== undefined && !REQUIRE_PG;
  const itc = skip ? it.skip : it;
  let cluster: PgCluster;
  beforeAll(async () => {
    // The WAL writer left to itself for 10 s: WAL that only it would write is lost at a crash.
    if (!skip) cluster = await PgCluster.create({ settings: { wal_writer_delay: '10s' } });
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  itc(
    'a send that returned survives the server crashing at once',
    async () => {
      const url = cluster.url('sends');
      const store = await postgres.open({ url });
      await store.queues.upsertQueue('q', {}, T0);
      const ids: number[] = [];
      for (let i = 0; i < 20; i++) {
        const [m] = await store.queues.send('q', [message({ body: JSON.stringify({ i }) })], T0, 0);
        ids.push(m!.id);
      }
      await cluster.stop('immediate');
      await cluster.start();
      const client = new pg.Client({ connectionString: cluster.url() });
      await client.connect();
      try {
        const { rows } = await client.query<{ id: number }>('SELECT id FROM sends.messages ORDER BY id');
        expect(rows.map((r) => Number(r.id))).toEqual(ids);
      } finally {
        await client.end();
      }
    },
    60_000,
  );
});
