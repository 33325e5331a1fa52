// Task ids are the caller's own: the slow scheduler's users pick them from their domain
// ("some task id", a title, a file name). Any 1–200 printable characters are accepted by
// the library and the API, reachable URL-encoded in paths even at 200 characters of the
// longest encoding; control characters and broken UTF-16 are refused naming the field.

import { afterEach, describe, expect, it } from 'vitest';
import { type Api, buildApi, listenApi } from '../../src/api/server.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import type { TaskInfo } from '../../src/scheduler/tasks.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';

const apis: Api[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

const sales: unknown[] = [];
const applySale = defineFunction({
  name: 'APPLY_SALE',
  handler: (input: unknown) => {
    sales.push(input);
  },
});

// Seed 003's curl call, byte for byte.
const SEED_BODY = `{
    "id": "some task id",
    "due": "2020-12-31T00:00:00Z",
    "action": "APPLY_SALE",
    "payload": {
      "itemID": "some item",
      "newPrice": 29.99,
      "salePercent": 50
    }
  }`;

type Body = TaskInfo & { error: { code: string; details: { field: string } }; tasks: TaskInfo[] };

async function setup(backend: BackendFixture) {
  const { ms, clock } = await fakeApp(backend, { functions: [applySale] });
  const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
  apis.push(api);
  const { url } = await listenApi(api, { host: '127.0.0.1', port: 0 });
  const call = async (method: string, path: string, body?: string) => {
    const res = await fetch(`${url}${path}`, {
      method,
      ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}),
    });
    return { status: res.status, body: (await res.json()) as Body };
  };
  return { ms, clock, call };
}

const enc = encodeURIComponent;

describe.each(BACKENDS)('task ids on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_(
    "takes seed 003's task as its users send it, reads it at /v1/tasks/some%20task%20id, and fires it",
    async () => {
      const { ms, call } = await setup(backend);
      const created = await call('POST', '/v1/tasks', SEED_BODY);
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({
        id: 'some task id',
        due: '2020-12-31T00:00:00.000Z',
        action: 'APPLY_SALE',
        payload: { itemID: 'some item', newPrice: 29.99, salePercent: 50 },
        status: 'pending',
      });

      const got = await call('GET', '/v1/tasks/some%20task%20id');
      expect(got.status).toBe(200);
      expect(got.body).toEqual(created.body);
      expect((await call('GET', '/v1/tasks')).body.tasks.map((t) => t.id)).toEqual(['some task id']);

      sales.length = 0;
      const done = await ms.runDue({ now: new Date('2020-12-31T00:00:00Z') });
      expect(done.fired).toMatchObject([
        { kind: 'task', name: 'some task id', run: { status: 'succeeded' } },
      ]);
      expect(sales).toEqual([{ itemID: 'some item', newPrice: 29.99, salePercent: 50 }]);
      expect((await ms.tasks.get('some task id')).status).toBe('fired');
    },
  );

  it_('accepts any 1–200 printable characters, reachable encoded in the path at full length', async () => {
    const { ms, call } = await setup(backend);
    const due = '2027-01-01T00:00:00Z';
    // Each of these encodes to 12 characters (four UTF-8 bytes as %XX), the longest a character gets.
    const longest = '🎉'.repeat(200);
    const ids = [
      'x',
      ' leading and trailing ',
      'Prix réduit für Größe 42 — 50 % / 29,99 €',
      'a?b#c&d=e+f%20g\\h"i\'j<k>l{m}n|o^p`q[r]s~t',
      '価格改定：商品 42',
      'a'.repeat(200),
      `${'word '.repeat(39)}end!?`,
      longest,
    ];
    for (const id of ids) {
      const created = await call('POST', '/v1/tasks', JSON.stringify({ id, due, action: 'APPLY_SALE' }));
      expect(created.status, id).toBe(200);
      expect(created.body.id, id).toBe(id);
      const got = await call('GET', `/v1/tasks/${enc(id)}`);
      expect(got.status, id).toBe(200);
      expect(got.body.id, id).toBe(id);
    }
    expect(enc(longest)).toHaveLength(2400);

    // Paging by cursor carries ids with spaces and colons.
    const first = await ms.tasks.list({ limit: 3 });
    const rest = await ms.tasks.list({ limit: 100, cursor: first.nextCursor! });
    expect([...first.tasks, ...rest.tasks].map((t) => t.id).sort()).toEqual([...ids].sort());

    // The library takes the same ids.
    await ms.tasks.upsert({ id: 'from the library: 1 / 2', due, action: 'APPLY_SALE' });
    expect((await call('DELETE', `/v1/tasks/${enc('from the library: 1 / 2')}`)).status).toBe(200);
    expect((await call('DELETE', `/v1/tasks/${enc(longest)}`)).body.id).toBe(longest);
    expect((await call('GET', `/v1/tasks/${enc(longest)}`)).body.error.code).toBe('E_TASK_NOT_FOUND');
  });

  it_(
    'refuses empty, over-long, control-character and broken ids naming the field, storing nothing',
    async () => {
      const { ms, call } = await setup(backend);
      const due = '2027-01-01T00:00:00Z';
      for (const id of [
        '',
        'a'.repeat(201),
        '🎉'.repeat(201),
        'tab\there',
        'line\nbreak',
        'nul\u0000',
        'del\u007f',
        'c1\u0085',
        'half \ud83c',
      ]) {
        const what = JSON.stringify(id).slice(0, 40);
        const r = await call('POST', '/v1/tasks', JSON.stringify({ id, due, action: 'APPLY_SALE' }));
        expect(r.status, what).toBe(400);
        expect(r.body.error.code, what).toBe('E_TASK_INVALID');
        expect(r.body.error.details.field, what).toBe('id');
        await expect(ms.tasks.upsert({ id, due, action: 'APPLY_SALE' }), what).rejects.toMatchObject({
          code: 'E_TASK_INVALID',
        });
      }
      // Too long for an id in the path: a 400 naming it, not the router's 414.
      const long = await call('GET', `/v1/tasks/${enc('🎉'.repeat(201))}`);
      expect(long.status).toBe(400);
      expect((await ms.tasks.list()).tasks).toEqual([]);
    },
  );
});
