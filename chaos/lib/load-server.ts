// The load scenario's server: a real `mainspring start` child process with one queue, and a
// sampler of its resident memory read from /proc (the figure an operator's OOM killer uses).

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const REPO = join(import.meta.dirname, '..', '..');

export const LOAD_QUEUE = 'load';

export interface LoadServer {
  readonly pid: number;
  readonly url: string;
  /** SIGTERM, then waits for the exit; the temp folder goes with it. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the server wrote to stderr, and its last log lines (for a failure's message). */
  output(): string;
}

/** Starts `mainspring start` on `db` with the queue `load`, extra flags and environment. */
export async function startLoadServer(
  db: string,
  flags: readonly string[] = [],
  env: Readonly<Record<string, string>> = {},
): Promise<LoadServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mainspring-load-'));
  const config = join(dir, 'mainspring.config.mts');
  // The sources by path: the temp folder has no node_modules to resolve 'mainspringjs' from.
  writeFileSync(
    config,
    `import { defineConfig, defineQueue } from ${JSON.stringify(join(REPO, 'src', 'index.ts'))};\n` +
      `export default defineConfig({ queues: [defineQueue({ name: '${LOAD_QUEUE}' })] });\n`,
  );
  const childEnv: NodeJS.ProcessEnv = { ...process.env, MAINSPRING_LOG_FORMAT: 'json', ...env };
  for (const k of ['DATABASE_URL', 'MAINSPRING_API_TOKEN', 'MAINSPRING_TIME_SCALE', 'MAINSPRING_PORT'])
    delete childEnv[k];
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=mainspring-source', CLI, 'start', '--port', '0', '--db', db, '--config', config, ...flags],
    { cwd: REPO, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  const lastLines: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mainspring start did not listen within 30 s; stderr: ${stderr}`));
    }, 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lastLines.push(line);
      if (lastLines.length > 5) lastLines.shift();
      let entry: { msg?: unknown; url?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (typeof entry.url === 'string' && String(entry.msg).startsWith('mainspring listening')) {
        clearTimeout(timer);
        resolve(entry.url);
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`mainspring start exited with ${code} before listening; stderr: ${stderr}`));
    });
  }).catch((err: unknown) => {
    cleanup();
    throw err;
  });
  return {
    pid: child.pid!,
    url,
    output: () => `${stderr.slice(-1000)}${lastLines.join('\n')}`,
    async stop() {
      child.kill('SIGTERM');
      const result = await exited;
      cleanup();
      return result;
    },
  };
}

/** Resident set size of a process in bytes (VmRSS), or 0 once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak seen. */
export function sampleRss(pid: number, everyMs = 50): { stop(): number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssBytes(pid));
    },
  };
}
