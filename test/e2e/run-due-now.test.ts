// `mainspring run-due --now` months ahead of the clock, as real child processes against
// the app of test/e2e/fixtures/schedules: --dry-run lists what would fire and changes
// nothing; a real run fires the tasks due by then and leaves the schedules' next ticks
// where they were, unless --schedules asks for their ticks too.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Run } from '../../src/runtime/runs.ts';
import type { ScheduleInfo } from '../../src/scheduler/schedules.ts';
import type { TaskInfo } from '../../src/scheduler/tasks.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { type CliResult, runCli } from '../helpers/cli.ts';

const CONFIG = fileURLToPath(new URL('./fixtures/schedules/mainspring.config.ts', import.meta.url));
// Months after the real clock (these tests were written in December 2026); the config's
// daily tick at 06:00 is half an hour old at this instant.
const NOW = '2027-03-02T06:30:00.000Z';

const env = { MAINSPRING_TIME_SCALE: undefined };

function cli(db: string, ...args: string[]): Promise<CliResult> {
  return runCli([...args, '--config', CONFIG, '--db', db], { env, timeoutMs: 30_000 });
}

async function ok(db: string, ...args: string[]): Promise<string> {
  const r = await cli(db, ...args);
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return r.stdout;
}

async function json<T>(db: string, ...args: string[]): Promise<T> {
  return JSON.parse(await ok(db, ...args, '--json')) as T;
}

interface Listed {
  readonly kind: string;
  readonly name: string;
  readonly tickAt: string;
  readonly target: string;
  readonly run?: Run | null;
}

interface RunDueJson {
  readonly now: string;
  readonly dryRun: boolean;
  readonly schedules: boolean;
  readonly fired: Listed[];
  readonly wouldFire: Listed[];
  readonly leftAlone: Listed[];
  readonly failed: number;
}

const rows = (list: readonly Listed[]) => list.map((f) => [f.kind, f.name, f.tickAt, f.target]);

describe.each(BACKENDS)(
  'run-due --now far from the clock through the CLI on $name',
  { timeout: 180_000 },
  (backend) => {
    const it_ = backend.skip ? it.skip : it;

    it_(
      '--dry-run changes nothing; without it tasks fire and schedules stay unless --schedules',
      async () => {
        const db = backend.freshUrl();
        // At the real time nothing is due; this run stores the config's schedules.
        expect(await ok(db, 'run-due')).toMatch(/^nothing due at \S+Z\n$/);
        const nextTick = (await json<ScheduleInfo>(db, 'schedules', 'get', 'daily')).state.nextTick;
        expect(Date.parse(nextTick!)).toBeLessThan(Date.parse(NOW));
        await ok(db, 'tasks', 'upsert', 'due', '--due', '2027-03-02T06:10:00Z', '--action', 'record');
        await ok(db, 'tasks', 'upsert', 'after', '--due', '2027-03-02T07:00:00Z', '--action', 'record');
        const stored = async () => ({
          schedules: await json<unknown>(db, 'schedules', 'list'),
          tasks: await json<unknown>(db, 'tasks', 'list'),
          runs: await json<unknown>(db, 'runs', 'list'),
        });
        const before = await stored();

        const dry = await ok(db, 'run-due', '--now', NOW, '--dry-run');
        expect(dry).toMatch(/^KIND\s+NAME\s+DUE\s+TARGET$/m);
        expect(dry).toMatch(/^task\s+due\s+2027-03-02T06:10:00\.000Z\s+function record$/m);
        expect(dry).not.toMatch(/^(task\s+after|schedule)\s/m);
        expect(dry).toMatch(
          /^dry run at 2027-03-02T06:30:00\.000Z: would fire 1 \(1 task\); nothing was changed$/m,
        );
        expect(dry).toMatch(
          /^schedules left alone: --now is more than a minute from the clock; --schedules would also fire 1 tick: daily 2027-03-02T06:00:00\.000Z$/m,
        );

        const dryAll = await json<RunDueJson>(db, 'run-due', '--now', NOW, '--dry-run', '--schedules');
        expect(dryAll).toMatchObject({ now: NOW, dryRun: true, schedules: true, fired: [], leftAlone: [] });
        expect(rows(dryAll.wouldFire)).toEqual([
          ['schedule', 'daily', '2027-03-02T06:00:00.000Z', 'function daily'],
          ['task', 'due', '2027-03-02T06:10:00.000Z', 'function record'],
        ]);
        expect(await stored()).toEqual(before);

        const tasksOnly = await cli(db, 'run-due', '--now', NOW);
        expect(tasksOnly.stderr).toBe('');
        expect(tasksOnly.code).toBe(0);
        expect(tasksOnly.stdout).toMatch(/^KIND\s+NAME\s+DUE\s+TARGET\s+RUN\s+STATUS$/m);
        expect(tasksOnly.stdout).toMatch(
          /^task\s+due\s+2027-03-02T06:10:00\.000Z\s+function record\s+\S+\s+succeeded$/m,
        );
        expect(tasksOnly.stdout).not.toMatch(/^(task\s+after|schedule)\s/m);
        expect(tasksOnly.stdout).toMatch(
          /^fired 1 at 2027-03-02T06:30:00\.000Z \(1 task\): 1 succeeded, 0 failed$/m,
        );
        expect(tasksOnly.stdout).toMatch(
          /^schedules left alone: .*--schedules would also fire 1 tick: daily/m,
        );
        const daily = await json<ScheduleInfo>(db, 'schedules', 'get', 'daily');
        expect(daily.state).toMatchObject({ nextTick, lastTick: null, lastRun: null });
        expect((await json<TaskInfo>(db, 'tasks', 'get', 'due')).status).toBe('fired');
        expect((await json<TaskInfo>(db, 'tasks', 'get', 'after')).status).toBe('pending');

        const ticked = await json<RunDueJson>(db, 'run-due', '--now', NOW, '--schedules');
        expect(ticked).toMatchObject({ now: NOW, dryRun: false, schedules: true, leftAlone: [], failed: 0 });
        expect(ticked.fired.map((f) => [...rows([f])[0]!, f.run?.status])).toEqual([
          ['schedule', 'daily', '2027-03-02T06:00:00.000Z', 'function daily', 'succeeded'],
        ]);
        expect((await json<ScheduleInfo>(db, 'schedules', 'get', 'daily')).state).toMatchObject({
          lastTick: '2027-03-02T06:00:00.000Z',
          nextTick: '2027-03-03T06:00:00.000Z',
        });
      },
    );
  },
);
