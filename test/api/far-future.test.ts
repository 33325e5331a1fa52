// Times users give are bounded where they are parsed: a duration at most 100 years. Before,
// a send with delay "100000000d" or 9007199254740993 ms answered 201 and the message then
// could not be read (GET answered 500 on SQLite: the integer is past what a JS number
// holds). Now such a time is refused naming the field, nothing is stored, and a message
// stored that way by an older version is readable again after the upgrade.

import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { createMainspring, type Mainspring } from '../../src/app.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { MAX_DURATION_MS, parseDuration } from '../../src/core/duration.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import { defineWorkflow } from '../../src/workflow/define.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture, tempDir } from '../helpers/backends.ts';
import { serveApi } from '../helpers/http.ts';

const q = defineQueue({ name: 'q' });
const act = defineFunction({ name: 'a', handler: () => {} });

type Body = { id?: string; error?: { code: string; message: string; details?: { field?: string } } };

const serve = async (ms: Mainspring) => (await serveApi<Body>(ms)).call;

describe('durations', () => {
  it('accept up to 100 years and refuse longer, naming the field', () => {
    expect(parseDuration('36525d', 'delay')).toBe(MAX_DURATION_MS);
    expect(parseDuration(MAX_DURATION_MS, 'delay')).toBe(MAX_DURATION_MS);
    for (const bad of ['36526d', '100000000d', MAX_DURATION_MS + 1, 2 ** 53, '9007199254740993']) {
      expect(() => parseDuration(bad, 'delay')).toThrow(/delay is .*longer than 100 years/);
    }
  });
});

describe.each(BACKENDS)('far-future times on $name', (backend: BackendFixture) => {
  const it_ = backend.skip ? it.skip : it;

  it_(
    'a send whose delay cannot be represented is refused with 400 naming delay; nothing is stored',
    async () => {
      const { ms } = await fakeApp(backend, { queues: [q] });
      const call = await serve(ms);
      const ok = await call('POST', '/v1/queues/q/messages', { body: 1, delay: '36525d' });
      expect(ok.status).toBe(201);
      const read = await call('GET', `/v1/messages/${ok.body.id}`);
      expect(read.status).toBe(200);

      for (const raw of [
        '{"body":1,"delay":"100000000d"}',
        '{"body":1,"delay":9007199254740993}',
        '{"body":1,"delay":"9007199254740993"}',
      ]) {
        const res = await call('POST', '/v1/queues/q/messages', raw);
        expect(res.status, raw).toBe(400);
        expect(res.body.error?.code).toBe('E_MESSAGE_INVALID');
        expect(res.body.error?.details?.field).toBe('delay');
        expect(res.body.error?.message).toMatch(/100 years/);
      }
      expect((await ms.queues.stats('q')).counts).toMatchObject({ visible: 0, delayed: 1 });
    },
  );

  it_('a lock ttl and a task due past the limits are refused the same way', async () => {
    const { ms } = await fakeApp(backend, { queues: [q], functions: [act] });
    const call = await serve(ms);
    const lock = await call('POST', '/v1/locks/l', { ttl: '100000000d' });
    expect(lock.status).toBe(400);
    expect(lock.body.error?.message).toMatch(/ttl .*100 years/);
    const task = await call('POST', '/v1/tasks', { id: 't', due: '+275760-09-13T00:00:00Z', action: 'a' });
    expect(task.status).toBe(400);
    expect(task.body.error?.details?.field).toBe('due');
    expect((await call('GET', '/v1/tasks')).body).toMatchObject({ tasks: [] });
  });
});

describe('a message stored with a far-future delay by an older version', () => {
  it('is readable after the upgrade, delayed to the last instant a Date holds', async () => {
    const path = `${tempDir()}/old.db`;
    const clock = new FakeClock('2026-01-05T10:00:00Z');
    let ms = await createMainspring({ db: `sqlite:${path}`, clock, queues: [q] });
    const id = await ms.queues.send('q', { n: 1 });
    await ms.close();

    // What an older version left: the value past 2^53, and the schema before migration 0011.
    const db = new DatabaseSync(path);
    db.exec('UPDATE messages SET visible_at_ms = 9007199254740993');
    db.exec('DELETE FROM schema_migrations WHERE version >= 11');
    // What later migrations add (0014 to 0018) was not there either: ADD COLUMN cannot run twice.
    db.exec('ALTER TABLE messages DROP COLUMN trace_context');
    db.exec('ALTER TABLE workflow_executions DROP COLUMN trace_context');
    db.exec('ALTER TABLE queues DROP COLUMN paused_at_ms');
    db.exec('DROP INDEX messages_flow');
    db.exec('ALTER TABLE messages DROP COLUMN flow_key');
    db.exec('DROP TABLE flow_rates');
    db.exec('DROP INDEX queue_dedup_expires');
    db.exec('DROP INDEX messages_delayed');
    db.exec('CREATE INDEX messages_next_visible ON messages (queue, visible_at_ms)');
    db.close();

    ms = await createMainspring({ db: `sqlite:${path}`, clock, queues: [q] });
    try {
      const call = await serve(ms);
      const read = await call('GET', `/v1/messages/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id, state: 'delayed', visibleAt: new Date(8.64e15).toISOString() });
    } finally {
      await ms.close();
    }
  });
});

// Found by chaos/hostile.ts: instants the calendar has not (Date.parse reads February 30 as
// March 2) or past the year 9999 once in UTC, and page cursors past what PostgreSQL's
// bigint holds (a 500 there), are refused naming the field.
describe.each(BACKENDS)('instants and cursors on $name', (backend: BackendFixture) => {
  const it_ = backend.skip ? it.skip : it;
  const wf = defineWorkflow({ name: 'wf', handler: async () => 1 });

  it_('an instant off the calendar or past 9999 is refused naming the field; nothing is stored', async () => {
    const { ms } = await fakeApp(backend, { queues: [q], functions: [act] });
    const call = await serve(ms);
    for (const due of ['2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '9999-12-31T23:59:59-14:00']) {
      const task = await call('POST', '/v1/tasks', { id: 't', due, action: 'a' });
      expect(task.status, due).toBe(400);
      expect(task.body.error?.details?.field, due).toBe('due');
    }
    const start = await call('POST', '/v1/schedules', {
      name: 's',
      expression: 'rate(1 hour)',
      target: { kind: 'function', function: 'a' },
      start: '2027-02-29T09:00:00Z',
    });
    expect(start.status).toBe(400);
    expect(start.body.error?.details?.field).toBe('start');
    const list = await call('GET', '/v1/tasks?dueAfter=2026-02-30T00%3A00%3A00Z');
    expect(list.status).toBe(400);
    expect(list.body.error?.details?.field).toBe('dueAfter');
    await expect(ms.tasks.upsert({ id: 't', due: new Date(8.64e15), action: 'a' })).rejects.toMatchObject({
      code: 'E_TASK_INVALID',
      details: { field: 'due' },
    });
    expect((await call('GET', '/v1/tasks')).body).toMatchObject({ tasks: [] });
    expect((await call('GET', '/v1/schedules')).body).toMatchObject({ schedules: [] });
    // The last instant accepted.
    const last = await call('POST', '/v1/tasks', { id: 't', due: '9999-12-31T23:59:59.999Z', action: 'a' });
    expect(last.status).toBe(200);
  });

  it_('a run or log filter instant past 9999 (in UTC) is refused naming the field', async () => {
    const { ms } = await fakeApp(backend, { queues: [q], functions: [act] });
    const call = await serve(ms);
    const late = encodeURIComponent('9999-12-31T23:59:59-14:00');
    for (const [path, field] of [
      [`/v1/runs?from=${late}`, 'query.from'],
      [`/v1/runs?to=${late}`, 'query.to'],
      [`/v1/functions/a/logs?since=${late}`, 'query.since'],
    ] as const) {
      const res = await call('GET', path);
      expect(res.status, path).toBe(400);
      expect(res.body.error?.details?.field, path).toBe(field);
    }
    expect((await call('GET', `/v1/runs?from=${encodeURIComponent('9999-12-31T23:59:59Z')}`)).status).toBe(
      200,
    );
  });

  it_('a page cursor past a 64-bit integer is refused with 400 naming cursor', async () => {
    const { ms } = await fakeApp(backend, { queues: [q], functions: [act], workflows: [wf] });
    const call = await serve(ms);
    for (const path of [
      '/v1/tasks?cursor=-99999999999999999999:x',
      '/v1/tasks?cursor=99999999999999999999:x',
      '/v1/workflows/wf/executions?cursor=99999999999999999999',
      '/v1/executions?cursor=99999999999999999999',
    ]) {
      const res = await call('GET', path);
      expect(res.status, path).toBe(400);
      expect(res.body.error?.details?.field, path).toBe('cursor');
    }
  });
});
