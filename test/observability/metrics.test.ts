// Metrics as Prometheus scrapes them: the text exposition is parsed line by line
// (every sample line must match the grammar), then counters, histogram counts and
// sums, and queue gauges are read back. A store that fails to answer must not fail
// the scrape, and two apps in one process must not share values.

import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { Metrics, type QueueGaugeRead } from '../../src/observability/metrics.ts';
import type { QueueCounts } from '../../src/store/types.ts';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

// name{label="value",...} value — the Prometheus text format 0.0.4 sample line.
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
// Values are Go floats (Prometheus parses them with strconv.ParseFloat): Inf and NaN in any case;
// prom-client writes an empty event-loop histogram's mean as "Nan".
const VALUE = '(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|[+-]?[iI][nN][fF]|[nN][aA][nN])';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})? (${VALUE})(?: -?\\d+)?$`);
const COMMENT = new RegExp(
  `^# (?:HELP ${NAME} .*|TYPE ${NAME} (?:counter|gauge|histogram|summary|untyped))$`,
);
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      expect(line, 'comment line').toMatch(COMMENT);
      continue;
    }
    const m = SAMPLE.exec(line);
    expect(m, `sample line ${JSON.stringify(line)}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (m![2] ?? '').matchAll(LABEL_PAIR)) {
      labels[key!] = raw!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const raw = m![3]!;
    const value = /inf$/i.test(raw) ? (raw.startsWith('-') ? -Infinity : Infinity) : Number(raw);
    samples.push({ name: m![1]!, labels, value });
  }
  return samples;
}

function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  expect(found.length, `${name} ${JSON.stringify(labels)} matches at most one sample`).toBeLessThanOrEqual(1);
  return found[0]?.value;
}

async function scrape(metrics: Metrics): Promise<Sample[]> {
  return parseExposition(await metrics.metrics());
}

const NOW = Date.parse('2026-07-01T12:00:00Z');

const counts: QueueCounts[] = [
  {
    queue: 'emails',
    visible: 7,
    inFlight: 2,
    delayed: 3,
    dead: 1,
    waitingForSlot: 4,
    rateLimited: 2,
    oldestSentAtMs: NOW - 90_000,
  },
  {
    queue: 'empty',
    visible: 0,
    inFlight: 0,
    delayed: 0,
    dead: 0,
    waitingForSlot: 0,
    rateLimited: 0,
    oldestSentAtMs: null,
  },
];

describe('Metrics', () => {
  it('counts runs started and finished and records durations as a histogram', async () => {
    const metrics = new Metrics({});
    metrics.runStarted('send-receipt', 'queue');
    metrics.runStarted('send-receipt', 'queue');
    metrics.runStarted('send-receipt', 'manual');
    metrics.runStarted('nightly', 'schedule');
    metrics.runFinished('send-receipt', 'succeeded', 250);
    metrics.runFinished('send-receipt', 'succeeded', 750);
    metrics.runFinished('send-receipt', 'failed', 5000);
    metrics.runFinished('nightly', 'timed_out', 3_600_000);

    const s = await scrape(metrics);
    expect(
      sampleValue(s, 'mainspring_runs_started_total', { function: 'send-receipt', trigger: 'queue' }),
    ).toBe(2);
    expect(
      sampleValue(s, 'mainspring_runs_started_total', { function: 'send-receipt', trigger: 'manual' }),
    ).toBe(1);
    expect(
      sampleValue(s, 'mainspring_runs_started_total', { function: 'nightly', trigger: 'schedule' }),
    ).toBe(1);
    expect(
      sampleValue(s, 'mainspring_runs_finished_total', { function: 'send-receipt', status: 'succeeded' }),
    ).toBe(2);
    expect(
      sampleValue(s, 'mainspring_runs_finished_total', { function: 'send-receipt', status: 'failed' }),
    ).toBe(1);

    const ok = { function: 'send-receipt', status: 'succeeded' };
    expect(sampleValue(s, 'mainspring_run_duration_seconds_count', ok)).toBe(2);
    expect(sampleValue(s, 'mainspring_run_duration_seconds_sum', ok)).toBeCloseTo(1.0, 9);
    expect(sampleValue(s, 'mainspring_run_duration_seconds_bucket', { ...ok, le: '0.25' })).toBe(1);
    expect(sampleValue(s, 'mainspring_run_duration_seconds_bucket', { ...ok, le: '1' })).toBe(2);
    expect(sampleValue(s, 'mainspring_run_duration_seconds_bucket', { ...ok, le: '+Inf' })).toBe(2);

    const hour = { function: 'nightly', status: 'timed_out' };
    expect(sampleValue(s, 'mainspring_run_duration_seconds_bucket', { ...hour, le: '1800' })).toBe(0);
    expect(sampleValue(s, 'mainspring_run_duration_seconds_bucket', { ...hour, le: '3600' })).toBe(1);
    expect(sampleValue(s, 'mainspring_run_duration_seconds_sum', hour)).toBe(3600);
  });

  it('adds the runs counted between scrapes once each, whichever scrape reads them', async () => {
    const metrics = new Metrics({});
    const started = (s: Sample[]) =>
      sampleValue(s, 'mainspring_runs_started_total', { function: 'f', trigger: 'queue' });
    const finished = (s: Sample[]) =>
      sampleValue(s, 'mainspring_runs_finished_total', { function: 'f', status: 'succeeded' });
    metrics.runStarted('f', 'queue');
    metrics.runFinished('f', 'succeeded', 1);
    let s = await scrape(metrics);
    expect([started(s), finished(s)]).toEqual([1, 1]);
    // Nothing since: the same counts, not the same again.
    s = await scrape(metrics);
    expect([started(s), finished(s)]).toEqual([1, 1]);
    for (let i = 0; i < 3; i++) metrics.runStarted('f', 'queue');
    metrics.runFinished('f', 'succeeded', 1);
    s = await scrape(metrics);
    expect([started(s), finished(s)]).toEqual([4, 2]);
    // Read as JSON (the registry's other reader) it is the same.
    const json = await metrics.registry.getMetricsAsJSON();
    const startedJson = json.find((m) => m.name === 'mainspring_runs_started_total');
    expect(startedJson?.values.find((v) => v.labels['function'] === 'f')?.value).toBe(4);
  });

  it('records schedule lateness and failed deliveries', async () => {
    const metrics = new Metrics({});
    metrics.scheduleLateness('nightly', 4);
    metrics.scheduleLateness('nightly', 2_000);
    metrics.scheduleLateness('nightly', -5); // a tick run early counts as on time
    metrics.deliveryFailed('alert-webhook', 'https://hooks.example.com');
    metrics.deliveryFailed('alert-webhook', 'https://hooks.example.com');
    metrics.deliveryFailed('queue', 'emails');

    const s = await scrape(metrics);
    expect(sampleValue(s, 'mainspring_schedule_lateness_seconds_count', { schedule: 'nightly' })).toBe(3);
    expect(sampleValue(s, 'mainspring_schedule_lateness_seconds_sum', { schedule: 'nightly' })).toBeCloseTo(
      2.004,
      9,
    );
    expect(
      sampleValue(s, 'mainspring_schedule_lateness_seconds_bucket', { schedule: 'nightly', le: '0.005' }),
    ).toBe(2);
    expect(
      sampleValue(s, 'mainspring_schedule_lateness_seconds_bucket', { schedule: 'nightly', le: '60' }),
    ).toBe(3);
    expect(
      sampleValue(s, 'mainspring_deliveries_failed_total', {
        kind: 'alert-webhook',
        target: 'https://hooks.example.com',
      }),
    ).toBe(2);
    expect(sampleValue(s, 'mainspring_deliveries_failed_total', { kind: 'queue', target: 'emails' })).toBe(1);
  });

  it('counts schedule ticks, tasks, workflow executions and API requests by route template', async () => {
    const metrics = new Metrics({});
    metrics.scheduleTicks('nightly', { fired: 1, missed: 0, overlapSkipped: 0 });
    metrics.scheduleTicks('nightly', { fired: 1, missed: 7, overlapSkipped: 1 });
    metrics.taskFired('send-reminder');
    metrics.executionStarted('onboard');
    metrics.executionFinished('onboard', 'succeeded');
    metrics.executionFinished('onboard', 'timed_out');
    metrics.httpRequest('GET', '/v1/queues/:name', 200, 4);
    metrics.httpRequest('GET', '/v1/queues/:name', 404, 2);
    metrics.httpRequest('GET', null, 404, 1);

    const s = await scrape(metrics);
    expect(sampleValue(s, 'mainspring_schedule_ticks_fired_total', { schedule: 'nightly' })).toBe(2);
    expect(sampleValue(s, 'mainspring_schedule_ticks_missed_total', { schedule: 'nightly' })).toBe(7);
    expect(sampleValue(s, 'mainspring_schedule_ticks_overlap_skipped_total', { schedule: 'nightly' })).toBe(
      1,
    );
    expect(sampleValue(s, 'mainspring_tasks_fired_total', { function: 'send-reminder' })).toBe(1);
    expect(sampleValue(s, 'mainspring_workflow_executions_started_total', { workflow: 'onboard' })).toBe(1);
    const finished = (status: string) =>
      sampleValue(s, 'mainspring_workflow_executions_finished_total', { workflow: 'onboard', status });
    expect(finished('succeeded')).toBe(1);
    expect(finished('timed_out')).toBe(1);
    expect(finished('failed')).toBeUndefined();
    const requests = (route: string, code: string) =>
      sampleValue(s, 'mainspring_http_requests_total', { method: 'GET', route, status_code: code });
    expect(requests('/v1/queues/:name', '200')).toBe(1);
    expect(requests('/v1/queues/:name', '404')).toBe(1);
    expect(requests('unmatched', '404')).toBe(1);
    const queue = { method: 'GET', route: '/v1/queues/:name' };
    expect(sampleValue(s, 'mainspring_http_request_duration_seconds_count', queue)).toBe(2);
    expect(sampleValue(s, 'mainspring_http_request_duration_seconds_sum', queue)).toBeCloseTo(0.006, 9);
    expect(sampleValue(s, 'mainspring_http_request_duration_seconds_bucket', { ...queue, le: '0.001' })).toBe(
      0,
    );
    expect(sampleValue(s, 'mainspring_http_request_duration_seconds_bucket', { ...queue, le: '0.005' })).toBe(
      2,
    );
  });

  it('reads waiting workflow executions at scrape time; a failed read empties only its gauge', async () => {
    let fail = false;
    const metrics = new Metrics({
      clock: new FakeClock(NOW),
      queueCounts: async () => counts,
      workflowsWaiting: async () => {
        if (fail) throw new Error('store unreachable');
        return [{ workflow: 'onboard', waiting: 3 }];
      },
    });
    let s = await scrape(metrics);
    expect(sampleValue(s, 'mainspring_workflow_executions_waiting', { workflow: 'onboard' })).toBe(3);
    expect(sampleValue(s, 'mainspring_scrape_errors_total')).toBe(0);

    fail = true;
    s = await scrape(metrics);
    expect(s.filter((x) => x.name === 'mainspring_workflow_executions_waiting')).toEqual([]);
    expect(sampleValue(s, 'mainspring_queue_messages', { queue: 'emails', state: 'visible' })).toBe(7);
    expect(sampleValue(s, 'mainspring_scrape_errors_total')).toBe(1);
  });

  it('serves the process metrics under their standard names, once, the _total gauges untyped', async () => {
    const apps = Array.from({ length: 5 }, () => new Metrics({}));
    const text = await apps[4]!.metrics();
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const);
    const names = types.map(([name]) => name);
    expect(names.length).toBe(new Set(names).size);
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(names).toContain(name);
    }
    // Gauges that prom-client names like counters: promtool accepts them untyped, dashboards by name.
    expect(new Map(types).get('nodejs_active_handles_total')).toBe('untyped');
    expect(new Map(types).get('process_cpu_seconds_total')).toBe('counter');
    expect(names.filter((n) => n.startsWith('mainspring_process'))).toEqual([]);

    const bare = await new Metrics({ defaultMetrics: false }).metrics();
    expect(bare).not.toMatch(/^# TYPE (?:process|nodejs)_/m);
  });

  it('reads queue depth at scrape time, once per scrape', async () => {
    const clock = new FakeClock(NOW);
    let calls = 0;
    let current = counts;
    const metrics = new Metrics({
      clock,
      queueCounts: async () => {
        calls++;
        return current;
      },
    });
    expect(calls).toBe(0);

    let s = await scrape(metrics);
    expect(calls).toBe(1);
    const q = (queue: string, state: string) => sampleValue(s, 'mainspring_queue_messages', { queue, state });
    expect(q('emails', 'visible')).toBe(7);
    expect(q('emails', 'in_flight')).toBe(2);
    expect(q('emails', 'delayed')).toBe(3);
    expect(q('emails', 'dead')).toBe(1);
    expect(q('empty', 'visible')).toBe(0);
    const held = (queue: string, reason: string) =>
      sampleValue(s, 'mainspring_queue_messages_held', { queue, reason });
    expect(held('emails', 'concurrency')).toBe(4);
    expect(held('emails', 'rate_limit')).toBe(2);
    expect(held('empty', 'concurrency')).toBe(0);
    expect(sampleValue(s, 'mainspring_queue_oldest_message_age_seconds', { queue: 'emails' })).toBe(90);
    expect(sampleValue(s, 'mainspring_queue_oldest_message_age_seconds', { queue: 'empty' })).toBe(0);
    expect(sampleValue(s, 'mainspring_scrape_errors_total')).toBe(0);

    // Fresh values on the next scrape; a queue that disappeared leaves no stale series.
    current = [{ ...counts[0]!, visible: 1 }];
    clock.set(NOW + 10_000);
    s = await scrape(metrics);
    expect(calls).toBe(2);
    expect(sampleValue(s, 'mainspring_queue_messages', { queue: 'emails', state: 'visible' })).toBe(1);
    expect(sampleValue(s, 'mainspring_queue_oldest_message_age_seconds', { queue: 'emails' })).toBe(100);
    expect(sampleValue(s, 'mainspring_queue_messages', { queue: 'empty', state: 'visible' })).toBeUndefined();
  });

  it('reports each queue paused (1) or not (0) where the read says, and nothing where it does not', async () => {
    let current: QueueGaugeRead[] = [
      { ...counts[0]!, paused: true },
      { ...counts[1]!, paused: false },
    ];
    const metrics = new Metrics({ clock: new FakeClock(NOW), queueCounts: async () => current });
    let s = await scrape(metrics);
    expect(sampleValue(s, 'mainspring_queue_paused', { queue: 'emails' })).toBe(1);
    expect(sampleValue(s, 'mainspring_queue_paused', { queue: 'empty' })).toBe(0);
    current = [{ ...counts[0]!, paused: false }, counts[1]!];
    s = await scrape(metrics);
    expect(sampleValue(s, 'mainspring_queue_paused', { queue: 'emails' })).toBe(0);
    expect(sampleValue(s, 'mainspring_queue_paused', { queue: 'empty' })).toBeUndefined();
  });

  it('still answers a scrape when queueCounts rejects, and counts the error', async () => {
    let fail = false;
    const metrics = new Metrics({
      clock: new FakeClock(NOW),
      queueCounts: async () => {
        if (fail) throw new Error('store unreachable');
        return counts;
      },
    });
    metrics.runStarted('send-receipt', 'queue');
    let s = await scrape(metrics);
    expect(sampleValue(s, 'mainspring_queue_messages', { queue: 'emails', state: 'visible' })).toBe(7);

    fail = true;
    s = await scrape(metrics);
    expect(sampleValue(s, 'mainspring_scrape_errors_total')).toBe(1);
    expect(
      sampleValue(s, 'mainspring_runs_started_total', { function: 'send-receipt', trigger: 'queue' }),
    ).toBe(1);
    expect(s.filter((x) => x.name === 'mainspring_queue_messages')).toEqual([]);

    s = await scrape(metrics);
    expect(sampleValue(s, 'mainspring_scrape_errors_total')).toBe(2);

    fail = false;
    s = await scrape(metrics);
    expect(sampleValue(s, 'mainspring_scrape_errors_total')).toBe(2);
    expect(sampleValue(s, 'mainspring_queue_messages', { queue: 'emails', state: 'dead' })).toBe(1);
  });

  it('survives a queueCounts that throws synchronously', async () => {
    const metrics = new Metrics({
      queueCounts: () => {
        throw new Error('not even a promise');
      },
    });
    const s = await scrape(metrics);
    expect(sampleValue(s, 'mainspring_scrape_errors_total')).toBe(1);
  });

  it('keeps two instances apart, default process metrics included', async () => {
    const a = new Metrics({});
    const b = new Metrics({});
    a.runStarted('f', 'manual');
    a.runStarted('f', 'manual');
    b.runStarted('f', 'manual');
    const sa = await scrape(a);
    const sb = await scrape(b);
    expect(sampleValue(sa, 'mainspring_runs_started_total', { function: 'f', trigger: 'manual' })).toBe(2);
    expect(sampleValue(sb, 'mainspring_runs_started_total', { function: 'f', trigger: 'manual' })).toBe(1);
    // prom-client's default metrics under their standard names, served by each.
    expect(sampleValue(sa, 'process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(sb, 'process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0);
  });

  it('takes a prefix and reports the Prometheus content type', async () => {
    const metrics = new Metrics({ prefix: 'app1_' });
    metrics.runFinished('f', 'cancelled', 1);
    const s = await scrape(metrics);
    expect(sampleValue(s, 'app1_runs_finished_total', { function: 'f', status: 'cancelled' })).toBe(1);
    expect(s.some((x) => x.name.startsWith('mainspring_'))).toBe(false);
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('escapes label values so the exposition still parses', async () => {
    const metrics = new Metrics({});
    const odd = 'say "hi"\\now\nplease';
    metrics.runStarted(odd, 'manual');
    const s = await scrape(metrics);
    expect(sampleValue(s, 'mainspring_runs_started_total', { function: odd })).toBe(1);
  });
});
