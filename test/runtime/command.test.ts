import { createHash } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/core/clock.ts';
import { isMainspringError, type MainspringError } from '../../src/core/errors.ts';
import {
  type CommandLine,
  type CommandOutcome,
  type CommandSpec,
  commandError,
  MAX_ENV_INPUT_BYTES,
  MAX_LINE_BYTES,
  REDACTED,
  type RunCommandOptions,
  runCommand,
  TRUNCATED_MARKER,
} from '../../src/runtime/command.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const clock = new RealClock();
const tmp = mkdtempSync(join(tmpdir(), 'mainspring-command-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function spec(fixture: string, args: string[] = [], over: Partial<CommandSpec> = {}): CommandSpec {
  return {
    argv: [process.execPath, join(fixtures, fixture), ...args],
    cwd: fixtures,
    env: {},
    secrets: {},
    ...over,
  };
}

interface Ran {
  outcome: CommandOutcome;
  lines: CommandLine[];
}

async function run(s: CommandSpec, over: Partial<RunCommandOptions> = {}): Promise<Ran> {
  const lines: CommandLine[] = [];
  const outcome = await runCommand(s, {
    input: null,
    signal: new AbortController().signal,
    killGraceMs: 5000,
    clock,
    onLine: (line) => lines.push(line),
    ...over,
  });
  return { outcome, lines };
}

async function rejection(promise: Promise<unknown>): Promise<MainspringError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isMainspringError(err)) throw new Error(`expected a MainspringError, got ${String(err)}`);
  return err;
}

const msgs = (lines: CommandLine[], stream: 'stdout' | 'stderr') =>
  lines.filter((l) => l.stream === stream).map((l) => l.msg);

describe('runCommand: exit', () => {
  it('resolves a clean exit', async () => {
    const { outcome } = await run(spec('exit.js', ['0']));
    expect(outcome).toMatchObject({ exitCode: 0, signal: null, killed: false, aborted: false });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('carries a non-zero exit code, and commandError describes it', async () => {
    const s: CommandSpec = { argv: ['node', 'exit.js', '3'], cwd: fixtures, env: {}, secrets: {} };
    const { outcome } = await run(s);
    expect(outcome).toMatchObject({ exitCode: 3, signal: null, killed: false, aborted: false });
    const err = commandError(s, outcome);
    expect(err.code).toBe('E_COMMAND_FAILED');
    expect(err.message).toBe('command "node exit.js 3" exited with code 3');
    expect(err.details).toEqual({ exitCode: 3, signal: null });
  });

  it('commandError names the signal and redacts secrets from the argv', () => {
    const s: CommandSpec = {
      argv: ['curl', '-H', 'Authorization: Bearer tok-12345'],
      cwd: '/',
      env: {},
      secrets: { TOKEN: 'tok-12345' },
    };
    const err = commandError(s, { exitCode: null, signal: 'SIGKILL', killed: true, aborted: true });
    expect(err.message).toMatch(
      /^command "curl -H "Authorization: Bearer \[REDACTED\]"" was killed by SIGKILL/,
    );
    expect(err.message).not.toContain('tok-12345');
    expect(err.details).toEqual({ exitCode: null, signal: 'SIGKILL' });
  });

  it('does not crash when the child exits without reading a large stdin', async () => {
    const input = { blob: 'x'.repeat(1024 * 1024) };
    const { outcome } = await run(spec('exit.js', ['0']), { input });
    expect(outcome.exitCode).toBe(0);
  });
});

describe('runCommand: output', () => {
  it('splits stdout and stderr into lines, in order per stream, keeping JSON lines structured', async () => {
    const { outcome, lines } = await run(spec('lines.js'));
    expect(outcome.exitCode).toBe(0);
    expect(msgs(lines, 'stdout')).toEqual([
      'plain one',
      'numeric warn',
      'named debug',
      'unknown level',
      '{"not json',
      'partial line',
      'next line',
      'é',
      'no newline at the end',
    ]);
    expect(msgs(lines, 'stderr')).toEqual(['problem one', 'python-ish warning', 'crlf line']);

    const byMsg = new Map(lines.map((l) => [l.msg, l]));
    expect(byMsg.get('plain one')).toMatchObject({ stream: 'stdout', level: 30, fields: null });
    expect(byMsg.get('problem one')).toMatchObject({ stream: 'stderr', level: 50, fields: null });
    expect(byMsg.get('numeric warn')).toMatchObject({ level: 40, fields: { jobId: 7 } });
    expect(byMsg.get('named debug')).toMatchObject({ level: 20, fields: { nested: { a: [1, 2] } } });
    expect(byMsg.get('python-ish warning')).toMatchObject({ stream: 'stderr', level: 40, fields: {} });
    // An unusable level keeps the stream's default and stays in fields.
    expect(byMsg.get('unknown level')).toMatchObject({ level: 30, fields: { level: 'loud' } });
    expect(byMsg.get('{"not json')).toMatchObject({ level: 30, fields: null });
    for (const line of lines) expect(typeof line.atMs).toBe('number');
  });

  it('rejects with the error of a throwing onLine once the process has ended', async () => {
    const boom = new Error('onLine failed');
    const seen: string[] = [];
    const err = await run(spec('lines.js'), {
      onLine(line) {
        seen.push(line.msg);
        throw boom;
      },
    }).catch((e: unknown) => e);
    expect(err).toBe(boom);
    expect(seen).toHaveLength(12);
  });

  it('cuts a line longer than 16 KiB, without leaking a secret that straddles the cut', async () => {
    const key = 'sk-live-0123456789';
    const { lines } = await run(spec('long-line.js', [], { secrets: { API_KEY: key } }));
    expect(lines.map((l) => l.msg.length)).toHaveLength(2);
    const [long, after] = lines;
    expect(long!.msg.endsWith(TRUNCATED_MARKER)).toBe(true);
    expect(long!.msg).not.toContain('sk-live');
    expect(long!.msg).toContain(REDACTED);
    expect(long!.msg.length).toBeLessThan(MAX_LINE_BYTES + 100);
    expect(after!.msg).toBe('after');
  });
});

describe('runCommand: input and environment', () => {
  it('passes the input on stdin and in MAINSPRING_INPUT', async () => {
    const input = { day: '2026-03-08', n: 3, tags: ['a', 'b'] };
    const { lines } = await run(spec('echo-input.js'), { input });
    const fields = lines[0]!.fields as { stdin: string; envInput: string };
    expect(JSON.parse(fields.stdin)).toEqual(input);
    expect(JSON.parse(fields.envInput)).toEqual(input);
  });

  it('passes undefined input as null', async () => {
    const { lines } = await run(spec('echo-input.js'), { input: undefined });
    expect(lines[0]!.fields).toEqual({ stdin: 'null', envInput: 'null' });
  });

  it('leaves a large input out of MAINSPRING_INPUT but still writes it to stdin', async () => {
    const input = { blob: 'y'.repeat(MAX_ENV_INPUT_BYTES) };
    const { outcome, lines } = await run(spec('echo-input.js', ['digest']), { input });
    expect(outcome.exitCode).toBe(0);
    expect(lines[0]!.fields).toEqual({
      stdin: createHash('sha256').update(JSON.stringify(input)).digest('hex'),
      envInput: null,
    });
  });

  it('gives the child its env, secrets and extra env, a small base of the parent env and nothing else', async () => {
    const unrelated = 'MAINSPRING_TEST_UNRELATED_PARENT_VAR';
    process.env[unrelated] = 'from-the-parent';
    try {
      const secret = 'super-secret-value';
      const { lines } = await run(
        spec('env.js', ['REGION', 'API_KEY', 'MAINSPRING_RUN_ID', unrelated], {
          env: { REGION: 'eu-west-1' },
          secrets: { API_KEY: secret },
        }),
        { extraEnv: { MAINSPRING_RUN_ID: 'run-1' } },
      );
      const { keys, sha } = lines[0]!.fields as { keys: string[]; sha: Record<string, string | null> };
      const hash = (v: string) => createHash('sha256').update(v).digest('hex');
      expect(sha).toEqual({
        REGION: hash('eu-west-1'),
        API_KEY: hash(secret),
        MAINSPRING_RUN_ID: hash('run-1'),
        [unrelated]: null,
      });
      expect(keys).not.toContain(unrelated);
      const allowed = new Set([
        'PATH',
        'HOME',
        'USER',
        'LANG',
        'LC_ALL',
        'TZ',
        'TMPDIR',
        'REGION',
        'API_KEY',
        'MAINSPRING_RUN_ID',
        'MAINSPRING_INPUT',
      ]);
      // Node itself may add a variable or two on some platforms; none comes from the parent.
      expect(keys.filter((k) => !allowed.has(k) && k in process.env)).toEqual([]);
      if (process.env['PATH'] !== undefined) expect(keys).toContain('PATH');
    } finally {
      delete process.env[unrelated];
    }
  });
});

describe('runCommand: secret redaction', () => {
  it('replaces secret values in plain and JSON lines, longer values first', async () => {
    const key = 'k3y-abcdef';
    const url = `postgres://app:${key}@db/app`;
    const { lines } = await run(
      spec('secret.js', [], { secrets: { API_KEY: key, DB_URL: url, SHORT: 'abc' } }),
    );
    expect(lines.map((l) => [l.stream, l.msg, l.fields])).toEqual([
      ['stdout', `connecting with key ${REDACTED} to ${REDACTED}`, null],
      ['stdout', `key=${REDACTED}`, { auth: { token: REDACTED }, url: REDACTED }],
      ['stderr', `failed: ${REDACTED}`, null],
    ]);
    expect(JSON.stringify(lines)).not.toContain('abcdef');
  });
});

describe('runCommand: abort', () => {
  // Aborts once the fixture says it is ready (its SIGTERM handler is installed).
  async function abortWhenReady(s: CommandSpec, killGraceMs: number): Promise<Ran & { signal: AbortSignal }> {
    const controller = new AbortController();
    const lines: CommandLine[] = [];
    const { outcome } = await run(s, {
      signal: controller.signal,
      killGraceMs,
      onLine(line) {
        lines.push(line);
        if (line.msg === 'ready') controller.abort();
      },
    });
    return { outcome, lines, signal: controller.signal };
  }

  it('sends SIGTERM; a well-behaved child exits and is not killed', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();
    const { outcome, lines, signal } = await abortWhenReady(spec('signals.js', ['graceful']), 30_000);
    expect(outcome).toMatchObject({ exitCode: 0, signal: null, killed: false, aborted: true });
    expect(lines.map((l) => l.msg)).toEqual(['ready', 'got SIGTERM, exiting']);
    // The 30 s kill-grace timer and the abort listener are gone once it resolved.
    expect(timers()).toBeLessThanOrEqual(timersBefore);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('sends SIGKILL after the grace period to a child that ignores SIGTERM', async () => {
    const s = spec('signals.js', ['stubborn']);
    const { outcome, lines } = await abortWhenReady(s, 300);
    expect(outcome).toMatchObject({ exitCode: null, signal: 'SIGKILL', killed: true, aborted: true });
    expect(lines.map((l) => l.msg)).toEqual(['ready', 'ignoring SIGTERM']);
    expect(commandError(s, outcome).message).toContain('was killed by SIGKILL');
  });

  it('leaves no abort listener behind after a run that was not aborted', async () => {
    const controller = new AbortController();
    await run(spec('exit.js', ['0']), { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('does not start a command whose signal has already fired', async () => {
    const { outcome, lines } = await run(spec('exit.js', ['0']), { signal: AbortSignal.abort() });
    expect(outcome).toMatchObject({ exitCode: null, signal: null, killed: false, aborted: true });
    expect(lines).toEqual([]);
  });

  it('does not wait forever for a grandchild that keeps stdout open', async () => {
    const { outcome, lines } = await run(spec('orphan.js'), { killGraceMs: 100 });
    const pid = (lines[0]!.fields as { grandchildPid: number }).grandchildPid;
    try {
      expect(outcome.exitCode).toBe(0);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });
});

describe('runCommand: cannot start', () => {
  it('rejects a missing executable with E_COMMAND_NOT_FOUND', async () => {
    const err = await rejection(
      run({ argv: ['no-such-program-xyz', '--flag'], cwd: tmp, env: {}, secrets: {} }),
    );
    expect(err.code).toBe('E_COMMAND_NOT_FOUND');
    expect(err.message).toContain('"no-such-program-xyz"');
    expect(err.message).toContain(tmp);
    expect(err.message).toMatch(/PATH/);
  });

  it('rejects a missing relative path with E_COMMAND_NOT_FOUND', async () => {
    const err = await rejection(run({ argv: ['./jobs/missing.sh'], cwd: tmp, env: {}, secrets: {} }));
    expect(err.code).toBe('E_COMMAND_NOT_FOUND');
    expect(err.message).toContain('relative paths resolve against the cwd');
  });

  it('rejects a file without an x bit with E_COMMAND_NOT_EXECUTABLE, even as root', async () => {
    const file = join(tmp, 'no-x-bit.js');
    writeFileSync(file, '#!/usr/bin/env node\nconsole.log("ran")\n');
    chmodSync(file, 0o644);
    expect(statSync(file).mode & 0o111).toBe(0);
    const err = await rejection(run({ argv: [file], cwd: tmp, env: {}, secrets: {} }));
    expect(err.code).toBe('E_COMMAND_NOT_EXECUTABLE');
    expect(err.message).toContain('chmod +x');
    expect((err.cause as NodeJS.ErrnoException).code).toBe('EACCES');
  });

  it('rejects a script whose #! interpreter is missing with E_COMMAND_NOT_EXECUTABLE', async () => {
    const file = join(tmp, 'bad-shebang.sh');
    writeFileSync(file, '#!/no/such/interpreter\necho ran\n');
    chmodSync(file, 0o755);
    const err = await rejection(run({ argv: [file], cwd: tmp, env: {}, secrets: {} }));
    expect(err.code).toBe('E_COMMAND_NOT_EXECUTABLE');
    expect(err.message).toContain('interpreter');
  });

  it('rejects a cwd that does not exist, naming it rather than the executable', async () => {
    const cwd = join(tmp, 'no-such-dir');
    const err = await rejection(run(spec('exit.js', ['0'], { cwd })));
    expect(err.code).toBe('E_COMMAND_NOT_FOUND');
    expect(err.message).toContain(`cwd "${cwd}" does not exist`);
  });

  it('rejects a relative cwd and an empty argv as invalid definitions', async () => {
    expect((await rejection(run(spec('exit.js', [], { cwd: 'jobs' })))).code).toBe('E_FUNCTION_INVALID');
    expect((await rejection(run({ argv: [], cwd: tmp, env: {}, secrets: {} }))).code).toBe(
      'E_FUNCTION_INVALID',
    );
  });
});
