// `mainspring workflows …` and `events put|get` as clients of a running server that
// requires an API token (--url, --token; MAINSPRING_URL and MAINSPRING_API_TOKEN): start
// --wait printing the id then the output (or exiting 1), list, get, history, watch
// following the progress the workflow reports until its end, the wait route itself, and
// a wrong token refused in one line.

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Execution, Operation } from '../../src/workflow/client.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { type CliResult, NODE_ARGS, runCli, startServer } from '../helpers/cli.ts';

const CONFIG = fileURLToPath(new URL('./fixtures/url-workflows/mainspring.config.ts', import.meta.url));
const SQLITE = BACKENDS[0]!;
const TOKEN = 'url-workflows-token';
const env = { MAINSPRING_TIME_SCALE: undefined, MAINSPRING_URL: undefined };

/** `<ISO time> <status> <progress>`: a line of `workflows watch` when piped. */
const WATCH_LINE = /^\d{4}-\d\d-\d\dT\S+Z (running|waiting|succeeded|failed|stopped|timed_out) .+$/;

describe('workflows and events through --url', { timeout: 120_000 }, () => {
  it('start --wait, list, get, history, watch, events put and get; a wrong token', async () => {
    const s = await startServer(['--config', CONFIG, '--db', SQLITE.freshUrl()], {
      env: { ...env, MAINSPRING_API_TOKEN: TOKEN },
    });
    // No --config nor --db: the CLI knows only the server.
    const cli = (...args: string[]): Promise<CliResult> =>
      runCli([...args, '--url', s.url, '--token', TOKEN], { env, timeoutMs: 30_000 });
    const ok = async (...args: string[]) => {
      const r = await cli(...args);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.code, args.join(' ')).toBe(0);
      return r.stdout;
    };
    const json = async <T>(...args: string[]) => JSON.parse(await ok(...args, '--json')) as T;

    // start --wait: the id at once, then the output; exit 1 with the error when it fails.
    const greeted = await cli(
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
    const broken = await cli('workflows', 'start', 'broken', '--id', 'b-1', '--wait');
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe('b-1 running\n');
    expect(broken.stderr).toBe('mainspring: execution b-1 failed: Error: broken always fails\n');
    const again = await json<Execution>('workflows', 'start', 'greet', '--id', 'greet/ada', '--wait');
    expect(again).toMatchObject({ id: 'greet/ada', status: 'succeeded', output: { greeting: 'hello Ada' } });
    expect(again).not.toHaveProperty('created');

    const page = await json<{ executions: Execution[]; nextCursor: string | null }>('workflows', 'list');
    expect(page.executions.map((e) => [e.id, e.status])).toEqual([
      ['b-1', 'failed'],
      ['greet/ada', 'succeeded'],
    ]);
    const table = await ok('workflows', 'list', '--status', 'failed');
    expect(table).toMatch(/^ID\s+WORKFLOW\s+VERSION\s+STATUS\s+WAITING FOR\s+CREATED\s+FINISHED$/m);
    expect(table).toMatch(/^b-1\s+broken\s+1\s+failed\s+-\s+\S+Z\s+\S+Z$/m);
    expect(table).not.toMatch(/greet/);

    expect(await json<Execution>('workflows', 'get', 'greet/ada')).toMatchObject({
      id: 'greet/ada',
      input: { name: 'Ada' },
      output: { greeting: 'hello Ada' },
    });
    expect(await ok('workflows', 'get', 'b-1')).toMatch(/^error:\s+Error: broken always fails$/m);
    const history = await json<{ operations: Operation[] }>('workflows', 'history', 'greet/ada');
    expect(history.operations).toEqual([
      expect.objectContaining({
        type: 'step',
        name: 'say',
        status: 'succeeded',
        result: { greeting: 'hello Ada' },
      }),
    ]);
    expect(await ok('workflows', 'history', 'greet/ada')).toMatch(/\sstep\s+say\s+succeeded\s+1\s/);

    // watch of a finished execution: its one state, and the exit code of its outcome.
    const watchedOk = await ok('workflows', 'watch', 'greet/ada');
    expect(watchedOk).toMatch(/^\S+Z succeeded -\n$/);
    const watchedFailed = await cli('workflows', 'watch', 'b-1');
    expect(watchedFailed.code).toBe(1);
    expect(watchedFailed.stdout).toMatch(/^\S+Z failed -\n$/);
    expect(watchedFailed.stderr).toBe('mainspring: execution b-1 failed: Error: broken always fails\n');
    const watchedJson = await cli('workflows', 'watch', 'b-1', '--json');
    expect(watchedJson.code).toBe(1);
    expect(
      watchedJson.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Execution),
    ).toEqual([expect.objectContaining({ id: 'b-1', status: 'failed' })]);

    // watch follows a waiting execution's progress to its end, a line per change.
    expect(await ok('workflows', 'start', 'approval', '--id', 'ap-1')).toBe('ap-1 running\n');
    let callbackId = '';
    await vi.waitFor(
      async () => {
        const e = await json<Execution>('workflows', 'get', 'ap-1');
        expect(e).toMatchObject({ status: 'waiting', progress: { percentage: 50 } });
        callbackId = e.wait!.callbackId!;
      },
      { timeout: 20_000, interval: 100 },
    );
    const watching = spawnCli(['workflows', 'watch', 'ap-1', '--url', s.url, '--token', TOKEN]);
    await vi.waitFor(() => expect(watching.stdout()).toMatch(/\n$/), { timeout: 20_000, interval: 50 });
    expect(watching.stdout()).toMatch(/^\S+Z waiting 50% awaiting approval\n$/);

    // The wait route answers 202 with the execution as it stands while it goes on; 401 without the token.
    const waitRoute = (id: string, headers: Record<string, string>) =>
      fetch(`${s.url}/v1/executions/${encodeURIComponent(id)}/wait`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ timeoutMs: 1 }),
      });
    const pending = await waitRoute('ap-1', { authorization: `Bearer ${TOKEN}` });
    expect(pending.status).toBe(202);
    expect(await pending.json()).toMatchObject({ id: 'ap-1', status: 'waiting' });
    expect((await waitRoute('ap-1', {})).status).toBe(401);

    expect(await ok('workflows', 'callback', 'succeed', callbackId, '--result', '"yes"')).toBe(
      `callback ${callbackId} succeeded\n`,
    );
    expect(await watching.exited).toBe(0);
    expect(watching.stderr()).toBe('');
    const lines = watching.stdout().trimEnd().split('\n');
    for (const l of lines) expect(l).toMatch(WATCH_LINE);
    expect(lines[0]).toMatch(/ waiting 50% awaiting approval$/);
    expect(lines.at(-1)).toMatch(/ succeeded 100% approved$/);
    const done = await waitRoute('greet/ada', { authorization: `Bearer ${TOKEN}` });
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({ id: 'greet/ada', status: 'succeeded' });

    // The server is named by the environment as well as by the flags.
    const byEnv = await runCli(['workflows', 'get', 'ap-1', '--json'], {
      env: { ...env, MAINSPRING_URL: s.url, MAINSPRING_API_TOKEN: TOKEN },
    });
    expect(byEnv.code).toBe(0);
    expect(JSON.parse(byEnv.stdout)).toMatchObject({ id: 'ap-1', output: { answer: 'yes' } });

    // events put and get.
    expect(
      await ok(
        'events',
        'put',
        '--source',
        'shop',
        '--detail-type',
        'Order Placed',
        '--detail',
        '{"id":1}',
        '--id',
        'evt-1',
      ),
    ).toBe('evt-1\n');
    expect(JSON.parse(await ok('events', 'get', 'evt-1'))).toMatchObject({
      id: 'evt-1',
      source: 'shop',
      detailType: 'Order Placed',
      detail: { id: 1 },
    });
    const notObject = await cli('events', 'put', '--source', 'shop', '--detail-type', 'X', '--detail', '[1]');
    expect(notObject.code).toBe(2);
    expect(notObject.stderr).toMatch(/^mainspring: --detail is an array; send a JSON object/);
    const missing = await cli('events', 'get', 'no-such-event');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/event "no-such-event" is not stored/);

    // A wrong token: exit 1, one line, nothing done.
    for (const args of [
      ['workflows', 'list'],
      ['workflows', 'start', 'greet', '--id', 'never', '--wait'],
      ['events', 'get', 'evt-1'],
    ]) {
      const r = await runCli([...args, '--url', s.url, '--token', 'wrong'], { env });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toBe('mainspring: the API token is wrong [E_UNAUTHORIZED]\n');
    }
    const never = await cli('workflows', 'get', 'never');
    expect(never.code).toBe(2);
    expect(never.stderr).toMatch(/execution "never" does not exist/);

    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });
});

const children = new Set<ChildProcess>();

// A test that fails while a command still follows an execution must not leave it running.
afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  children.clear();
});

/** Starts the CLI and lets the test read its output while it runs. */
function spawnCli(args: string[]) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['DATABASE_URL', 'MAINSPRING_TIME_SCALE', 'MAINSPRING_URL', 'MAINSPRING_API_TOKEN'])
    delete childEnv[k];
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { env: childEnv, stdio: 'pipe' });
  children.add(child);
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
