// The schedules and tasks API on both backends, over real HTTP: create, read, page,
// change, enable, disable, next ticks and delete; names with "/" and ":" (encoded);
// config schedules read-only; tasks upserted one at a time and in bulk; and every kind
// of bad input answering 400 naming its field, with nothing stored changed.

import { afterEach, describe, expect, it } from 'vitest';
import { type Api, buildApi, listenApi } from '../../src/api/server.ts';
import type { CreateMainspringOptions, Mainspring } from '../../src/app.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import type { ScheduleInfo } from '../../src/scheduler/schedules.ts';
import type { TaskInfo } from '../../src/scheduler/tasks.ts';
import { declaredSchedules, schedule } from '../../src/scheduler/trigger.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';

const apis: Api[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

const report = defineFunction({ name: 'report', handler: (input: unknown) => input });
const remind = defineFunction({ name: 'remind', handler: (input: unknown) => input });
const nightly = defineFunction({
  name: 'nightly',
  triggers: [schedule('cron(0 2 * * ? *)', { timezone: 'Europe/Berlin' }), schedule('rate(6 hours)')],
  handler: () => {},
});
const inbox = defineQueue({ name: 'inbox' });

async function setup(
  backend: BackendFixture,
  options: Omit<CreateMainspringOptions, 'db' | 'clock' | 'functions'> = {},
) {
  const { ms, clock } = await fakeApp(backend, {
    functions: [report, remind, nightly],
    queues: [inbox],
    scheduler: { httpAllowList: ['api.example.com'] },
    ...options,
  });
  // What a scheduler does when it starts: store the config's schedules.
  await ms.schedules.reconcile(declaredSchedules(ms.functions));
  const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
  apis.push(api);
  const { url } = await listenApi(api, { host: '127.0.0.1', port: 0 });
  return { ms, clock, http: client(url) };
}

/** Any of the bodies these routes answer with (each test reads the fields its route has). */
type Body = ScheduleInfo &
  TaskInfo & {
    error: { code: string; message: string; details: unknown };
    schedules: ScheduleInfo[];
    tasks: TaskInfo[];
    nextCursor: string | null;
    next: string[];
    upserted: number;
  };

interface Reply {
  status: number;
  body: Body;
}

/** The fields an error names: the module's `details.field`, or each of a validation error's issues. */
function errorFields(body: Body): string[] {
  const details = body.error.details as { field: string; issues?: { field: string }[] };
  return details.issues ? details.issues.map((d) => d.field) : [details.field];
}

function client(base: string) {
  const call = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const res = await fetch(`${base}${path}`, {
      method,
      ...(body !== undefined
        ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
        : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as Body };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown) => call('POST', path, body),
    patch: (path: string, body: unknown) => call('PATCH', path, body),
    delete: (path: string) => call('DELETE', path),
  };
}

const enc = encodeURIComponent;

/** Everything stored about schedules and tasks, to compare before and after a rejected request. */
async function snapshot(ms: Mainspring) {
  return {
    schedules: (await ms.schedules.list({ limit: 500 })).schedules,
    tasks: (await ms.tasks.list({ limit: 1000 })).tasks,
  };
}

const hourly = {
  name: 'reports/daily:eu',
  expression: 'rate(1 hour)',
  target: { kind: 'function', function: 'report' },
  payload: { format: 'pdf' },
};

describe.each(BACKENDS)('schedules and tasks API on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('creates, reads, changes, disables, enables, shows next ticks and deletes a schedule', async () => {
    const { http } = await setup(backend);

    const created = await http.post('/v1/schedules', {
      ...hourly,
      expression: 'cron(0 9 ? * MON-FRI *)',
      timezone: 'Europe/Berlin',
      description: 'weekday report',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'reports/daily:eu',
      expression: 'cron(0 9 ? * MON-FRI *)',
      timezone: 'Europe/Berlin',
      enabled: true,
      source: 'api',
      target: { kind: 'function', function: 'report' },
      payload: { format: 'pdf' },
      description: 'weekday report',
      // 2026-01-05 is a Monday, 10:00 UTC = 11:00 in Berlin: the next is Tuesday 09:00 Berlin.
      state: { nextTick: '2026-01-06T08:00:00.000Z', lastTick: null, lastRun: null, ended: false },
    });
    expect(created.body.summary).toEqual(expect.any(String));

    const again = await http.post('/v1/schedules', hourly);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('E_SCHEDULE_EXISTS');

    const path = `/v1/schedules/${enc('reports/daily:eu')}`;
    const got = await http.get(path);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);
    // ":" need not be encoded; an unencoded "/" is another path, so not this schedule.
    expect((await http.get('/v1/schedules/reports%2Fdaily:eu')).body.name).toBe('reports/daily:eu');
    expect((await http.get('/v1/schedules/reports/daily:eu')).status).toBe(404);

    const next = await http.get(`${path}/next?count=3`);
    expect(next.status).toBe(200);
    expect(next.body).toEqual({
      next: ['2026-01-06T08:00:00.000Z', '2026-01-07T08:00:00.000Z', '2026-01-08T08:00:00.000Z'],
    });
    expect((await http.get(`${path}/next`)).body.next).toHaveLength(5);
    expect((await http.get(`${path}/next?count=0`)).status).toBe(400);

    const patched = await http.patch(path, {
      expression: 'rate(1 hour)',
      timezone: 'UTC',
      payload: { format: 'csv' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      expression: 'rate(1 hour)',
      timezone: 'UTC',
      payload: { format: 'csv' },
      description: 'weekday report',
      state: { nextTick: '2026-01-05T11:00:00.000Z' },
    });

    const disabled = await http.post(`${path}/disable`);
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ enabled: false, state: { nextTick: null } });
    // Next ticks are shown whether or not it is enabled.
    expect((await http.get(`${path}/next?count=1`)).body.next).toEqual(['2026-01-05T11:00:00.000Z']);
    const enabled = await http.post(`${path}/enable`, {});
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ enabled: true, state: { nextTick: '2026-01-05T11:00:00.000Z' } });

    const deleted = await http.delete(path);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ name: 'reports/daily:eu', payload: { format: 'csv' } });
    for (const r of [
      await http.get(path),
      await http.delete(path),
      await http.patch(path, { payload: 1 }),
      await http.post(`${path}/enable`),
      await http.get(`${path}/next`),
    ]) {
      expect(r.status).toBe(404);
      expect(r.body.error).toMatchObject({ code: 'E_SCHEDULE_NOT_FOUND' });
    }
  });

  it_(
    'lists by name with filters and pages; config schedules are read-only but can be disabled',
    async () => {
      const { http } = await setup(backend);
      for (const name of ['a-1', 'a-2', 'a-3']) {
        expect((await http.post('/v1/schedules', { ...hourly, name })).status).toBe(201);
      }
      await http.post('/v1/schedules/a-2/disable');

      const all = await http.get('/v1/schedules');
      expect(all.status).toBe(200);
      expect(all.body.schedules.map((s) => s.name)).toEqual(['a-1', 'a-2', 'a-3', 'nightly', 'nightly/2']);
      expect(all.body.nextCursor).toBeNull();

      const first = await http.get('/v1/schedules?limit=2');
      expect(first.body.schedules.map((s) => s.name)).toEqual(['a-1', 'a-2']);
      const second = await http.get(`/v1/schedules?limit=2&cursor=${enc(first.body.nextCursor!)}`);
      expect(second.body.schedules.map((s) => s.name)).toEqual(['a-3', 'nightly']);

      const names = async (query: string) =>
        (await http.get(`/v1/schedules?${query}`)).body.schedules.map((s) => s.name);
      expect(await names('source=config')).toEqual(['nightly', 'nightly/2']);
      expect(await names('source=api&enabled=true')).toEqual(['a-1', 'a-3']);
      expect(await names('enabled=false')).toEqual(['a-2']);
      for (const bad of ['limit=0', 'limit=501', 'limit=x', 'source=file', 'enabled=yes', 'bogus=1']) {
        const r = await http.get(`/v1/schedules?${bad}`);
        expect(r.status, bad).toBe(400);
        expect(r.body.error.code, bad).toBe('E_VALIDATION');
      }

      const config = await http.get(`/v1/schedules/${enc('nightly/2')}`);
      expect(config.body).toMatchObject({
        source: 'config',
        expression: 'rate(6 hours)',
        target: { function: 'nightly' },
      });
      const readOnly = [
        await http.patch(`/v1/schedules/${enc('nightly/2')}`, { expression: 'rate(1 hour)' }),
        await http.delete(`/v1/schedules/${enc('nightly/2')}`),
      ];
      for (const r of readOnly) {
        expect(r.status).toBe(409);
        expect(r.body.error.code).toBe('E_SCHEDULE_READ_ONLY');
      }
      const off = await http.post(`/v1/schedules/${enc('nightly/2')}/disable`);
      expect(off.status).toBe(200);
      expect(off.body).toMatchObject({ source: 'config', enabled: false });
    },
  );

  it_('rejects bad schedules with 400 naming the field, and stores nothing', async () => {
    const { ms, http } = await setup(backend);
    await http.post('/v1/schedules', hourly);
    const before = await snapshot(ms);

    const big = 'x'.repeat(256 * 1024);
    const cases: [Record<string, unknown>, string, string][] = [
      // The schedule module names the part of the expression at fault.
      [{ expression: 'cron(0 9 * * * *)' }, 'E_SCHEDULE_INVALID', 'day-of-week'],
      [{ expression: 'rate(0 hours)' }, 'E_SCHEDULE_INVALID', 'rate'],
      [{ expression: 'at(2020-01-01T00:00:00)' }, 'E_SCHEDULE_INVALID', 'expression'],
      [{ expression: 'every tuesday' }, 'E_SCHEDULE_INVALID', 'expression'],
      [{ timezone: 'Mars/Olympus_Mons' }, 'E_SCHEDULE_INVALID', 'timezone'],
      [{ start: '2027-01-01T00:00:00Z', end: '2026-12-01T00:00:00Z' }, 'E_SCHEDULE_INVALID', 'end'],
      [{ start: 'next week' }, 'E_SCHEDULE_INVALID', 'start'],
      [{ target: { kind: 'function', function: 'nope' } }, 'E_SCHEDULE_INVALID', 'target.function'],
      [{ target: { kind: 'queue', queue: 'nope' } }, 'E_SCHEDULE_INVALID', 'target.queue'],
      [{ target: { kind: 'carrier-pigeon' } }, 'E_SCHEDULE_INVALID', 'target.kind'],
      [{ payload: { big } }, 'E_SCHEDULE_INVALID', 'payload'],
      [
        { target: { kind: 'http', url: 'https://evil.example.org/hook' } },
        'E_SCHEDULE_INVALID',
        'target.url',
      ],
      [{ misfire: 'sometimes' }, 'E_SCHEDULE_INVALID', 'misfire'],
      [{ name: 'has space' }, 'E_SCHEDULE_INVALID', 'name'],
      [{ colour: 'red' }, 'E_VALIDATION', 'body.colour'],
      [{ timezone: 3 }, 'E_VALIDATION', 'body.timezone'],
    ];
    for (const [change, code, field] of cases) {
      const what = JSON.stringify(change).slice(0, 80);
      const r = await http.post('/v1/schedules', { ...hourly, name: 'new-one', ...change });
      expect(r.status, what).toBe(400);
      expect(r.body.error.code, what).toBe(code);
      const fields = errorFields(r.body);
      expect(fields, what).toContain(field);
    }
    // The same checks on a change; the schedule stays as it was. (An update to a
    // past at() is accepted: the schedule just ends; create refuses it.)
    const onChange = cases.filter(([c]) => !('name' in c) && !String(c['expression']).startsWith('at('));
    for (const [change, code, field] of onChange) {
      const what = `PATCH ${JSON.stringify(change).slice(0, 80)}`;
      const r = await http.patch(`/v1/schedules/${enc(hourly.name)}`, change);
      expect(r.status, what).toBe(400);
      expect(r.body.error.code, what).toBe(code);
      const fields = errorFields(r.body);
      expect(fields, what).toContain(field);
    }
    expect(
      (await http.patch(`/v1/schedules/${enc(hourly.name)}`, { name: 'renamed' })).body.error,
    ).toMatchObject({
      code: 'E_SCHEDULE_INVALID',
      details: { field: 'name' },
    });
    expect(await snapshot(ms)).toEqual(before);

    // The allow-listed host is fine.
    const http_ = await http.post('/v1/schedules', {
      ...hourly,
      name: 'ping',
      target: { kind: 'http', url: 'https://api.example.com/hook', method: 'PUT' },
    });
    expect(http_.status).toBe(201);
    expect(http_.body.target).toMatchObject({
      kind: 'http',
      url: 'https://api.example.com/hook',
      method: 'PUT',
    });
  });

  it_('upserts, overwrites, reads, lists and deletes tasks; bulk upserts', async () => {
    const { http } = await setup(backend);
    const task = {
      id: 'trial-end:42/eu',
      due: '2026-03-01T09:00:00Z',
      action: 'remind',
      payload: { user: 42 },
    };

    const created = await http.post('/v1/tasks', task);
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      id: 'trial-end:42/eu',
      action: 'remind',
      payload: { user: 42 },
      due: '2026-03-01T09:00:00.000Z',
      status: 'pending',
      firedAt: null,
      runId: null,
    });
    const moved = await http.post('/v1/tasks', {
      ...task,
      due: '2026-04-01T09:00:00+02:00',
      action: 'report',
    });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({
      due: '2026-04-01T07:00:00.000Z',
      action: 'report',
      createdAt: created.body.createdAt,
    });

    const path = `/v1/tasks/${enc(task.id)}`;
    expect((await http.get(path)).body).toEqual(moved.body);

    const bulk = await http.post('/v1/tasks', {
      tasks: [
        { id: 'b-1', due: '2026-02-01T00:00:00Z', action: 'remind' },
        { id: 'b-2', due: '2026-05-01T00:00:00Z', action: 'remind', payload: [1, 2] },
        { id: 'b-3', due: '2026-06-01T00:00:00Z', action: 'report', payload: null },
      ],
    });
    expect(bulk.status).toBe(200);
    expect(bulk.body).toEqual({ upserted: 3 });

    const ids = async (query: string) => (await http.get(`/v1/tasks?${query}`)).body.tasks.map((t) => t.id);
    expect(await ids('')).toEqual(['b-1', 'trial-end:42/eu', 'b-2', 'b-3']);
    expect(await ids('action=remind')).toEqual(['b-1', 'b-2']);
    expect(await ids('status=pending&dueBefore=2026-05-01T00:00:00Z')).toEqual(['b-1', 'trial-end:42/eu']);
    expect(await ids('dueAfter=2026-05-01T00:00:00Z')).toEqual(['b-2', 'b-3']);
    expect(await ids('status=fired')).toEqual([]);
    const page = await http.get('/v1/tasks?limit=3');
    expect(page.body.tasks).toHaveLength(3);
    const rest = await http.get(`/v1/tasks?limit=3&cursor=${enc(page.body.nextCursor!)}`);
    expect(rest.body).toMatchObject({ tasks: [{ id: 'b-3' }], nextCursor: null });

    const deleted = await http.delete(path);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ id: task.id, action: 'report' });
    for (const r of [await http.get(path), await http.delete(path)]) {
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('E_TASK_NOT_FOUND');
    }
  });

  it_('rejects bad tasks with 400 naming the field, and stores nothing', async () => {
    const { ms, http } = await setup(backend);
    const good = { id: 't-1', due: '2026-03-01T09:00:00Z', action: 'remind', payload: { n: 1 } };
    await http.post('/v1/tasks', good);
    const before = await snapshot(ms);

    const cases: [unknown, string, string][] = [
      [{ ...good, due: 'tomorrow' }, 'E_TASK_INVALID', 'due'],
      [{ ...good, due: '2026-03-01T09:00:00' }, 'E_TASK_INVALID', 'due'],
      [{ ...good, action: 'nope' }, 'E_TASK_INVALID', 'action'],
      [{ ...good, id: 'has\ttab' }, 'E_TASK_INVALID', 'id'],
      [{ ...good, payload: 'x'.repeat(256 * 1024) }, 'E_TASK_INVALID', 'payload'],
      [
        {
          tasks: [
            { ...good, id: 't-2' },
            { ...good, id: 't-3', due: 'soon' },
          ],
        },
        'E_TASK_INVALID',
        'tasks[1].due',
      ],
      [{ tasks: [{ ...good, id: 't-2', action: 'nope' }] }, 'E_TASK_INVALID', 'tasks[0].action'],
      [{ id: 't-9', action: 'remind' }, 'E_TASK_INVALID', 'due'],
      [{ ...good, due: 12 }, 'E_VALIDATION', 'body.due'],
      [{ tasks: [{ ...good, due: 12 }] }, 'E_VALIDATION', 'body.tasks.0.due'],
      [{ ...good, tasks: [] }, 'E_TASK_INVALID', 'id'],
      [{ ...good, colour: 'red' }, 'E_VALIDATION', 'body.colour'],
    ];
    for (const [body, code, field] of cases) {
      const what = JSON.stringify(body).slice(0, 100);
      const r = await http.post('/v1/tasks', body);
      expect(r.status, what).toBe(400);
      expect(r.body.error.code, what).toBe(code);
      const fields = errorFields(r.body);
      expect(fields, what).toContain(field);
    }
    for (const bad of ['status=done', 'dueBefore=yesterday', 'limit=1001', 'cursor=garbage']) {
      const r = await http.get(`/v1/tasks?${bad}`);
      expect(r.status, bad).toBe(400);
    }
    expect(await snapshot(ms)).toEqual(before);
  });
});
