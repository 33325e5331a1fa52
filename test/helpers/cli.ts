// Runs the real `mainspring` command as a child process (Node 24 running the
// TypeScript sources), for end-to-end tests.

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
export const NODE_ARGS = ['--conditions=mainspring-source', CLI];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  // Tests read the log as JSON lines, whatever format the developer's shell asks for.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: undefined,
    MAINSPRING_API_TOKEN: undefined,
    MAINSPRING_LOG_FORMAT: undefined,
  };
  for (const [k, v] of Object.entries(extra)) env[k] = v;
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env;
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
      cwd: options.cwd ?? REPO,
      env: childEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface RunningServer {
  child: ChildProcess;
  url: string;
  lines: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `mainspring start …` and resolves once it logs that it is listening. */
const servers = new Set<ChildProcess>();

// A test that fails before stopping its server must not leave the process running.
afterEach(() => {
  for (const child of servers)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  servers.clear();
});

export function startServer(args: string[], options: RunOptions = {}): Promise<RunningServer> {
  const child = spawn(process.execPath, [...NODE_ARGS, 'start', '--port', '0', ...args], {
    cwd: options.cwd ?? REPO,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  servers.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  const lines: Record<string, unknown>[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${options.timeoutMs ?? 20_000} ms; stderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      lines.push(entry);
      if (typeof entry['url'] === 'string' && String(entry['msg']).startsWith('mainspring listening')) {
        clearTimeout(timer);
        resolve({ child, url: entry['url'], lines, stderr: () => stderr, exited });
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening; stderr: ${stderr}`));
    });
  });
}

export interface RunningWorker {
  child: ChildProcess;
  /** The signal it ended by (null: it exited by itself). */
  exited: Promise<NodeJS.Signals | null>;
  stderr: () => string;
}

/** Starts `mainspring worker --db <url> …` in `cwd`; killed after the test if still running. */
export function startWorker(url: string, args: string[] = [], options: RunOptions = {}): RunningWorker {
  const child = spawn(process.execPath, [...NODE_ARGS, 'worker', '--db', url, ...args], {
    cwd: options.cwd ?? REPO,
    env: childEnv(options.env),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  servers.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('close', (_code, signal) => r(signal)));
  return { child, exited, stderr: () => stderr };
}
