// Sending in the caller's own PostgreSQL transaction (issue 25): ms.queues.send/sendBatch
// with { tx }, and the schema's SQL function send() as psql or any driver calls it. The
// message exists if and only if the caller commits; idle workers wake on the commit. The
// fake clock never moves unless a test moves it, so a worker that runs a message without it
// was woken by the NOTIFY, not by its poll.

import { spawnSync } from 'node:child_process';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction, fromQueue } from '../../src/runtime/function.ts';
import { fakeApp, recordEvents, tickUntil } from '../helpers/app.ts';
import { BACKENDS, freshSchemaName, ownPgClient, PG_URL, pgUrlWithSchema } from '../helpers/backends.ts';

const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;
const postgres = BACKENDS.find((b) => b.name === 'postgres')!;
const HAS_PSQL = spawnSync('psql', ['--version']).status === 0;

const emails = defineQueue({ name: 'emails' });

/** An app on a fresh schema with a function on `emails` that records what it ran. */
async function emailApp(options: { start?: string } = {}) {
  const schema = freshSchemaName();
  const seen: { body: unknown; id: string | undefined }[] = [];
  const fn = defineFunction({
    name: 'send-email',
    triggers: [fromQueue(emails)],
    handler: (body: unknown, ctx) => {
      seen.push({ body, id: ctx.message?.id });
    },
  });
  const { ms, clock } = await fakeApp(postgres, {
    url: pgUrlWithSchema(schema),
    queues: [emails],
    functions: [fn],
    ...options,
  });
  const client = await ownPgClient();
  await client.query(`CREATE TABLE "${schema}".orders (id integer PRIMARY KEY)`);
  return { ms, clock, schema, seen, client };
}

async function orderCount(client: pg.Client, schema: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".orders`);
  return Number(rows[0]!.n);
}

describe('send in your own transaction on postgres', () => {
  const it_ = postgres.skip ? it.skip : it;

  it_('stores nothing when the transaction rolls back', async () => {
    const { ms, schema, client } = await emailApp();
    await client.query('BEGIN');
    await client.query(`INSERT INTO "${schema}".orders (id) VALUES (1)`);
    const id = await ms.queues.send(emails, { orderId: 1 }, { tx: client });
    // Inside the transaction the message is there; nobody else sees it yet.
    const inside = await client.query(`SELECT body FROM "${schema}".messages WHERE id = $1`, [id]);
    expect(inside.rows).toHaveLength(1);
    expect(await ms.queues.messages('emails')).toEqual([]);
    await client.query('ROLLBACK');
    expect(await orderCount(client, schema)).toBe(0);
    expect(await ms.queues.messages('emails')).toEqual([]);
    await expect(ms.queues.getMessage(id)).rejects.toMatchObject({ code: 'E_MESSAGE_NOT_FOUND' });
  });

  it_('delivers a committed message to a running worker, woken by the commit', async () => {
    const { ms, schema, seen, client } = await emailApp();
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    await client.query('BEGIN');
    await client.query(`INSERT INTO "${schema}".orders (id) VALUES (42)`);
    const id = await ms.queues.send(emails, { orderId: 42 }, { tx: client });
    // Not before the commit: the row is invisible and the NOTIFY is held back until then.
    await new Promise((r) => setTimeout(r, 150));
    expect(seen).toEqual([]);
    await client.query('COMMIT');
    await events.until('message:acked', 1);
    expect(seen).toEqual([{ body: { orderId: 42 }, id }]);
    expect(await orderCount(client, schema)).toBe(1);
  });

  it_('keeps the client’s clock and options: delay, priority, dedup key', async () => {
    const { ms, clock, client } = await emailApp();
    await client.query('BEGIN');
    const delayed = await ms.queues.send(emails, 'later', { tx: client, delay: '10m', priority: 5 });
    const first = await ms.queues.send(emails, 'once', { tx: client, dedupKey: 'k1' });
    const again = await ms.queues.send(emails, 'twice', { tx: client, dedupKey: 'k1' });
    await client.query('COMMIT');
    expect(again).toBe(first);
    const m = await ms.queues.getMessage(delayed);
    expect(m).toMatchObject({ priority: 5, state: 'delayed', body: 'later' });
    expect(m.visibleAt.getTime()).toBe(clock.now() + 600_000);
    expect(m.sentAt.getTime()).toBe(clock.now());
    expect((await ms.queues.messages('emails')).map((x) => x.body)).toEqual(['later', 'once']);
    // The key is taken for the window whichever way it was sent.
    expect(await ms.queues.send(emails, 'thrice', { dedupKey: 'k1' })).toBe(first);
  });

  it_('sends a batch in the transaction all or nothing, in order', async () => {
    const { ms, seen, client } = await emailApp();
    await client.query('BEGIN');
    await ms.queues.sendBatch(emails, [{ body: 'a' }, { body: 'b' }], { tx: client });
    await client.query('ROLLBACK');
    expect(await ms.queues.messages('emails')).toEqual([]);

    await client.query('BEGIN');
    const ids = await ms.queues.sendBatch(emails, [{ body: 'x' }, { body: 'y' }, { body: 'z' }], {
      tx: client,
    });
    await client.query('COMMIT');
    expect(ids.map(Number)).toEqual([...ids.map(Number)].sort((p, q) => p - q));
    expect((await ms.queues.messages('emails')).map((m) => [m.id, m.body])).toEqual([
      [ids[0], 'x'],
      [ids[1], 'y'],
      [ids[2], 'z'],
    ]);
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    await events.until('message:acked', 3);
    expect(seen.map((s) => s.body).sort()).toEqual(['x', 'y', 'z']);
  });

  it_('refuses a bad entry of a batch before anything reaches the transaction', async () => {
    const { ms, client } = await emailApp();
    await client.query('BEGIN');
    await expect(
      ms.queues.sendBatch(emails, [{ body: 1 }, { body: 2, delay: 'soon' }], { tx: client }),
    ).rejects.toMatchObject({ code: 'E_MESSAGE_INVALID', details: { field: 'entries[1].delay' } });
    // The transaction is intact: the caller may still commit its own work.
    await client.query('COMMIT');
    expect(await ms.queues.messages('emails')).toEqual([]);
    await expect(ms.queues.send('nope', 1, { tx: client })).rejects.toMatchObject({
      code: 'E_QUEUE_NOT_FOUND',
    });
  });

  it_(
    'stores a message sent by the SQL function from any search_path, which a worker then runs',
    async () => {
      const { ms, clock, schema, seen, client } = await emailApp({ start: new Date().toISOString() });
      const worker = await ms.startWorker();
      const events = recordEvents(worker);
      // The caller's search_path does not include the schema: the call is qualified, the function pinned.
      await client.query('SET search_path = public');
      const { rows } = await client.query<{ id: string }>(
        `SELECT "${schema}".send('emails', '{"to":"a@b.c"}') AS id`,
      );
      const id = rows[0]!.id;
      expect(id).toMatch(/^\d+$/);
      // Sent at the database's clock: move the fake clock there (a real second at most).
      await tickUntil(clock, () => seen.length === 1, { maxMs: 5000 });
      await events.until('message:acked', 1);
      expect(seen).toEqual([{ body: { to: 'a@b.c' }, id }]);

      await client.query(
        `SELECT "${schema}".send('emails', '"later"', '{"delay": 3600000, "priority": -2}')`,
      );
      const [later] = await ms.queues.messages('emails');
      expect(later).toMatchObject({ body: 'later', priority: -2, state: 'delayed' });
      expect(later!.visibleAt.getTime() - later!.sentAt.getTime()).toBe(3_600_000);
    },
  );

  (HAS_PSQL ? it_ : it.skip)('runs a message sent with psql', async () => {
    const { ms, clock, schema, seen } = await emailApp({ start: new Date().toISOString() });
    const worker = await ms.startWorker();
    const events = recordEvents(worker);
    const out = spawnSync(
      'psql',
      [PG_URL, '-v', 'ON_ERROR_STOP=1', '-Atc', `SELECT ${schema}.send('emails', '{"from":"psql"}')`],
      { encoding: 'utf8' },
    );
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const id = out.stdout.trim();
    expect(id).toMatch(/^\d+$/);
    await tickUntil(clock, () => seen.length === 1, { maxMs: 5000 });
    await events.until('message:acked', 1);
    expect(seen).toEqual([{ body: { from: 'psql' }, id }]);
  });

  it_('raises a clear exception from the SQL function for a bad queue or option', async () => {
    const { ms, schema, client } = await emailApp();
    const send = (args: string) => client.query(`SELECT "${schema}".send(${args})`);
    await expect(send(`'nope', '{}'`)).rejects.toThrow(/queue "nope" does not exist/);
    await expect(send(`'emails', '{}', '[1, 2]'`)).rejects.toThrow(/options is a JSON array, not an object/);
    await expect(send(`'emails', '{}', '"fast"'`)).rejects.toThrow(/options is a JSON string, not an object/);
    await expect(send(`'emails', '{}', '{"delay": "10m"}'`)).rejects.toThrow(
      /options\.delay is "10m"; use a whole number of milliseconds/,
    );
    await expect(send(`'emails', '{}', '{"delay": -1}'`)).rejects.toThrow(/options\.delay is -1/);
    await expect(send(`'emails', '{}', '{"priority": 1.5}'`)).rejects.toThrow(/options\.priority is 1\.5/);
    await expect(send(`'emails', '{}', '{"delayMs": 5}'`)).rejects.toThrow(
      /options\.delayMs is not an option/,
    );
    await expect(send(`'emails', '{}', '{"groupId": "g"}'`)).rejects.toThrow(
      /options\.groupId is set, but queue "emails" is not FIFO/,
    );
    await expect(send(`'emails', NULL`)).rejects.toThrow(/body is NULL/);
    expect(await ms.queues.messages('emails')).toEqual([]);
  });

  it_('refuses a tx that is not a client', async () => {
    const { ms } = await emailApp();
    const notAClient = {} as unknown as pg.Client;
    await expect(ms.queues.send(emails, 1, { tx: notAClient })).rejects.toMatchObject({
      code: 'E_VALIDATION',
      details: { field: 'tx' },
    });
  });
});

describe('send in your own transaction on sqlite', () => {
  it('refuses tx: it is PostgreSQL-only', async () => {
    const { ms } = await fakeApp(sqlite, { queues: [emails] });
    let called = false;
    const tx = {
      query: async () => {
        called = true;
        return { rows: [] };
      },
    };
    for (const attempt of [
      () => ms.queues.send(emails, 1, { tx }),
      () => ms.queues.sendBatch(emails, [{ body: 1 }], { tx }),
    ]) {
      await expect(attempt()).rejects.toMatchObject({
        code: 'E_VALIDATION',
        details: { field: 'tx' },
        message: expect.stringMatching(/PostgreSQL-only.*send after your own commit/),
      });
    }
    expect(called).toBe(false);
    expect(await ms.queues.messages('emails')).toEqual([]);
  });
});
