// mainspringjs/client against a real server over loopback, on both backends: every
// operation of the API called through its typed method, each answer checked by hand and
// against the operation's own response schema (the contract's, with its named schemas),
// errors thrown as MainspringApiError, and the Server-Sent Events streams read to their
// first event (a finished run's log stream to its end).

import { build } from 'esbuild';
import { Value } from 'typebox/value';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Api, buildApi, listenApi } from '../../src/api/server.ts';
import { createClient, MainspringApiError, type MainspringClient } from '../../src/client/index.ts';
import { NAMED_SCHEMAS, OPERATIONS, type OperationId } from '../../src/contract/index.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import { defineWorkflow } from '../../src/workflow/define.ts';
import { fakeApp, tick } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';

const apis: Api[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) {
    // fetch keeps idle keep-alive connections the server's close would wait for.
    api.server.closeAllConnections();
    await api.close();
  }
});

const waitLong = { timeout: 10_000, interval: 5 };

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

/** Holds the `held` function's runs until opened; a fresh one per test. */
let held = gate();
const FUNCTIONS = [
  defineFunction({
    name: 'logger',
    handler: (input: unknown, ctx) => {
      ctx.log.info({ input }, 'got it');
      return { echoed: input };
    },
  }),
  defineFunction({
    name: 'broken',
    retry: { maxAttempts: 1 },
    handler: () => {
      throw new Error('disk full');
    },
  }),
  defineFunction({ name: 'held', handler: () => held.opened }),
];
const echo = defineWorkflow({
  name: 'echo',
  handler: async (input: unknown, ctx) => ctx.step('copy', () => input),
});
const approval = defineWorkflow({
  name: 'approval',
  handler: async (_: unknown, ctx) => {
    try {
      return { answer: await ctx.waitForCallback('approve', () => {}, { timeout: '1h' }) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  },
});

/** The named schemas by $id: what `{ $ref: 'Run' }` in a response schema resolves to. */
const CONTEXT = Object.fromEntries(NAMED_SCHEMAS.map((s) => [(s as { $id?: string }).$id!, s]));

/** Wraps the client: records which operations were called and checks each answer against its schema. */
function checking(client: MainspringClient) {
  const called = new Set<string>();
  const proxy = new Proxy(client, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof key !== 'string' || !Object.hasOwn(OPERATIONS, key)) return value;
      const id = key as OperationId;
      return async (req?: unknown) => {
        called.add(id);
        const answer = await (value as (r?: unknown) => Promise<unknown>)(req);
        const op = OPERATIONS[id] as { answer?: string; schema: { response: Record<string, unknown> } };
        if (op.answer === undefined) {
          const schemas = Object.entries(op.schema.response)
            .filter(([status]) => Number(status) < 300)
            .map(([, s]) => s as Parameters<typeof Value.Check>[1]);
          const fits = schemas.some((s) => Value.Check(CONTEXT, s, answer));
          expect(fits, `${id} answered ${JSON.stringify(answer).slice(0, 400)}`).toBe(true);
        }
        return answer;
      };
    },
  });
  return { api: proxy, called };
}

async function setup(backend: BackendFixture) {
  held = gate();
  const { ms, clock } = await fakeApp(backend, {
    functions: FUNCTIONS,
    workflows: [echo, approval],
    queues: [
      defineQueue({ name: 'inbox', deadLetterQueue: 'inbox-dead', maxReceiveCount: 3 }),
      defineQueue({ name: 'inbox-dead' }),
    ],
  });
  await ms.startWorker();
  const server = await buildApi({ ...ms, bodyLimit: 1024 * 1024, webhooks: { open: {} } });
  apis.push(server);
  const { url } = await listenApi(server, { host: '127.0.0.1', port: 0 });
  return { ms, clock, url, ...checking(createClient({ baseUrl: url })) };
}

describe.each(BACKENDS)('the typed client on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('calls every operation of the API and gets answers of the documented shapes', async () => {
    const { ms, clock, api, called } = await setup(backend);

    // Service
    expect(await api.getHealth()).toMatchObject({ status: 'ok', store: { backend: backend.name } });
    expect(await api.getAccess()).toMatchObject({ access: 'full', auth: false });
    expect(await api.getMetrics()).toMatch(/^# HELP /m);
    const changes = (await api.streamChanges())[Symbol.asyncIterator]();
    const first = await changes.next();
    expect(first.value).toMatchObject({ event: 'changes', data: { runs: expect.any(String) } });
    await changes.return?.();

    // Functions and runs
    const { functions } = await api.listFunctions();
    expect(functions.map((f) => f.name)).toEqual(expect.arrayContaining(['broken', 'held', 'logger']));
    expect(functions.find((f) => f.name === 'logger')).toMatchObject({ paused: false, limits: null });
    expect(await api.pauseFunction({ params: { name: 'broken' } })).toMatchObject({
      name: 'broken',
      paused: true,
      pausedAt: expect.any(String),
    });
    expect((await api.listFunctions()).functions.find((f) => f.name === 'broken')?.paused).toBe(true);
    expect(await api.resumeFunction({ params: { name: 'broken' } })).toEqual({
      name: 'broken',
      paused: false,
      pausedAt: null,
    });
    const invoked = await api.invokeFunction({ params: { name: 'logger' }, body: { input: 7, wait: true } });
    expect(invoked.run).toMatchObject({ function: 'logger', status: 'succeeded', result: { echoed: 7 } });
    const runId = invoked.run.id;
    await vi.waitFor(
      async () =>
        expect(await api.getRun({ params: { id: runId } })).toMatchObject({ id: runId, logCount: 1 }),
      waitLong,
    );
    expect((await api.listRuns({ query: { function: 'logger' } })).runs.map((r) => r.id)).toEqual([runId]);
    expect((await api.countRunsHourly({ query: { hours: '2' } })).hours).toHaveLength(2);
    const waited = await api.waitForRun({ params: { id: runId }, body: { timeoutMs: 100 } });
    expect(waited.run.status).toBe('succeeded');
    const logs = await api.getRunLogs({ params: { id: runId } });
    expect(logs).toMatchObject({ lines: [{ runId, seq: 1, msg: 'got it' }], nextAfterSeq: 1 });
    const fnLogs = await api.getFunctionLogs({ params: { name: 'logger' } });
    expect(fnLogs.lines.map((l) => l.msg)).toEqual(['got it']);
    const events: string[] = [];
    for await (const e of api.stream('getRunLogs', { params: { id: runId }, query: { follow: '1' } }))
      events.push(e.event);
    expect(events).toEqual(['line', 'end']);

    const failed = await api.invokeFunction({ params: { name: 'broken' }, body: { wait: true } });
    expect(failed.run).toMatchObject({ status: 'failed', error: { message: 'disk full' } });
    const retried = await api.retryRun({ params: { id: failed.run.id } });
    expect(retried.run).toMatchObject({
      function: 'broken',
      trigger: { kind: 'manual', retryOf: failed.run.id },
    });

    const running = await api.invokeFunction({ params: { name: 'held' } });
    await vi.waitFor(
      async () => expect((await ms.runs.get(running.run.id)).status).toBe('running'),
      waitLong,
    );
    const cancelled = await api.cancelRun({ params: { id: running.run.id } });
    expect(cancelled.run.cancelRequestedAt).not.toBeNull();
    held.open();

    // Queues and messages
    const { id: messageId } = await api.sendMessage({
      params: { name: 'inbox' },
      body: { body: { hello: 'world' }, priority: 2 },
    });
    expect(await api.getMessage({ params: { id: messageId } })).toMatchObject({
      id: messageId,
      queue: 'inbox',
      body: { hello: 'world' },
      priority: 2,
    });
    const { ids } = await api.sendMessageBatch({
      params: { name: 'inbox' },
      body: { entries: [{ body: 1 }, { body: 2 }] },
    });
    expect(ids).toHaveLength(2);
    expect((await api.listQueues()).queues.map((q) => q.name)).toContain('inbox');
    expect(await api.getQueue({ params: { name: 'inbox' } })).toMatchObject({
      name: 'inbox',
      counts: { visible: 3 },
      paused: false,
      pausedAt: null,
    });
    expect(await api.pauseQueue({ params: { name: 'inbox' } })).toMatchObject({
      name: 'inbox',
      paused: true,
      pausedAt: expect.any(String),
    });
    expect((await api.getQueue({ params: { name: 'inbox' } })).paused).toBe(true);
    expect(await api.resumeQueue({ params: { name: 'inbox' } })).toEqual({
      name: 'inbox',
      paused: false,
      pausedAt: null,
    });
    expect(await api.listDeadLetters({ params: { name: 'inbox' } })).toEqual({ messages: [] });
    expect(await api.redriveQueue({ params: { name: 'inbox' } })).toEqual({ redriven: 0 });
    expect(await api.purgeQueue({ params: { name: 'inbox' } })).toEqual({ purged: 3 });

    // Events and webhooks
    const put = await api.putEvents({
      body: { entries: [{ source: 'shop', detailType: 'order', detail: { id: 1 } }] },
    });
    expect(put.failedEntryCount).toBe(0);
    const eventId = (put.entries[0] as { eventId: string }).eventId;
    expect(await api.getEvent({ params: { id: eventId } })).toMatchObject({
      id: eventId,
      source: 'shop',
      detail: { id: 1 },
    });
    expect((await api.listEvents()).events.map((e) => e.id)).toContain(eventId);
    const from = new Date(clock.now() - 60_000).toISOString();
    const to = new Date(clock.now() + 60_000).toISOString();
    expect(await api.replayEvents({ body: { from, to } })).toMatchObject({ events: 1 });
    const hook = await api.receiveWebhook({ params: { source: 'open' }, body: { ping: true } });
    expect(hook).toMatchObject({ eventId: expect.any(String), duplicate: false });

    // Locks
    const lease = await api.acquireLock({ params: { name: 'nightly' }, body: { ttl: '1m', owner: 'me' } });
    expect(lease).toMatchObject({ name: 'nightly', owner: 'me', token: expect.any(Number) });
    expect(await api.getLock({ params: { name: 'nightly' } })).toEqual(lease);
    expect((await api.listLocks()).locks).toEqual([lease]);
    const renewed = await api.renewLock({
      params: { name: 'nightly' },
      body: { token: lease.token, ttl: '2m' },
    });
    expect(renewed.token).toBe(lease.token);
    expect(
      await api.releaseLock({ params: { name: 'nightly' }, query: { token: String(lease.token) } }),
    ).toBeNull();

    // Schedules
    const created = await api.createSchedule({
      body: { name: 'hourly', expression: 'rate(1 hour)', target: { kind: 'function', function: 'logger' } },
    });
    expect(created).toMatchObject({ name: 'hourly', enabled: true, source: 'api' });
    expect((await api.listSchedules()).schedules.map((s) => s.name)).toEqual(['hourly']);
    expect(await api.getSchedule({ params: { name: 'hourly' } })).toMatchObject({ name: 'hourly' });
    expect(
      await api.updateSchedule({ params: { name: 'hourly' }, body: { description: 'every hour' } }),
    ).toMatchObject({ description: 'every hour' });
    expect(await api.disableSchedule({ params: { name: 'hourly' } })).toMatchObject({ enabled: false });
    expect(await api.enableSchedule({ params: { name: 'hourly' } })).toMatchObject({ enabled: true });
    const next = await api.getNextTicks({ params: { name: 'hourly' }, query: { count: '3' } });
    expect(next.next).toHaveLength(3);
    expect(await api.runSchedule({ params: { name: 'hourly' } })).toEqual({ runId: expect.any(String) });
    expect(await api.deleteSchedule({ params: { name: 'hourly' } })).toMatchObject({ name: 'hourly' });

    // Tasks
    const due = new Date(clock.now() + 3_600_000).toISOString();
    const task = await api.upsertTasks({ body: { id: 'remind me', due, action: 'logger', payload: 1 } });
    expect(task).toMatchObject({ id: 'remind me', status: 'pending', action: 'logger' });
    expect((await api.listTasks()).tasks.map((t) => t.id)).toEqual(['remind me']);
    expect(await api.getTask({ params: { id: 'remind me' } })).toMatchObject({ id: 'remind me' });
    expect(await api.deleteTask({ params: { id: 'remind me' } })).toMatchObject({ id: 'remind me' });

    // Workflows, executions and callbacks
    expect((await api.listWorkflows()).workflows.map((w) => w.name).sort()).toEqual(['approval', 'echo']);
    const started = await api.startExecution({
      params: { name: 'echo' },
      body: { id: 'e/1', input: { a: 1 } },
    });
    expect(started).toMatchObject({ id: 'e/1', workflow: 'echo', created: true });
    let done = await api.waitForExecution({ params: { id: 'e/1' }, body: { timeoutMs: 50 } });
    for (let i = 0; i < 200 && done.status !== 'succeeded'; i++) {
      await tick(clock, 1000, 1000);
      done = await api.waitForExecution({ params: { id: 'e/1' }, body: { timeoutMs: 50 } });
    }
    expect(done).toMatchObject({ status: 'succeeded', output: { a: 1 } });
    expect(await api.getExecution({ params: { id: 'e/1' } })).toMatchObject({ id: 'e/1' });
    expect((await api.getExecutionHistory({ params: { id: 'e/1' } })).operations).toMatchObject([
      { name: 'copy', type: 'step' },
    ]);
    const listed = await api.listExecutions({ query: { workflow: 'echo' } });
    expect(listed.executions.map((e) => e.id)).toEqual(['e/1']);
    const ofEcho = await api.listWorkflowExecutions({
      params: { name: 'echo' },
      query: { status: 'succeeded' },
    });
    expect(ofEcho.executions).toHaveLength(1);
    expect(await api.stopExecution({ params: { id: 'e/1' } })).toMatchObject({ status: 'succeeded' });
    expect(await api.deleteExecution({ params: { id: 'e/1' } })).toBeNull();

    const callbackOf = async (id: string) => {
      await api.startExecution({ params: { name: 'approval' }, body: { id } });
      for (let i = 0; i < 200; i++) {
        const e = await api.getExecution({ params: { id } });
        if (e.wait?.callbackId) return e.wait.callbackId;
        await tick(clock, 1000, 1000);
      }
      throw new Error(`${id} never waited for its callback`);
    };
    const ok = await callbackOf('ap-ok');
    expect(await api.heartbeatCallback({ params: { id: ok } })).toBeNull();
    expect(await api.succeedCallback({ params: { id: ok }, body: { result: 'yes' } })).toBeNull();
    const no = await callbackOf('ap-no');
    expect(await api.failCallback({ params: { id: no }, body: { error: 'refused' } })).toBeNull();

    expect(Object.keys(OPERATIONS).filter((id) => !called.has(id))).toEqual([]);
  });

  it_('throws MainspringApiError with the status, code, message and details of the answer', async () => {
    const { api } = await setup(backend);
    const missing = await api.getRun({ params: { id: 'nope-1' } }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MainspringApiError);
    expect(missing).toMatchObject({ status: 404, code: 'E_RUN_NOT_FOUND', message: expect.any(String) });
    const invalid = await api
      .acquireLock({ params: { name: 'x' }, body: { ttl: 'soon' } })
      .catch((e: unknown) => e as MainspringApiError);
    expect(invalid).toMatchObject({ status: 400, code: 'E_VALIDATION' });
    expect((invalid as MainspringApiError).details).toBeDefined();
  });
});

describe('the client without a server', () => {
  it('bundles for browsers: nothing of Node in what it imports', async () => {
    const out = await build({
      entryPoints: [new URL('../../src/client/index.ts', import.meta.url).pathname],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    expect(out.errors).toEqual([]);
    expect(out.outputFiles[0]!.text).not.toMatch(/from\s*["']node:/);
  });

  it('sends the token, encodes path parameters and the query, and reads an answer not in the API shape', async () => {
    const seen: { url: string; init: RequestInit | undefined }[] = [];
    const fake: typeof fetch = async (input, init) => {
      seen.push({ url: String(input), init });
      return new Response('<html>bad gateway</html>', { status: 502 });
    };
    const api = createClient({ baseUrl: 'http://example.test/base/', token: 't0k', fetch: fake });
    const err = await api
      .getSchedule({ params: { name: 'reports/daily' } })
      .catch((e: unknown) => e as MainspringApiError);
    expect(err).toMatchObject({ status: 502, code: 'E_HTTP' });
    await api.listRuns({ query: { status: 'failed', limit: '5' } }).catch(() => {});
    expect(seen.map((s) => s.url)).toEqual([
      'http://example.test/base/v1/schedules/reports%2Fdaily',
      'http://example.test/base/v1/runs?status=failed&limit=5',
    ]);
    expect((seen[0]!.init!.headers as Record<string, string>)['authorization']).toBe('Bearer t0k');
  });
});
