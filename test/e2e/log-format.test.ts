// The log of `mainspring start` is for people on a terminal (coloured lines from
// pino-pretty) and JSON lines when piped; --log-format and MAINSPRING_LOG_FORMAT
// choose either way, and a bad value is one line naming the choices.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/backends.ts';
import { NODE_ARGS, runCli, startServer } from '../helpers/cli.ts';

const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0;
const PTY_SKIP = HAS_SCRIPT
  ? undefined
  : 'util-linux `script` is not installed, so there is no terminal to try';
if (PTY_SKIP) console.warn(`[mainspring tests] skipping the terminal log test: ${PTY_SKIP}`);

// pino-pretty's line: local time, level, message.
const HUMAN_LISTENING = /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: mainspring listening on http:\/\/127\.0\.0\.1:\d+ /;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal's colour codes are the point
const ANSI = /\u001b\[[0-9;]*m/g;

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
});

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of [
    'DATABASE_URL',
    'MAINSPRING_API_TOKEN',
    'MAINSPRING_LOG_FORMAT',
    'FORCE_COLOR',
    'NO_COLOR',
  ])
    if (!(k in extra)) delete e[k];
  return e;
}

/** Spawns `command`, collects its stdout lines until one matches, then SIGTERMs it and waits. */
async function linesUntil(
  command: string,
  args: string[],
  childEnv: NodeJS.ProcessEnv,
  done: (line: string) => boolean,
): Promise<{ lines: string[]; exit: { code: number | null; signal: NodeJS.Signals | null } }> {
  const child = spawn(command, args, { cwd: tempDir(), env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (raw) => {
      const line = raw.replace(/\r$/, '');
      lines.push(line);
      if (done(line.replace(ANSI, ''))) resolve();
    });
    void exited.then((e) => reject(new Error(`exited (${JSON.stringify(e)}) first; stderr: ${stderr}`)));
  });
  child.kill('SIGTERM');
  return { lines, exit: await exited };
}

const START = [...NODE_ARGS, 'start', '--port', '0', '--db', 'sqlite::memory:'];

describe('the log format of mainspring start', () => {
  it('--log-format pretty writes lines for people, not JSON, even piped', async () => {
    const { lines, exit } = await linesUntil(
      process.execPath,
      [...START, '--log-format', 'pretty'],
      env(),
      (l) => HUMAN_LISTENING.test(l),
    );
    expect(lines.find((l) => HUMAN_LISTENING.test(l))).toMatch(
      / \{"url":"http:\/\/127\.0\.0\.1:\d+","auth":"none"/,
    );
    for (const line of lines) expect(() => JSON.parse(line), line).toThrow();
    // No colour codes into a pipe unless asked for.
    expect(lines.join('\n')).not.toMatch(ANSI);
    expect(exit.code).toBe(0);
  });

  it.skipIf(PTY_SKIP !== undefined)('on a terminal writes coloured lines for people by default', async () => {
    // `script` runs the command on a pseudo-terminal and copies what it prints to our pipe.
    const command = ['exec', process.execPath, ...START].map((a) => `'${a}'`).join(' ');
    const { lines } = await linesUntil(
      'script',
      ['-qfec', command, '/dev/null'],
      env({ TERM: 'xterm' }),
      (l) => HUMAN_LISTENING.test(l),
    );
    const listening = lines.find((l) => HUMAN_LISTENING.test(l.replace(ANSI, '')));
    expect(listening).toMatch(ANSI);
    for (const line of lines) expect(() => JSON.parse(line), line).toThrow();
  });

  it('piped, by default, writes one JSON object a line', async () => {
    const server = await startServer(['--db', 'sqlite::memory:'], { cwd: tempDir() });
    server.child.kill('SIGTERM');
    await server.exited;
    expect(server.lines.map((l) => l['msg'])).toContain('stopped');
  });

  it('MAINSPRING_LOG_FORMAT chooses when no flag does; the flag wins', async () => {
    const fromEnv = await linesUntil(process.execPath, START, env({ MAINSPRING_LOG_FORMAT: 'pretty' }), (l) =>
      HUMAN_LISTENING.test(l),
    );
    expect(fromEnv.exit.code).toBe(0);
    const server = await startServer(['--db', 'sqlite::memory:', '--log-format', 'json'], {
      cwd: tempDir(),
      env: { MAINSPRING_LOG_FORMAT: 'pretty' },
    });
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });

  it('refuses a format it does not know, naming the choices', async () => {
    const flag = await runCli(['start', '--db', 'sqlite::memory:', '--log-format', 'xml'], {
      cwd: tempDir(),
    });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe(
      'mainspring: --log-format is "xml"; use pretty (lines for people) or json (one JSON object a line) [E_CONFIG_INVALID]\n',
    );
    const fromEnv = await runCli(['worker', '--db', 'sqlite::memory:'], {
      cwd: tempDir(),
      env: { MAINSPRING_LOG_FORMAT: 'yaml' },
    });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toMatch(
      /^mainspring: MAINSPRING_LOG_FORMAT is "yaml"; use pretty .* \[E_CONFIG_INVALID\]\n$/,
    );
  });
});
