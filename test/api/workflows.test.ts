// The workflows API on both backends, over real HTTP: definitions; executions started
// (201, then 200 for a stored id), listed with filters and cursor paging, read with their
// journal, stopped and deleted; ids with "/" and ":" (encoded); callbacks completed,
// failed and kept alive; and bad input answering 4xx naming its field, nothing stored.

import { afterEach, describe, expect, it } from 'vitest';
import { type Api, buildApi, listenApi } from '../../src/api/server.ts';
import type { Mainspring } from '../../src/app.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import type { Execution, Operation } from '../../src/workflow/client.ts';
import { defineWorkflow } from '../../src/workflow/define.ts';
import { fakeApp, tick } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';

const apis: Api[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

const echo = defineWorkflow({
  name: 'echo',
  version: 2,
  compatibleVersions: [1],
  handler: async (input: unknown, ctx) => ctx.step('copy', () => input),
});
const sleeper = defineWorkflow({
  name: 'sleeper',
  handler: async (_: unknown, ctx) => {
    await ctx.wait('nap', { hours: 1 });
    return 'rested';
  },
});
const fails = defineWorkflow({
  name: 'fails',
  handler: async () => {
    throw new Error('fails always fails');
  },
});
const parent = defineWorkflow({
  name: 'parent',
  handler: async (input: unknown, ctx) => ({ child: await ctx.invoke('kid', echo, input) }),
});
const approval = defineWorkflow({
  name: 'approval',
  handler: async (_: unknown, ctx) => {
    try {
      const answer = await ctx.waitForCallback('approve', () => {}, {
        timeout: '1h',
        heartbeatTimeout: '10m',
      });
      return { answer };
    } catch (err) {
      return { error: (err as Error).message, name: (err as Error).name };
    }
  },
});
const ALL = [echo, sleeper, fails, parent, approval];

async function setup(backend: BackendFixture, { worker = false } = {}) {
  const { ms, clock } = await fakeApp(backend, { workflows: ALL });
  if (worker) await ms.startWorker();
  const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
  apis.push(api);
  const { url } = await listenApi(api, { host: '127.0.0.1', port: 0 });
  return { ms, clock, http: client(url) };
}

/** Any of the bodies these routes answer with (each test reads the fields its route has). */
type Body = Execution & {
  created: boolean;
  error: { code: string; message: string; details: unknown };
  workflows: { name: string; version: string; compatibleVersions: string[] }[];
  executions: Execution[];
  nextCursor: string | null;
  operations: Operation[];
};

interface Reply {
  status: number;
  body: Body;
}

function client(base: string) {
  const call = async (method: string, path: string, body?: unknown, raw?: string): Promise<Reply> => {
    const res = await fetch(`${base}${path}`, {
      method,
      ...(body !== undefined || raw !== undefined
        ? { body: raw ?? JSON.stringify(body), headers: { 'content-type': 'application/json' } }
        : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as Body };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown) => call('POST', path, body),
    postRaw: (path: string, raw: string) => call('POST', path, undefined, raw),
    delete: (path: string) => call('DELETE', path),
  };
}

const enc = encodeURIComponent;

/** The field a client error names in `details.field` (or the first validation issue's). */
function field(body: Body): string {
  const details = body.error.details as { field: string } | { field: string }[];
  return Array.isArray(details) ? details[0]!.field : details.field;
}

/** Moves fake time until the execution's status is one of `statuses` (real time lets the store I/O settle). */
async function until(ms: Mainspring, clock: FakeClock, id: string, statuses: readonly string[]) {
  for (let round = 0; round < 2000; round++) {
    const e = await ms.workflows.get(id);
    if (statuses.includes(e.status)) return e;
    await tick(clock, 1000, 1000);
  }
  throw new Error(`execution ${id} never reached ${statuses.join('/')}`);
}

const FINISHED = ['succeeded', 'failed', 'stopped', 'timed_out'];

/** Every page of a list, following nextCursor; returns the ids in order and the page count. */
async function allPages(http: ReturnType<typeof client>, path: string) {
  const ids: string[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const r = await http.get(cursor === null ? path : `${path}${sep}cursor=${enc(cursor)}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    ids.push(...r.body.executions.map((e) => e.id));
    cursor = r.body.nextCursor;
    pages++;
  } while (cursor !== null);
  return { ids, pages };
}

describe.each(BACKENDS)('workflows API on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('lists definitions; starts executions idempotently; refuses bad starts', async () => {
    const { ms, http } = await setup(backend);

    const defs = await http.get('/v1/workflows');
    expect(defs.status).toBe(200);
    expect(defs.body.workflows).toEqual([
      { name: 'echo', version: '2', compatibleVersions: ['1'] },
      { name: 'sleeper', version: '1', compatibleVersions: [] },
      { name: 'fails', version: '1', compatibleVersions: [] },
      { name: 'parent', version: '1', compatibleVersions: [] },
      { name: 'approval', version: '1', compatibleVersions: [] },
    ]);

    const created = await http.post('/v1/workflows/echo/executions', { input: { n: 1 }, id: 'orders/42:a' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'orders/42:a',
      workflow: 'echo',
      version: '2',
      status: 'running',
      input: { n: 1 },
      progress: null,
      wait: null,
      parentId: null,
      operations: 0,
      stopRequested: false,
      created: true,
      createdAt: '2026-01-05T10:00:00.000Z',
      finishedAt: null,
    });
    expect(created.body).not.toHaveProperty('output');

    // The same id again: the stored execution, unchanged, and 200.
    const again = await http.post('/v1/workflows/echo/executions', { input: { n: 2 }, id: 'orders/42:a' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: 'orders/42:a', input: { n: 1 }, created: false });

    // No id: one is generated; no input (a bare POST): null.
    const generated = await http.post('/v1/workflows/echo/executions');
    expect(generated.status).toBe(201);
    expect(generated.body.id).toMatch(/^[A-Za-z0-9]/);
    expect(generated.body.input).toBeNull();

    const before = (await ms.workflows.list({ limit: 500 })).executions;
    const refused: [string, unknown, number, string, string | null][] = [
      ['/v1/workflows/nope/executions', {}, 404, 'E_WORKFLOW_NOT_FOUND', 'workflow'],
      ['/v1/workflows/sleeper/executions', { id: 'orders/42:a' }, 409, 'E_EXECUTION_EXISTS', 'id'],
      ['/v1/workflows/echo/executions', { id: 'bad id!' }, 400, 'E_WORKFLOW_INVALID', 'id'],
      ['/v1/workflows/echo/executions', { id: '/leading-slash' }, 400, 'E_WORKFLOW_INVALID', 'id'],
      ['/v1/workflows/echo/executions', { id: 'x'.repeat(201) }, 400, 'E_WORKFLOW_INVALID', 'id'],
      ['/v1/workflows/echo/executions', { id: 7 }, 400, 'E_VALIDATION', 'body.id'],
      ['/v1/workflows/echo/executions', { inptu: 1 }, 400, 'E_VALIDATION', 'body.inptu'],
      [
        '/v1/workflows/echo/executions',
        { input: 'x'.repeat(300 * 1024) },
        413,
        'E_PAYLOAD_TOO_LARGE',
        'input',
      ],
    ];
    for (const [path, body, status, code, named] of refused) {
      const r = await http.post(path, body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(r.body.error.code).toBe(code);
      if (named !== null) expect(field(r.body)).toBe(named);
    }
    expect((await http.get('/v1/workflows/nope/executions')).body.error.message).toMatch(
      /workflow "nope" is not defined in this app \(defined: echo, sleeper, fails, parent, approval\)/,
    );

    // A body that is not JSON.
    const notJson = await http.postRaw('/v1/workflows/echo/executions', '{"input": ');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('E_VALIDATION');

    expect((await ms.workflows.list({ limit: 500 })).executions).toEqual(before);
  });

  it_('lists with filters and cursor paging; reads one by its encoded id', async () => {
    const { http } = await setup(backend);
    for (const id of ['e-1', 'e-2', 'e-3', 'e-4', 'e-5']) {
      expect((await http.post('/v1/workflows/echo/executions', { id })).status).toBe(201);
    }
    for (const id of ['s/1', 's/2']) {
      expect((await http.post('/v1/workflows/sleeper/executions', { id })).status).toBe(201);
    }

    const everything = await allPages(http, '/v1/executions?limit=2');
    expect(everything).toEqual({ ids: ['s/2', 's/1', 'e-5', 'e-4', 'e-3', 'e-2', 'e-1'], pages: 4 });
    expect((await http.get('/v1/executions')).body.executions).toHaveLength(7);

    expect(await allPages(http, '/v1/executions?workflow=sleeper&limit=1')).toEqual({
      ids: ['s/2', 's/1'],
      pages: 2,
    });
    expect(await allPages(http, '/v1/workflows/echo/executions?limit=3')).toEqual({
      ids: ['e-5', 'e-4', 'e-3', 'e-2', 'e-1'],
      pages: 2,
    });
    expect((await allPages(http, '/v1/executions?status=running&workflow=echo')).ids).toHaveLength(5);
    expect((await allPages(http, '/v1/executions?status=succeeded')).ids).toEqual([]);
    expect((await allPages(http, '/v1/executions?workflow=gone')).ids).toEqual([]);

    const badQueries: [string, number, string, string][] = [
      ['/v1/executions?status=bogus', 400, 'E_VALIDATION', 'query.status'],
      ['/v1/executions?limit=0', 400, 'E_VALIDATION', 'query.limit'],
      ['/v1/executions?limit=501', 400, 'E_VALIDATION', 'query.limit'],
      ['/v1/executions?cursor=abc', 400, 'E_WORKFLOW_INVALID', 'cursor'],
      ['/v1/executions?sort=asc', 400, 'E_VALIDATION', 'query.sort'],
      ['/v1/workflows/nope/executions', 404, 'E_WORKFLOW_NOT_FOUND', 'workflow'],
    ];
    for (const [path, status, code, named] of badQueries) {
      const r = await http.get(path);
      expect(r.status, path).toBe(status);
      expect(r.body.error.code, path).toBe(code);
      expect(field(r.body), path).toBe(named);
    }

    const one = await http.get(`/v1/executions/${enc('s/1')}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: 's/1', workflow: 'sleeper', status: 'running' });
    expect(one.body).not.toHaveProperty('created');
    // An unencoded "/" is another path: not this execution.
    expect((await http.get('/v1/executions/s/1')).status).toBe(404);
    const missing = await http.get('/v1/executions/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'E_EXECUTION_NOT_FOUND', details: { field: 'id' } });
  });

  it_('runs to the end: output, history, status filter, failure; children with "/" ids', async () => {
    const { ms, clock, http } = await setup(backend, { worker: true });

    await http.post('/v1/workflows/echo/executions', { id: 'orders/1', input: { k: [1, 2] } });
    await until(ms, clock, 'orders/1', FINISHED);
    const done = await http.get(`/v1/executions/${enc('orders/1')}`);
    expect(done.body).toMatchObject({
      status: 'succeeded',
      output: { k: [1, 2] },
      operations: 1,
      finishedAt: expect.any(String),
    });
    expect(done.body).not.toHaveProperty('error');
    const history = await http.get(`/v1/executions/${enc('orders/1')}/history`);
    expect(history.status).toBe(200);
    expect(history.body.operations).toEqual([
      expect.objectContaining({
        type: 'step',
        name: 'copy',
        status: 'succeeded',
        attempts: 1,
        result: { k: [1, 2] },
        parentId: null,
        wakeAt: null,
      }),
    ]);
    const noHistory = await http.get('/v1/executions/nope/history');
    expect(noHistory.status).toBe(404);
    expect(noHistory.body.error.code).toBe('E_EXECUTION_NOT_FOUND');

    await http.post('/v1/workflows/fails/executions', { id: 'f-1' });
    await until(ms, clock, 'f-1', FINISHED);
    expect((await http.get('/v1/executions/f-1')).body).toMatchObject({
      status: 'failed',
      error: { name: 'Error', message: 'fails always fails' },
    });

    await http.post('/v1/workflows/parent/executions', { id: 'p-1', input: 'hi' });
    const p = await until(ms, clock, 'p-1', FINISHED);
    expect(p).toMatchObject({ status: 'succeeded', output: { child: 'hi' } });
    const invoke = (await http.get('/v1/executions/p-1/history')).body.operations.find(
      (o) => o.type === 'invoke',
    );
    expect(invoke?.childId).toMatch(/^p-1\//);
    const child = await http.get(`/v1/executions/${enc(invoke!.childId!)}`);
    expect(child.status).toBe(200);
    expect(child.body).toMatchObject({ workflow: 'echo', parentId: 'p-1', status: 'succeeded' });
    const childHistory = await http.get(`/v1/executions/${enc(invoke!.childId!)}/history`);
    expect(childHistory.body.operations.map((o) => o.name)).toEqual(['copy']);

    const succeeded = await allPages(http, '/v1/executions?status=succeeded');
    expect(succeeded.ids.sort()).toEqual(['orders/1', 'p-1', invoke!.childId!].sort());
    expect((await allPages(http, '/v1/workflows/fails/executions?status=failed')).ids).toEqual(['f-1']);
  });

  it_('stops and deletes: 409 until finished, 204, then 404', async () => {
    const { ms, clock, http } = await setup(backend, { worker: true });
    await http.post('/v1/workflows/sleeper/executions', { id: 'nap:1' });
    const waiting = await until(ms, clock, 'nap:1', ['waiting']);
    expect(waiting.wait).toMatchObject({ kind: 'wait', name: 'nap', until: expect.any(String), waiting: 1 });
    expect((await http.get('/v1/executions/nap:1')).body.wait).toEqual(waiting.wait);

    const early = await http.delete('/v1/executions/nap:1');
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ code: 'E_EXECUTION_NOT_FINISHED', details: { field: 'id' } });
    expect(early.body.error.message).toMatch(/stop it first/);

    const stopped = await http.post('/v1/executions/nap:1/stop');
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ id: 'nap:1', status: 'stopped', stopRequested: true });
    // Stopping a finished one answers it as it is.
    const again = await http.post('/v1/executions/nap:1/stop');
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('stopped');

    const deleted = await http.delete('/v1/executions/nap:1');
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeNull();
    expect((await http.get('/v1/executions/nap:1')).status).toBe(404);
    expect((await http.get('/v1/executions/nap:1/history')).status).toBe(404);
    expect((await http.delete('/v1/executions/nap:1')).body.error.code).toBe('E_EXECUTION_NOT_FOUND');
    expect((await http.post('/v1/executions/nope/stop')).body.error.code).toBe('E_EXECUTION_NOT_FOUND');
    // The id is free again.
    expect((await http.post('/v1/workflows/echo/executions', { id: 'nap:1' })).status).toBe(201);
  });

  it_('callbacks: heartbeat, succeed and fail resume the execution; 404 and 409', async () => {
    const { ms, clock, http } = await setup(backend, { worker: true });
    const callbackOf = async (id: string) => {
      expect((await http.post('/v1/workflows/approval/executions', { id })).status).toBe(201);
      const w = await until(ms, clock, id, ['waiting']);
      expect(w.wait).toMatchObject({ kind: 'callback', callbackId: expect.any(String) });
      return w.wait!.callbackId!;
    };

    const ok = await callbackOf('ap-ok');
    const hb = await http.post(`/v1/callbacks/${ok}/heartbeat`);
    expect(hb.status).toBe(204);
    expect(hb.body).toBeNull();
    const succeed = await http.post(`/v1/callbacks/${ok}/succeed`, { result: { approved: true } });
    expect(succeed.status).toBe(204);
    expect(await until(ms, clock, 'ap-ok', FINISHED)).toMatchObject({
      status: 'succeeded',
      output: { answer: { approved: true } },
    });
    for (const [action, body] of [
      ['succeed', { result: 1 }],
      ['fail', { error: 'late' }],
      ['heartbeat', undefined],
    ] as const) {
      const closed = await http.post(`/v1/callbacks/${ok}/${action}`, body);
      expect(closed.status, action).toBe(409);
      expect(closed.body.error).toMatchObject({
        code: 'E_CALLBACK_CLOSED',
        details: { field: 'callbackId' },
      });
    }

    // No result (or no body at all): the callback resolves with nothing.
    const empty = await callbackOf('ap-empty');
    expect((await http.post(`/v1/callbacks/${empty}/succeed`, {})).status).toBe(204);
    expect((await until(ms, clock, 'ap-empty', FINISHED)).output).toEqual({});
    const bare = await callbackOf('ap-bare');
    expect((await http.post(`/v1/callbacks/${bare}/succeed`)).status).toBe(204);
    expect((await until(ms, clock, 'ap-bare', FINISHED)).output).toEqual({});

    const rejected = await callbackOf('ap-no');
    expect((await http.post(`/v1/callbacks/${rejected}/fail`, { error: 'rejected by Alice' })).status).toBe(
      204,
    );
    expect(await until(ms, clock, 'ap-no', FINISHED)).toMatchObject({
      output: { error: 'rejected by Alice', name: 'CallbackError' },
    });

    const named = await callbackOf('ap-named');
    const badFails: [unknown, string][] = [
      [{}, 'body.error'],
      [{ error: { name: 'Denied' } }, 'body.error'],
      [{ error: 42 }, 'body.error'],
      [{ error: 'x', extra: 1 }, 'body.extra'],
    ];
    for (const [body, named_] of badFails) {
      const r = await http.post(`/v1/callbacks/${named}/fail`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('E_VALIDATION');
      expect(field(r.body)).toBe(named_);
    }
    expect((await http.post(`/v1/callbacks/${named}/succeed`, { reslt: 1 })).status).toBe(400);
    expect((await ms.workflows.get('ap-named')).status).toBe('waiting');
    expect(
      (await http.post(`/v1/callbacks/${named}/fail`, { error: { message: 'no budget', name: 'Denied' } }))
        .status,
    ).toBe(204);
    expect(await until(ms, clock, 'ap-named', FINISHED)).toMatchObject({
      output: { error: 'no budget', name: 'Denied' },
    });

    for (const [action, body] of [
      ['succeed', { result: 1 }],
      ['fail', { error: 'x' }],
      ['heartbeat', undefined],
    ] as const) {
      const r = await http.post(`/v1/callbacks/no-such-callback/${action}`, body);
      expect(r.status, action).toBe(404);
      expect(r.body.error).toMatchObject({ code: 'E_CALLBACK_NOT_FOUND', details: { field: 'callbackId' } });
    }
  });
});

describe('workflows API documents its routes', () => {
  it('lists the paths in the OpenAPI document', async () => {
    const { ms } = await fakeApp(BACKENDS[0]!, { workflows: [echo] });
    const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
    apis.push(api);
    const doc = (await api.inject('/openapi.json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/workflows',
        '/v1/workflows/{name}/executions',
        '/v1/executions',
        '/v1/executions/{id}',
        '/v1/executions/{id}/history',
        '/v1/executions/{id}/stop',
        '/v1/callbacks/{id}/succeed',
        '/v1/callbacks/{id}/fail',
        '/v1/callbacks/{id}/heartbeat',
      ]),
    );
  });
});
