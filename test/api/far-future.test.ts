// Times users give are bounded where they are parsed: a duration at most 100 years. Before,
// a send with delay "100000000d" or 9007199254740993 ms answered 201 and the message then
// could not be read (GET answered 500 on SQLite: the integer is past what a JS number
// holds). Now such a time is refused naming the field, nothing is stored, and a message
// stored that way by an older version is readable again after the upgrade.

import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { type Api, buildApi, listenApi } from '../../src/api/server.ts';
import { createMainspring, type Mainspring } from '../../src/app.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { MAX_DURATION_MS, parseDuration } from '../../src/core/duration.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture, tempDir } from '../helpers/backends.ts';

const apis: Api[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

const q = defineQueue({ name: 'q' });
const act = defineFunction({ name: 'a', handler: () => {} });

type Body = { id?: string; error?: { code: string; message: string; details?: { field?: string } } };

async function serve(ms: Mainspring) {
  const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
  apis.push(api);
  const { url } = await listenApi(api, { host: '127.0.0.1', port: 0 });
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      ...(body !== undefined
        ? {
            body: typeof body === 'string' ? body : JSON.stringify(body),
            headers: { 'content-type': 'application/json' },
          }
        : {}),
    });
    return { status: res.status, body: (await res.json()) as Body };
  };
}

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
