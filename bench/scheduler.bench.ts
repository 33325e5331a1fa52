// npm run bench:scheduler — the scheduler of issue 6, on SQLite and PostgreSQL, in one run.
//   L  Lateness: 100,000 active schedules stored (hourly and daily crons at random minutes, so
//      ~870 of them fire at every minute boundary, as real crontabs cluster at :00), plus one
//      `* * * * * *` schedule whose handler records handler start − tick. A real app (RealClock)
//      runs a worker and a scheduler in this process. croner runs the same `* * * * * *` in the
//      same process alongside (its callback start − the second boundary), and alone first.
//   B  Bulk upsert: 1,000,000 tasks due over the next year, through the client
//      (`ms.tasks.upsertMany`, which checks every task) and the store (`store.scheduler.upsertTasks`).
//   F  Flat curves: with 1,000 / 10,000 / 100,000 / 1,000,000 pending tasks (all due later), a
//      fresh process (run with --expose-gc) opens the store and measures an idle scheduler pass
//      (`fireDue` + `nextDueAt`, nothing due), a pass that fires 100 due tasks, and its memory.
// Checks: the schedules are counted in the store; every fired pass fired exactly its 100 tasks;
// measured ticks are counted for gaps and duplicates. No assertions on time.
// Options: --only sqlite|postgres|croner|lateness|bulk|flat (comma-separated; backends and parts
//          combine: --only sqlite,flat)   --ticks N (measured ticks per backend, default 120)
//          --croner-ticks N (croner alone, default 60)   --schedules N (default 100000)   --tasks N (bulk size, default 1000000)
//          --sizes a,b,c (flat sizes, default 1000,10000,100000,1000000)   --passes N (idle passes, default 300)

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Cron } from 'croner';
import pg from 'pg';
import { createMainspring, type Mainspring } from '../src/app.ts';
import { defineFunction, type FunctionContext } from '../src/runtime/function.ts';
import { Scheduler } from '../src/scheduler/scheduler.ts';
import type { NewTask } from '../src/store/schedule-row.ts';
import { backgroundRows } from './lib/schedules.ts';
import { fmt, machine, option, summary } from './lib/stats.ts';

const PG = process.env['MAINSPRING_BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const args = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();

// Deterministic choices (minutes, hours, due times): runs are comparable.
let seed = 6;
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
}

const work = defineFunction({ name: 'work', handler: () => null });

// ---------------------------------------------------------------------------------------------
// F, child side: a fresh process opens the store, measures passes, reports JSON on stdout.

interface FlatResult {
  pending: number;
  idle: { p50: number; p99: number; max: number };
  nextDue: { p50: number; p99: number };
  fire: { p50: number; max: number; perTaskUs: number };
  rssMiB: number;
  heapMiB: number;
  rssBeforeMiB: number;
  heapBeforeMiB: number;
}

async function flatChild(url: string, passes: number, expect: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the flat child needs --expose-gc');
  const ms = await createMainspring({ db: url, functions: [work] });
  const functions = new Map(ms.functions.map((f) => [f.name, f]));
  const scheduler = new Scheduler({ store: ms.store, clock: ms.clock, functions });
  const pending = await ms.store.scheduler.countPendingTasks();
  if (pending !== expect) throw new Error(`flat: ${pending} pending tasks stored, expected ${expect}`);
  gc();
  const before = process.memoryUsage();
  const pass = () => scheduler.fireDue({ nowMs: Date.now(), lookaheadMs: 1000 });
  for (let i = 0; i < 30; i++) {
    const fired = await pass();
    if (fired.length > 0)
      throw new Error(`flat: an idle pass fired ${fired.length}; the pending tasks must be due later`);
  }
  const idle: number[] = [];
  const nextDue: number[] = [];
  for (let i = 0; i < passes; i++) {
    let t = performance.now();
    await pass();
    idle.push((performance.now() - t) * 1000);
    t = performance.now();
    const next = await ms.store.scheduler.nextDueAt();
    nextDue.push((performance.now() - t) * 1000);
    if (next === null || next < Date.now() + 3_600_000 - 60_000)
      throw new Error(`flat: next due ${next} is not an hour away`);
  }
  // Passes that fire: 100 tasks due now each time (fresh ids), then the pass that takes them.
  const fire: number[] = [];
  for (let rep = 0; rep < 11; rep++) {
    const t0 = Date.now();
    const due: NewTask[] = Array.from({ length: 100 }, (_, k) => ({
      id: `due-${rep}-${k}`,
      action: 'work',
      payload: `{"k":${k}}`,
      dueMs: t0 - 10,
    }));
    await ms.store.scheduler.upsertTasks(due, t0);
    const t = performance.now();
    const fired = await pass();
    fire.push((performance.now() - t) * 1000);
    const ids = new Set(fired.filter((f) => f.kind === 'task' && f.runId !== null).map((f) => f.name));
    if (fired.length !== 100 || !due.every((d) => ids.has(d.id))) {
      throw new Error(`flat: a pass fired ${fired.length} of 100 due tasks (${ids.size} matched)`);
    }
  }
  const after = await ms.store.scheduler.countPendingTasks();
  if (after !== expect) throw new Error(`flat: ${after} pending after the passes, expected ${expect}`);
  gc();
  const mem = process.memoryUsage();
  await ms.close();
  const idleS = summary(idle);
  const nextS = summary(nextDue);
  const fireS = summary(fire);
  const result: FlatResult = {
    pending,
    idle: { p50: idleS.p50, p99: idleS.p99, max: idleS.max },
    nextDue: { p50: nextS.p50, p99: nextS.p99 },
    fire: { p50: fireS.p50, max: fireS.max, perTaskUs: fireS.p50 / 100 },
    rssMiB: mem.rss / 2 ** 20,
    heapMiB: mem.heapUsed / 2 ** 20,
    rssBeforeMiB: before.rss / 2 ** 20,
    heapBeforeMiB: before.heapUsed / 2 ** 20,
  };
  process.stdout.write(JSON.stringify(result));
}

const childAt = args.indexOf('--flat-child');
if (childAt >= 0) {
  await flatChild(args[childAt + 1]!, Number(args[childAt + 2]), Number(args[childAt + 3]));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------

const only = option('only')
  ?.split(',')
  .map((s) => s.toLowerCase());
const PARTS = ['croner', 'lateness', 'bulk', 'flat'];
const BACKENDS = ['sqlite', 'postgres'];
/** Whether `x` is on: --only names none of its group, or names it. */
const chosen = (group: readonly string[], x: string) => {
  const named = (only ?? []).filter((o) => group.includes(o));
  return named.length === 0 || named.includes(x);
};
const partOn = (p: string) => chosen(PARTS, p);
const backendOn = (b: string) => chosen(BACKENDS, b);
const TICKS = Number(option('ticks') ?? 120);
/** croner alone is a steady baseline: fewer ticks keep the run short. */
const CRONER_TICKS = Number(option('croner-ticks') ?? 60);
const SCHEDULES = Number(option('schedules') ?? 100_000);
const TASKS = Number(option('tasks') ?? 1_000_000);
const SIZES = (option('sizes') ?? '1000,10000,100000,1000000').split(',').map(Number);
const PASSES = Number(option('passes') ?? 300);
/** Ticks at the start of each lateness run left out: the first pass, JIT, the ticks owed from the insert. */
const WARMUP_TICKS = 5;

const dir = mkdtempSync(join(tmpdir(), 'mainspring-bench-scheduler-'));
const schemas: string[] = [];
let storeNo = 0;
interface Backend {
  readonly name: string;
  readonly key: string;
  /** A fresh store's URL. */
  fresh(): string;
}
const backends: Backend[] = [
  { name: 'SQLite', key: 'sqlite', fresh: () => `sqlite:${join(dir, `scheduler-${++storeNo}.db`)}` },
  {
    name: 'PostgreSQL',
    key: 'postgres',
    fresh: () => {
      const schema = `bench_scheduler_${++storeNo}`;
      schemas.push(schema);
      return `${PG}?schema=${schema}`;
    },
  },
].filter((b) => backendOn(b.key));

async function dropSchemas(): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await client.end();
}

type Lat = { n: number; p50: number; p95: number; p99: number; max: number };
const lat = (xs: readonly number[]): Lat => ({ n: xs.length, ...summary(xs) });

/** croner's `* * * * * *` callback start − the nearest second boundary, `n` ticks. */
function cronerTicks(n: number): {
  lateness: number[];
  seconds: number[];
  done: Promise<void>;
  stop: () => void;
} {
  const lateness: number[] = [];
  const seconds: number[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  const job = new Cron('* * * * * *', () => {
    const t = now();
    const second = Math.round(t / 1000) * 1000;
    lateness.push(t - second);
    seconds.push(second);
    if (lateness.length === n) resolve();
  });
  return { lateness, seconds, done, stop: () => job.stop() };
}

// ---------------------------------------------------------------------------------------------
// L: lateness with 100,000 schedules stored.

interface LatenessResult {
  backend: string;
  schedules: number;
  insertPerS: number;
  mainspring: Lat;
  /** Ticks at :00, when ~870 background schedules fire too. */
  atMinute: Lat;
  /** Ticks at :59, when the pass that takes :00's background ticks runs. */
  beforeMinute: Lat;
  otherSeconds: Lat;
  /** Fire transactions of ≥ 100 schedules (the minute's background ticks) and of fewer. */
  bigPasses: Lat & { schedules: number };
  smallPasses: Lat;
  croner: Lat;
  missed: number;
  duplicated: number;
  /** How long before its tick each measured run was created (the scheduler's pass). */
  firedAheadMs: Lat;
  firedAheadMinMs: number;
  /** Tick → the worker's run-start write begins (lease-ahead timer, dispatch). */
  toStartWrite: Lat;
  /** The run-start write (`store.runs.start`), awaited before the handler is called. */
  startWrite: Lat;
  /** That write's end → handler start. */
  afterWrite: Lat;
  backgroundRuns: number;
  loopDelay: { p50: number; p99: number; max: number };
}

async function lateness(b: Backend): Promise<LatenessResult> {
  const url = b.fresh();
  const samples = new Map<number, number>();
  const runIds = new Map<number, string>();
  let duplicated = 0;
  let backgroundRuns = 0;
  const measuring = { on: false };
  const tick = defineFunction({
    name: 'tick',
    handler: (_input: unknown, ctx: FunctionContext) => {
      const t = now();
      const trigger = ctx.run.trigger;
      if (trigger.kind !== 'schedule' || !measuring.on) return null;
      const tickMs = Date.parse(trigger.tickAt);
      if (samples.has(tickMs)) duplicated++;
      samples.set(tickMs, t - tickMs);
      runIds.set(tickMs, ctx.run.id);
      return null;
    },
  });
  const bg = defineFunction({
    name: 'work',
    handler: () => {
      backgroundRuns++;
      return null;
    },
  });
  const ms: Mainspring = await createMainspring({ db: url, functions: [tick, bg] });
  const rows = backgroundRows(SCHEDULES, Date.now(), 'work', random);
  const t = now();
  // 32 inserts in flight (one at a time on SQLite, where each is synchronous; the pool's 10 on PostgreSQL).
  for (let i = 0; i < rows.length; i += 32) {
    const ok = await Promise.all(rows.slice(i, i + 32).map((r) => ms.store.scheduler.insertSchedule(r)));
    if (ok.includes(false)) throw new Error(`${b.name}: a background schedule was not inserted`);
  }
  const insertPerS = rows.length / ((now() - t) / 1000);
  await ms.schedules.create({
    name: 'every-second',
    expression: '* * * * * *',
    target: { kind: 'function', function: 'tick' },
  });
  const stored = await ms.store.scheduler.countSchedules();
  if (stored !== SCHEDULES + 1)
    throw new Error(`${b.name}: ${stored} schedules stored, expected ${SCHEDULES + 1}`);
  console.error(`${b.name}: ${stored} schedules stored (${fmt(insertPerS)}/s through insertSchedule)`);

  const loop = monitorEventLoopDelay({ resolution: 1 });
  // Where the time goes, timed from outside (wrappers on this store instance; src is unchanged):
  // when the pass that took each measured tick committed, and the run-start write the
  // worker makes before it calls the handler.
  const committedAt = new Map<number, number>();
  const startWrite = new Map<string, { from: number; to: number }>();
  const sched = ms.store.scheduler;
  const fire = sched.fire.bind(sched);
  /** Each fire transaction while measuring: how long it took (ms) and how many schedules it fired. */
  const passes: { ms: number; schedules: number }[] = [];
  sched.fire = async (options, plan) => {
    const taken: number[] = [];
    const t0 = now();
    const outcome = await fire(options, (schedules, tasks) => {
      for (const d of schedules)
        if (d.row.name === 'every-second' && d.row.nextTickMs !== null) taken.push(d.row.nextTickMs);
      return plan(schedules, tasks);
    });
    const t = now();
    if (measuring.on) passes.push({ ms: t - t0, schedules: outcome.schedules });
    for (const k of taken) committedAt.set(k, t);
    return outcome;
  };
  const runs = ms.store.runs;
  const startRun = runs.start.bind(runs);
  runs.start = async (ids, owner, nowMs) => {
    const from = now();
    const rows = await startRun(ids, owner, nowMs);
    const to = now();
    for (const id of ids) startWrite.set(id, { from, to });
    return rows;
  };
  const worker = await ms.startWorker();
  const scheduler = await ms.startScheduler();
  const cron = cronerTicks(Number.POSITIVE_INFINITY);
  // Warm-up: the first ticks pay for the first pass, JIT and whatever came due during the insert.
  await sleep(WARMUP_TICKS * 1000);
  const firstTick = Math.ceil(Date.now() / 1000) * 1000 + 1000;
  loop.enable();
  measuring.on = true;
  const deadline = firstTick + TICKS * 1000;
  while (Date.now() < deadline + 1500) await sleep(250);
  measuring.on = false;
  loop.disable();
  const cronerLate = cron.lateness.filter(
    (_, i) => cron.seconds[i]! >= firstTick && cron.seconds[i]! < deadline,
  );
  cron.stop();
  await scheduler.stop();
  await worker.stop({ graceMs: 5000 });

  const ticks = [...samples.keys()].filter((k) => k >= firstTick && k < deadline).sort((a, b) => a - b);
  const missed = TICKS - ticks.length;
  const all = ticks.map((k) => samples.get(k)!);
  const atMinute = ticks.filter((k) => k % 60_000 === 0).map((k) => samples.get(k)!);
  // The pass taking :00's background ticks runs a lookahead (1 s) early: at the :59 tick.
  const beforeMinute = ticks.filter((k) => k % 60_000 === 59_000).map((k) => samples.get(k)!);
  const other = ticks.filter((k) => k % 60_000 !== 0 && k % 60_000 !== 59_000).map((k) => samples.get(k)!);
  const big = passes.filter((p) => p.schedules >= 100);
  const small = passes.filter((p) => p.schedules < 100);
  const ahead: number[] = [];
  const toStart: number[] = [];
  const write: number[] = [];
  const afterWrite: number[] = [];
  for (const k of ticks) {
    const c = committedAt.get(k);
    if (c !== undefined) ahead.push(k - c);
    const w = startWrite.get(runIds.get(k)!);
    if (w) {
      toStart.push(w.from - k);
      write.push(w.to - w.from);
      afterWrite.push(samples.get(k)! - (w.to - k));
    }
  }
  await ms.close();
  const ns = (x: number) => x / 1e6;
  return {
    backend: b.name,
    schedules: stored,
    insertPerS,
    mainspring: lat(all),
    atMinute: lat(atMinute),
    beforeMinute: lat(beforeMinute),
    bigPasses: { ...lat(big.map((p) => p.ms)), schedules: big.reduce((n, p) => n + p.schedules, 0) },
    smallPasses: lat(small.map((p) => p.ms)),
    otherSeconds: lat(other),
    croner: lat(cronerLate),
    missed,
    duplicated,
    firedAheadMs: lat(ahead),
    firedAheadMinMs: Math.min(...ahead),
    toStartWrite: lat(toStart),
    startWrite: lat(write),
    afterWrite: lat(afterWrite),
    backgroundRuns,
    loopDelay: { p50: ns(loop.percentile(50)), p99: ns(loop.percentile(99)), max: ns(loop.max) },
  };
}

// ---------------------------------------------------------------------------------------------
// B: bulk upsert of 1,000,000 tasks.

const YEAR = 365 * 86_400_000;
const CHUNK = 50_000;

/** Task i: due at a random instant between an hour and a year from `base`. */
function dueOf(base: number): number {
  return base + 3_600_000 + Math.floor(random() * (YEAR - 3_600_000));
}

interface BulkResult {
  backend: string;
  api: string;
  perS: number;
  /** The rate over the first and the last tenth of the tasks: how it changes as the table grows. */
  firstTenthPerS: number;
  lastTenthPerS: number;
}

async function bulk(b: Backend, api: 'client' | 'store'): Promise<BulkResult> {
  const ms = await createMainspring({ db: b.fresh(), functions: [work] });
  const base = Date.now();
  const t = now();
  const tenth = Math.max(CHUNK, Math.floor(TASKS / 10 / CHUNK) * CHUNK);
  let firstTenthPerS = Number.NaN;
  let lastFrom = { i: 0, t };
  for (let i = 0; i < TASKS; i += CHUNK) {
    if (i === tenth) firstTenthPerS = i / ((now() - t) / 1000);
    if (i === TASKS - tenth) lastFrom = { i, t: now() };
    const n = Math.min(CHUNK, TASKS - i);
    if (api === 'client') {
      // What a caller writes: ids, Date dues, an object payload (the client checks and serializes each).
      const tasks = Array.from({ length: n }, (_, k) => ({
        id: `task-${i + k}`,
        due: new Date(dueOf(base)),
        action: 'work',
        payload: { user: i + k },
      }));
      await ms.tasks.upsertMany(tasks);
    } else {
      const rows: NewTask[] = Array.from({ length: n }, (_, k) => ({
        id: `task-${i + k}`,
        action: 'work',
        payload: `{"user":${i + k}}`,
        dueMs: dueOf(base),
      }));
      await ms.store.scheduler.upsertTasks(rows, Date.now());
    }
  }
  const end = now();
  const perS = TASKS / ((end - t) / 1000);
  const lastTenthPerS = (TASKS - lastFrom.i) / ((end - lastFrom.t) / 1000);
  const stored = await ms.store.scheduler.countPendingTasks();
  await ms.close();
  if (stored !== TASKS)
    throw new Error(`${b.name} bulk ${api}: ${stored} pending tasks stored, expected ${TASKS}`);
  return { backend: b.name, api, perS, firstTenthPerS, lastTenthPerS };
}

// ---------------------------------------------------------------------------------------------
// F: idle-pass cost, 100-task pass cost and memory as pending tasks grow.

async function flat(b: Backend): Promise<FlatResult[]> {
  const url = b.fresh();
  const ms = await createMainspring({ db: url, functions: [work] });
  const base = Date.now();
  const self = fileURLToPath(import.meta.url);
  const out: FlatResult[] = [];
  let have = 0;
  for (const size of SIZES) {
    for (; have < size; ) {
      const n = Math.min(5000, size - have);
      const rows: NewTask[] = Array.from({ length: n }, (_, k) => ({
        id: `pending-${have + k}`,
        action: 'work',
        payload: `{"user":${have + k}}`,
        dueMs: dueOf(base),
      }));
      await ms.store.scheduler.upsertTasks(rows, Date.now());
      have += n;
    }
    const json = execFileSync(
      process.execPath,
      ['--expose-gc', self, '--flat-child', url, String(PASSES), String(size)],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
    );
    const r = JSON.parse(json) as FlatResult;
    console.error(
      `${b.name} flat ${size}: idle pass p50 ${fmt(r.idle.p50)} µs, 100-task pass p50 ${fmt(r.fire.p50 / 1000, 2)} ms, rss ${fmt(r.rssMiB)} MiB`,
    );
    out.push(r);
  }
  await ms.close();
  return out;
}

// ---------------------------------------------------------------------------------------------

console.log(`# scheduler benchmark — ${new Date().toISOString().slice(0, 16)}Z — ${machine()}`);
const results: Record<string, unknown> = {};

let cronerAlone: Lat | null = null;
if (partOn('croner')) {
  console.error(`croner alone: ${CRONER_TICKS} ticks…`);
  const c = cronerTicks(CRONER_TICKS + WARMUP_TICKS);
  await c.done;
  c.stop();
  cronerAlone = lat(c.lateness.slice(WARMUP_TICKS));
  results['cronerAlone'] = cronerAlone;
}

const lateResults: LatenessResult[] = [];
if (partOn('lateness')) {
  for (const b of backends) {
    console.error(`${b.name} lateness: ${SCHEDULES} schedules, ${TICKS} measured ticks…`);
    const r = await lateness(b);
    console.error(r);
    lateResults.push(r);
  }
  results['lateness'] = lateResults;
}

const bulkResults: BulkResult[] = [];
if (partOn('bulk')) {
  for (const b of backends) {
    for (const api of ['client', 'store'] as const) {
      console.error(`${b.name} bulk upsert of ${TASKS} tasks through the ${api}…`);
      const r = await bulk(b, api);
      console.error(
        `${b.name} bulk ${api}: ${fmt(r.perS)}/s (first tenth ${fmt(r.firstTenthPerS)}/s, last tenth ${fmt(r.lastTenthPerS)}/s)`,
      );
      bulkResults.push(r);
    }
  }
  results['bulk'] = bulkResults;
}

const flatResults: Record<string, FlatResult[]> = {};
if (partOn('flat')) {
  for (const b of backends) flatResults[b.name] = await flat(b);
  results['flat'] = flatResults;
}

await dropSchemas();
rmSync(dir, { recursive: true, force: true });

const ms2 = (x: number) => fmt(x, 2);
if (cronerAlone || lateResults.length > 0) {
  console.log(
    `\n## Lateness: handler start − tick, ms (\`* * * * * *\`, ${TICKS} ticks per backend, ${CRONER_TICKS} for croner alone, after ${WARMUP_TICKS} warm-up ticks)\n`,
  );
  console.log('| what | schedules stored | ticks | p50 | p95 | p99 | max |');
  console.log('|---|---|---|---|---|---|---|');
  const row = (what: string, stored: string, l: Lat) =>
    console.log(
      `| ${what} | ${stored} | ${l.n} | ${ms2(l.p50)} | ${ms2(l.p95)} | ${ms2(l.p99)} | ${ms2(l.max)} |`,
    );
  if (cronerAlone) row('croner 11, alone in the process', '—', cronerAlone);
  for (const r of lateResults) {
    row(`mainspring (${r.backend})`, fmt(r.schedules), r.mainspring);
    row('… ticks at :00 (~870 background ticks start too)', '', r.atMinute);
    row("… ticks at :59 (the pass firing :00's background ticks runs)", '', r.beforeMinute);
    row(`… other seconds`, '', r.otherSeconds);
    row(`croner, same process, same seconds (${r.backend} run)`, '—', r.croner);
  }
  if (lateResults.length > 0) {
    console.log("\nWhere the measured ticks' time goes, ms (p50 / p99 / max):\n");
    console.log(
      '| backend | pass committed, before the tick | tick → run-start write begins | run-start write | write done → handler | fire transactions of ≥ 100 schedules | of fewer |',
    );
    console.log('|---|---|---|---|---|---|---|');
    const three = (l: Lat) => `${ms2(l.p50)} / ${ms2(l.p99)} / ${ms2(l.max)}`;
    for (const r of lateResults) {
      console.log(
        `| ${r.backend} | ${ms2(r.firedAheadMs.p50)} (least ${ms2(r.firedAheadMinMs)}) | ${three(r.toStartWrite)} | ${three(r.startWrite)} | ${three(r.afterWrite)} | ${r.bigPasses.n} passes, ${r.bigPasses.schedules} schedules: ${three(r.bigPasses)} | ${three(r.smallPasses)} |`,
      );
    }
  }
  for (const r of lateResults) {
    console.log(
      `\n- ${r.backend}: ${fmt(r.insertPerS)} schedules/s inserted (insertSchedule); ${r.missed} measured ticks missing, ${r.duplicated} duplicated; ` +
        `${r.backgroundRuns} background runs handled; event-loop delay p50 ${ms2(r.loopDelay.p50)} / p99 ${ms2(r.loopDelay.p99)} / max ${ms2(r.loopDelay.max)} ms`,
    );
  }
}
if (bulkResults.length > 0) {
  console.log(
    `\n## Bulk upsert: ${fmt(TASKS)} tasks due over the next year, chunks of ${CHUNK}, no scheduler running\n`,
  );
  console.log('| backend | API | tasks/s | first tenth, tasks/s | last tenth, tasks/s |');
  console.log('|---|---|---|---|---|');
  for (const r of bulkResults) {
    const api =
      r.api === 'client'
        ? '`ms.tasks.upsertMany` (checks each task)'
        : `\`store.scheduler.upsertTasks\`, ${fmt(CHUNK)} a call`;
    console.log(
      `| ${r.backend} | ${api} | ${fmt(r.perS)} | ${fmt(r.firstTenthPerS)} | ${fmt(r.lastTenthPerS)} |`,
    );
  }
}
for (const [backend, rows] of Object.entries(flatResults)) {
  console.log(
    `\n## Flat curves, ${backend}: a fresh process (--expose-gc) per size opens the store; ${PASSES} idle passes, 11 passes firing 100 due tasks each\n`,
  );
  console.log(
    '| pending tasks | idle pass p50 / p99 µs | nextDueAt p50 / p99 µs | 100-task pass p50 / max ms | per fired task µs | RSS MiB after gc (before passes) | heapUsed MiB after gc (before) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${fmt(r.pending)} | ${fmt(r.idle.p50)} / ${fmt(r.idle.p99)} | ${fmt(r.nextDue.p50)} / ${fmt(r.nextDue.p99)} | ${ms2(r.fire.p50 / 1000)} / ${ms2(r.fire.max / 1000)} | ${fmt(r.fire.perTaskUs, 1)} | ${fmt(r.rssMiB, 1)} (${fmt(r.rssBeforeMiB, 1)}) | ${fmt(r.heapMiB, 1)} (${fmt(r.heapBeforeMiB, 1)}) |`,
    );
  }
}
console.log(`\n\`\`\`json\n${JSON.stringify(results)}\n\`\`\``);
process.exit(0);
