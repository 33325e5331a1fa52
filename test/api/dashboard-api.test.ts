// The API the dashboard reads and acts through, on both backends over real HTTP: run lists
// by several statuses, search and invocation; runs per hour; retry; a schedule's run now;
// executions by several statuses; events with the rules they match. Bad input named.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Api, buildApi, listenApi } from '../../src/api/server.ts';
import type { CreateMainspringOptions } from '../../src/app.ts';
import { defineRule } from '../../src/events/rules-define.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import type { Run } from '../../src/runtime/runs.ts';
import { defineWorkflow } from '../../src/workflow/define.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';

const apis: Api[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

const flaky = defineFunction({
  name: 'flaky',
  retry: { maxAttempts: 1 },
  handler: async (input: { n: number; word: string }, ctx) => {
    ctx.log.info(`saw the ${input.word === 'needle' ? 'hidden-token' : 'usual'} line`);
    if (input.n % 2 === 1) throw new Error(`odd input ${input.n} refused`);
    return { ok: input.n };
  },
});
const other = defineFunction({ name: 'other', handler: async () => 'fine' });
const sleeper = defineWorkflow({
  name: 'sleeper',
  handler: async (_input: unknown, ctx) => {
    await ctx.wait('nap', '1h');
    return 'awake';
  },
});
const audit = defineQueue({ name: 'audit' });

async function setup(backend: BackendFixture, options: Omit<CreateMainspringOptions, 'db' | 'clock'> = {}) {
  const { ms, clock } = await fakeApp(backend, {
    functions: [flaky, other],
    workflows: [sleeper],
    queues: [audit],
    rules: [defineRule({ name: 'to-audit', pattern: { source: ['shop'] }, targets: [audit] })],
    ...options,
  });
  const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
  apis.push(api);
  const { url } = await listenApi(api, { host: '127.0.0.1', port: 0 });
  const call = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as T };
  };
  return { ms, clock, call };
}

describe.each(BACKENDS)('the dashboard API on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('lists runs by several statuses, by search over input, error and logs, and by invocation', async () => {
    const { ms, clock, call } = await setup(backend);
    await ms.startWorker();
    // Off the hour, so a run's hour is a division with a remainder.
    await clock.advance(1_234_567);
    for (const [n, word] of [
      [1, 'hay'],
      [2, 'needle'],
      [3, 'hay'],
      [4, 'hay'],
    ] as const)
      await ms.runs.invoke(flaky, { n, word });
    await ms.runs.invoke(other, {});
    const settled = async () =>
      (await ms.runs.list({ limit: 50 })).runs.filter((r) => r.finishedAt).length === 5;
    for (let i = 0; i < 200 && !(await settled()); i++) await clock.advance(100);
    expect(await settled()).toBe(true);

    type Page = { runs: Run[] };
    const failed = await call<Page>('GET', '/v1/runs?status=failed,timed_out');
    // Created in the same millisecond of fake time, so in no set order among themselves.
    expect(failed.json.runs.map((r) => (r.input as { n: number }).n).sort()).toEqual([1, 3]);
    const both = await call<Page>('GET', '/v1/runs?status=failed,succeeded&function=flaky');
    expect(both.json.runs).toHaveLength(4);
    // In the error, in a log line, in the input; case-insensitive; % is a character, not a wildcard.
    expect((await call<Page>('GET', '/v1/runs?q=ODD%20INPUT%203')).json.runs.map((r) => r.input)).toEqual([
      { n: 3, word: 'hay' },
    ]);
    expect((await call<Page>('GET', '/v1/runs?q=hidden-token')).json.runs).toHaveLength(1);
    expect((await call<Page>('GET', '/v1/runs?q=needle')).json.runs).toHaveLength(1);
    expect((await call<Page>('GET', '/v1/runs?q=%25')).json.runs).toHaveLength(0);
    const one = failed.json.runs[0]!;
    const attempts = await call<Page>('GET', `/v1/runs?invocation=${one.invocationId}`);
    expect(attempts.json.runs.map((r) => r.id)).toEqual([one.id]);

    const hourly = await call<{ hours: { counts: Record<string, number> }[] }>(
      'GET',
      '/v1/runs/hourly?hours=24',
    );
    expect(hourly.status).toBe(200);
    expect(hourly.json.hours).toHaveLength(24);
    const sum = (s: string) => hourly.json.hours.reduce((a, h) => a + (h.counts[s] ?? 0), 0);
    expect([sum('succeeded'), sum('failed')]).toEqual([3, 2]);

    // Retry: a failed run starts again as a new invocation naming it; a succeeded one cannot.
    const retried = await call<{ run: Run }>('POST', `/v1/runs/${one.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.json.run.invocationId).not.toBe(one.invocationId);
    expect(retried.json.run.trigger).toMatchObject({ kind: 'manual', retryOf: one.id });
    expect(retried.json.run.input).toEqual(one.input);
    const ok = both.json.runs.find((r) => r.status === 'succeeded')!;
    expect((await call('POST', `/v1/runs/${ok.id}/retry`)).json).toMatchObject({
      error: { code: 'E_CONFLICT' },
    });
    expect((await call('POST', '/v1/runs/nope-1/retry')).status).toBe(404);
  });

  it_('names the field of bad list input', async () => {
    const { call } = await setup(backend);
    for (const [path, field] of [
      ['/v1/runs?status=failed,exploded', 'status'],
      [`/v1/runs?q=${'x'.repeat(201)}`, 'q'],
      ['/v1/runs?q=', 'q'],
      ['/v1/runs/hourly?hours=0', 'hours'],
      ['/v1/runs/hourly?hours=500', 'hours'],
      ['/v1/executions?status=waiting,dozing', 'status'],
      ['/v1/events?from=yesterday', 'from'],
      ['/v1/events?cursor=abc', 'cursor'],
    ] as const) {
      const res = await call('GET', path);
      expect(res.status, path).toBe(400);
      expect(JSON.stringify(res.json), path).toContain(field);
    }
  });

  it_('runs a schedule now without moving its next tick, even disabled', async () => {
    const { ms, call } = await setup(backend);
    const created = await call('POST', '/v1/schedules', {
      name: 'nightly',
      expression: 'cron(0 2 * * ? *)',
      target: { kind: 'function', function: 'other' },
      payload: { from: 'schedule' },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    await call('POST', '/v1/schedules/nightly/disable');
    const before = (await call<{ state: { nextTick: string } }>('GET', '/v1/schedules/nightly')).json.state
      .nextTick;
    const res = await call<{ runId: string }>('POST', '/v1/schedules/nightly/run');
    expect(res.status).toBe(200);
    const run = await ms.runs.get(res.json.runId);
    expect(run).toMatchObject({ function: 'other', input: { from: 'schedule' } });
    expect(
      (await call<{ state: { nextTick: string } }>('GET', '/v1/schedules/nightly')).json.state.nextTick,
    ).toBe(before);
    expect((await call('POST', '/v1/schedules/nope/run')).status).toBe(404);
  });

  it_('lists executions by several statuses, and events with the rules they match', async () => {
    const { ms, clock, call } = await setup(backend);
    await ms.startWorker();
    await ms.workflows.start(sleeper, {}, { id: 'nap-1' });
    // Bounded in real time, not in tries: beside another test file the store answers slower.
    await vi.waitFor(
      async () => {
        await clock.advance(50);
        expect((await ms.workflows.get('nap-1')).status).toBe('waiting');
      },
      { timeout: 10_000, interval: 5 },
    );
    type Page = { executions: { id: string; status: string }[] };
    expect(
      (await call<Page>('GET', '/v1/executions?status=waiting,failed')).json.executions.map((e) => e.id),
    ).toEqual(['nap-1']);
    expect((await call<Page>('GET', '/v1/executions?status=succeeded,failed')).json.executions).toEqual([]);

    await ms.events.put([
      { source: 'shop', detailType: 'order', detail: { id: 1 } },
      { source: 'crm', detailType: 'lead', detail: { id: 2 } },
    ]);
    const events = await call<{ events: { source: string; rules: { name: string; queues: string[] }[] }[] }>(
      'GET',
      '/v1/events',
    );
    expect(events.json.events.map((e) => [e.source, e.rules])).toEqual([
      ['shop', [{ name: 'to-audit', queues: ['audit'] }]],
      ['crm', []],
    ]);
    const paged = await call<{ events: unknown[]; nextCursor: string }>('GET', '/v1/events?limit=1');
    expect(paged.json.events).toHaveLength(1);
    const next = await call<{ events: { source: string }[] }>(
      'GET',
      `/v1/events?limit=1&cursor=${paged.json.nextCursor}`,
    );
    expect(next.json.events.map((e) => e.source)).toEqual(['crm']);
  });
});
