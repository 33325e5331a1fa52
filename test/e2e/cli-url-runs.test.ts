// The CLI as a client of a running server (issue 16): `invoke`, `runs list|get|cancel` and
// `logs` with --url and a token speak only HTTP — run from a folder with no config and no
// store — and print what the same commands print against the store itself. A wrong token
// or an unreachable server is one line on stderr and exit 1.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { BACKENDS, tempDir } from '../helpers/backends.ts';
import { runCli, startServer } from '../helpers/cli.ts';

const CONFIG = fileURLToPath(new URL('./fixtures/runs/mainspring.config.ts', import.meta.url));
const TOKEN = 'cli-url-token';

describe.each(BACKENDS)('the CLI with --url on $name', (backend) => {
  it.skipIf(backend.skip)('invokes, lists, gets, follows logs and cancels over HTTP only', async () => {
    const db = backend.freshUrl();
    const s = await startServer(['--config', CONFIG, '--db', db], {
      env: { MAINSPRING_API_TOKEN: TOKEN, MAINSPRING_TIME_SCALE: undefined },
    });
    // No config, no store here: whatever the command needs comes from the server.
    const cwd = tempDir();
    const remote = (...args: string[]) =>
      runCli([...args, '--url', s.url, '--token', TOKEN], {
        cwd,
        env: { DATABASE_URL: 'sqlite:./not-here.db' },
      });
    const local = (...args: string[]) => runCli([...args, '--config', CONFIG, '--db', db]);

    const ok = await remote('invoke', 'echo', '--input', '{"k":1}', '--wait', '--timeout', '20s');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const [, id] = /^(\S+) queued\n\1 succeeded\n\{"k":1\}\n$/.exec(ok.stdout) ?? [];
    expect(id, ok.stdout).toBeDefined();

    const failed = await remote('invoke', 'fail', '--wait');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/failed: Error: fail always fails/);

    // The ticker command logs "tick one", then waits for a file before "tick two".
    const file = join(tempDir(), 'go');
    const ticker = await remote('invoke', 'ticker', '--input', JSON.stringify({ file }));
    const tickerId = /^(\S+) queued$/m.exec(ticker.stdout)![1]!;
    await vi.waitFor(async () => expect((await remote('logs', tickerId)).stdout).toContain('tick one'), {
      timeout: 20_000,
      interval: 100,
    });
    writeFileSync(file, '');
    const followed = await remote('logs', tickerId, '--follow');
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(new RegExp(`\\[${tickerId} #1\\] tick two`));
    const byFunction = await remote('logs', 'ticker', '--since', '1h');
    expect(byFunction.stdout).toContain('tick one');
    expect(byFunction.stdout).toContain('tick two');

    // Every read prints what the same command prints against the store itself.
    for (const args of [
      ['runs', 'list'],
      ['runs', 'list', '--function', 'echo', '--json'],
      ['runs', 'get', id!],
      ['runs', 'get', id!, '--json'],
      ['logs', tickerId],
      ['logs', 'ticker', '--since', '1h'],
    ]) {
      const [r, l] = [await remote(...args), await local(...args)];
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout, args.join(' ')).toBe(l.stdout);
    }

    const cancel = await remote('runs', 'cancel', id!);
    expect(cancel.stdout).toBe(`${id} already succeeded; nothing to cancel\n`);

    const missing = await remote('runs', 'get', 'nope-1');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^mainspring: no run with id "nope-1".*\[E_RUN_NOT_FOUND\]\n$/);

    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });
});

describe('the CLI with --url, refused', () => {
  it('a wrong token, a missing token, an unreachable server and a bad URL are one line each', async () => {
    const s = await startServer(['--config', CONFIG, '--db', BACKENDS[0]!.freshUrl()], {
      env: { MAINSPRING_API_TOKEN: TOKEN },
    });
    const cwd = tempDir();
    const wrong = await runCli(['runs', 'list', '--url', s.url, '--token', 'nope'], { cwd });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toBe('mainspring: the API token is wrong [E_UNAUTHORIZED]\n');

    // MAINSPRING_URL and MAINSPRING_API_TOKEN stand in for the flags.
    const none = await runCli(['queues', 'list'], { cwd, env: { MAINSPRING_URL: s.url } });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^mainspring: this server requires an API token.*\[E_UNAUTHORIZED\]\n$/);
    const byEnv = await runCli(['runs', 'list'], {
      cwd,
      env: { MAINSPRING_URL: s.url, MAINSPRING_API_TOKEN: TOKEN },
    });
    expect(byEnv.code).toBe(0);
    expect(byEnv.stdout).toBe('no runs\n');

    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);

    const gone = await runCli(['runs', 'list', '--url', s.url], { cwd });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(
      /^mainspring: cannot reach the mainspring server at .*ECONNREFUSED.*\[E_API_UNREACHABLE\]\n$/,
    );

    const bad = await runCli(['runs', 'list', '--url', 'localhost:7400'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^mainspring: --url is "localhost:7400"; give the server's address/);
  });
});
