// Exactly-once under crashes: one worker and several `mainspring scheduler` processes
// share a PostgreSQL store; a function `beat` is scheduled every second and its handler
// writes a row per run to `beats`. Every `killEveryMs` one scheduler is SIGKILLed (in
// turn, at a random phase of the second, sometimes right where a tick is claimed) and
// replaced at once. Afterwards every whole second of the steady window must have
// exactly one first-attempt run and exactly one beat. Used by
// test/e2e/scheduler-exactly-once.test.ts and bench/soak-scheduler.ts.

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openStore } from '../../src/store/open.ts';
import { parseStoreUrl } from '../../src/store/url.ts';
import { summary } from '../lib/stats.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const FIXTURE = fileURLToPath(
  new URL('../../test/e2e/fixtures/exactly-once/mainspring.config.ts', import.meta.url),
);
const NODE_ARGS = ['--conditions=mainspring-source', CLI];
/** Seconds at each end of the run left out of the check: start-up and shut-down. */
const MARGIN_MS = 5000;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export interface ExactlyOnceOptions {
  /** A PostgreSQL store URL; its schema (`?schema=`) should be fresh. */
  readonly url: string;
  /** How long the processes run once all are up. */
  readonly seconds: number;
  /** Scheduler processes at once (default 3). */
  readonly schedulers?: number;
  /** How often one scheduler is SIGKILLed and replaced (default 15 s). */
  readonly killEveryMs?: number;
  readonly log?: (line: string) => void;
}

export interface Kill {
  /** The scheduler's slot (0-based) and the process killed. */
  readonly slot: number;
  readonly pid: number;
  /** When, and how far into its second (ms). */
  readonly atMs: number;
  readonly phaseMs: number;
  /** The replacement's pid. */
  readonly replacement: number;
}

export interface ExactlyOnceResult {
  /** Whole seconds checked: [firstTick, lastTick]. */
  readonly ticks: number;
  readonly firstTick: string;
  readonly lastTick: string;
  /** Ticks (ISO) without a first-attempt run or without a beat. */
  readonly missing: string[];
  /** Ticks (ISO) with more than one first-attempt run or more than one beat. */
  readonly duplicated: string[];
  readonly kills: number;
  readonly killLog: readonly Kill[];
  /** First-attempt runs per tick → how many ticks had that many. */
  readonly runsPerTick: Record<string, number>;
  /** Beats per tick → how many ticks had that many. */
  readonly beatsPerTick: Record<string, number>;
  /** Handler start − tick (run started_at_ms − scheduled_for_ms), ms. */
  readonly lateness: { readonly p50: number; readonly p99: number; readonly max: number; readonly n: number };
  /** Processes that exited while they should have been running (other than the ones killed). */
  readonly unexpectedExits: readonly string[];
  readonly durationMs: number;
}

interface Proc {
  readonly role: 'worker' | 'scheduler';
  readonly name: string;
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines it wrote (stdout and stderr), for failure reports. */
  readonly tail: string[];
  killedByUs: boolean;
}

const TAIL = 40;
/** Every child any harness run started and has not seen exit: killed if this process exits. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** SIGKILLs every child still running (by pid). For test cleanup after a failure or a timeout. */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAllChildren);
}

function startProcess(role: Proc['role'], name: string, url: string): Proc {
  const args =
    role === 'worker'
      ? ['worker', '--no-scheduler', '--db', url, '-c', FIXTURE]
      : ['scheduler', '--db', url, '-c', FIXTURE];
  const env: NodeJS.ProcessEnv = { ...process.env, MAINSPRING_EO_DB: url };
  delete env['DATABASE_URL'];
  delete env['MAINSPRING_API_TOKEN'];
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > TAIL) tail.shift();
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.on('error', (err) => {
      keep(`spawn error: ${err.message}`);
      live.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  createInterface({ input: child.stderr! }).on('line', keep);
  const wanted = `mainspring ${role} running`;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`${name} did not log "${wanted}" within ${READY_TIMEOUT_MS} ms:\n${tail.join('\n')}`),
        ),
      READY_TIMEOUT_MS,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry['msg'] === wanted) {
          clearTimeout(timer);
          resolve();
        }
      } catch {}
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${signal ?? code}) before it was running:\n${tail.join('\n')}`));
    });
  });
  // Awaited later, maybe never (a replacement killed before it was up): no unhandled rejection.
  ready.catch(() => {});
  return { role, name, child, ready, exited, tail, killedByUs: false };
}

/** Resolves when `p` exits; SIGKILLs it after `ms`. */
async function waitExit(p: Proc, ms: number): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  await p.exited;
  clearTimeout(timer);
}

const iso = (ms: number) => new Date(ms).toISOString();

function histogram(counts: Iterable<number>): Record<string, number> {
  const h: Record<string, number> = {};
  for (const c of counts) h[String(c)] = (h[String(c)] ?? 0) + 1;
  return h;
}

/** Creates `beats` in the store's (migrated) schema. */
async function prepare(url: string): Promise<void> {
  const store = await openStore(url, { poolSize: 1 });
  await store.close();
  const db = await connect(url);
  try {
    await db.query(`CREATE TABLE IF NOT EXISTS beats (
      id bigserial PRIMARY KEY, tick_ms bigint NOT NULL, run_id text NOT NULL,
      attempt integer NOT NULL, pid integer NOT NULL, at_ms bigint NOT NULL)`);
  } finally {
    await db.end();
  }
}

async function connect(url: string): Promise<pg.Client> {
  const target = parseStoreUrl(url);
  if (target.backend !== 'postgres') throw new Error(`the exactly-once harness needs PostgreSQL, not ${url}`);
  const db = new pg.Client({
    connectionString: target.connectionString,
    options: `-c search_path=${target.schema}`,
  });
  await db.connect();
  return db;
}

export async function runExactlyOnce(options: ExactlyOnceOptions): Promise<ExactlyOnceResult> {
  const { url, seconds } = options;
  const nSchedulers = options.schedulers ?? 3;
  const killEveryMs = options.killEveryMs ?? 15_000;
  const log = options.log ?? (() => {});
  installExitHook();
  await prepare(url);

  const procs: Proc[] = [];
  const slots: Proc[] = [];
  const kills: Kill[] = [];
  let serial = 0;
  let stopping = false;
  const start = (role: Proc['role']) => {
    const p = startProcess(role, `${role}#${serial++}`, url);
    procs.push(p);
    return p;
  };
  try {
    const worker = start('worker');
    for (let i = 0; i < nSchedulers; i++) slots.push(start('scheduler'));
    await Promise.all(procs.map((p) => p.ready));
    const t0 = Date.now();
    const endAt = t0 + seconds * 1000;
    log(
      `all up at ${iso(t0)}: worker pid ${worker.child.pid}, schedulers ${slots.map((s) => s.child.pid).join(', ')}`,
    );

    for (let k = 1; ; k++) {
      const killAt = t0 + k * killEveryMs;
      if (killAt >= endAt) break;
      await sleep(killAt - Date.now());
      // Half of the kills land in the first 40 ms of a second, where the next tick is
      // claimed (1 s of lookahead); the others anywhere in the second.
      const phase = Math.random() < 0.5 ? Math.floor(Math.random() * 40) : Math.floor(Math.random() * 1000);
      const at = Math.ceil(Date.now() / 1000) * 1000 + phase;
      if (at >= endAt) break;
      await sleep(at - Date.now());
      const slot = (k - 1) % nSchedulers;
      const victim = slots[slot]!;
      victim.killedByUs = true;
      victim.child.kill('SIGKILL');
      const killedAt = Date.now();
      const replacement = start('scheduler');
      slots[slot] = replacement;
      kills.push({
        slot,
        pid: victim.child.pid ?? -1,
        atMs: killedAt,
        phaseMs: killedAt % 1000,
        replacement: replacement.child.pid ?? -1,
      });
      log(
        `kill ${kills.length}: ${victim.name} (pid ${victim.child.pid}) at ${iso(killedAt)}; started ${replacement.name} (pid ${replacement.child.pid})`,
      );
      void replacement.ready.then(
        () => log(`${replacement.name} running`),
        (err: Error) => {
          if (!stopping) log(`${replacement.name} did not start: ${err.message}`);
        },
      );
    }
    await sleep(Math.max(0, endAt - Date.now()));
    const tEnd = Date.now();

    const unexpectedExits = procs
      .filter((p) => !p.killedByUs && (p.child.exitCode !== null || p.child.signalCode !== null))
      .map(
        (p) =>
          `${p.name} (pid ${p.child.pid}) exited ${p.child.signalCode ?? p.child.exitCode}:\n${p.tail.join('\n')}`,
      );

    // Schedulers first, so no tick is claimed while the worker drains.
    const schedulersAlive = procs.filter((p) => p.role === 'scheduler' && !p.killedByUs);
    stopping = true;
    const stopAt = Date.now();
    const stopped = async (p: Proc) => {
      await waitExit(p, STOP_TIMEOUT_MS);
      log(
        `${p.name} exited (${p.child.signalCode ?? p.child.exitCode}) ${Date.now() - stopAt} ms after SIGTERM`,
      );
    };
    for (const p of schedulersAlive) p.child.kill('SIGTERM');
    await Promise.all(schedulersAlive.map(stopped));
    worker.child.kill('SIGTERM');
    await stopped(worker);

    const result = await check(url, t0, tEnd, kills, unexpectedExits);
    return result;
  } finally {
    for (const p of procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    }
    await Promise.all(procs.map((p) => p.exited));
  }
}

async function check(
  url: string,
  t0: number,
  tEnd: number,
  kills: Kill[],
  unexpectedExits: string[],
): Promise<ExactlyOnceResult> {
  const first = Math.ceil((t0 + MARGIN_MS) / 1000) * 1000;
  const last = Math.floor((tEnd - MARGIN_MS) / 1000) * 1000;
  const db = await connect(url);
  let runs: {
    trigger: string;
    attempt: number;
    scheduled_for_ms: number | null;
    started_at_ms: number | null;
  }[];
  let beats: { tick_ms: string }[];
  try {
    runs = (
      await db.query(
        `SELECT trigger, attempt, scheduled_for_ms::float8 AS scheduled_for_ms, started_at_ms::float8 AS started_at_ms
           FROM runs WHERE function_name = 'beat' AND trigger_kind = 'schedule'`,
      )
    ).rows;
    beats = (await db.query('SELECT tick_ms::text AS tick_ms FROM beats')).rows;
  } finally {
    await db.end();
  }
  const runCount = new Map<number, number>();
  const beatCount = new Map<number, number>();
  const late: number[] = [];
  for (const r of runs) {
    const trigger = JSON.parse(r.trigger) as { kind: string; schedule: string; tickAt: string };
    if (trigger.kind !== 'schedule' || trigger.schedule !== 'beat' || r.attempt !== 1) continue;
    const tick = Date.parse(trigger.tickAt);
    if (tick < first || tick > last) continue;
    runCount.set(tick, (runCount.get(tick) ?? 0) + 1);
    if (r.started_at_ms !== null && r.scheduled_for_ms !== null)
      late.push(r.started_at_ms - r.scheduled_for_ms);
  }
  for (const b of beats) {
    const tick = Number(b.tick_ms);
    if (tick < first || tick > last) continue;
    beatCount.set(tick, (beatCount.get(tick) ?? 0) + 1);
  }
  const missing: string[] = [];
  const duplicated: string[] = [];
  const perTickRuns: number[] = [];
  const perTickBeats: number[] = [];
  for (let t = first; t <= last; t += 1000) {
    const r = runCount.get(t) ?? 0;
    const b = beatCount.get(t) ?? 0;
    perTickRuns.push(r);
    perTickBeats.push(b);
    if (r === 0 || b === 0) missing.push(`${iso(t)} (runs ${r}, beats ${b})`);
    if (r > 1 || b > 1) duplicated.push(`${iso(t)} (runs ${r}, beats ${b})`);
  }
  const s = summary(late);
  return {
    ticks: perTickRuns.length,
    firstTick: iso(first),
    lastTick: iso(last),
    missing,
    duplicated,
    kills: kills.length,
    killLog: kills,
    runsPerTick: histogram(perTickRuns),
    beatsPerTick: histogram(perTickBeats),
    lateness: { p50: s.p50, p99: s.p99, max: s.max, n: late.length },
    unexpectedExits,
    durationMs: tEnd - t0,
  };
}
