// Child processes for chaos scenarios: the real `mainspring` CLI or a script of ours, run by
// Node on the TypeScript sources, with their output read line by line; SIGKILL as chaos,
// SIGTERM as an operator's stop; scratch folders (outside the repo) and PostgreSQL schemas
// on the shared server, cleaned up afterwards. Every child still running when this process
// exits is SIGKILLed, so a scenario that throws leaves nothing behind.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { parseStoreUrl } from '../../src/store/url.ts';

export const REPO = join(import.meta.dirname, '..', '..');
export const CLI = join(REPO, 'src', 'cli', 'main.ts');
/** Node's flags for running our TypeScript sources. */
export const NODE_FLAGS = ['--conditions=mainspring-source'];
export const PG_URL = process.env['MAINSPRING_CHAOS_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A file URL for `src/<path>`, for configs written outside the repo to import from. */
export const srcUrl = (path: string): string => pathToFileURL(join(REPO, 'src', path)).href;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
/** A uniformly random number in [min, max). */
export const between = (min: number, max: number): number => min + Math.random() * (max - min);

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startedAtMs: number;
  readonly exited: Promise<Exit>;
  /** Set once it exited. */
  exit: Exit | null;
  /** Set before we signal it, so its exit counts as ours. */
  killedByUs: boolean;
  /** The last lines it wrote (stdout and stderr), for failure reports. */
  readonly tail: string[];
  /** Calls `fn` with every stdout line from now on. */
  onLine(fn: (line: string) => void): void;
  /** Resolves with the first stdout line (from now on) `match` accepts; rejects on exit or timeout. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
}

export interface SpawnOptions {
  /** For logs and failure reports. */
  readonly name: string;
  readonly cwd?: string;
  /** Added to the environment; `undefined` removes a variable. */
  readonly env?: Record<string, string | undefined>;
  /** Lines of output kept in `tail` (default 40). */
  readonly tailLines?: number;
}

const live = new Set<ChildProcess>();
let hooked = false;

/** SIGKILLs every child started here that is still running. */
export function killAllChildren(): void {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  // A developer's shell must not point a child at another store or change its log format.
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['DATABASE_URL', 'MAINSPRING_API_TOKEN', 'MAINSPRING_TIME_SCALE']) delete env[k];
  env['MAINSPRING_LOG_FORMAT'] = 'json';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs `node --conditions=mainspring-source <script> …args`. */
export function spawnNode(script: string, args: readonly string[], options: SpawnOptions): Proc {
  if (!hooked) {
    hooked = true;
    process.on('exit', killAllChildren);
  }
  const child = spawn(process.execPath, [...NODE_FLAGS, script, ...args], {
    cwd: options.cwd ?? REPO,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const keep = options.tailLines ?? 40;
  const tail: string[] = [];
  const remember = (line: string) => {
    tail.push(line);
    if (tail.length > keep) tail.shift();
  };
  const listeners = new Set<(line: string) => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    remember(line);
    for (const fn of listeners) fn(line);
  });
  createInterface({ input: child.stderr! }).on('line', remember);
  const proc: Proc = {
    name: options.name,
    child,
    pid: child.pid ?? -1,
    startedAtMs: Date.now(),
    exit: null,
    killedByUs: false,
    tail,
    exited: new Promise<Exit>((resolve) => {
      child.on('close', (code, signal) => {
        live.delete(child);
        proc.exit = { code, signal };
        resolve(proc.exit);
      });
      child.on('error', (err) => {
        remember(`spawn error: ${err.message}`);
        live.delete(child);
        proc.exit = { code: null, signal: null };
        resolve(proc.exit);
      });
    }),
    onLine(fn) {
      listeners.add(fn);
    },
    waitForLine(match, timeoutMs) {
      return new Promise<string>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        const check = (line: string) => {
          if (!match(line)) return;
          done();
          resolve(line);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${proc.name} wrote no awaited line within ${timeoutMs} ms:\n${tail.join('\n')}`));
        }, timeoutMs);
        listeners.add(check);
        void proc.exited.then((e) => {
          done();
          reject(new Error(`${proc.name} exited (${e.signal ?? e.code}):\n${tail.join('\n')}`));
        });
      });
    },
  };
  return proc;
}

/** Runs the `mainspring` command: `node --conditions=mainspring-source src/cli/main.ts …args`. */
export function spawnCli(args: readonly string[], options: SpawnOptions): Proc {
  return spawnNode(CLI, args, options);
}

/** Parses a JSON log line; undefined for anything else. */
export function logEntry(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** A stdout line matcher for a JSON log entry whose `msg` is `msg`. */
export const logged =
  (msg: string) =>
  (line: string): boolean =>
    logEntry(line)?.['msg'] === msg;

/** SIGKILLs `p` (as chaos, not a failure) and resolves once it is gone. */
export async function sigkill(p: Proc): Promise<Exit> {
  p.killedByUs = true;
  if (p.exit === null) p.child.kill('SIGKILL');
  return p.exited;
}

/** SIGTERMs `p`, as an operator would; SIGKILLs it after `graceMs`. Resolves with its exit. */
export async function stop(p: Proc, graceMs = 30_000): Promise<Exit> {
  p.killedByUs = true;
  if (p.exit !== null) return p.exit;
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  p.child.kill('SIGTERM');
  const exit = await p.exited;
  clearTimeout(timer);
  return exit;
}

/** Describes an exit we did not cause, with the last lines the process wrote. */
export function describeExit(p: Proc): string {
  return `${p.name} (pid ${p.pid}) exited (${p.exit?.signal ?? p.exit?.code}):\n  ${p.tail.slice(-15).join('\n  ')}`;
}

/** A fresh folder under the OS temp folder (never in the repo). */
export function scratchDir(prefix: string): { readonly path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `mainspring-chaos-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Writes `mainspring.config.ts` into `dir` and returns its path. */
export function writeConfig(dir: string, source: string): string {
  const file = join(dir, 'mainspring.config.ts');
  writeFileSync(file, source);
  return file;
}

/** A fresh schema on the shared PostgreSQL server (never restarted here), dropped by `drop()`. */
export function scratchPgSchema(prefix: string): { readonly url: string; drop(): Promise<void> } {
  const schema = `chaos_${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const url = new URL(PG_URL);
  url.searchParams.set('schema', schema);
  return {
    url: url.href,
    async drop() {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A client on `url`'s database with the search path set to its `?schema=`. */
export async function pgClient(url: string): Promise<pg.Client> {
  const target = parseStoreUrl(url);
  if (target.backend !== 'postgres') throw new Error(`${url} is not a PostgreSQL store URL`);
  const client = new pg.Client({
    connectionString: target.connectionString,
    options: `-c search_path=${target.schema}`,
  });
  await client.connect();
  return client;
}
