// A name or id is created only when it can be reached by URL. Before, a schedule, task or
// execution id of 101–200 characters was stored (201) but GET /v1/schedules/<name>
// answered 414 in Fastify's own shape: the router's parameter limit (100) was not the
// documented one (200). Now one number per kind (core/names.ts) sizes the creation check,
// the route's schema and the router's limit; one past it is refused at creation, naming
// the field, with nothing stored.

import { describe, expect, it } from 'vitest';
import { MAX_PARAM_LENGTH } from '../../src/api/server.ts';
import type { Mainspring } from '../../src/app.ts';
import { LONGEST_NAME, NAME_LIMITS } from '../../src/core/names.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import { defineWorkflow } from '../../src/workflow/define.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';
import { serveApi } from '../helpers/http.ts';

const L = NAME_LIMITS;
// Names at each kind's limit, in the characters each allows.
const queueName = 'q'.repeat(L.queue);
const functionName = 'f'.repeat(L.function);
const workflowName = 'w'.repeat(L.workflow);

const queue = defineQueue({ name: queueName });
const fn = defineFunction({ name: functionName, handler: () => {} });
const wf = defineWorkflow({ name: workflowName, handler: async () => 'done' });

type Body = {
  error?: { code: string; details?: { field?: string; issues?: { field: string }[] } };
} & Record<string, unknown>;

/** The last server's URL, for calls whose answer has no body. */
let baseUrl = '';

async function serve(ms: Mainspring) {
  const { url, call } = await serveApi<Body>(ms);
  baseUrl = url;
  return call;
}

const fieldOf = (b: Body) => {
  const d = b.error?.details;
  return d?.issues ? d.issues.map((x) => x.field).join(',') : d?.field;
};

const enc = encodeURIComponent;

it('the router reaches the longest name of any kind, each character at its longest encoding', () => {
  expect(LONGEST_NAME).toBe(Math.max(...Object.values(NAME_LIMITS)));
  expect(MAX_PARAM_LENGTH).toBeGreaterThanOrEqual(LONGEST_NAME * enc('🎉').length);
});

describe.each(BACKENDS)('names at their limits on $name', (backend: BackendFixture) => {
  const it_ = backend.skip ? it.skip : it;

  it_('a schedule, a task, an execution and a lock at the limit are created and reachable', async () => {
    const { ms } = await fakeApp(backend, { queues: [queue], functions: [fn], workflows: [wf] });
    const call = await serve(ms);

    const schedule = `s/${'x'.repeat(L.schedule - 2)}`;
    const created = await call('POST', '/v1/schedules', {
      name: schedule,
      expression: 'rate(1 hour)',
      target: { kind: 'function', function: functionName },
    });
    expect(created.status).toBe(201);
    expect((await call('GET', `/v1/schedules/${enc(schedule)}`)).status).toBe(200);
    expect(
      (await call('PATCH', `/v1/schedules/${enc(schedule)}`, { expression: 'rate(2 hours)' })).status,
    ).toBe(200);
    expect((await call('DELETE', `/v1/schedules/${enc(schedule)}`)).status).toBe(200);

    const task = '🎉'.repeat(L.task);
    const t = await call('POST', '/v1/tasks', {
      id: task,
      due: '2030-01-01T00:00:00Z',
      action: functionName,
    });
    expect(t.status).toBe(200);
    expect((await call('GET', `/v1/tasks/${enc(task)}`)).body['id']).toBe(task);
    expect((await call('DELETE', `/v1/tasks/${enc(task)}`)).status).toBe(200);
    expect((await call('GET', `/v1/tasks/${enc(task)}`)).status).toBe(404);

    const execution = `e/${'x'.repeat(L.execution - 2)}`;
    const e = await call('POST', `/v1/workflows/${workflowName}/executions`, { id: execution });
    expect(e.status).toBe(201);
    expect((await call('GET', `/v1/executions/${enc(execution)}`)).body['id']).toBe(execution);

    const lock = 'l'.repeat(L.lock);
    expect((await call('POST', `/v1/locks/${lock}`, { ttl: '1m' })).status).toBe(200);
    expect((await call('GET', `/v1/locks/${lock}`)).body['name']).toBe(lock);
    const released = await fetch(`${baseUrl}/v1/locks/${lock}?force=1`, { method: 'DELETE' });
    expect(released.status).toBeLessThan(300);

    expect((await call('GET', `/v1/queues/${queueName}`)).status).toBe(200);
    expect((await call('POST', `/v1/functions/${functionName}/invoke`, { input: 1 })).status).toBe(202);
    expect((await call('GET', `/v1/functions/${functionName}/logs`)).status).toBe(200);

    const eventId = `e:${'x'.repeat(L.event - 2)}`;
    const put = await call('POST', '/v1/events', {
      entries: [
        { id: eventId, source: 's', detailType: 't', detail: {} },
        { id: `${eventId}x`, source: 's', detailType: 't', detail: {} },
      ],
    });
    expect(put.body).toMatchObject({ failedEntryCount: 1, entries: [{}, { errorCode: 'E_EVENT_INVALID' }] });
    expect((await call('GET', `/v1/events/${enc(eventId)}`)).body['id']).toBe(eventId);
  });

  it_(
    'one character past the limit is refused at creation, naming the field, and nothing is stored',
    async () => {
      const { ms } = await fakeApp(backend, { queues: [queue], functions: [fn], workflows: [wf] });
      const call = await serve(ms);

      const s = await call('POST', '/v1/schedules', {
        name: 'x'.repeat(L.schedule + 1),
        expression: 'rate(1 hour)',
        target: { kind: 'function', function: functionName },
      });
      expect(s.status).toBe(400);
      expect(fieldOf(s.body)).toMatch(/name/);

      const t = await call('POST', '/v1/tasks', {
        id: '🎉'.repeat(L.task + 1),
        due: '2030-01-01T00:00:00Z',
        action: functionName,
      });
      expect(t.status).toBe(400);
      expect(fieldOf(t.body)).toMatch(/id/);

      const e = await call('POST', `/v1/workflows/${workflowName}/executions`, {
        id: 'x'.repeat(L.execution + 1),
      });
      expect(e.status).toBe(400);
      expect(fieldOf(e.body)).toMatch(/id/);

      const l = await call('POST', `/v1/locks/${'l'.repeat(L.lock + 1)}`, { ttl: '1m' });
      expect(l.status).toBe(400);
      expect(fieldOf(l.body)).toMatch(/name/);

      expect((await call('GET', '/v1/schedules')).body['schedules']).toEqual([]);
      expect((await call('GET', '/v1/tasks')).body['tasks']).toEqual([]);
      expect((await call('GET', '/v1/locks')).body['locks']).toEqual([]);
    },
  );
});

describe('names defined in code', () => {
  it('one past the limit is refused where it is defined, with the limit in the message', () => {
    expect(() => defineQueue({ name: 'q'.repeat(L.queue + 1) })).toThrow(`1–${L.queue}`);
    expect(() => defineFunction({ name: 'f'.repeat(L.function + 1), handler: () => {} })).toThrow(
      `1–${L.function}`,
    );
    expect(() => defineWorkflow({ name: 'w'.repeat(L.workflow + 1), handler: async () => 1 })).toThrow(
      `1–${L.workflow}`,
    );
  });
});
