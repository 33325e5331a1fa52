// `mainspring workflows …` as real child processes, against a real server (which runs
// the executions) and the workflows of a config written to a temp folder: start --wait
// printing the id then the output or exiting 1, list/get/history as JSON and tables, a
// callback completed from the CLI resuming a waiting `start --wait`, stop and delete, a
// note when no worker picks an execution up, and bad input exiting 2 with one line naming
// the flag.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import type { Execution, Operation } from '../../src/workflow/client.ts';
import { BACKENDS, tempDir } from '../helpers/backends.ts';
import { type CliResult, NODE_ARGS, REPO, runCli, startServer } from '../helpers/cli.ts';

const SQLITE = BACKENDS[0]!;
const env = { MAINSPRING_TIME_SCALE: undefined };
const src = (p: string) => pathToFileURL(join(REPO, 'src', p)).href;

/** Writes the app's config to a temp folder and returns its path. */
function writeConfig(): string {
  const file = join(tempDir(), 'mainspring.config.ts');
  writeFileSync(
    file,
    `import { defineConfig } from '${src('config.ts')}';
import { defineWorkflow } from '${src('workflow/define.ts')}';
export default defineConfig({
  workflows: [
    defineWorkflow({
      name: 'greet',
      handler: async (input: { name: string }, ctx) => ctx.step('say', () => ({ greeting: 'hello ' + input.name })),
    }),
    defineWorkflow({
      name: 'broken',
      handler: async () => {
        throw new Error('broken always fails');
      },
    }),
    defineWorkflow({
      name: 'approval',
      handler: async (_: unknown, ctx) => {
        try {
          return { answer: await ctx.waitForCallback('approve', () => {}, { timeout: '1h', heartbeatTimeout: '10m' }) };
        } catch (err) {
          return { rejected: (err as Error).message };
        }
      },
    }),
  ],
  worker: { pollIntervalMs: 50 },
});
`,
  );
  return file;
}

const CONFIG = writeConfig();

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

async function json<T>(db: string, ...args: string[]): Promise<T> {
  return JSON.parse(await ok(db, ...args, '--json')) as T;
}

/** Starts the CLI and lets the test read its output while it runs. */
function spawnCli(db: string, args: string[]) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv['DATABASE_URL'];
  delete childEnv['MAINSPRING_TIME_SCALE'];
  const child = spawn(process.execPath, [...NODE_ARGS, ...args, '--config', CONFIG, '--db', db], {
    env: childEnv,
    stdio: 'pipe',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** The callback id an execution waits on, once it waits. */
async function callbackOf(db: string, id: string): Promise<string> {
  let callbackId: string | undefined;
  await vi.waitFor(
    async () => {
      const e = await json<Execution>(db, 'workflows', 'get', id);
      expect(e.status).toBe('waiting');
      callbackId = e.wait?.callbackId;
      expect(callbackId).toEqual(expect.any(String));
    },
    { timeout: 20_000, interval: 100 },
  );
  return callbackId!;
}

// Each command is a child process starting Node: a test of twenty of them takes a while.
describe('workflows through the CLI', { timeout: 180_000 }, () => {
  describe.each(BACKENDS)('on $name', (backend) => {
    it.skipIf(backend.skip)(
      'start --wait prints the id, then the output (exit 0) or the error (exit 1); list, get, history',
      async () => {
        const db = backend.freshUrl();
        const s = await startServer(['--config', CONFIG, '--db', db], { env });

        const greeted = await cli(
          db,
          'workflows',
          'start',
          'greet',
          '--input',
          '{"name":"Ada"}',
          '--id',
          'greet/ada',
          '--wait',
          '--timeout',
          '20s',
        );
        expect(greeted.stderr).toBe('');
        expect(greeted.stdout).toBe('greet/ada running\n{"greeting":"hello Ada"}\n');
        expect(greeted.code).toBe(0);

        const broken = await cli(db, 'workflows', 'start', 'broken', '--id', 'b-1', '--wait');
        expect(broken.code).toBe(1);
        expect(broken.stdout).toBe('b-1 running\n');
        expect(broken.stderr).toBe('mainspring: execution b-1 failed: Error: broken always fails\n');

        // The same id again is not started again; --wait reports the stored outcome.
        expect(await ok(db, 'workflows', 'start', 'greet', '--id', 'greet/ada')).toBe(
          'greet/ada already exists (succeeded); not started again\n',
        );
        const rerun = await json<Execution>(db, 'workflows', 'start', 'greet', '--id', 'greet/ada', '--wait');
        expect(rerun).toMatchObject({ id: 'greet/ada', status: 'succeeded', input: { name: 'Ada' } });

        const page = await json<{ executions: Execution[]; nextCursor: string | null }>(
          db,
          'workflows',
          'list',
        );
        expect(page.executions.map((e) => [e.id, e.workflow, e.status])).toEqual([
          ['b-1', 'broken', 'failed'],
          ['greet/ada', 'greet', 'succeeded'],
        ]);
        expect(page.nextCursor).toBeNull();
        const first = await json<{ executions: Execution[]; nextCursor: string }>(
          db,
          'workflows',
          'list',
          '--limit',
          '1',
        );
        expect(first.executions.map((e) => e.id)).toEqual(['b-1']);
        const second = await json<{ executions: Execution[]; nextCursor: string | null }>(
          db,
          'workflows',
          'list',
          '--limit',
          '1',
          '--cursor',
          first.nextCursor,
        );
        expect(second).toMatchObject({ executions: [{ id: 'greet/ada' }], nextCursor: null });
        const failed = await json<{ executions: Execution[] }>(db, 'workflows', 'list', '--status', 'failed');
        expect(failed.executions.map((e) => e.id)).toEqual(['b-1']);
        const greets = await json<{ executions: Execution[] }>(
          db,
          'workflows',
          'list',
          '--workflow',
          'greet',
        );
        expect(greets.executions.map((e) => e.id)).toEqual(['greet/ada']);

        const table = await ok(db, 'workflows', 'list', '--limit', '1');
        expect(table).toMatch(/^ID\s+WORKFLOW\s+VERSION\s+STATUS\s+WAITING FOR\s+CREATED\s+FINISHED$/m);
        expect(table).toMatch(/^b-1\s+broken\s+1\s+failed\s+-\s+\S+Z\s+\S+Z$/m);
        expect(table).toMatch(/^next page: --cursor \S+$/m);

        expect(await json<Execution>(db, 'workflows', 'get', 'greet/ada')).toMatchObject({
          id: 'greet/ada',
          workflow: 'greet',
          status: 'succeeded',
          input: { name: 'Ada' },
          output: { greeting: 'hello Ada' },
        });
        const human = await ok(db, 'workflows', 'get', 'b-1');
        expect(human).toMatch(/^status:\s+failed$/m);
        expect(human).toMatch(/^error:\s+Error: broken always fails$/m);

        const history = await json<{ operations: Operation[] }>(db, 'workflows', 'history', 'greet/ada');
        expect(history.operations).toEqual([
          expect.objectContaining({
            type: 'step',
            name: 'say',
            status: 'succeeded',
            attempts: 1,
            result: { greeting: 'hello Ada' },
          }),
        ]);
        const historyTable = await ok(db, 'workflows', 'history', 'greet/ada');
        expect(historyTable).toMatch(/^OP\s+TYPE\s+NAME\s+STATUS\s+ATTEMPTS\s+STARTED\s+FINISHED\s+DETAIL$/m);
        expect(historyTable).toMatch(/\sstep\s+say\s+succeeded\s+1\s.*\{"greeting":"hello Ada"\}$/m);
        expect(await ok(db, 'workflows', 'history', 'b-1')).toBe('no operations yet\n');

        s.child.kill('SIGTERM');
        expect((await s.exited).code).toBe(0);
      },
    );
  });

  it('a callback completed from the CLI resumes a waiting start --wait; fail, heartbeat, stop, delete', async () => {
    const db = SQLITE.freshUrl();
    const s = await startServer(['--config', CONFIG, '--db', db], { env });

    const waiting = spawnCli(db, ['workflows', 'start', 'approval', '--id', 'ap-1', '--wait']);
    const cb1 = await callbackOf(db, 'ap-1');
    expect(await ok(db, 'workflows', 'get', 'ap-1')).toMatch(
      new RegExp(`^waiting for:\\s+callback "approve" ${cb1}, until \\S+Z$`, 'm'),
    );
    expect(await ok(db, 'workflows', 'callback', 'heartbeat', cb1)).toBe(
      `callback ${cb1} heartbeat recorded\n`,
    );
    expect(await ok(db, 'workflows', 'callback', 'succeed', cb1, '--result', '{"approved":true}')).toBe(
      `callback ${cb1} succeeded\n`,
    );
    expect(await waiting.exited).toBe(0);
    expect(waiting.stderr()).toBe('');
    expect(waiting.stdout()).toBe('ap-1 running\n{"answer":{"approved":true}}\n');

    // A callback completed once cannot be completed again; an unknown one does not exist.
    const again = await cli(db, 'workflows', 'callback', 'succeed', cb1);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/callback "\S+" can no longer be completed: .* \[E_CALLBACK_CLOSED\]\n$/);
    const unknown = await cli(db, 'workflows', 'callback', 'heartbeat', 'no-such-callback');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      'mainspring: callback "no-such-callback" does not exist [E_CALLBACK_NOT_FOUND]\n',
    );

    expect(await ok(db, 'workflows', 'start', 'approval', '--id', 'ap-2')).toBe('ap-2 running\n');
    const cb2 = await callbackOf(db, 'ap-2');
    expect(await ok(db, 'workflows', 'callback', 'fail', cb2, '--error', 'rejected by Alice')).toBe(
      `callback ${cb2} failed\n`,
    );
    const rejected = await json<Execution>(db, 'workflows', 'start', 'approval', '--id', 'ap-2', '--wait');
    expect(rejected).toMatchObject({ status: 'succeeded', output: { rejected: 'rejected by Alice' } });

    // --wait gives up at --timeout (exit 1); the execution goes on.
    const impatient = await cli(
      db,
      'workflows',
      'start',
      'approval',
      '--id',
      'ap-3',
      '--wait',
      '--timeout',
      '1s',
    );
    expect(impatient.code).toBe(1);
    expect(impatient.stdout).toBe('ap-3 running\n');
    expect(impatient.stderr).toBe(
      'mainspring: execution ap-3 of "approval" did not finish within 1s; it goes on. See it with: mainspring workflows get ap-3\n',
    );
    await callbackOf(db, 'ap-3');

    const early = await cli(db, 'workflows', 'delete', 'ap-3');
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/execution "ap-3" has not finished; stop it first, then delete it/);
    expect(await ok(db, 'workflows', 'stop', 'ap-3')).toBe('ap-3 stopped\n');
    expect(await ok(db, 'workflows', 'stop', 'ap-3')).toBe('ap-3 already stopped; nothing to stop\n');
    const stopped = await cli(db, 'workflows', 'start', 'approval', '--id', 'ap-3', '--wait');
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/^mainspring: execution ap-3 stopped: /);
    expect(await ok(db, 'workflows', 'delete', 'ap-3')).toBe('ap-3 deleted\n');
    const gone = await cli(db, 'workflows', 'get', 'ap-3');
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/execution "ap-3" does not exist/);

    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });

  it('start --wait notes when no worker has picked the execution up after 5 s', async () => {
    const db = SQLITE.freshUrl();
    expect((await runCli(['migrate', '--db', db], { env })).code).toBe(0);
    // No server runs: the execution is stored, and nothing claims it.
    const r = await cli(db, 'workflows', 'start', 'greet', '--id', 'lonely', '--wait', '--timeout', '6s');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('lonely running\n');
    expect(r.stderr).toBe(
      'mainspring: no worker has picked up execution lonely after 5s (status running, not started); is `mainspring start` (or `mainspring worker`) running against this store with "greet" defined?\n' +
        'mainspring: execution lonely of "greet" did not finish within 6s; it goes on. See it with: mainspring workflows get lonely\n',
    );
  });

  it('rejects bad input with exit 2 and one line on stderr naming the flag', async () => {
    const db = SQLITE.freshUrl();
    // The commands are clients: the store must exist (a server or `migrate` creates it).
    expect((await runCli(['migrate', '--db', db], { env })).code).toBe(0);
    const cases: [string[], RegExp][] = [
      [['workflows', 'start', 'greet', '--input', '{bad'], /^mainspring: --input is not valid JSON \(/],
      [
        ['workflows', 'start', 'nope'],
        /workflow "nope" is not defined in this app \(defined: greet, broken, approval\)/,
      ],
      [['workflows', 'start', 'greet', '--id', 'bad id!'], /^mainspring: --id is "bad id!"; give 1–200/],
      [['workflows', 'start', 'greet', '--wait', '--timeout', 'soon'], /--timeout is "soon"/],
      [['workflows', 'list', '--status', 'bogus'], /--status is "bogus"; use one of running, waiting/],
      [['workflows', 'list', '--limit', '0'], /--limit is "0"; use a whole number from 1 to 500/],
      [['workflows', 'list', '--cursor', 'abc'], /--cursor is "abc"; pass the nextCursor/],
      [['workflows', 'get', 'nope'], /execution "nope" does not exist/],
      [['workflows', 'history', 'nope'], /execution "nope" does not exist/],
      [['workflows', 'stop', 'nope'], /execution "nope" does not exist/],
      [['workflows', 'delete', 'nope'], /execution "nope" does not exist/],
      [['workflows', 'callback', 'succeed', 'x', '--result', '{'], /^mainspring: --result is not valid JSON/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(db, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    // Nothing was started.
    expect(await json<{ executions: Execution[] }>(db, 'workflows', 'list')).toEqual({
      executions: [],
      nextCursor: null,
    });
  });
});
