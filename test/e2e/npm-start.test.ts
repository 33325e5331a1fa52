// `npm start` and `npm run mainspring -- start` as people run them. SIGTERM sent
// to the npm process must stop the mainspring server too: npm passes the signal
// only to its own child, the `sh -c` running the script, so unless the script
// execs node the shell dies and the server lives on under init. And Ctrl-C, which
// then reaches the server twice (from the terminal and from npm), is one stop.

import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/backends.ts';
import { REPO } from '../helpers/cli.ts';

const HOLD_CONFIG = fileURLToPath(new URL('./fixtures/ctrl-c/mainspring.config.ts', import.meta.url));

type Line = Record<string, unknown>;
type Exit = { code: number | null; signal: NodeJS.Signals | null };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// What a failing test leaves running is killed here, each by its own pid.
const spawned = new Set<ChildProcess>();
const servers = new Set<number>();
afterEach(() => {
  for (const child of spawned)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const pid of servers) if (alive(pid)) process.kill(pid, 'SIGKILL');
  spawned.clear();
  servers.clear();
});

interface NpmRun {
  npm: ChildProcess;
  lines: Line[];
  /** Resolves with the first line `match` accepts; rejects if npm exits first. */
  line(match: (l: Line) => boolean): Promise<Line>;
  exited: Promise<Exit>;
  /** The pipe ends only once npm, the shell and the server have all let go of it. */
  stdoutEnded: Promise<void>;
  server: { pid: number; url: string };
}

async function runNpm(args: string[], options: { detached?: boolean } = {}): Promise<NpmRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, MAINSPRING_PORT: '0' };
  delete env['DATABASE_URL'];
  delete env['MAINSPRING_API_TOKEN'];
  delete env['MAINSPRING_LOG_FORMAT'];
  const db = `sqlite:${join(tempDir(), 'app.db')}`;
  const npm = spawn('npm', [...args, '--db', db], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  spawned.add(npm);
  let stderr = '';
  npm.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  const exited = new Promise<Exit>((resolve) => npm.on('exit', (code, signal) => resolve({ code, signal })));
  const stdoutEnded = new Promise<void>((resolve) => npm.stdout!.on('close', () => resolve()));
  const lines: Line[] = [];
  const waiting = new Set<{ match: (l: Line) => boolean; resolve: (l: Line) => void }>();
  createInterface({ input: npm.stdout! }).on('line', (text) => {
    if (!text.startsWith('{')) return; // npm's own "> mainspring@… start" banner
    const entry = JSON.parse(text) as Line;
    lines.push(entry);
    for (const w of waiting)
      if (w.match(entry)) {
        waiting.delete(w);
        w.resolve(entry);
      }
  });
  const line = (match: (l: Line) => boolean): Promise<Line> => {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      waiting.add({ match, resolve });
      void exited.then((e) =>
        reject(new Error(`npm exited (${JSON.stringify(e)}) first; stderr: ${stderr}`)),
      );
    });
  };
  const listening = await line((l) => String(l['msg']).startsWith('mainspring listening'));
  const server = { pid: listening['pid'] as number, url: listening['url'] as string };
  servers.add(server.pid);
  expect(server.pid).not.toBe(npm.pid);
  return { npm, lines, line, exited, stdoutEnded, server };
}

async function expectServerGone(run: NpmRun): Promise<void> {
  // Not a sleep: the failure this guards against is a server that never lets go of the pipe.
  let deadline: NodeJS.Timeout | undefined;
  await Promise.race([
    run.stdoutEnded,
    new Promise<void>((resolve) => {
      deadline = setTimeout(resolve, 15_000);
    }),
  ]);
  clearTimeout(deadline);
  expect(alive(run.server.pid)).toBe(false);
  expect(run.lines.map((l) => l['msg'])).toContain('stopped');
  await expect(fetch(`${run.server.url}/healthz`)).rejects.toThrow();
}

describe('SIGTERM to npm', () => {
  it('`npm start` stops the server and exits 0', async () => {
    const run = await runNpm(['start', '--']);
    run.npm.kill('SIGTERM');
    const exit = await run.exited;
    await expectServerGone(run);
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it('`npm run mainspring -- start` stops the server and exits 0', async () => {
    const run = await runNpm(['run', 'mainspring', '--', 'start']);
    run.npm.kill('SIGTERM');
    const exit = await run.exited;
    await expectServerGone(run);
    expect(exit).toEqual({ code: 0, signal: null });
  });
});

describe('Ctrl-C on `npm start`', () => {
  it('is one stop: work in flight finishes although the server gets SIGINT twice', async () => {
    // Its own process group, which SIGINT is sent to as a terminal sends it on Ctrl-C.
    const run = await runNpm(['start', '--', '--config', HOLD_CONFIG], { detached: true });
    const release = join(tempDir(), 'release');
    const invoked = await fetch(`${run.server.url}/v1/functions/hold/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: { file: release } }),
    });
    expect(invoked.status).toBe(202);
    await run.line((l) => l['msg'] === 'holding');

    process.kill(-run.npm.pid!, 'SIGINT');
    await run.line((l) => l['msg'] === 'stopping: no new work is taken; waiting for work in flight');
    // npm's copy of the signal may have reached the server before its first was handled, and
    // merged with it; one more through npm, as npm passes it on, is a repeat for certain.
    run.npm.kill('SIGINT');
    await run.line((l) => l['signal'] === 'SIGINT' && String(l['msg']).startsWith('SIGINT again'));
    writeFileSync(release, '');

    expect(await run.exited).toEqual({ code: 0, signal: null });
    await expectServerGone(run);
  });
});
