// `mainspring schedules …`, `tasks …` and `run-due` as real child processes against a
// SQLite file and the app of test/e2e/fixtures/schedules: run-due --now --schedules fires
// what is due at that instant (the config's schedule tick and tasks due by then, not
// later ones), each once; a failed run makes it exit 1; bad input exits 2 naming the flag.
// run-due --now without --schedules and --dry-run: test/e2e/run-due-now.test.ts.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Run } from '../../src/runtime/runs.ts';
import type { ScheduleInfo } from '../../src/scheduler/schedules.ts';
import type { TaskInfo } from '../../src/scheduler/tasks.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { type CliResult, runCli } from '../helpers/cli.ts';

const CONFIG = fileURLToPath(new URL('./fixtures/schedules/mainspring.config.ts', import.meta.url));
const SQLITE = BACKENDS[0]!;

const env = { MAINSPRING_TIME_SCALE: undefined };

function cli(db: string, ...args: string[]): Promise<CliResult> {
  return runCli([...args, '--config', CONFIG, '--db', db], { env, timeoutMs: 30_000 });
}

/** Runs a command that must succeed, and returns its stdout. */
async function ok(db: string, ...args: string[]): Promise<string> {
  const r = await cli(db, ...args);
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return r.stdout;
}

/** Any of the JSON the commands print (each test reads the fields its command has). */
type Printed = ScheduleInfo &
  TaskInfo & {
    schedules: ScheduleInfo[];
    tasks: TaskInfo[];
    nextCursor: string | null;
    next: string[];
  };

/** Runs a command that must succeed with --json, and returns what it printed. */
async function json<T = Printed>(db: string, ...args: string[]): Promise<T> {
  return JSON.parse(await ok(db, ...args, '--json')) as T;
}

// Each command is a child process starting Node: a test of twenty of them takes a while.
describe('schedules, tasks and run-due through the CLI', { timeout: 180_000 }, () => {
  it('run-due --now --schedules fires the due tick and tasks once, not later tasks; exits 1 when a run fails', async () => {
    const db = SQLITE.freshUrl();

    // The first run-due stores the config's schedules, at the real time: the next daily
    // tick is the coming 06:00. The instants below are that tick plus minutes.
    expect(await ok(db, 'run-due')).toMatch(/^nothing due at \S+Z\n$/);
    const tick = (await json(db, 'schedules', 'get', 'daily')).state.nextTick!;
    const at = (minutes: number) => new Date(Date.parse(tick) + minutes * 60_000).toISOString();

    expect(
      await ok(
        db,
        'tasks',
        'upsert',
        'early:1',
        '--due',
        at(10),
        '--action',
        'record',
        '--payload',
        '{"n":1}',
      ),
    ).toBe(`early:1 pending, due ${at(10)}\n`);
    await ok(db, 'tasks', 'upsert', 'late/1', '--due', at(60).replace('Z', '+00:00'), '--action', 'record');
    const pending = await json(db, 'tasks', 'list');
    expect(pending.tasks.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([
      ['early:1', 'pending'],
      ['late/1', 'pending'],
    ]);

    const first = await cli(db, 'run-due', '--now', at(30), '--schedules');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const row = (kind: string, name: string, due: string, target: string) =>
      new RegExp(
        `^${kind}\\s+${name}\\s+${due.replaceAll('.', '\\.')}\\s+${target}\\s+\\S+\\s+succeeded$`,
        'm',
      );
    expect(first.stdout).toMatch(/^KIND\s+NAME\s+DUE\s+TARGET\s+RUN\s+STATUS$/m);
    expect(first.stdout).toMatch(row('schedule', 'daily', tick, 'function daily'));
    expect(first.stdout).toMatch(row('task', 'early:1', at(10), 'function record'));
    expect(first.stdout).not.toMatch(/late\/1/);
    expect(first.stdout).toContain(`fired 2 at ${at(30)} (1 schedule tick, 1 task): 2 succeeded, 0 failed\n`);

    const early = await json(db, 'tasks', 'get', 'early:1');
    expect(early).toMatchObject({ id: 'early:1', status: 'fired', payload: { n: 1 } });
    const run = await json<Run>(db, 'runs', 'get', early.runId!);
    expect(run).toMatchObject({
      function: 'record',
      status: 'succeeded',
      input: { n: 1 },
      trigger: { kind: 'task' },
    });
    expect((await json(db, 'tasks', 'get', 'late/1')).status).toBe('pending');
    expect(
      (await json(db, 'tasks', 'list', '--status', 'fired')).tasks.map((t: { id: string }) => t.id),
    ).toEqual(['early:1']);
    const daily = await json(db, 'schedules', 'get', 'daily');
    expect(daily.state).toMatchObject({ lastTick: tick, lastRun: { status: 'succeeded' } });

    // Fired once: the same instant again fires nothing.
    expect(await ok(db, 'run-due', '--now', at(30), '--schedules')).toBe(`nothing due at ${at(30)}\n`);

    await ok(db, 'tasks', 'upsert', 'boom', '--due', at(45), '--action', 'explode');
    const failed = await cli(db, 'run-due', '--now', at(60), '--json');
    expect(failed.code).toBe(1);
    const result = JSON.parse(failed.stdout);
    expect(result).toMatchObject({ now: at(60), failed: 1, schedules: false, leftAlone: [] });
    expect(
      result.fired.map((f: { kind: string; name: string; run: { status: string } }) => [
        f.kind,
        f.name,
        f.run.status,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ['task', 'boom', 'failed'],
        ['task', 'late/1', 'succeeded'],
      ]),
    );
    expect(result.fired).toHaveLength(2);
    const human = await json<{ runs: Run[] }>(db, 'runs', 'list', '--function', 'explode');
    expect(human.runs[0]).toMatchObject({ status: 'failed', error: { message: 'explode always fails' } });

    // Three days later, after a gap: one call fires the tick due exactly at the instant
    // (the two missed ones are skipped, the schedule's misfire policy), and only once.
    const later = at(3 * 24 * 60);
    const gap = await json<{ fired: { kind: string; name: string; tickAt: string; catchUp: boolean }[] }>(
      db,
      'run-due',
      '--now',
      later,
      '--schedules',
    );
    expect(gap.fired.map((f) => [f.kind, f.name, f.tickAt, f.catchUp])).toEqual([
      ['schedule', 'daily', later, false],
    ]);
    expect(await ok(db, 'run-due', '--now', later, '--schedules')).toBe(`nothing due at ${later}\n`);
  });

  it('lists, shows, disables, enables and shows the next ticks of schedules; upserts, lists and deletes tasks', async () => {
    const db = SQLITE.freshUrl();
    // Stores the config's schedules at the real time: the next daily tick is the coming 06:00.
    await ok(db, 'run-due');
    const tick = (await json(db, 'schedules', 'get', 'daily')).state.nextTick!;
    expect(tick).toMatch(/^\d{4}-\d{2}-\d{2}T06:00:00\.000Z$/);
    const tickPattern = tick.replaceAll('.', '\\.');

    const list = await ok(db, 'schedules', 'list');
    expect(list).toMatch(
      /^NAME\s+EXPRESSION\s+TIMEZONE\s+ENABLED\s+SOURCE\s+TARGET\s+NEXT TICK\s+LAST RUN$/m,
    );
    expect(list).toMatch(
      new RegExp(
        `^daily\\s+cron\\(0 6 \\* \\* \\? \\*\\)\\s+UTC\\s+yes\\s+config\\s+function daily\\s+${tickPattern}\\s+-$`,
        'm',
      ),
    );
    expect(list).toMatch(/^six-hourly\s+rate\(6 hours\)\s+UTC\s+no\s+config\s+function daily\s+-\s+-$/m);
    const names = async (...args: string[]) =>
      (await json(db, 'schedules', 'list', ...args)).schedules.map((s: { name: string }) => s.name);
    expect(await names()).toEqual(['daily', 'six-hourly']);
    expect(await names('--disabled')).toEqual(['six-hourly']);
    expect(await names('--enabled', '--source', 'config')).toEqual(['daily']);
    expect(await names('--source', 'api')).toEqual([]);
    expect(await ok(db, 'schedules', 'list', '--source', 'api')).toBe('no schedules\n');
    const page = await json(db, 'schedules', 'list', '--limit', '1');
    expect(page.nextCursor).toBe('daily');
    expect(await names('--limit', '1', '--cursor', 'daily')).toEqual(['six-hourly']);

    const get = await ok(db, 'schedules', 'get', 'daily');
    expect(get).toMatch(/^source:\s+config \(change it in the config\)$/m);
    expect(get).toMatch(/^payload:\s+\{"report":"daily"\}$/m);
    expect(get).toMatch(new RegExp(`^next tick:\\s+${tickPattern}$`, 'm'));
    expect(await json(db, 'schedules', 'get', 'daily')).toMatchObject({
      name: 'daily',
      source: 'config',
      enabled: true,
      target: { kind: 'function', function: 'daily' },
    });

    // Without --now these use the real clock: the next three 06:00 UTC after it.
    const next = (await ok(db, 'schedules', 'next', 'daily', '--count', '3')).trim().split('\n');
    expect(next).toHaveLength(3);
    for (const t of next) expect(t).toMatch(/^\d{4}-\d{2}-\d{2}T06:00:00\.000Z$/);
    expect(Date.parse(next[0]!)).toBeGreaterThan(Date.now() - 60_000);
    expect((await json(db, 'schedules', 'next', 'six-hourly')).next).toHaveLength(5);

    expect(await ok(db, 'schedules', 'disable', 'daily')).toBe('daily disabled\n');
    expect(await names('--disabled')).toEqual(['daily', 'six-hourly']);
    expect(await ok(db, 'schedules', 'enable', 'daily')).toMatch(
      /^daily enabled; next tick \d{4}-.*T06:00:00\.000Z\n$/,
    );

    await ok(db, 'tasks', 'upsert', 'a', '--due', '2026-04-01T00:00:00Z', '--action', 'record');
    await ok(
      db,
      'tasks',
      'upsert',
      'b',
      '--due',
      '2026-05-01T00:00:00Z',
      '--action',
      'explode',
      '--payload',
      '[1,2]',
    );
    const tasks = await ok(db, 'tasks', 'list');
    expect(tasks).toMatch(/^ID\s+ACTION\s+DUE\s+STATUS\s+FIRED\s+RUN$/m);
    expect(tasks).toMatch(/^a\s+record\s+2026-04-01T00:00:00\.000Z\s+pending\s+-\s+-$/m);
    expect((await json(db, 'tasks', 'list', '--action', 'explode')).tasks).toMatchObject([
      { id: 'b', payload: [1, 2] },
    ]);
    expect(await ok(db, 'tasks', 'get', 'b')).toMatch(/^payload:\s+\[1,2\]$/m);
    // Moved: the same id, a new due.
    await ok(db, 'tasks', 'upsert', 'a', '--due', '2026-06-01T00:00:00Z', '--action', 'record');
    expect((await json(db, 'tasks', 'get', 'a')).due).toBe('2026-06-01T00:00:00.000Z');
    expect(await ok(db, 'tasks', 'delete', 'a')).toBe('a deleted\n');
    expect((await json(db, 'tasks', 'list')).tasks.map((t: { id: string }) => t.id)).toEqual(['b']);
  });

  it('rejects bad input with exit 2 and one line naming what is wrong; stores nothing', async () => {
    const db = SQLITE.freshUrl();
    await ok(db, 'run-due', '--now', '2026-03-01T05:00:00Z');
    const cases: [string[], RegExp][] = [
      [['run-due', '--now', 'yesterday'], /--now: "yesterday" is not an ISO-8601 instant/],
      [
        ['run-due', '--now', '2026-03-01T05:00:00'],
        /--now: .* is not an ISO-8601 instant; give one with a zone/,
      ],
      [['run-due', '--timeout', 'soon'], /--timeout is "soon"/],
      [['run-due', '--misfire-grace', 'x'], /--misfire-grace is "x"/],
      [['schedules', 'get', 'nope'], /no schedule .*nope/],
      [['schedules', 'enable', 'nope'], /no schedule .*nope/],
      [['schedules', 'delete', 'daily'], /E_SCHEDULE_READ_ONLY/],
      [['schedules', 'list', '--source', 'file'], /--source is "file"; use config or api/],
      [['schedules', 'list', '--enabled', '--disabled'], /--enabled and --disabled exclude each other/],
      [['schedules', 'next', 'daily', '--count', '0'], /--count is "0"; use a whole number from 1 to 1000/],
      [
        ['tasks', 'upsert', 't', '--due', 'tomorrow', '--action', 'record'],
        /--due "tomorrow" is not an ISO-8601 instant/,
      ],
      [
        ['tasks', 'upsert', 't', '--due', '2026-04-01T00:00:00Z', '--action', 'nope'],
        /--action no function named "nope"/,
      ],
      [
        ['tasks', 'upsert', 't', '--due', '2026-04-01T00:00:00Z', '--action', 'record', '--payload', '{bad'],
        /--payload is not valid JSON/,
      ],
      [
        ['tasks', 'upsert', 'has\ttab', '--due', '2026-04-01T00:00:00Z', '--action', 'record'],
        /<id> "has\\ttab" has a control character \(U\+0009\) at character 4; use printable characters only/,
      ],
      [['tasks', 'list', '--status', 'done'], /--status is "done"; use pending or fired/],
      [['tasks', 'list', '--due-before', 'soon'], /--due-before "soon" is not an ISO-8601 instant/],
      [['tasks', 'get', 'nope'], /no task with id "nope"/],
      [['tasks', 'delete', 'nope'], /no task with id "nope"/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(db, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    expect((await json(db, 'tasks', 'list')).tasks).toEqual([]);
    expect((await json(db, 'schedules', 'list')).schedules.map((s: { name: string }) => s.name)).toEqual([
      'daily',
      'six-hourly',
    ]);
  });
});
