// `mainspring import` as a user runs it: in a fresh folder outside the repo, on the seeds'
// own snippets and the other formats, then `mainspring start` on the config it wrote. The
// schedules' next ticks must be what their expressions give, the queues must have the
// imported settings, and an imported command must run.

import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClient, type MainspringClient } from '../../src/client/index.ts';
import { parseSchedule } from '../../src/expressions/index.ts';
import { tempDir } from '../helpers/backends.ts';
import { REPO, runCli, startServer } from '../helpers/cli.ts';

const FIXTURES = join(REPO, 'test/import/fixtures');

/** A fresh project folder with the fixtures copied in and mainspringjs resolvable, as after `npm install mainspringjs`. */
function project(files: readonly string[]): string {
  const cwd = tempDir('mainspring-import-');
  writeFileSync(join(cwd, 'package.json'), '{ "type": "module" }\n');
  mkdirSync(join(cwd, 'node_modules'));
  symlinkSync(REPO, join(cwd, 'node_modules/mainspringjs'), 'dir');
  for (const f of files) {
    mkdirSync(dirname(join(cwd, f)), { recursive: true });
    cpSync(join(FIXTURES, f), join(cwd, f), { recursive: true });
  }
  return cwd;
}

async function importInto(cwd: string, args: readonly string[]): Promise<string> {
  const res = await runCli(['import', ...args], { cwd });
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  expect(res.stdout).toMatch(/^wrote mainspring\.config\.ts\nmainspring import: \d+ items? in \d+ files?/);
  return res.stdout;
}

/** The next instant after `now` at hh:mm UTC, every day. */
function nextDailyUtc(now: Date, hour: number, minute = 0): Date {
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hour, minute));
  return at > now ? at : new Date(at.getTime() + 86_400_000);
}

async function withServer<T>(
  cwd: string,
  env: Record<string, string>,
  body: (api: MainspringClient) => Promise<T>,
): Promise<T> {
  const server = await startServer(['--db', `sqlite:${join(cwd, 'ms.db')}`], { cwd, env, timeoutMs: 30_000 });
  try {
    return await body(createClient({ baseUrl: server.url }));
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
}

async function schedules(api: MainspringClient) {
  const { schedules } = await api.listSchedules();
  return new Map(schedules.map((s) => [s.name, s]));
}

describe('mainspring import, then mainspring start on what it wrote', { timeout: 60_000 }, () => {
  it("seed 002's Terraform: the ECS task on its EventBridge rule becomes a command that runs", async () => {
    const cwd = project(['seed-002.tf']);
    mkdirSync(join(cwd, 'jobs'));
    writeFileSync(
      join(cwd, 'jobs/db-cleanup.js'),
      'const { JOB_NAME, DB_PASSWORD } = process.env;\nconsole.log("cleaning as " + JOB_NAME + ", password " + (DB_PASSWORD ? "set" : "missing"));\n',
    );
    const report = await importInto(cwd, ['seed-002.tf']);
    expect(report).toMatch(/aws_cloudwatch_event_rule\.db_cleanup_schedule/);
    expect(report).toMatch(/skipped .*aws_iam_role\.eventbridge_ecs_role/);
    const config = readFileSync(join(cwd, 'mainspring.config.ts'), 'utf8');
    expect(config).toContain(
      "triggers: [schedule('cron(0 2 * * ? *)', {\n    description: 'Run database cleanup job daily at 2 AM UTC',\n  })],",
    );
    expect(config).not.toContain('valueFrom');

    const before = new Date();
    await withServer(cwd, { DB_USERNAME: 'app', DB_PASSWORD: 's3cret' }, async (api) => {
      const s = (await schedules(api)).get('db-cleanup');
      expect(s).toMatchObject({ expression: 'cron(0 2 * * ? *)', timezone: 'UTC' });
      expect(new Date(s!.state.nextTick!)).toEqual(nextDailyUtc(before, 2));

      const { run } = await api.invokeFunction({ params: { name: 'db-cleanup' }, body: { wait: true } });
      expect(run).toMatchObject({ status: 'succeeded' });
      await expect
        .poll(async () => (await api.getRunLogs({ params: { id: run.id } })).lines.map((l) => l.msg))
        .toContain('cleaning as db-cleanup, password set');
    });
  });

  it("seed 001's Stacktape YAML: the queue keeps its visibility, receive limit and DLQ; the batch job runs", async () => {
    const cwd = project(['stacktape-seed-001.yml']);
    mkdirSync(join(cwd, 'src'));
    writeFileSync(join(cwd, 'src/heavy-processing.ts'), "console.log('heavy work done');\n");
    await importInto(cwd, ['stacktape-seed-001.yml']);

    const before = new Date();
    await withServer(cwd, {}, async (api) => {
      expect(await api.getQueue({ params: { name: 'job-queue' } })).toMatchObject({
        settings: { visibilityTimeoutMs: 300_000, maxReceiveCount: 3, deadLetterQueue: 'dead-letter-queue' },
      });
      await api.getQueue({ params: { name: 'dead-letter-queue' } });
      const all = await schedules(api);
      expect(new Date(all.get('daily-report')!.state.nextTick!)).toEqual(nextDailyUtc(before, 9));
      expect(new Date(all.get('heavy-job')!.state.nextTick!)).toEqual(nextDailyUtc(before, 2));
      const { functions } = await api.listFunctions();
      expect(functions.find((f) => f.name === 'worker')?.triggers).toEqual(['job-queue']);

      const { run } = await api.invokeFunction({ params: { name: 'heavy-job' }, body: { wait: true } });
      expect(run).toMatchObject({ status: 'succeeded' });
      // The worker is a stub until its Lambda handler is ported: it says so and does not retry.
      const stub = await api.invokeFunction({ params: { name: 'worker' }, body: { wait: true, input: {} } });
      expect(stub.run).toMatchObject({ status: 'failed', attempt: 1 });
      expect(stub.run.error?.message).toMatch(/port the Lambda handler in \.\/src\/worker\.ts/);
    });
  });

  it("seed 000's Amplify function, scheduled by backend.ts's cron(0 2 * * ? *) rule", async () => {
    const cwd = project([]);
    // The seed's files, kept as .ts.txt in the repo (their imports are not installed here).
    for (const f of ['backend.ts', 'functions/daily-sync/resource.ts']) {
      mkdirSync(dirname(join(cwd, 'amplify', f)), { recursive: true });
      cpSync(join(FIXTURES, 'amplify', `${f}.txt`), join(cwd, 'amplify', f));
    }
    const report = await importInto(cwd, ['amplify']);
    expect(report).toMatch(/in 2 files/);
    const before = new Date();
    await withServer(cwd, {}, async (api) => {
      const s = (await schedules(api)).get('daily-sync');
      expect(s).toMatchObject({ expression: 'cron(0 2 * * ? *)', timezone: 'UTC' });
      expect(new Date(s!.state.nextTick!)).toEqual(nextDailyUtc(before, 2));
      const fn = (await api.listFunctions()).functions.find((f) => f.name === 'daily-sync');
      expect(fn).toMatchObject({ timeoutMs: 300_000 });
    });
  });

  it('a Serverless file, a Scheduler JSON and a crontab, imported together', async () => {
    const cwd = project(['serverless', 'aws-json/get-schedule.json']);
    writeFileSync(
      join(cwd, 'jobs.crontab'),
      'CRON_TZ=America/New_York\n30 8 * * 1-5 node -e "console.log(\'weekday report\')"\n*/10 * * * * echo tick\n',
    );
    const report = await importInto(cwd, [
      'serverless/serverless.yml',
      'aws-json/get-schedule.json',
      'jobs.crontab',
    ]);
    expect(report).toMatch(/in 3 files/);
    const before = new Date();
    await withServer(cwd, {}, async (api) => {
      const all = await schedules(api);
      expect(all.get('node')).toMatchObject({ expression: '30 8 * * 1-5', timezone: 'America/New_York' });
      expect(all.get('invoice-run')).toMatchObject({
        expression: 'cron(0 6 1 * ? *)',
        timezone: 'Europe/Paris',
        flexibleWindowMs: 15 * 60_000,
        retry: { maxAttempts: 6, maxEventAgeMs: 86_400_000 },
      });
      let checked = 0;
      for (const s of all.values()) {
        if (!s.enabled || s.state.nextTick === null) continue;
        // Each next tick is the expression's own, in its zone, within its start and end.
        const expected = parseSchedule(s.expression, {
          timezone: s.timezone,
          ...(s.start ? { start: new Date(s.start) } : {}),
          ...(s.end ? { end: new Date(s.end) } : {}),
          createdAt: new Date(s.createdAt),
        }).next(before)[0];
        expect(new Date(s.state.nextTick), s.name).toEqual(expected);
        checked++;
      }
      expect(checked).toBeGreaterThan(3);
      expect(await api.getQueue({ params: { name: 'invoice-jobs' } })).toBeTruthy();
      expect(await api.getQueue({ params: { name: 'job-queue' } })).toMatchObject({
        settings: { visibilityTimeoutMs: 720_000, maxReceiveCount: 4, deadLetterQueue: 'job-dlq' },
      });

      const { run } = await api.invokeFunction({ params: { name: 'node' }, body: { wait: true } });
      expect(run).toMatchObject({ status: 'succeeded' });
      await expect
        .poll(async () => (await api.getRunLogs({ params: { id: run.id } })).lines.map((l) => l.msg))
        .toContain('weekday report');
    });
  });

  it('--dry-run writes nothing; an existing config is kept unless --force', async () => {
    const cwd = project(['seed-002.tf']);
    const dry = await runCli(['import', 'seed-002.tf', '--dry-run'], { cwd });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^\/\/ Made by `mainspring import` from seed-002\.tf/);
    expect(dry.stderr).toMatch(/^mainspring import: \d+ items in 1 file/);
    expect(existsSync(join(cwd, 'mainspring.config.ts'))).toBe(false);

    writeFileSync(join(cwd, 'mainspring.config.ts'), '// mine\n');
    const refused = await runCli(['import', 'seed-002.tf'], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'mainspring: mainspring.config.ts exists; pass --force to replace it, --out to write elsewhere, or --dry-run to print instead [E_IMPORT_OUTPUT_EXISTS]\n',
    );
    expect(readFileSync(join(cwd, 'mainspring.config.ts'), 'utf8')).toBe('// mine\n');
    const forced = await runCli(['import', 'seed-002.tf', '--force'], { cwd });
    expect(forced.code).toBe(0);
    expect(readFileSync(join(cwd, 'mainspring.config.ts'), 'utf8')).toContain('defineCommand(');
  });

  it('an unknown resource type and an expression AWS would reject are report lines; the rest is imported', async () => {
    const cwd = project([]);
    writeFileSync(
      join(cwd, 'main.tf'),
      [
        'resource "aws_sqs_queue" "jobs" {',
        '  name = "jobs"',
        '}',
        'resource "aws_kinesis_stream" "clicks" {',
        '  name = "clicks"',
        '}',
        'resource "aws_cloudwatch_event_rule" "bad" {',
        '  schedule_expression = "cron(0 2 * * * *)"',
        '}',
        'resource "aws_cloudwatch_event_target" "bad" {',
        '  rule = aws_cloudwatch_event_rule.bad.name',
        '  arn  = aws_sqs_queue.jobs.arn',
        '}',
        '',
      ].join('\n'),
    );
    const report = await importInto(cwd, ['main.tf']);
    expect(report).toMatch(/^ {2}imported {2}main\.tf:1 +aws_sqs_queue\.jobs: queue jobs$/m);
    expect(report).toMatch(/^ {2}skipped {3}main\.tf:4 +aws_kinesis_stream\.clicks: .+ left out$/m);
    expect(report).toMatch(
      /^ {2}skipped {3}main\.tf:7 +aws_cloudwatch_event_rule\.bad: cron\(0 2 \* \* \* \*\): .+ one of them must be "\?"$/m,
    );
    await withServer(cwd, {}, async (api) => {
      expect((await api.getQueue({ params: { name: 'jobs' } })).name).toBe('jobs');
      expect((await api.listSchedules()).schedules).toEqual([]);
    });
  });

  it('input it cannot read stops the import, naming the file and line, and writes nothing', async () => {
    const cwd = project([]);
    writeFileSync(join(cwd, 'broken.tf'), 'resource "aws_sqs_queue" "q" {\n  name = \n}\n');
    writeFileSync(join(cwd, 'broken.yml'), 'resources:\n  q:\n    type: sqs-queue\n   properties: [\n');
    writeFileSync(join(cwd, 'broken.json'), '{ "Name": "r",\n  "ScheduleExpression": }\n');
    writeFileSync(join(cwd, 'notes.txt'), 'hello\n');
    for (const [file, pattern] of [
      ['broken.tf', /^mainspring: broken\.tf:2: .+ \[E_IMPORT_INVALID\]\n$/],
      ['broken.yml', /^mainspring: broken\.yml:4: .+ \[E_IMPORT_INVALID\]\n$/],
      ['broken.json', /^mainspring: broken\.json:2: .+ \[E_IMPORT_INVALID\]\n$/],
      [
        'notes.txt',
        /^mainspring: notes\.txt: file: not a format mainspring import reads: .+ \[E_IMPORT_INVALID\]\n$/,
      ],
      ['missing.tf', /^mainspring: missing\.tf: path: no such file or folder \[E_IMPORT_INVALID\]\n$/],
    ] as const) {
      const res = await runCli(['import', file], { cwd });
      expect(res.stderr, file).toMatch(pattern);
      expect(res.code, file).toBe(2);
      expect(existsSync(join(cwd, 'mainspring.config.ts')), file).toBe(false);
    }
  });
});
