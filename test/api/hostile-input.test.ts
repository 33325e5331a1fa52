// What chaos/hostile.ts found, kept as tests: JSON nested 80,000 deep where an event's source,
// detailType or time goes answered 500 (the error message echoed the value with
// JSON.stringify, which ran out of stack). Now that entry fails alone, like any bad entry.
// A schedule target with a field of another kind ({ kind: 'function', function, url }) was
// stored with the field silently dropped; now it is refused naming the field. A lock renew
// with token 1e308 (an integer to JSON Schema) answered 500 on PostgreSQL (bigint). An
// event source with a NUL or half a surrogate pair was stored (as something else on SQLite).
// A JSON null body to POST /v1/executions/:id/wait was taken as {}, a 30 s wait.

import { afterEach, describe, expect, it } from 'vitest';
import { type Api, buildApi } from '../../src/api/server.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import { defineWorkflow } from '../../src/workflow/define.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';

const apis: Api[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

describe.each(BACKENDS)('hostile input on $name', (backend: BackendFixture) => {
  const it_ = backend.skip ? it.skip : it;

  it_('an event field nested 80,000 deep fails its entry, not the server', async () => {
    const { ms } = await fakeApp(backend);
    const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
    apis.push(api);
    for (const field of ['source', 'detailType', 'time', 'id']) {
      const entry = { source: '"s"', detailType: '"t"', detail: '{}', [field]: deep(80_000) };
      const payload = `{"entries":[{${Object.entries(entry)
        .map(([k, v]) => `"${k}":${v}`)
        .join(',')}}]}`;
      const res = await api.inject({
        method: 'POST',
        url: '/v1/events',
        payload,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.statusCode, field).toBe(200);
      expect(res.json(), field).toMatchObject({
        failedEntryCount: 1,
        entries: [{ errorCode: 'E_EVENT_INVALID', errorMessage: expect.stringContaining(field) }],
      });
    }
  });

  it_('a schedule target with a field of another kind is refused naming it; nothing changes', async () => {
    const { ms } = await fakeApp(backend, { functions: [defineFunction({ name: 'a', handler: () => {} })] });
    const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
    apis.push(api);
    const base = { name: 's', expression: 'rate(1 hour)' };
    const created = await api.inject({
      method: 'POST',
      url: '/v1/schedules',
      payload: { ...base, target: { kind: 'function', function: 'a', url: 'https://example.com' } },
    });
    expect(created.statusCode).toBe(400);
    expect(created.json()).toMatchObject({
      error: { code: 'E_SCHEDULE_INVALID', details: { field: 'target.url' } },
    });
    expect(
      (
        await api.inject({
          method: 'POST',
          url: '/v1/schedules',
          payload: { ...base, target: { kind: 'function', function: 'a' } },
        })
      ).statusCode,
    ).toBe(201);
    const patched = await api.inject({
      method: 'PATCH',
      url: '/v1/schedules/s',
      payload: { target: { kind: 'function', function: 'a', queue: 'x'.repeat(5000) } },
    });
    expect(patched.statusCode).toBe(400);
    expect(patched.json()).toMatchObject({ error: { details: { field: 'target.queue' } } });
    expect((await ms.schedules.get('s')).target).toEqual({ kind: 'function', function: 'a' });
  });

  it_('a lock token past a safe integer is refused naming token', async () => {
    const { ms } = await fakeApp(backend);
    const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
    apis.push(api);
    expect(
      (await api.inject({ method: 'POST', url: '/v1/locks/l', payload: { ttl: '1m' } })).statusCode,
    ).toBe(200);
    for (const token of ['1e308', '9007199254740993']) {
      const res = await api.inject({
        method: 'POST',
        url: '/v1/locks/l/renew',
        payload: `{"token":${token},"ttl":"1m"}`,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.statusCode, token).toBe(400);
      expect(JSON.stringify(res.json()), token).toContain('body.token');
    }
  });

  it_(
    'an event source or detailType with a control character or a lone surrogate fails its entry',
    async () => {
      const { ms } = await fakeApp(backend);
      const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
      apis.push(api);
      for (const [field, value] of [
        ['source', 'a\u0000b'],
        ['detailType', '\ud800'],
        ['source', 'a\nb'],
      ] as const) {
        const res = await api.inject({
          method: 'POST',
          url: '/v1/events',
          payload: JSON.stringify({
            entries: [{ source: 's', detailType: 't', detail: {}, [field]: value }],
          }),
          headers: { 'content-type': 'application/json' },
        });
        expect(res.json(), JSON.stringify(value)).toMatchObject({
          failedEntryCount: 1,
          entries: [{ errorCode: 'E_EVENT_INVALID', errorMessage: expect.stringContaining(field) }],
        });
      }
    },
  );

  it_('a JSON null body where an object goes is refused, not taken as {}', async () => {
    const wf = defineWorkflow({ name: 'wf', handler: async () => 1 });
    const { ms } = await fakeApp(backend, { workflows: [wf] });
    const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
    apis.push(api);
    const res = await api.inject({
      method: 'POST',
      url: '/v1/workflows/wf/executions',
      payload: 'null',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'E_VALIDATION' } });
    // A bare POST still means no input.
    expect((await api.inject({ method: 'POST', url: '/v1/workflows/wf/executions' })).statusCode).toBe(201);
  });
});
