// Schedule inputs users get wrong (each refused naming the field, nothing stored
// changed), HTTP targets against a real local server, and retention of fired tasks.

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import { RunRetention } from '../../src/runtime/retention.ts';
import type { CreateScheduleInput } from '../../src/scheduler/spec.ts';
import { fakeApp, tick } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function listen(handler: (req: IncomingMessage, body: string) => number) {
  const seen: { method: string; url: string; body: string; headers: IncomingMessage['headers'] }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d;
    });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body, headers: req.headers });
      res.statusCode = handler(req, body);
      res.end('answer');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { seen, port: (server.address() as AddressInfo).port };
}

const fn = defineFunction({ name: 'job', handler: () => 'ok' });
const base: CreateScheduleInput = {
  name: 's',
  expression: 'rate(1 hour)',
  target: { kind: 'function', function: 'job' },
};

describe.each(BACKENDS)('schedule inputs and targets on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('refuses each bad schedule input naming the field, and changes nothing stored', async () => {
    const q = defineQueue({ name: 'small', maxBodyBytes: 1024 });
    const { ms } = await fakeApp(backend, {
      functions: [fn],
      queues: [q],
      scheduler: { httpAllowList: ['hooks.example.com'] },
    });
    await ms.schedules.create({ ...base, name: 'kept', payload: { v: 1 } });
    const before = await ms.schedules.get('kept');
    const cases: [Partial<CreateScheduleInput> & Record<string, unknown>, string, string][] = [
      [{ expression: 'cron(0 9 * * MON *)' }, 'E_SCHEDULE_INVALID', 'day-of-week'],
      [{ expression: 'rate(5 fortnights)' }, 'E_SCHEDULE_INVALID', 'rate'],
      [{ timezone: 'Mars/Olympus' }, 'E_SCHEDULE_INVALID', 'timezone'],
      [{ start: '2026-02-01T00:00:00Z', end: '2026-01-01T00:00:00Z' }, 'E_SCHEDULE_INVALID', 'end'],
      [{ start: 'next tuesday' }, 'E_SCHEDULE_INVALID', 'start'],
      [{ target: { kind: 'function', function: 'nope' } }, 'E_SCHEDULE_INVALID', 'target.function'],
      [{ target: { kind: 'queue', queue: 'nope' } }, 'E_SCHEDULE_INVALID', 'target.queue'],
      [
        { target: { kind: 'queue', queue: 'small' }, payload: 'x'.repeat(2000) },
        'E_SCHEDULE_INVALID',
        'payload',
      ],
      [{ payload: 'x'.repeat(300 * 1024) }, 'E_SCHEDULE_INVALID', 'payload'],
      [{ target: { kind: 'http', url: 'https://evil.example.net/x' } }, 'E_SCHEDULE_INVALID', 'target.url'],
      [{ target: { kind: 'http', url: 'ftp://hooks.example.com/' } }, 'E_SCHEDULE_INVALID', 'target.url'],
      [{ target: { kind: 'carrier-pigeon' } as never }, 'E_SCHEDULE_INVALID', 'target.kind'],
      [{ misfire: 'sometimes' as never }, 'E_SCHEDULE_INVALID', 'misfire'],
      [{ overlap: 'skip', target: { kind: 'queue', queue: 'small' } }, 'E_SCHEDULE_INVALID', 'overlap'],
      [{ flexibleWindow: '2d' }, 'E_SCHEDULE_INVALID', 'flexibleWindow'],
      [{ retry: { maxAttempts: 0 } }, 'E_SCHEDULE_INVALID', 'retry.maxAttempts'],
      [{ expression: 'at(2020-01-01T00:00:00)' }, 'E_SCHEDULE_INVALID', 'expression'],
      [{ name: 'has space' }, 'E_SCHEDULE_INVALID', 'name'],
      [{ name: 'kept' }, 'E_SCHEDULE_EXISTS', 'name'],
    ];
    for (const [patch, code, field] of cases) {
      const err = await ms.schedules
        .create({ ...base, ...patch } as CreateScheduleInput)
        .catch((e: unknown) => e);
      expect(err, JSON.stringify(patch).slice(0, 80)).toMatchObject({ code, details: { field } });
    }
    await expect(ms.schedules.update('kept', { timezone: 'Nowhere/Land' })).rejects.toMatchObject({
      details: { field: 'timezone' },
    });
    expect((await ms.schedules.list()).schedules.map((s) => s.name)).toEqual(['kept']);
    expect(await ms.schedules.get('kept')).toEqual(before);
  });

  it_('refuses each bad task input naming the field, and changes nothing stored', async () => {
    const { ms } = await fakeApp(backend, { functions: [fn] });
    await ms.tasks.upsert({ id: 'kept', due: '2026-02-01T00:00:00Z', action: 'job', payload: { v: 1 } });
    const before = await ms.tasks.get('kept');
    const cases: [Record<string, unknown>, string][] = [
      [{ due: '2026-02-30' }, 'due'],
      [{ due: 'tomorrow' }, 'due'],
      [{ due: '2026-02-01T00:00:00' }, 'due'], // no zone: would depend on the server's
      [{ action: 'nope' }, 'action'],
      [{ id: 'has\ttab' }, 'id'],
      [{ payload: 'x'.repeat(300 * 1024) }, 'payload'],
    ];
    for (const [patch, field] of cases) {
      const err = await ms.tasks
        .upsert({ id: 'kept', due: '2026-03-01T00:00:00Z', action: 'job', ...patch } as never)
        .catch((e: unknown) => e);
      expect(err, field).toMatchObject({ code: 'E_TASK_INVALID', details: { field } });
    }
    // One bad task in a batch stores none of it.
    const err = await ms.tasks
      .upsertMany([
        { id: 'new', due: '2026-03-01T00:00:00Z', action: 'job' },
        { id: 'kept', due: 'soon', action: 'job' },
      ])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_TASK_INVALID', details: { field: 'tasks[1].due' } });
    expect((await ms.tasks.list()).tasks).toEqual([before]);
  });

  it_(
    'an HTTP target sends its request to an allowed host; a 4xx answer fails the run for good',
    async () => {
      const ok = await listen(() => 204);
      const teapot = await listen(() => 418);
      const { ms, clock } = await fakeApp(backend, {
        functions: [fn],
        scheduler: { httpAllowList: ['127.0.0.1'] },
        start: '2026-01-05T10:00:00Z',
      });
      await ms.schedules.create({
        name: 'ping',
        expression: 'rate(1 hour)',
        payload: { hello: 'world' },
        target: { kind: 'http', url: `http://127.0.0.1:${ok.port}/hook`, headers: { 'x-token': 't' } },
      });
      await ms.schedules.create({
        name: 'tea',
        expression: 'rate(1 hour)',
        target: {
          kind: 'http',
          method: 'PUT',
          url: `http://127.0.0.1:${teapot.port}/pot`,
          body: { brew: true },
        },
      });
      await ms.startWorker();
      await ms.startScheduler();
      clock.set('2026-01-05T10:59:59Z');
      await tick(clock, 3000, 250);
      await vi.waitFor(() => expect(ok.seen.length + teapot.seen.length).toBe(2));
      expect(ok.seen[0]).toMatchObject({ method: 'POST', url: '/hook', body: '{"hello":"world"}' });
      expect(ok.seen[0]!.headers['x-token']).toBe('t');
      expect(teapot.seen[0]).toMatchObject({ method: 'PUT', url: '/pot', body: '{"brew":true}' });
      await vi.waitFor(async () => {
        expect((await ms.schedules.get('ping')).state.lastRun?.status).toBe('succeeded');
        expect((await ms.schedules.get('tea')).state.lastRun?.status).toBe('failed');
      });
      const tea = await ms.schedules.get('tea');
      const run = await ms.runs.get(tea.state.lastRun!.id);
      expect(run).toMatchObject({
        function: 'mainspring:http',
        attempt: 1,
        error: { name: 'NonRetryableError' },
      });
      expect(run.error?.message).toContain('HTTP 418');
    },
  );

  it_('retention deletes tasks fired before it, with their runs; pending ones stay', async () => {
    const { ms, clock } = await fakeApp(backend, { functions: [fn], start: '2026-01-05T10:00:00Z' });
    await ms.tasks.upsert({ id: 'old', due: '2026-01-05T10:00:00Z', action: 'job' });
    await ms.tasks.upsert({ id: 'future', due: '2026-06-01T00:00:00Z', action: 'job' });
    await ms.runDue();
    expect((await ms.tasks.get('old')).status).toBe('fired');
    clock.set('2026-02-10T00:00:00Z');
    const retention = new RunRetention({
      store: ms.store,
      clock,
      locks: ms.locks,
      retentionMs: 30 * 86_400_000,
      log: pino({ level: 'silent' }),
    });
    expect(await retention.sweep()).toBe(2); // the run and the task
    await expect(ms.tasks.get('old')).rejects.toMatchObject({ code: 'E_TASK_NOT_FOUND' });
    expect((await ms.tasks.get('future')).status).toBe('pending');
  });
});
