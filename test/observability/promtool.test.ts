// GET /metrics from a real server over loopback, checked by Prometheus's own linter: after
// runs, schedule ticks (fired, late, missed, skipped for overlap), a task, workflows (one
// finished, one waiting) and a few API requests, so every family has samples,
// `promtool check metrics` must exit 0 and print nothing (no lint warning either).

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Api, buildApi, listenApi } from '../../src/api/server.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import { defineWorkflow } from '../../src/workflow/define.ts';
import { fakeApp, tick } from '../helpers/app.ts';
import { BACKENDS, REQUIRE_PG, tempDir } from '../helpers/backends.ts';

const PROMTOOL = '/usr/bin/promtool';
// CI (REQUIRE_PG=1) must run it: .ci/run installs promtool (Debian's prometheus package).
const skip = !existsSync(PROMTOOL) && !REQUIRE_PG;
if (skip) console.warn(`[mainspring tests] skipping the promtool check: ${PROMTOOL} is missing`);

const apis: Api[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

const job = defineFunction({ name: 'job', handler: () => 'done' });
const greet = defineWorkflow({
  name: 'greet',
  handler: async (input: unknown, ctx) => ctx.step('hello', () => ({ hello: input })),
});
const nap = defineWorkflow({
  name: 'nap',
  handler: async (_: unknown, ctx) => {
    await ctx.wait('nap', { hours: 1 });
    return 'rested';
  },
});

describe('GET /metrics', () => {
  const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;

  it.skipIf(skip)('passes promtool check metrics with no warning', async () => {
    const { ms, clock } = await fakeApp(sqlite, {
      functions: [job],
      workflows: [greet, nap],
      start: '2026-01-05T10:00:30Z',
    });
    for (const [name, extra] of [
      ['every-minute', { misfire: 'once' }],
      ['no-overlap', { overlap: 'skip' }],
    ] as const) {
      await ms.schedules.create({
        name,
        expression: 'cron(* * * * ? *)',
        ...extra,
        target: { kind: 'function', function: 'job' },
      });
    }
    await ms.tasks.upsert({ id: 'once-off', due: '2026-01-05T10:01:00Z', action: 'job' });
    const scheduler = new Scheduler({
      store: ms.store,
      clock,
      functions: new Map([[job.name, job]]),
      metrics: ms.metrics,
    });
    // 10:01 fires; with no worker yet its run stays queued, so no-overlap skips 10:02; 10:03 …
    // 10:09 are missed; 10:10:10 is 10 s late for the 10:10 tick.
    for (const t of ['10:01:00', '10:02:00', '10:10:10', '10:10:10']) {
      clock.set(`2026-01-05T${t}Z`);
      await scheduler.fireDue({ nowMs: clock.now(), lookaheadMs: 0 });
    }
    await ms.startWorker();
    await ms.runs.invoke('job', null);
    await ms.workflows.start(greet, 'ada', { id: 'g1' });
    await ms.workflows.start(nap, null, { id: 'n1' });
    const settled = async () => {
      const [g1, n1, queued] = await Promise.all([
        ms.workflows.get('g1'),
        ms.workflows.get('n1'),
        ms.runs.list({ status: 'queued', limit: 1 }),
      ]);
      return g1.status === 'succeeded' && n1.status === 'waiting' && queued.runs.length === 0;
    };
    for (let round = 0; !(await settled()); round++) {
      expect(round, 'runs and workflows settle').toBeLessThan(200);
      await tick(clock, 50, 50);
    }
    // Paths no test here takes for real: a dead letter and a shed request.
    ms.metrics.deliveryFailed('queue', 'emails');
    ms.metrics.requestShed('overloaded');

    const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
    apis.push(api);
    const { url } = await listenApi(api, { host: '127.0.0.1', port: 0 });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/v1/queues/fn.job`)).status).toBe(200);
    expect((await fetch(`${url}/v1/queues/nope`)).status).toBe(404);
    expect((await fetch(`${url}/no/such/path`)).status).toBe(404);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();

    // Every family of ours has samples (a GC may not have happened yet for prom-client's).
    const families = [...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!);
    const sampled = new Set(text.split('\n').map((l) => /^[a-zA-Z0-9_:]+/.exec(l)?.[0]));
    const empty = families.filter(
      (f) => f.startsWith('mainspring_') && !['', '_bucket'].some((suffix) => sampled.has(`${f}${suffix}`)),
    );
    expect(empty).toEqual([]);
    for (const family of [
      'mainspring_runs_started_total',
      'mainspring_schedule_lateness_seconds',
      'mainspring_schedule_ticks_fired_total',
      'mainspring_schedule_ticks_missed_total',
      'mainspring_schedule_ticks_overlap_skipped_total',
      'mainspring_tasks_fired_total',
      'mainspring_workflow_executions_started_total',
      'mainspring_workflow_executions_finished_total',
      'mainspring_workflow_executions_waiting',
      'mainspring_queue_paused',
      'mainspring_queue_messages_held',
      'mainspring_http_requests_total',
      'mainspring_http_request_duration_seconds',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(families).toContain(family);
    }
    // Each family once: the process metrics are not repeated per app.
    expect(families.length).toBe(new Set(families).size);

    const file = join(tempDir('mainspring-promtool-'), 'metrics.txt');
    writeFileSync(file, text);
    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: readFileSync(file), encoding: 'utf8' });
    expect({ status: check.status, stdout: check.stdout, stderr: check.stderr }).toEqual({
      status: 0,
      stdout: '',
      stderr: '',
    });
  });
});
