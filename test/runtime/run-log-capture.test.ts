// What a run's log keeps, on both backends: console output of in-process handlers (as
// Lambda sends it to CloudWatch), each line with the run that wrote it when runs execute
// at once; and the call's level, whatever level field the handler logs.

import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { Mainspring } from '../../src/app.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import type { RunLogLine } from '../../src/runtime/runs.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

/** Waits (real time, for store I/O) until the run succeeded and its `n` lines are stored. */
async function linesOf(ms: Mainspring, id: string, n: number): Promise<RunLogLine[]> {
  await vi.waitFor(
    async () => {
      const run = await ms.runs.get(id);
      expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
      expect(await ms.runs.logs(id)).toHaveLength(n);
    },
    { timeout: 10_000, interval: 5 },
  );
  return ms.runs.logs(id);
}

const brief = (lines: readonly RunLogLine[]) => lines.map((l) => ({ level: l.level, msg: l.msg }));

describe.each(BACKENDS)('run logs on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('keeps console output with the run that wrote it when two runs log at once', async () => {
    // Both runs start, then both log while the other is still running.
    let arrived = 0;
    let bothIn!: () => void;
    const together = new Promise<void>((r) => {
      bothIn = r;
    });
    const fn = defineFunction({
      name: 'chatty',
      handler: async (input: { name: string }) => {
        console.log('%s: started', input.name);
        if (++arrived === 2) bothIn();
        await together;
        console.info(`${input.name}: state`, { step: 2 });
        await Promise.resolve();
        console.warn(`${input.name}: slow`);
        console.error(new Error(`${input.name}: broke`).message);
        console.debug(`${input.name}: detail`);
        return 'ok';
      },
    });
    const { ms } = await fakeApp(backend, { functions: [fn] });
    await ms.startWorker();
    const a = await ms.runs.invoke(fn, { name: 'a' });
    const b = await ms.runs.invoke(fn, { name: 'b' });
    for (const [run, name] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      expect(brief(await linesOf(ms, run.id, 5))).toEqual([
        { level: 30, msg: `${name}: started` },
        { level: 30, msg: `${name}: state { step: 2 }` },
        { level: 40, msg: `${name}: slow` },
        { level: 50, msg: `${name}: broke` },
        { level: 20, msg: `${name}: detail` },
      ]);
    }
  });

  it_("shows console lines on the worker's logger, with the run that wrote them", async () => {
    const shown: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void shown.push(JSON.parse(line)) });
    const fn = defineFunction({
      name: 'noisy',
      handler: () => {
        console.warn('low on disk');
        return null;
      },
    });
    const { ms } = await fakeApp(backend, { functions: [fn], logger });
    await ms.startWorker();
    const run = await ms.runs.invoke(fn, null);
    expect(brief(await linesOf(ms, run.id, 1))).toEqual([{ level: 40, msg: 'low on disk' }]);
    expect(shown.filter((l) => l['msg'] === 'low on disk')).toEqual([
      expect.objectContaining({ level: 40, function: 'noisy', runId: run.id, attempt: 1, trigger: 'manual' }),
    ]);
  });

  it_(
    "stores the call's level and time; logged level and time fields are kept as userLevel and userTime",
    async () => {
      const fn = defineFunction({
        name: 'levels',
        handler: (_input: unknown, ctx) => {
          // Seed 000's log('ERROR', …) helper, ported.
          ctx.log.error({ level: 'ERROR', detail: 'disk full' }, 'sync failed');
          ctx.log.info({ level: 'DEBUG' }, 'just info');
          ctx.log.warn({ time: 12_345 }, 'with a time field');
          return null;
        },
      });
      const { ms, clock } = await fakeApp(backend, { functions: [fn] });
      await ms.startWorker();
      const run = await ms.runs.invoke(fn, null);
      const lines = await linesOf(ms, run.id, 3);
      expect(lines.map((l) => ({ level: l.level, msg: l.msg, fields: l.fields }))).toEqual([
        { level: 50, msg: 'sync failed', fields: { userLevel: 'ERROR', detail: 'disk full' } },
        { level: 30, msg: 'just info', fields: { userLevel: 'DEBUG' } },
        { level: 40, msg: 'with a time field', fields: { userTime: 12_345 } },
      ]);
      expect(lines.map((l) => l.time)).toEqual(Array(3).fill(new Date(clock.now()).toISOString()));
    },
  );
});
