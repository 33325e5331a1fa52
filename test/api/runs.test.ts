// The runs, functions and metrics API on both backends: invoke (and wait), list
// and page, cancel, logs as a page and as Server-Sent Events over a real socket,
// and the Prometheus scrape.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Api, buildApi, listenApi } from '../../src/api/server.ts';
import type { CreateMainspringOptions } from '../../src/app.ts';
import { invocationQueueName } from '../../src/functions/ids.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineCommand } from '../../src/runtime/define-command.ts';
import { defineFunction, type FunctionDefinition, fromQueue } from '../../src/runtime/function.ts';
import type { Run } from '../../src/runtime/runs.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';

const apis: Api[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

async function setup(
  backend: BackendFixture,
  functions: FunctionDefinition[],
  options: Omit<CreateMainspringOptions, 'db' | 'clock' | 'functions'> & {
    token?: string;
    url?: string;
  } = {},
) {
  const { token, ...appOptions } = options;
  const { ms, clock } = await fakeApp(backend, { ...appOptions, functions });
  const api = await buildApi({ ...ms, token, bodyLimit: 1024 * 1024 });
  apis.push(api);
  return { ms, clock, api };
}

/** A promise the test resolves to let a handler go on. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

const waitLong = { timeout: 10_000, interval: 5 };

interface SseEvent {
  id?: string;
  event: string;
  data: unknown;
}

/** Reads Server-Sent Events from a fetch response as they arrive. */
function sseReader(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buffer = '';
  let done = false;
  const pump = (async () => {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      buffer += chunk.value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: Partial<SseEvent> = {};
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) event.id = line.slice(4);
          else if (line.startsWith('event: ')) event.event = line.slice(7);
          else if (line.startsWith('data: ')) event.data = JSON.parse(line.slice(6));
        }
        if (event.event) events.push(event as SseEvent);
        end = buffer.indexOf('\n\n');
      }
    }
    done = true;
  })();
  return { events, pump, isDone: () => done };
}

/** Prometheus text → sample value by `name{label="v",…}` with labels sorted. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, k, v]) => `${k}="${v}"`)
      .sort();
    samples.set(labels.length > 0 ? `${m[1]}{${labels.join(',')}}` : m[1]!, Number(m[3]));
  }
  return samples;
}

describe.each(BACKENDS)('runs API on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('lists functions and commands with their settings', async () => {
    const jobs = defineQueue({ name: 'jobs' });
    const byUser = (input: { user: string }) => input.user;
    const { api } = await setup(
      backend,
      [
        defineFunction({
          name: 'work',
          triggers: [fromQueue(jobs)],
          timeout: '1m',
          retry: { maxAttempts: 2, backoff: 'fixed', base: '5s' },
          concurrency: 3,
          handler: () => {},
        }),
        defineCommand({ name: 'cleanup', command: ['true'] }),
        defineFunction({
          name: 'limited',
          concurrency: { limit: 4, key: byUser },
          rateLimit: { limit: 5, period: '1m', burst: 2, key: byUser },
          handler: () => {},
        }),
      ],
      { queues: [jobs] },
    );
    const res = await api.inject('/v1/functions');
    expect(res.statusCode).toBe(200);
    const { functions } = res.json() as { functions: { name: string }[] };
    expect(functions.find((f) => f.name === 'work')).toEqual({
      name: 'work',
      kind: 'function',
      triggers: ['jobs'],
      schedules: [],
      timeoutMs: 60_000,
      retry: { maxAttempts: 2, backoff: 'fixed', baseMs: 5000, maxMs: 300_000, jitter: true },
      concurrency: 3,
      limits: null,
      paused: false,
      pausedAt: null,
    });
    expect(functions.find((f) => f.name === 'cleanup')).toMatchObject({ kind: 'command', triggers: [] });
    expect(functions.find((f) => f.name === 'limited')).toMatchObject({
      concurrency: 10,
      limits: {
        concurrency: { limit: 4, keyed: true },
        rate: { limit: 5, periodMs: 60_000, burst: 2, keyed: true },
      },
    });
  });

  it_('invokes: 202 with the queued run; with wait, 200 with the outcome once a worker ran it', async () => {
    const double = defineFunction({ name: 'double', handler: (n: number) => ({ doubled: n * 2 }) });
    const broken = defineFunction({
      name: 'broken',
      retry: { maxAttempts: 1 },
      handler: () => {
        throw new Error('disk full');
      },
    });
    const { ms, api } = await setup(backend, [double, broken]);

    const queued = await api.inject({
      method: 'POST',
      url: '/v1/functions/double/invoke',
      payload: { input: 4 },
    });
    expect(queued.statusCode).toBe(202);
    const run = (queued.json() as { run: Run }).run;
    expect(run).toMatchObject({
      function: 'double',
      attempt: 1,
      status: 'queued',
      trigger: { kind: 'manual' },
      input: 4,
      startedAt: null,
      result: null,
      error: null,
    });

    // No worker yet: the wait runs out and answers 202 with the run as it is.
    const timedOut = await api.inject({
      method: 'POST',
      url: '/v1/functions/double/invoke',
      payload: { input: 1, wait: true, waitTimeoutMs: 20 },
    });
    expect(timedOut.statusCode).toBe(202);
    expect(timedOut.json()).toMatchObject({ run: { status: 'queued', input: 1 } });

    await ms.startWorker();
    const waited = await api.inject({
      method: 'POST',
      url: '/v1/functions/double/invoke',
      payload: { input: 21, wait: true },
    });
    expect(waited.statusCode).toBe(200);
    expect(waited.json()).toMatchObject({
      run: { function: 'double', status: 'succeeded', attempt: 1, result: { doubled: 42 }, error: null },
    });

    const failed = await api.inject({
      method: 'POST',
      url: '/v1/functions/broken/invoke',
      payload: { wait: true },
    });
    expect(failed.statusCode).toBe(200);
    expect(failed.json()).toMatchObject({
      run: {
        function: 'broken',
        status: 'failed',
        attempt: 1,
        error: { name: 'Error', message: 'disk full' },
      },
    });

    // The first one queued before the worker started ran too.
    await vi.waitFor(async () => {
      expect((await api.inject(`/v1/runs/${run.id}`)).json()).toMatchObject({ status: 'succeeded' });
    }, waitLong);
  });

  it_('waits on a run: 202 with the attempt while it is not over, 200 with the last attempt', async () => {
    const double = defineFunction({ name: 'double', handler: (n: number) => n * 2 });
    const { ms, api } = await setup(backend, [double]);
    const run = await ms.runs.invoke('double', 2);
    const wait = (id: string, timeoutMs: number) =>
      api.inject({ method: 'POST', url: `/v1/runs/${id}/wait`, payload: { timeoutMs } });

    const early = await wait(run.id, 20);
    expect(early.statusCode).toBe(202);
    expect(early.json()).toMatchObject({ run: { id: run.id, status: 'queued' } });

    await ms.startWorker();
    const done = await wait(run.id, 10_000);
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ run: { id: run.id, status: 'succeeded', result: 4 } });
    // A bare POST waits with the default timeout; a finished run answers at once.
    expect((await api.inject({ method: 'POST', url: `/v1/runs/${run.id}/wait` })).statusCode).toBe(200);

    expect((await wait('nope-1', 10)).json()).toMatchObject({ error: { code: 'E_RUN_NOT_FOUND' } });
    expect((await wait(run.id, 0)).statusCode).toBe(400);
  });

  it_("pages a function's log lines, also for a process that does not define the function", async () => {
    const chatty = defineFunction({
      name: 'chatty',
      handler: (n: number, ctx) => {
        ctx.log.info({ n }, 'first');
        ctx.log.warn({ n }, 'second');
      },
    });
    const url = backend.freshUrl();
    const { ms, clock, api } = await setup(backend, [chatty], { url });
    await ms.startWorker();
    const first = await ms.runs.invoke('chatty', 1);
    await ms.runs.wait(first.id);
    await clock.advance(3_600_000);
    const second = await ms.runs.invoke('chatty', 2);
    await ms.runs.wait(second.id);

    type Page = { lines: { runId: string; msg: string; id: number }[]; nextAfterId: number };
    const all = (await api.inject('/v1/functions/chatty/logs')).json() as Page;
    expect(all.lines.map((l) => `${l.runId} ${l.msg}`)).toEqual([
      `${first.id} first`,
      `${first.id} second`,
      `${second.id} first`,
      `${second.id} second`,
    ]);
    const after = (await api.inject(`/v1/functions/chatty/logs?afterId=${all.lines[1]!.id}`)).json() as Page;
    expect(after.lines.map((l) => l.runId)).toEqual([second.id, second.id]);
    expect(after.nextAfterId).toBe(all.lines[3]!.id);
    const since = new Date(clock.now() - 60_000).toISOString();
    const recent = (await api.inject(`/v1/functions/chatty/logs?since=${since}`)).json() as Page;
    expect(recent.lines.map((l) => l.runId)).toEqual([second.id, second.id]);

    const unknown = await api.inject('/v1/functions/nope/logs');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'E_FUNCTION_NOT_FOUND' } });

    // A client without the app's config still reads the history stored for the function.
    const { api: bare } = await setup(backend, [], { url, access: 'read' });
    const read = (await bare.inject('/v1/functions/chatty/logs')).json() as Page;
    expect(read.lines).toHaveLength(4);
    expect((await bare.inject('/v1/functions/nope/logs')).statusCode).toBe(404);
  });

  it_('refuses unknown functions (404) and bodies that are not JSON or not the schema (400)', async () => {
    const { api } = await setup(backend, [defineFunction({ name: 'f', handler: () => {} })]);
    const unknown = await api.inject({ method: 'POST', url: '/v1/functions/nope/invoke', payload: {} });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({
      error: { code: 'E_FUNCTION_NOT_FOUND', message: expect.stringMatching(/"nope".*defined: f/) },
    });

    const badJson = await api.inject({
      method: 'POST',
      url: '/v1/functions/f/invoke',
      headers: { 'content-type': 'application/json' },
      payload: '{"input": ',
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toMatchObject({ error: { code: 'E_VALIDATION' } });

    const text = await api.inject({
      method: 'POST',
      url: '/v1/functions/f/invoke',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ error: { code: 'E_UNSUPPORTED_MEDIA_TYPE' } });

    const extra = await api.inject({ method: 'POST', url: '/v1/functions/f/invoke', payload: { inptu: 1 } });
    expect(extra.statusCode).toBe(400);
    expect(extra.json()).toMatchObject({ error: { code: 'E_VALIDATION', message: /body\.inptu/ } });

    const tooLong = await api.inject({
      method: 'POST',
      url: '/v1/functions/f/invoke',
      payload: { wait: true, waitTimeoutMs: 16 * 60_000 },
    });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json()).toMatchObject({ error: { code: 'E_VALIDATION', message: /waitTimeoutMs/ } });

    // No body at all is an invocation with no input.
    const bare = await api.inject({ method: 'POST', url: '/v1/functions/f/invoke' });
    expect(bare.statusCode).toBe(202);
    expect(bare.json()).toMatchObject({ run: { input: null, status: 'queued' } });
  });

  it_('lists runs with filters and pages through them with the cursor', async () => {
    const a = defineFunction({ name: 'a', handler: () => {} });
    const b = defineFunction({ name: 'b', handler: () => {} });
    const { api, ms, clock } = await setup(backend, [a, b]);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await ms.runs.invoke('a', i)).id);
    await clock.advance(60_000);
    const later = new Date(clock.now()).toISOString();
    for (let i = 0; i < 3; i++) ids.push((await ms.runs.invoke('b', i)).id);

    const seen: string[] = [];
    const pages: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await api.inject({
        url: '/v1/runs',
        query: { limit: '3', ...(cursor ? { cursor } : {}) },
      });
      expect(res.statusCode).toBe(200);
      const page = res.json() as { runs: Run[]; nextCursor: string | null };
      pages.push(page.runs.length);
      seen.push(...page.runs.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(pages).toEqual([3, 3, 1]);
    expect(seen).toEqual([...ids].sort().reverse());

    const count = async (query: Record<string, string>) => {
      const res = await api.inject({ url: '/v1/runs', query });
      expect(res.statusCode).toBe(200);
      return (res.json() as { runs: Run[] }).runs.map((r) => r.function);
    };
    expect(await count({ function: 'b' })).toEqual(['b', 'b', 'b']);
    expect(await count({ status: 'queued' })).toHaveLength(7);
    expect(await count({ status: 'succeeded' })).toEqual([]);
    expect(await count({ trigger: 'manual', function: 'a' })).toHaveLength(4);
    expect(await count({ trigger: 'schedule' })).toEqual([]);
    expect(await count({ from: later })).toEqual(['b', 'b', 'b']);
    expect(await count({ to: later })).toEqual(['a', 'a', 'a', 'a']);

    for (const [field, value] of [
      ['status', 'done'],
      ['from', 'yesterday'],
      ['to', '2026-13-01T00:00:00Z'],
      ['trigger', 'cron'],
      ['limit', '501'],
    ] as const) {
      const res = await api.inject({ url: '/v1/runs', query: { [field]: value } });
      expect(res.statusCode).toBe(400);
      const body = res.json() as { error: { code: string; details: { field: string; value: string } } };
      expect(body.error.code).toBe('E_VALIDATION');
      expect(body.error.details).toMatchObject({ field: `query.${field}`, value });
    }
  });

  it_('gets a run (404 for an unknown id) and cancels a queued one so that it never runs', async () => {
    let calls = 0;
    const counted = defineFunction({
      name: 'counted',
      handler: () => {
        calls++;
      },
    });
    const { api, ms } = await setup(backend, [counted]);
    const missing = await api.inject('/v1/runs/nope-1');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'E_RUN_NOT_FOUND' } });
    const missingCancel = await api.inject({ method: 'POST', url: '/v1/runs/nope-1/cancel' });
    expect(missingCancel.statusCode).toBe(404);
    expect(missingCancel.json()).toMatchObject({ error: { code: 'E_RUN_NOT_FOUND' } });

    const run = await ms.runs.invoke('counted', null);
    const got = await api.inject(`/v1/runs/${run.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(run);

    const cancelled = await api.inject({ method: 'POST', url: `/v1/runs/${run.id}/cancel` });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({
      run: { id: run.id, status: 'cancelled', error: { code: 'E_RUN_CANCELLED' } },
    });

    await ms.startWorker();
    const queue = invocationQueueName('counted');
    await vi.waitFor(async () => {
      const { counts } = await ms.queues.stats(queue);
      expect(counts.visible + counts.inFlight + counts.delayed).toBe(0);
    }, waitLong);
    expect(calls).toBe(0);
    expect((await api.inject(`/v1/runs/${run.id}`)).json()).toMatchObject({ status: 'cancelled' });
  });

  it_('cancels a running run: it stays running with cancelRequestedAt until its handler stops', async () => {
    const started = gate();
    const slow = defineFunction({
      name: 'slow',
      retry: { maxAttempts: 1 },
      handler: async (_input: unknown, ctx) => {
        started.open();
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        throw ctx.signal.reason;
      },
    });
    const { api, ms } = await setup(backend, [slow]);
    await ms.startWorker();
    const run = await ms.runs.invoke('slow', null);
    await started.opened;
    await vi.waitFor(async () => expect((await ms.runs.get(run.id)).status).toBe('running'), waitLong);
    const res = await api.inject({ method: 'POST', url: `/v1/runs/${run.id}/cancel` });
    expect(res.statusCode).toBe(200);
    const after = (res.json() as { run: Run }).run;
    expect(after.status).toBe('running');
    expect(after.cancelRequestedAt).toEqual(expect.any(String));
    expect((await ms.runs.wait(run.id)).status).toBe('cancelled');
  });

  it_('returns a run’s log lines with their fields, after a seq', async () => {
    const chatty = defineFunction({
      name: 'chatty',
      handler: (_input: unknown, ctx) => {
        ctx.log.info({ k: 1 }, 'hello');
        ctx.log.warn('second');
      },
    });
    const { api, ms } = await setup(backend, [chatty]);
    await ms.startWorker();
    const run = await ms.runs.invoke('chatty', null);
    await ms.runs.wait(run.id);
    await vi.waitFor(async () => {
      const res = await api.inject(`/v1/runs/${run.id}/logs`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        lines: [
          { runId: run.id, function: 'chatty', seq: 1, level: 30, msg: 'hello', fields: { k: 1 } },
          { seq: 2, level: 40, msg: 'second' },
        ],
        nextAfterSeq: 2,
      });
    }, waitLong);
    const after = await api.inject({ url: `/v1/runs/${run.id}/logs`, query: { afterSeq: '1' } });
    expect(after.json()).toMatchObject({ lines: [{ seq: 2 }], nextAfterSeq: 2 });
    const none = await api.inject({ url: `/v1/runs/${run.id}/logs`, query: { afterSeq: '2', limit: '5' } });
    expect(none.json()).toEqual({ lines: [], nextAfterSeq: 2 });
    const missing = await api.inject('/v1/runs/nope-1/logs');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'E_RUN_NOT_FOUND' } });
  });

  it_(
    'follows a run’s logs as Server-Sent Events until it ends, and resumes from Last-Event-ID',
    async () => {
      const release = gate();
      const stepped = defineFunction({
        name: 'stepped',
        handler: async (_input: unknown, ctx) => {
          ctx.log.info({ step: 1 }, 'one');
          await release.opened;
          ctx.log.info({ step: 2 }, 'two');
          return 'ok';
        },
      });
      const { api, ms } = await setup(backend, [stepped]);
      const { url } = await listenApi(api, { host: '127.0.0.1', port: 0 });
      await ms.startWorker();
      const run = await ms.runs.invoke('stepped', null);

      const res = await fetch(`${url}/v1/runs/${run.id}/logs?follow=1`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const stream = sseReader(res);
      await vi.waitFor(() => expect(stream.events).toHaveLength(1), waitLong);
      expect(stream.events[0]).toMatchObject({
        id: '1',
        event: 'line',
        data: { runId: run.id, seq: 1, msg: 'one', fields: { step: 1 } },
      });
      release.open();
      await stream.pump;
      expect(stream.events.map((e) => e.event)).toEqual(['line', 'line', 'end']);
      expect(stream.events[1]).toMatchObject({ id: '2', data: { seq: 2, msg: 'two' } });
      expect(stream.events[2]).toEqual({ event: 'end', data: { status: 'succeeded' } });

      const resumed = sseReader(
        await fetch(`${url}/v1/runs/${run.id}/logs?follow=true`, { headers: { 'last-event-id': '1' } }),
      );
      await resumed.pump;
      expect(resumed.events.map((e) => [e.event, e.id])).toEqual([
        ['line', '2'],
        ['end', undefined],
      ]);

      const missing = await fetch(`${url}/v1/runs/nope-1/logs?follow=1`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: { code: 'E_RUN_NOT_FOUND' } });
    },
  );

  it_('ends open log streams when the client leaves or the server closes', async () => {
    const release = gate();
    const waiting = defineFunction({
      name: 'waiting',
      handler: async (_input: unknown, ctx) => {
        ctx.log.info('started');
        await release.opened;
      },
    });
    const { api, ms } = await setup(backend, [waiting]);
    const { url } = await listenApi(api, { host: '127.0.0.1', port: 0 });
    await ms.startWorker();
    const run = await ms.runs.invoke('waiting', null);

    const left = new AbortController();
    const leaving = sseReader(await fetch(`${url}/v1/runs/${run.id}/logs?follow=1`, { signal: left.signal }));
    await vi.waitFor(() => expect(leaving.events).toHaveLength(1), waitLong);
    left.abort();
    await leaving.pump.catch(() => {});

    const staying = sseReader(await fetch(`${url}/v1/runs/${run.id}/logs?follow=1`));
    await vi.waitFor(() => expect(staying.events).toHaveLength(1), waitLong);
    // The run is still going; closing the server ends the stream rather than waiting for the run.
    const closing = api.close();
    await staying.pump;
    expect(staying.isDone()).toBe(true);
    expect(staying.events.map((e) => e.event)).toEqual(['line']);
    // fetch (undici) keeps a spare connection open that never carried a request; Node's close
    // waits for it until undici's 4 s keep-alive ends. Not the server's to wait for here.
    api.server.closeAllConnections();
    await closing;
    release.open();
  });

  it_('serves Prometheus metrics: run counts by function and status, queue depth', async () => {
    const x = defineFunction({ name: 'x', handler: () => 'fine' });
    const y = defineFunction({
      name: 'y',
      retry: { maxAttempts: 1 },
      handler: () => {
        throw new Error('no');
      },
    });
    const { api, ms, clock } = await setup(backend, [x, y]);
    await ms.startWorker();
    for (const fn of ['x', 'x', 'y']) {
      const res = await api.inject({
        method: 'POST',
        url: `/v1/functions/${fn}/invoke`,
        payload: { wait: true },
      });
      expect(res.statusCode).toBe(200);
    }
    const res = await api.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(ms.metrics.contentType);
    const samples = parseMetrics(res.body);
    expect(samples.get('mainspring_runs_finished_total{function="x",status="succeeded"}')).toBe(2);
    expect(samples.get('mainspring_runs_finished_total{function="y",status="failed"}')).toBe(1);
    expect(samples.get('mainspring_runs_started_total{function="x",trigger="manual"}')).toBe(2);
    // A run due later waits in the function's invocation queue as a delayed message.
    await ms.runs.invoke('x', null, { at: new Date(clock.now() + 3_600_000) });
    const later = parseMetrics((await api.inject('/metrics')).body);
    expect(later.get('mainspring_queue_messages{queue="fn.x",state="delayed"}')).toBe(1);
    expect(later.get('mainspring_queue_messages{queue="fn.x",state="visible"}')).toBe(0);
    expect(res.body).toMatch(/^# TYPE mainspring_queue_messages gauge$/m);
  });
});

describe('runs API documents and guards its routes', () => {
  const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;

  it('lists the new paths in the OpenAPI document', async () => {
    const { api } = await setup(sqlite, []);
    const doc = (await api.inject('/openapi.json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/functions',
        '/v1/functions/{name}/invoke',
        '/v1/runs',
        '/v1/runs/{id}',
        '/v1/runs/{id}/cancel',
        '/v1/runs/{id}/logs',
        '/v1/runs/{id}/wait',
        '/v1/functions/{name}/logs',
        '/metrics',
      ]),
    );
  });

  it('requires the bearer token for /metrics and the runs routes when one is set', async () => {
    const { api } = await setup(sqlite, [], { token: 'tok-1' });
    expect((await api.inject('/metrics')).statusCode).toBe(401);
    expect((await api.inject('/v1/runs')).statusCode).toBe(401);
    const ok = await api.inject({ url: '/metrics', headers: { authorization: 'Bearer tok-1' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toMatch(/mainspring_runs_finished_total/);
  });
});
