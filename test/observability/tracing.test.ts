// Traces in-process, on both backends, with the OpenTelemetry SDK's in-memory exporter
// registered here (mainspring itself registers none): a send, an invoke and a workflow start
// inside an active span reach the run or replay they cause in the same trace; failing
// attempts carry error status; nothing is stored when no context is active.

import { context, propagation, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApi } from '../../src/api/server.ts';
import { defineRule } from '../../src/events/rules-define.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction, fromQueue } from '../../src/runtime/function.ts';
import { defineWorkflow } from '../../src/workflow/define.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});

afterAll(() => {
  trace.disable();
  propagation.disable();
  context.disable();
});

afterEach(() => exporter.reset());

const test = trace.getTracer('test');

/** Runs `fn` inside a fresh span of the test's, which it returns. */
async function inSpan(fn: () => Promise<unknown>): Promise<Span> {
  return test.startActiveSpan('caller', async (span) => {
    try {
      await fn();
    } finally {
      span.end();
    }
    return span;
  });
}

/** Waits (real time) for a finished span named `name`. */
async function spanNamed(name: string, n = 1): Promise<ReadableSpan[]> {
  return vi.waitFor(
    () => {
      const found = exporter.getFinishedSpans().filter((s) => s.name === name);
      expect(found.length).toBeGreaterThanOrEqual(n);
      return found;
    },
    { timeout: 10_000, interval: 5 },
  );
}

const parentId = (s: ReadableSpan) => s.parentSpanContext?.spanId;

const jobs = defineQueue({ name: 'jobs' });
const idle = defineQueue({ name: 'idle' });

describe.each(BACKENDS)('traces on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_("makes a run's span a child of the span its message was sent in", async () => {
    const handle = defineFunction({
      name: 'handle',
      triggers: [fromQueue(jobs)],
      handler: async (body: { fail?: boolean }) => {
        if (body.fail) throw new Error('no luck');
        return { ok: true };
      },
    });
    const { ms } = await fakeApp(backend, { queues: [jobs], functions: [handle] });
    await ms.startWorker();
    const caller = await inSpan(() => ms.queues.send(jobs, { n: 1 }));
    const [run] = await spanNamed('run handle');
    expect(run!.spanContext().traceId).toBe(caller.spanContext().traceId);
    expect(parentId(run!)).toBe(caller.spanContext().spanId);
    expect(run!.attributes).toMatchObject({
      'mainspring.function': 'handle',
      'mainspring.trigger': 'queue',
      'mainspring.attempt': 1,
      'mainspring.queue': 'jobs',
      'mainspring.outcome': 'succeeded',
    });
    expect(run!.attributes['mainspring.run_id']).toMatch(/m1-1$/);
    expect(run!.status.code).not.toBe(SpanStatusCode.ERROR);

    // A failing attempt: error status, the exception recorded.
    exporter.reset();
    await inSpan(() => ms.queues.send(jobs, { fail: true }));
    const [failed] = await spanNamed('run handle');
    expect(failed!.attributes['mainspring.outcome']).toBe('failed');
    expect(failed!.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'no luck' });
    expect(failed!.events.map((e) => e.name)).toContain('exception');

    // Sent with no span active: the run starts a trace of its own.
    exporter.reset();
    await ms.queues.send(jobs, { n: 2 });
    const [root] = await spanNamed('run handle');
    expect(root!.parentSpanContext).toBeUndefined();
  });

  it_('stores the W3C context with a message sent in a span, and nothing without one', async () => {
    const { ms } = await fakeApp(backend, { queues: [idle] });
    const claim = async () => {
      const [m] = await ms.store.queues.claim('idle', {
        limit: 1,
        nowMs: Date.parse('2026-01-05T10:00:00Z'),
        dueByMs: Date.parse('2026-01-05T10:00:00Z'),
        visibilityMs: 60_000,
        fifo: false,
      });
      return m!;
    };
    await ms.queues.send(idle, { n: 1 });
    expect((await claim()).traceContext).toBeNull();
    const caller = await inSpan(() => ms.queues.send(idle, { n: 2 }));
    const stored = JSON.parse((await claim()).traceContext!) as Record<string, string>;
    expect(stored['traceparent']).toBe(
      `00-${caller.spanContext().traceId}-${caller.spanContext().spanId}-01`,
    );
    // Sends with a dedup key take another path on PostgreSQL.
    const keyed = await inSpan(() => ms.queues.send(idle, { n: 3 }, { dedupKey: 'k' }));
    expect((await claim()).traceContext).toContain(keyed.spanContext().spanId);
  });

  it_("makes an HTTP request's server span, child of its traceparent, the parent of the run", async () => {
    const handle = defineFunction({ name: 'handle', triggers: [fromQueue(jobs)], handler: async () => null });
    const { ms } = await fakeApp(backend, { queues: [jobs], functions: [handle] });
    await ms.startWorker();
    const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await api.inject({
      method: 'POST',
      url: '/v1/queues/jobs/messages',
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      payload: { body: { n: 1 } },
    });
    expect(res.statusCode).toBe(201);
    const [server] = await spanNamed('POST /v1/queues/:name/messages');
    expect(server!.spanContext().traceId).toBe(traceId);
    expect(parentId(server!)).toBe('00f067aa0ba902b7');
    expect(server!.attributes).toMatchObject({
      'http.route': '/v1/queues/:name/messages',
      'http.response.status_code': 201,
    });
    const [run] = await spanNamed('run handle');
    expect(parentId(run!)).toBe(server!.spanContext().spanId);
    await api.close();
  });

  it_('carries the context of runs.invoke into the run', async () => {
    const task = defineFunction({ name: 'task', handler: async () => 'done' });
    const { ms } = await fakeApp(backend, { functions: [task] });
    await ms.startWorker();
    const caller = await inSpan(() => ms.runs.invoke('task', { x: 1 }));
    const [run] = await spanNamed('run task');
    expect(parentId(run!)).toBe(caller.spanContext().spanId);
    expect(run!.attributes).toMatchObject({
      'mainspring.trigger': 'manual',
      'mainspring.outcome': 'succeeded',
    });
  });

  it_('carries the context of events.put through the rule into the run', async () => {
    const onOrder = defineFunction({ name: 'on-order', handler: async () => null });
    const rules = [defineRule({ name: 'orders', pattern: { source: ['shop'] }, targets: [onOrder] })];
    const { ms } = await fakeApp(backend, { functions: [onOrder], rules });
    await ms.startWorker();
    const caller = await inSpan(() =>
      ms.events.put([{ source: 'shop', detailType: 'Order Placed', detail: { id: 1 } }]),
    );
    const [run] = await spanNamed('run on-order');
    expect(run!.spanContext().traceId).toBe(caller.spanContext().traceId);
    expect(parentId(run!)).toBe(caller.spanContext().spanId);
    expect(run!.attributes['mainspring.trigger']).toBe('event');
  });

  it_("makes a workflow's replay a child of its start, and its steps children of the replay", async () => {
    const notify = defineFunction({
      name: 'notify',
      triggers: [fromQueue(jobs)],
      handler: async () => null,
    });
    const wf = defineWorkflow({
      name: 'onboard',
      handler: async (_input: null, ctx) => {
        const a = await ctx.step('create', () => 1);
        await ctx.step('notify', (s) => ctx_send(s, a));
        return a;
      },
    });
    let ctx_send: (s: unknown, a: number) => Promise<unknown> = async () => null;
    const { ms } = await fakeApp(backend, { queues: [jobs], functions: [notify], workflows: [wf] });
    ctx_send = (_s, a) => ms.queues.send(jobs, { a });
    await ms.startWorker();
    const caller = await inSpan(() => ms.workflows.start(wf, null));
    const [replay] = await spanNamed('workflow onboard');
    const traceId = caller.spanContext().traceId;
    expect(replay!.spanContext().traceId).toBe(traceId);
    expect(parentId(replay!)).toBe(caller.spanContext().spanId);
    expect(replay!.attributes).toMatchObject({
      'mainspring.workflow': 'onboard',
      'mainspring.session_end': 'finished',
      'mainspring.outcome': 'succeeded',
    });
    const steps = [...(await spanNamed('step create')), ...(await spanNamed('step notify'))];
    for (const s of steps) {
      expect(s.spanContext().traceId).toBe(traceId);
      expect(parentId(s)).toBe(replay!.spanContext().spanId);
      expect(s.attributes).toMatchObject({
        'mainspring.operation': 'step',
        'mainspring.operation_status': 'succeeded',
      });
    }
    // A send inside a step: the run it causes is a child of the step's span.
    const [run] = await spanNamed('run notify');
    expect(parentId(run!)).toBe(steps[1]!.spanContext().spanId);
  });

  it_('fails the step span of a failing step with the error', async () => {
    const wf = defineWorkflow({
      name: 'breaks',
      handler: async (_input: null, ctx) => {
        await ctx.step(
          'boom',
          () => {
            throw new Error('step broke');
          },
          { retry: { maxAttempts: 1 } },
        );
      },
    });
    const { ms } = await fakeApp(backend, { workflows: [wf] });
    await ms.startWorker();
    await inSpan(() => ms.workflows.start(wf, null));
    const [step] = await spanNamed('step boom');
    expect(step!.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'step broke' });
    const [replay] = await spanNamed('workflow breaks');
    expect(replay!.attributes['mainspring.outcome']).toBe('failed');
    expect(replay!.status.code).toBe(SpanStatusCode.ERROR);
  });
});
