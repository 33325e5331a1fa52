// `mainspring schedules …` and `tasks …` as clients of a running server: a real
// `mainspring start` (the app of test/e2e/fixtures/schedules) with an API token, and each
// command a child process given --url and --token. Schedules are created, changed,
// paused and deleted over HTTP; bad input exits 2 with one line naming the flag; a
// config schedule is read-only. Also `mainspring schedule next --json`, which needs no
// server. Schedules start in 2099 so their ticks are fixed and never fire during a test.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ScheduleInfo } from '../../src/scheduler/schedules.ts';
import type { TaskInfo } from '../../src/scheduler/tasks.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { type CliResult, type RunningServer, runCli, startServer } from '../helpers/cli.ts';

const CONFIG = fileURLToPath(new URL('./fixtures/schedules/mainspring.config.ts', import.meta.url));
const SQLITE = BACKENDS[0]!;
const TOKEN = 'cli-url-schedules-token';
const env = { MAINSPRING_TIME_SCALE: undefined, MAINSPRING_URL: undefined };

interface Client {
  /** Runs a command with --url and --token. */
  cli(...args: string[]): Promise<CliResult>;
  /** Runs a command that must succeed, and returns its stdout. */
  ok(...args: string[]): Promise<string>;
  /** Runs a command that must succeed with --json, and returns what it printed. */
  json<T>(...args: string[]): Promise<T>;
}

function clientOf(server: RunningServer, token = TOKEN): Client {
  const cli = (...args: string[]) =>
    runCli([...args, '--url', server.url, '--token', token], { env, timeoutMs: 30_000 });
  const ok = async (...args: string[]) => {
    const r = await cli(...args);
    expect(r.stderr, args.join(' ')).toBe('');
    expect(r.code, args.join(' ')).toBe(0);
    return r.stdout;
  };
  return { cli, ok, json: async <T>(...args: string[]) => JSON.parse(await ok(...args, '--json')) as T };
}

async function serve(db: string): Promise<RunningServer> {
  return startServer(['--config', CONFIG, '--db', db], { env: { ...env, MAINSPRING_API_TOKEN: TOKEN } });
}

async function stop(server: RunningServer): Promise<void> {
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
}

type Page = { schedules: ScheduleInfo[]; nextCursor: string | null };
const names = (page: Page) => page.schedules.map((s) => s.name);

// Each command is a child process starting Node: a test of thirty of them takes a while.
describe('schedules and tasks through --url', { timeout: 240_000 }, () => {
  it('creates, lists, shows, updates, pauses, lists the next ticks of and deletes schedules', async () => {
    const db = SQLITE.freshUrl();
    const server = await serve(db);
    const { ok, json } = clientOf(server);

    expect(
      await ok(
        'schedules',
        'create',
        'report',
        '--expression',
        'cron(0 6 * * ? *)',
        '--start',
        '2099-01-01T00:00:00Z',
        '--function',
        'record',
        '--payload',
        '{"kind":"daily"}',
        '--max-attempts',
        '2',
        '--description',
        'made over HTTP',
      ),
    ).toBe('report created; next tick 2099-01-01T06:00:00.000Z\n');
    // A cron object as JSON, created disabled; "/" in the name is encoded in the path.
    const weekly = await json<ScheduleInfo>(
      'schedules',
      'create',
      'team/weekly',
      '--expression',
      '{"minute":"0","hour":"9","weekDay":"MON"}',
      '--start',
      '2099-01-01T00:00:00Z',
      '--function',
      'record',
      '--disabled',
    );
    expect(weekly).toMatchObject({
      name: 'team/weekly',
      expression: 'cron(0 9 ? * MON *)',
      enabled: false,
      source: 'api',
      state: { nextTick: null },
    });

    const list = await ok('schedules', 'list');
    expect(list).toMatch(
      /^NAME\s+EXPRESSION\s+TIMEZONE\s+ENABLED\s+SOURCE\s+TARGET\s+NEXT TICK\s+LAST RUN$/m,
    );
    expect(list).toMatch(
      /^report\s+cron\(0 6 \* \* \? \*\)\s+UTC\s+yes\s+api\s+function record\s+2099-01-01T06:00:00\.000Z\s+-$/m,
    );
    expect(list).toMatch(
      /^team\/weekly\s+cron\(0 9 \? \* MON \*\)\s+UTC\s+no\s+api\s+function record\s+-\s+-$/m,
    );
    expect(names(await json<Page>('schedules', 'list', '--source', 'api'))).toEqual([
      'report',
      'team/weekly',
    ]);
    expect(names(await json<Page>('schedules', 'list', '--source', 'api', '--disabled'))).toEqual([
      'team/weekly',
    ]);

    const get = await ok('schedules', 'get', 'report');
    expect(get).toMatch(/^source:\s+api$/m);
    expect(get).toMatch(/^payload:\s+\{"kind":"daily"\}$/m);
    expect(get).toMatch(/^start:\s+2099-01-01T00:00:00\.000Z$/m);
    expect(get).toMatch(/^max attempts:\s+2$/m);
    expect(get).toMatch(/^description:\s+made over HTTP$/m);

    // The given settings change; the rest (start, retry, description, target) stay.
    expect(
      await ok(
        'schedules',
        'update',
        'report',
        '--expression',
        'cron(30 7 * * ? *)',
        '--timezone',
        'Europe/Berlin',
        '--payload',
        '{"kind":"v2"}',
        '--misfire',
        'once',
        '--overlap',
        'skip',
      ),
    ).toBe('report updated; next tick 2099-01-01T06:30:00.000Z\n');
    // The API replaces retry whole; the CLI keeps the attempts a flag does not change.
    expect(await json<ScheduleInfo>('schedules', 'update', 'report', '--max-event-age', '1h')).toMatchObject({
      expression: 'cron(30 7 * * ? *)',
      timezone: 'Europe/Berlin',
      summary: 'At 07:30 (Europe/Berlin)',
      start: '2099-01-01T00:00:00.000Z',
      target: { kind: 'function', function: 'record' },
      payload: { kind: 'v2' },
      misfire: 'once',
      overlap: 'skip',
      retry: { maxAttempts: 2, maxEventAgeMs: 3_600_000 },
      description: 'made over HTTP',
    });

    expect(await ok('schedules', 'next', 'report', '-n', '3')).toBe(
      '2099-01-01T06:30:00.000Z\n2099-01-02T06:30:00.000Z\n2099-01-03T06:30:00.000Z\n',
    );
    expect(await json('schedules', 'next', 'team/weekly', '--count', '2')).toEqual({
      next: ['2099-01-05T09:00:00.000Z', '2099-01-12T09:00:00.000Z'],
    });

    expect(await ok('schedules', 'disable', 'report')).toBe('report disabled\n');
    expect(names(await json<Page>('schedules', 'list', '--source', 'api', '--disabled'))).toEqual([
      'report',
      'team/weekly',
    ]);
    expect(await ok('schedules', 'enable', 'report')).toBe(
      'report enabled; next tick 2099-01-01T06:30:00.000Z\n',
    );
    expect(await ok('schedules', 'update', 'team/weekly', '--enabled', '--end', '2099-01-10T00:00:00Z')).toBe(
      'team/weekly updated; next tick 2099-01-05T09:00:00.000Z\n',
    );
    expect(
      await json<ScheduleInfo>('schedules', 'update', 'team/weekly', '--disabled', '--no-start', '--no-end'),
    ).toMatchObject({ start: null, end: null, enabled: false, state: { nextTick: null } });

    // Without --url the commands open the same store in this process: the same API, the same output.
    const local = (...args: string[]) =>
      runCli([...args, '--config', CONFIG, '--db', db], { env, timeoutMs: 30_000 });
    const read = await local('schedules', 'get', 'report', '--json');
    expect(read.stderr).toBe('');
    expect(JSON.parse(read.stdout)).toMatchObject({ name: 'report', payload: { kind: 'v2' } });
    const made = await local(
      'schedules',
      'create',
      'made-here',
      '--expression',
      'rate(1 day)',
      '--start',
      '2099-01-01T00:00:00Z',
      '--function',
      'record',
    );
    expect(made.stderr).toBe('');
    expect(made.stdout).toBe('made-here created; next tick 2099-01-01T00:00:00.000Z\n');
    expect(await ok('schedules', 'delete', 'made-here')).toBe('made-here deleted\n');

    expect(await ok('schedules', 'delete', 'report')).toBe('report deleted\n');
    expect((await json<ScheduleInfo>('schedules', 'delete', 'team/weekly')).name).toBe('team/weekly');
    expect(await ok('schedules', 'list', '--source', 'api')).toBe('no schedules\n');
    await stop(server);
  });

  it('upserts, lists, shows, moves and deletes tasks', async () => {
    const server = await serve(SQLITE.freshUrl());
    const { ok, json } = clientOf(server);

    expect(
      await ok(
        'tasks',
        'upsert',
        'trial-end:42',
        '--due',
        '2099-03-01T09:00:00Z',
        '--action',
        'record',
        '--payload',
        '{"user":42}',
      ),
    ).toBe('trial-end:42 pending, due 2099-03-01T09:00:00.000Z\n');
    await ok('tasks', 'upsert', 'batch/1', '--due', '2099-02-01T00:00:00+00:00', '--action', 'explode');

    const list = await ok('tasks', 'list');
    expect(list).toMatch(/^ID\s+ACTION\s+DUE\s+STATUS\s+FIRED\s+RUN$/m);
    expect(list.trim().split('\n').slice(1)).toEqual([
      expect.stringMatching(/^batch\/1\s+explode\s+2099-02-01T00:00:00\.000Z\s+pending\s+-\s+-$/),
      expect.stringMatching(/^trial-end:42\s+record\s+2099-03-01T09:00:00\.000Z\s+pending\s+-\s+-$/),
    ]);
    const byAction = await json<{ tasks: TaskInfo[] }>('tasks', 'list', '--action', 'record');
    expect(byAction.tasks).toMatchObject([{ id: 'trial-end:42', payload: { user: 42 } }]);
    expect(await ok('tasks', 'get', 'trial-end:42')).toMatch(/^payload:\s+\{"user":42\}$/m);

    // Moved: the same id, a new due.
    await ok('tasks', 'upsert', 'trial-end:42', '--due', '2099-04-01T09:00:00Z', '--action', 'record');
    expect((await json<TaskInfo>('tasks', 'get', 'trial-end:42')).due).toBe('2099-04-01T09:00:00.000Z');

    // Seed 003's own id, spaces and all: the CLI encodes it in the path (some%20task%20id).
    expect(
      await ok('tasks', 'upsert', 'some task id', '--due', '2099-05-01T00:00:00Z', '--action', 'record'),
    ).toBe('some task id pending, due 2099-05-01T00:00:00.000Z\n');
    expect(await ok('tasks', 'get', 'some task id')).toMatch(/^id:\s+some task id$/m);
    expect(await ok('tasks', 'delete', 'some task id')).toBe('some task id deleted\n');

    expect(await ok('tasks', 'delete', 'batch/1')).toBe('batch/1 deleted\n');
    const left = await json<{ tasks: TaskInfo[] }>('tasks', 'list');
    expect(left.tasks.map((t) => t.id)).toEqual(['trial-end:42']);
    await stop(server);
  });

  it('rejects bad input with exit 2 and one line naming the flag; a config schedule is read-only', async () => {
    const server = await serve(SQLITE.freshUrl());
    const { cli, ok, json } = clientOf(server);
    await ok('schedules', 'create', 'taken', '--expression', 'rate(1 day)', '--function', 'record');
    const create = (...args: string[]) => ['schedules', 'create', 'x', ...args];
    const every = ['--expression', 'rate(1 hour)'];
    const cases: [string[], RegExp][] = [
      [
        create('--expression', 'cron(0 9 * * MON *)', '--function', 'record'),
        /^mainspring: --expression: cron\(\) field 5 \(day-of-week\) is "MON" but .* \[E_SCHEDULE_INVALID\]\n$/,
      ],
      [
        ['schedules', 'update', 'taken', '--expression', 'every day'],
        /^mainspring: --expression: "every day" is not a schedule expression/,
      ],
      [
        create(...every, '--timezone', 'Mars/Base', '--function', 'record'),
        /--timezone "Mars\/Base" is not a known IANA time zone/,
      ],
      [
        create(...every, '--function', 'nope'),
        /--function: no function named "nope"; defined: daily, record, explode/,
      ],
      [
        create(...every, '--function', 'record', '--start', 'tomorrow'),
        /--start: "tomorrow" is not an ISO-8601 instant/,
      ],
      [
        create(...every, '--function', 'record', '--misfire', 'never'),
        /--misfire is "never"; use skip, once or all/,
      ],
      [create(...every, '--function', 'record', '--payload', '{bad'), /--payload is not valid JSON/],
      [create(...every), /--function \(or --queue, --workflow, --http\) is missing/],
      [
        create(...every, '--http', 'https://hooks.example.com/x'),
        /--http: host "hooks\.example\.com" is not on the HTTP target allow-list/,
      ],
      [
        ['schedules', 'create', 'has space', ...every, '--function', 'record'],
        /<name>: "has space" is not a schedule name/,
      ],
      [
        ['schedules', 'create', 'taken', ...every, '--function', 'record'],
        /a schedule named "taken" exists.*\[E_SCHEDULE_EXISTS\]/,
      ],
      [['schedules', 'update', 'taken'], /<name> needs a change/],
      [
        ['schedules', 'update', 'nope', '--payload', '1'],
        /no schedule named "nope" \[E_SCHEDULE_NOT_FOUND\]/,
      ],
      [
        ['schedules', 'update', 'daily', '--payload', '{}'],
        /^mainspring: schedule "daily" is declared in the config, so it is read-only here: change it in the config .*\[E_SCHEDULE_READ_ONLY\]\n$/,
      ],
      [
        ['schedules', 'delete', 'daily'],
        /schedule "daily" is declared in the config, so it is read-only here: remove it from the config/,
      ],
      [['schedules', 'next', 'daily', '--count', '0'], /--count is "0"; use a whole number from 1 to 1000/],
      [
        ['tasks', 'upsert', 't', '--due', 'tomorrow', '--action', 'record'],
        /--due "tomorrow" is not an ISO-8601 instant/,
      ],
      [
        ['tasks', 'upsert', 't', '--due', '2099-01-01T00:00:00Z', '--action', 'nope'],
        /--action no function named "nope"/,
      ],
      [['tasks', 'get', 'nope'], /no task with id "nope"/],
    ];
    // Independent commands: run them side by side.
    const results = await Promise.all(cases.map(([args]) => cli(...args)));
    cases.forEach(([args, message], i) => {
      const r = results[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    });

    // The server checks the token: a wrong one is refused (exit 1, as an unreachable server).
    const refused = await clientOf(server, 'wrong-token').cli('schedules', 'list');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/E_UNAUTHORIZED/);

    // Nothing was stored or changed.
    expect(names(await json<Page>('schedules', 'list', '--source', 'api'))).toEqual(['taken']);
    expect(await json<ScheduleInfo>('schedules', 'get', 'daily')).toMatchObject({
      payload: { report: 'daily' },
    });
    expect((await json<{ tasks: TaskInfo[] }>('tasks', 'list')).tasks).toEqual([]);
    await stop(server);
  });
});

describe('mainspring schedule next --json', () => {
  it('prints the expression, zone, summary and next fire times as JSON; bad input exits 2', async () => {
    const r = await runCli(
      [
        'schedule',
        'next',
        'cron(0 9 ? * MON-FRI *)',
        '--tz',
        'Europe/Berlin',
        '--from',
        '2026-03-27T12:00:00Z',
        '-n',
        '3',
        '--json',
      ],
      { env },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      expression: 'cron(0 9 ? * MON-FRI *)',
      timezone: 'Europe/Berlin',
      summary: 'At 09:00, Monday through Friday (Europe/Berlin)',
      next: ['2026-03-30T07:00:00.000Z', '2026-03-31T07:00:00.000Z', '2026-04-01T07:00:00.000Z'],
    });

    const past = await runCli(['schedule', 'next', 'at(2020-01-01T00:00:00)', '--json'], { env });
    expect(past.code).toBe(0);
    expect(JSON.parse(past.stdout)).toMatchObject({ expression: 'at(2020-01-01T00:00:00)', next: [] });

    const bad = await runCli(['schedule', 'next', 'cron(bad)', '--json'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^mainspring: cron\(\) takes 6 fields .* \[E_SCHEDULE_INVALID\]\n$/);
  });
});
