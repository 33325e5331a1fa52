// mainspringjs/testing itself: what advance stops at, what it waits for, on both backends,
// and the mistakes a user can make with it.

import { afterEach, describe, expect, it } from 'vitest';
import {
  defineFunction,
  defineQueue,
  defineWorkflow,
  FakeClock,
  fromQueue,
  schedule,
} from '../../src/index.ts';
import { createTestApp, type TestApp } from '../../src/testing/index.ts';
import { BACKENDS } from '../helpers/backends.ts';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const t of apps.splice(0)) await t.close();
});
const started = async (...args: Parameters<typeof createTestApp>) => {
  const t = await createTestApp(...args);
  apps.push(t);
  return t;
};

describe.each(BACKENDS)('createTestApp on $name', (backend) => {
  it.skipIf(backend.skip)(
    'stops at every moment something sleeps until: ticks, retries, workflow waits, task due times',
    async () => {
      const seen: string[] = [];
      const jobs = defineQueue({ name: 'jobs', retry: { backoff: 'fixed', base: '90s', jitter: false } });
      let failures = 1;
      const work = defineFunction({
        name: 'work',
        triggers: [fromQueue(jobs)],
        handler: async (_: unknown, ctx) => {
          seen.push(ctx.run.id);
          if (failures-- > 0) throw new Error('first try fails');
        },
      });
      const hourly = defineFunction({
        name: 'hourly',
        triggers: [schedule('rate(1 hour)')],
        handler: async () => {},
      });
      const later = defineFunction({ name: 'later', handler: async () => {} });
      const nap = defineWorkflow({
        name: 'nap',
        handler: async (_: unknown, ctx) => {
          await ctx.wait('nap', '45m');
          return 'rested';
        },
      });
      const t = await started(
        { queues: [jobs], functions: [work, hourly, later], workflows: [nap] },
        { start: '2026-05-01T00:00:00Z', db: backend.freshUrl() },
      );
      await t.ms.queues.send(jobs, {});
      await t.ms.tasks.upsert({ id: 'call-later', due: '2026-05-01T02:30:00Z', action: 'later' });
      await t.ms.workflows.start(nap, {}, { id: 'nap-1' });

      await t.advance('3h');
      expect(t.now().toISOString()).toBe('2026-05-01T03:00:00.000Z');
      const startedAt = async (fn: string) => (await t.runsOf(fn)).map((r) => [r.startedAt, r.status]);
      expect(await startedAt('work')).toEqual([
        ['2026-05-01T00:00:00.000Z', 'failed'],
        ['2026-05-01T00:01:30.000Z', 'succeeded'],
      ]);
      expect((await startedAt('hourly')).map(([at]) => at)).toEqual([
        '2026-05-01T01:00:00.000Z',
        '2026-05-01T02:00:00.000Z',
        '2026-05-01T03:00:00.000Z',
      ]);
      expect(await startedAt('later')).toEqual([['2026-05-01T02:30:00.000Z', 'succeeded']]);
      const napped = await t.ms.workflows.get('nap-1');
      expect([napped.status, napped.output, napped.finishedAt]).toEqual([
        'succeeded',
        'rested',
        '2026-05-01T00:45:00.000Z',
      ]);
      expect(seen).toHaveLength(2);
    },
  );
});

describe('createTestApp', () => {
  it('names what is still busy when a handler waits on real time past settleTimeoutMs', async () => {
    const slow = defineFunction({
      name: 'slow',
      handler: () => new Promise((resolve) => setTimeout(resolve, 2000)),
    });
    const t = await started({ functions: [slow] }, { settleTimeoutMs: 200 });
    await t.ms.runs.invoke(slow, {});
    await expect(t.advance('1s')).rejects.toMatchObject({
      code: 'E_NOT_SETTLED',
      message: expect.stringMatching(
        /did not settle within 200 ms of real time at 2026-01-01T00:00:00.000Z: 1 handler call\(s\) or workflow execution\(s\) running; a handler that waits on something outside fake time/,
      ),
    });
  });

  it('refuses a bad start, a start with a clock, a bad duration and a move back in time', async () => {
    await expect(createTestApp({}, { start: '2026-02-30T00:00:00Z' })).rejects.toMatchObject({
      code: 'E_VALIDATION',
      message: expect.stringMatching(/^start "2026-02-30T00:00:00Z" is not on the calendar/),
    });
    await expect(createTestApp({}, { start: 0, clock: new FakeClock(0) })).rejects.toMatchObject({
      code: 'E_VALIDATION',
      message: expect.stringMatching(/give start or clock, not both/),
    });
    const t = await started({}, { start: '2026-06-01T12:00:00Z' });
    await expect(t.advance('a while')).rejects.toMatchObject({
      code: 'E_VALIDATION',
      message: expect.stringMatching(/^advance .*a while/),
    });
    await expect(t.advanceTo('2026-06-01T11:00:00Z')).rejects.toMatchObject({
      code: 'E_VALIDATION',
      message:
        'advanceTo 2026-06-01T11:00:00.000Z is before now (2026-06-01T12:00:00.000Z); fake time only moves forward',
    });
    await expect(t.advanceTo('noon')).rejects.toMatchObject({
      code: 'E_VALIDATION',
      message: expect.stringMatching(/^advanceTo "noon" is not an ISO-8601 instant/),
    });
    expect(t.now().toISOString()).toBe('2026-06-01T12:00:00.000Z');
  });
});
