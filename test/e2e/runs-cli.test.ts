// `mainspring invoke`, `runs list|get|cancel` and `logs` as real child processes
// against a real server (test/e2e/fixtures/runs): waiting for results, following a
// command's log until its run ends (on SQLite and PostgreSQL), cancelling, bad input.

import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { BACKENDS, tempDir } from '../helpers/backends.ts';
import { type CliResult, NODE_ARGS, runCli, startServer } from '../helpers/cli.ts';

const CONFIG = fileURLToPath(new URL('./fixtures/runs/mainspring.config.ts', import.meta.url));
const SQLITE = BACKENDS[0]!;

const env = { MAINSPRING_TIME_SCALE: undefined };

function cli(db: string, ...args: string[]): Promise<CliResult> {
  return runCli([...args, '--config', CONFIG, '--db', db], { env, timeoutMs: 25_000 });
}

function server(db: string) {
  return startServer(['--config', CONFIG, '--db', db], { env });
}

/** Starts the CLI and lets the test read its stdout while it runs. */
function spawnCli(args: string[]) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv['DATABASE_URL'];
  delete childEnv['MAINSPRING_TIME_SCALE'];
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { env: childEnv, stdio: 'pipe' });
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

const runId = (stdout: string) => {
  const m = /^(\S+) queued$/m.exec(stdout);
  expect(m, stdout).not.toBeNull();
  return m![1]!;
};

describe('invoke, runs and logs through the CLI', () => {
  it('invoke --wait prints the result or the error; runs list and get show the run', async () => {
    const db = SQLITE.freshUrl();
    const s = await server(db);

    const ok = await cli(db, 'invoke', 'echo', '--input', '{"k":1}', '--wait', '--timeout', '20s');
    expect(ok.stderr).toBe('');
    // The run id at once, then the final attempt's status and its result.
    expect(ok.stdout).toMatch(/^(\S+-1) queued\n\1 succeeded\n\{"k":1\}\n$/);
    expect(ok.code).toBe(0);

    const failed = await cli(db, 'invoke', 'fail', '--wait');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/failed: Error: fail always fails/);

    const list = await cli(db, 'runs', 'list', '--function', 'echo', '--since', '1h');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/ID\s+FUNCTION\s+ATTEMPT\s+STATUS\s+TRIGGER\s+STARTED\s+DURATION/);
    const row = /^(\S+)\s+echo\s+1\s+succeeded\s+manual\s/m.exec(list.stdout);
    expect(row, list.stdout).not.toBeNull();
    expect(list.stdout).not.toMatch(/\bfail\b/);

    const get = await cli(db, 'runs', 'get', row![1]!, '--json');
    expect(get.code).toBe(0);
    expect(JSON.parse(get.stdout)).toMatchObject({
      id: row![1],
      function: 'echo',
      status: 'succeeded',
      input: { k: 1 },
      result: { k: 1 },
    });
    const human = await cli(db, 'runs', 'get', row![1]!);
    expect(human.stdout).toMatch(/^status:\s+succeeded$/m);

    const failedList = await cli(db, 'runs', 'list', '--status', 'failed', '--json');
    expect(JSON.parse(failedList.stdout)).toMatchObject({
      runs: [{ function: 'fail', error: { message: 'fail always fails' } }],
      nextCursor: null,
    });

    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });

  it('cancels a queued run (no worker running)', async () => {
    const db = SQLITE.freshUrl();
    // A server registers the functions' invocation queues; then none runs.
    const s = await server(db);
    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
    const invoked = await cli(db, 'invoke', 'echo', '--input', '{"k":2}');
    expect(invoked.code).toBe(0);
    const id = runId(invoked.stdout);
    const cancel = await cli(db, 'runs', 'cancel', id);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toBe(`${id} cancelled\n`);
    const get = await cli(db, 'runs', 'get', id, '--json');
    expect(JSON.parse(get.stdout)).toMatchObject({ id, status: 'cancelled' });
    const again = await cli(db, 'runs', 'cancel', id);
    expect(again.stdout).toBe(`${id} already cancelled; nothing to cancel\n`);
  });

  it('invoke --wait says so when no worker picks the run up, and gives up at --timeout', async () => {
    const db = SQLITE.freshUrl();
    const s = await server(db);
    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
    const r = await cli(db, 'invoke', 'echo', '--wait', '--timeout', '7s');
    expect(r.code).toBe(1);
    const id = runId(r.stdout);
    expect(r.stderr).toMatch(
      new RegExp(`^mainspring: no worker has picked up run ${id} after \\d+s; is \`mainspring start\``),
    );
    expect(r.stderr).toMatch(
      new RegExp(`mainspring: run ${id} of "echo" did not finish within 7s; it goes on`),
    );
    // Piped: no status line, only the two notes.
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(2);
  });

  it.skipIf(!existsSync('/usr/bin/script'))(
    'invoke --wait on a terminal shows a status line with the elapsed time, then clears it',
    async () => {
      const db = SQLITE.freshUrl();
      const s = await server(db);
      s.child.kill('SIGTERM');
      expect((await s.exited).code).toBe(0);
      // script(1) gives the command a pseudo-terminal, as a person at a shell has.
      const line = [process.execPath, ...NODE_ARGS, 'invoke', 'echo', '--wait', '--timeout', '3s']
        .concat(['--config', CONFIG, '--db', db])
        .map((a) => `'${a}'`)
        .join(' ');
      const r = await new Promise<string>((resolve) => {
        const child = spawn('/usr/bin/script', ['-qec', line, '/dev/null'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let text = '';
        child.stdout.on('data', (d: Buffer) => {
          text += d;
        });
        child.on('close', () => resolve(text));
      });
      // Each status line starts by erasing the line the previous one drew.
      const erase = '\r\u001b[2K';
      expect(r.split(erase).some((l) => /^\S+-1 queued \(attempt 1\), \d/.test(l))).toBe(true);
      expect(r).toContain(`${erase}mainspring: run `);
      expect(r).toMatch(/run \S+ of "echo" did not finish within 3s/);
    },
  );

  it('rejects bad input with exit 2 and one line on stderr', async () => {
    const db = SQLITE.freshUrl();
    expect((await cli(db, 'migrate')).code).toBe(0);
    const cases: [string[], RegExp][] = [
      [['invoke', 'echo', '--input', '{bad'], /--input is not valid JSON/],
      [['invoke', 'nope'], /no function named "nope"; defined: echo, fail, ticker/],
      [['runs', 'list', '--status', 'bogus'], /--status is "bogus"; use one of queued, running/],
      [['runs', 'list', '--trigger', 'bogus'], /--trigger is "bogus"; use one of manual, queue/],
      [['runs', 'list', '--since', 'soon'], /--since is "soon"/],
      [['runs', 'get', '0000000000000000000000-1'], /no run with id/],
      [['logs', 'nope'], /no function named "nope"; defined: echo, fail, ticker/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(db, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
  });

  describe.each(BACKENDS)('logs --follow on $name', (backend) => {
    it.skipIf(backend.skip)('follows a command run until it finishes, then exits 0', async () => {
      const db = backend.freshUrl();
      const s = await server(db);
      const file = join(tempDir(), 'go');
      const invoked = await cli(db, 'invoke', 'ticker', '--input', JSON.stringify({ file }));
      expect(invoked.code).toBe(0);
      const id = runId(invoked.stdout);

      const follow = spawnCli(['logs', id, '--follow', '--config', CONFIG, '--db', db]);
      await vi.waitFor(() => expect(follow.stdout()).toContain('tick one'), {
        timeout: 20_000,
        interval: 20,
      });
      expect(follow.stdout()).not.toContain('tick two');
      writeFileSync(file, '');
      expect(await follow.exited).toBe(0);
      expect(follow.stderr()).toBe('');
      const lines = follow.stdout().trimEnd().split('\n');
      const format = (msg: string) =>
        new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+Z (INFO|WARN) \\[${id} #1\\] ${msg}`);
      expect(lines.find((l) => l.includes('tick one'))).toMatch(format('tick one'));
      expect(lines.find((l) => l.includes('tick two'))).toMatch(format('tick two'));

      // The function's lines, without following, include the run's.
      const byFunction = await cli(db, 'logs', 'ticker', '--since', '1h');
      expect(byFunction.code).toBe(0);
      expect(byFunction.stdout).toContain(`[${id} #1] tick two`);

      // Following a function goes on until Ctrl-C, then exits 0.
      const tail = spawnCli(['logs', 'ticker', '--follow', '--config', CONFIG, '--db', db]);
      await vi.waitFor(() => expect(tail.stdout()).toContain('tick two'), { timeout: 20_000, interval: 20 });
      tail.child.kill('SIGINT');
      expect(await tail.exited).toBe(0);
      expect(tail.stderr()).toBe('');

      s.child.kill('SIGTERM');
      expect((await s.exited).code).toBe(0);
    });
  });
});
