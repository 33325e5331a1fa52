// npm run bench:workflow — durable workflows (issue 24), on SQLite and PostgreSQL, in one run.
//   S  Step overhead: one execution of 1,000 sequential no-op `ctx.step`s (after a 100-step
//      warm-up execution), each step timed in the handler (await ctx.step → resolved).
//   M  Memory: 10, then 10,000 executions are started and parked in `ctx.waitUntil` (by a
//      worker in this process, stopped once all wait); then one fresh worker in a child process
//      (node --expose-gc) runs beside them for 5 s: its RSS and heap after gc. Both children
//      run the same script in the same state; only the count of waiting executions differs.
//   L  Lateness: the child's worker then wakes them: their waits end at due times spread evenly
//      over 20 s; the first statement after the wait is a step that records Date.now() − due.
//   T  Throughput on PostgreSQL: 2,000 executions of a 3-step no-op workflow started as fast
//      as the client goes (50 starts in flight), until all have completed (a count of the
//      finished rows, polled every 10 ms); mainspring against DBOS Transact, same server.
// Every part accounts for every execution: each step ran exactly once, every execution
// succeeded, or the run fails. Real clock, default engine settings.
// Options: --only step,memory,throughput,sqlite,postgres (parts and backends combine)
//          --n N (waiting executions, default 10000)   --tp N (throughput executions, default 2000)
//          --lead S (seconds from the first start to the first due time, default 40)
//          --spread S (seconds over which the due times spread, default 20)
//          --pool N (mainspring's pool size; default unset: the app's default, 10)
// BENCH_STORE_TIMES=1 in the environment: the measured worker prints its store calls' counts and mean times.

import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createMainspring, type Mainspring } from '../src/app.ts';
import { defineWorkflow } from '../src/workflow/define.ts';
import { fmt, machine, option, summary } from './lib/stats.ts';

const PG = process.env['MAINSPRING_BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const DBOS_DB = 'dbos_bench';
const args = process.argv.slice(2);
/** --pool N: mainspring's PostgreSQL pool size (default: unset, the app's default of 10). */
const poolOption = option('pool') === undefined ? {} : { poolSize: Number(option('pool')) };

// ---------------------------------------------------------------------------------------------
// The workflows.

/** S: `steps` no-op steps, each timed; the times go to `stepTimes` (first run only). */
let stepTimes: number[] = [];
const steps = defineWorkflow({
  name: 'bench-steps',
  handler: async (input: { steps: number }, ctx) => {
    for (let k = 0; k < input.steps; k++) {
      const t = performance.now();
      await ctx.step(`s-${k}`, () => null);
      if (ctx.execution.replay === 1) stepTimes.push(performance.now() - t);
    }
  },
});

/** M and L: wait until `dueAt`, then record the wake-up. */
const woke: [number, number][] = [];
const waiting = defineWorkflow({
  name: 'bench-wait',
  handler: async (input: { i: number; dueAt: number }, ctx) => {
    await ctx.waitUntil(input.dueAt, 'due');
    await ctx.step('woke', () => {
      woke.push([input.i, Date.now() - input.dueAt]);
      return null;
    });
  },
});

/** T: three no-op steps; `stepRuns` counts each step's runs per execution. */
let stepRuns = new Uint32Array(0);
const threeSteps = defineWorkflow({
  name: 'bench-three',
  handler: async (input: { i: number }, ctx) => {
    for (const s of ['one', 'two', 'three']) {
      await ctx.step(s, () => {
        stepRuns[input.i]!++;
        return null;
      });
    }
  },
});

// ---------------------------------------------------------------------------------------------
// Stores.

interface Backend {
  readonly name: string;
  /** Its name in --only. */
  readonly key: string;
  /** A fresh store URL (an empty schema or SQLite file) for `part`. */
  fresh(part: string): Promise<string>;
  /** Executions by status. */
  counts(url: string): Promise<Record<string, number>>;
}

async function pgQuery<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'mainspring-wfbench-'));
const sqlite: Backend = {
  name: 'SQLite',
  key: 'sqlite',
  async fresh(part) {
    return `sqlite:${join(dir, `${part}.db`)}`;
  },
  async counts(url) {
    const db = new DatabaseSync(url.slice('sqlite:'.length), { readOnly: true });
    try {
      const rows = db
        .prepare('SELECT status, count(*) AS n FROM workflow_executions GROUP BY status')
        .all() as { status: string; n: number }[];
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    } finally {
      db.close();
    }
  },
};
const schemaOf = (url: string) => new URL(url).searchParams.get('schema') ?? 'public';
const postgres: Backend = {
  name: 'PostgreSQL',
  key: 'postgres',
  async fresh(part) {
    // A fresh schema each run: one reused across runs carries their dead rows.
    const schema = `bench_wf_${part}`;
    await pgQuery(PG, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    return `${PG}?schema=${schema}`;
  },
  async counts(url) {
    const rows = await pgQuery<{ status: string; n: number }>(
      PG,
      `SELECT status, count(*)::int AS n FROM ${schemaOf(url)}.workflow_executions GROUP BY status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  },
};

function expectAll(what: string, counts: Record<string, number>, n: number): void {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total !== n || counts['succeeded'] !== n)
    throw new Error(`${what}: expected ${n} succeeded executions, found ${JSON.stringify(counts)}`);
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn(i)` for i in 0..n-1, `inFlight` at a time. */
async function startAll(n: number, inFlight: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// S: step overhead.

async function stepOverhead(b: Backend) {
  const url = await b.fresh('steps');
  const ms = await createMainspring({ db: url, workflows: [steps], ...poolOption });
  const worker = await ms.startWorker();
  const run = async (n: number, id: string) => {
    stepTimes = [];
    await ms.workflows.start(steps, { steps: n }, { id });
    const e = await within(ms.workflows.wait(id, { pollMs: 20 }), 120_000, `${b.name} steps`);
    if (e.status !== 'succeeded' || stepTimes.length !== n)
      throw new Error(`${b.name} steps: ${e.status}, ${stepTimes.length} of ${n} steps timed`);
    return [...stepTimes];
  };
  await run(100, 'warm-up');
  const t = performance.now();
  const times = await run(1000, 'measured');
  const wall = performance.now() - t;
  await worker.stop({ graceMs: 1000 });
  await ms.close();
  return { ...summary(times), mean: times.reduce((a, x) => a + x, 0) / times.length, wallMs: wall };
}

// ---------------------------------------------------------------------------------------------
// M and L: the parent starts the executions and parks them in their waits with a worker of
// its own, which then stops; a fresh child process runs the one worker measured.

type ChildMessage =
  | { type: 'waiting'; rss: number; heapUsed: number }
  | { type: 'done'; woke: [number, number][]; rss: number; heapUsed: number };

const mem = () => {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
};

const MEASURE_AFTER_MS = 5000;

/** BENCH_STORE_TIMES=1: counts and times the workflow store's calls (where a wake-up's time goes). */
function timeStoreCalls(ms: Mainspring) {
  const store = ms.store.workflows as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const stats: Record<string, { calls: number; totalMs: number }> = {};
  for (const name of ['claim', 'ops', 'checkpoint', 'nextDueAt', 'renew']) {
    const original = store[name]!.bind(store);
    const s = { calls: 0, totalMs: 0 };
    stats[name] = s;
    store[name] = async (...a: unknown[]) => {
      const t = performance.now();
      try {
        return await original(...a);
      } finally {
        s.calls++;
        s.totalMs += performance.now() - t;
      }
    };
  }
  return () =>
    Object.fromEntries(
      Object.entries(stats).map(([k, v]) => [
        k,
        { calls: v.calls, meanMs: +(v.totalMs / v.calls).toFixed(2) },
      ]),
    );
}

async function child(url: string, n: number): Promise<void> {
  const send = (m: ChildMessage) => process.send!(m);
  const ms = await createMainspring({ db: url, workflows: [waiting], ...poolOption });
  const times = process.env['BENCH_STORE_TIMES'] ? timeStoreCalls(ms) : null;
  const worker = await ms.startWorker();
  // The worker idles beside its n waiting executions (it looks for due ones every poll).
  await sleep(MEASURE_AFTER_MS);
  send({ type: 'waiting', ...mem() });
  while (woke.length < n) await sleep(100);
  const countWaiting = async () =>
    (await ms.store.workflows.countWaiting()).reduce((a, c) => a + c.waiting, 0);
  while ((await countWaiting()) > 0) await sleep(100);
  const after = mem();
  // Sessions still finishing end within the grace period; the parent counts the rows after.
  await worker.stop({ graceMs: 10_000 });
  await ms.close();
  if (times) console.error(`store calls of the worker, n=${n}:`, times());
  send({ type: 'done', woke, ...after });
  process.disconnect();
}

async function waitingRun(b: Backend, n: number, leadMs: number, spreadMs: number) {
  const url = await b.fresh(`wait_${n}`);
  const client = await createMainspring({ db: url, workflows: [waiting] });
  let proc: ReturnType<typeof fork> | undefined;
  try {
    // Park them: start all, due from firstDue on, with a worker in this process.
    const parker = await client.startWorker();
    const t0 = Date.now();
    const firstDue = t0 + leadMs;
    const t = performance.now();
    await startAll(n, 50, (i) =>
      client.workflows.start(
        waiting,
        { i, dueAt: Math.round(firstDue + (spreadMs * i) / n) },
        { id: `w-${i}` },
      ),
    );
    const startMs = performance.now() - t;
    const countWaiting = async () =>
      (await client.store.workflows.countWaiting()).reduce((a, c) => a + c.waiting, 0);
    while ((await countWaiting()) < n) await sleep(50);
    const parkedAfterMs = Date.now() - t0;
    await parker.stop({ graceMs: 10_000 });

    proc = fork(
      fileURLToPath(import.meta.url),
      ['--child', url, String(n), ...(option('pool') ? ['--pool', option('pool')!] : [])],
      {
        execArgv: ['--expose-gc'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const inbox: ChildMessage[] = [];
    let notify: (() => void) | null = null;
    proc.on('message', (m: ChildMessage) => {
      inbox.push(m);
      notify?.();
    });
    const exited = new Promise<void>((resolve) => proc!.on('exit', () => resolve()));
    const next = async <T extends ChildMessage['type']>(type: T, ms: number) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = inbox.shift();
        if (m !== undefined) {
          if (m.type !== type) throw new Error(`${b.name} n=${n}: child sent ${m.type}, expected ${type}`);
          return m as Extract<ChildMessage, { type: T }>;
        }
        if (proc!.exitCode !== null) throw new Error(`${b.name} n=${n}: the child exited before ${type}`);
        if (Date.now() > deadline) throw new Error(`${b.name} n=${n}: no ${type} from the child in ${ms} ms`);
        await Promise.race([new Promise<void>((r) => (notify = r)), sleep(200), exited]);
      }
    };
    const parked = await next('waiting', 60_000);
    if (Date.now() > firstDue)
      throw new Error(
        `${b.name} n=${n}: the first wait was due before the worker had been measured (parked after ${parkedAfterMs} ms); raise --lead`,
      );
    const done = await next('done', leadMs + spreadMs + 300_000);
    await exited;
    const seen = new Uint32Array(n);
    for (const [i] of done.woke) seen[i]!++;
    const bad = seen.filter((c) => c !== 1).length;
    if (bad > 0 || done.woke.length !== n)
      throw new Error(`${b.name} n=${n}: ${bad} executions did not wake exactly once`);
    expectAll(`${b.name} n=${n}`, await b.counts(url), n);
    return {
      n,
      startPerSec: n / (startMs / 1000),
      parkedAfterMs,
      rssWaitingMiB: parked.rss / 2 ** 20,
      heapWaitingMiB: parked.heapUsed / 2 ** 20,
      rssAfterWakeMiB: done.rss / 2 ** 20,
      lateness: summary(done.woke.map(([, late]) => late)),
    };
  } finally {
    if (proc && proc.exitCode === null) proc.kill();
    await client.close();
  }
}

// ---------------------------------------------------------------------------------------------
// T: throughput, mainspring against DBOS Transact.

/** Polls `count()` every 10 ms until it reaches `n`; returns the time of that moment. */
async function until(count: () => Promise<number>, n: number, what: string): Promise<number> {
  const deadline = performance.now() + 600_000;
  for (;;) {
    if ((await count()) >= n) return performance.now();
    if (performance.now() > deadline) throw new Error(`${what}: not all completed within 10 min`);
    await sleep(10);
  }
}

function checkSteps(what: string, n: number): void {
  const bad = stepRuns.filter((c) => c !== 3).length;
  if (bad > 0) throw new Error(`${what}: ${bad} of ${n} executions did not run each of their 3 steps once`);
}

const WARM = 200;

/** Executions/s, start calls/s, and this process's CPU time per execution (user + system). */
function throughputOf(n: number, t: number, startedAt: number, end: number, cpu: NodeJS.CpuUsage) {
  return {
    perSec: n / ((end - t) / 1000),
    startPerSec: n / ((startedAt - t) / 1000),
    wallMs: end - t,
    cpuMsPerExecution: (cpu.user + cpu.system) / 1000 / n,
  };
}

async function mainspringThroughput(n: number) {
  const url = await postgres.fresh('tp');
  const schema = schemaOf(url);
  stepRuns = new Uint32Array(WARM + n);
  const ms: Mainspring = await createMainspring({ db: url, workflows: [threeSteps], ...poolOption });
  const times = process.env['BENCH_STORE_TIMES'] ? timeStoreCalls(ms) : null;
  const worker = await ms.startWorker();
  const counter = new pg.Client({ connectionString: PG });
  await counter.connect();
  const finished = async () =>
    (
      await counter.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${schema}.workflow_executions WHERE status = 'succeeded'`,
      )
    ).rows[0]!.n;
  try {
    // Warm-up: the same path for WARM executions, not measured.
    await startAll(WARM, 50, (i) => ms.workflows.start(threeSteps, { i }, { id: `warm-${i}` }));
    await until(finished, WARM, 'mainspring warm-up');
    const t = performance.now();
    const cpu = process.cpuUsage();
    await startAll(n, 50, (k) => ms.workflows.start(threeSteps, { i: WARM + k }, { id: `x-${k}` }));
    const startedAt = performance.now();
    const end = await until(finished, WARM + n, 'mainspring');
    const used = process.cpuUsage(cpu);
    await worker.stop({ graceMs: 5000 });
    if (times) console.error('store calls of the throughput worker (with the warm-up):', times());
    checkSteps('mainspring', WARM + n);
    expectAll('mainspring throughput', await postgres.counts(url), WARM + n);
    return throughputOf(n, t, startedAt, end, used);
  } finally {
    await counter.end();
    await ms.close();
  }
}

async function dbosThroughput(n: number) {
  const { DBOS } = await import('@dbos-inc/dbos-sdk');
  // DBOS creates its system database itself; drop last run's first.
  await pgQuery(PG, `DROP DATABASE IF EXISTS ${DBOS_DB} WITH (FORCE)`);
  const sysUrl = new URL(PG);
  sysUrl.pathname = `/${DBOS_DB}`;
  stepRuns = new Uint32Array(WARM + n);
  const step = (i: number) => async () => {
    stepRuns[i]!++;
    return null;
  };
  const wf = DBOS.registerWorkflow(
    async (i: number) => {
      await DBOS.runStep(step(i), { name: 'one' });
      await DBOS.runStep(step(i), { name: 'two' });
      await DBOS.runStep(step(i), { name: 'three' });
    },
    { name: 'bench-three' },
  );
  DBOS.setConfig({ name: 'mainspring-bench', systemDatabaseUrl: sysUrl.toString(), logLevel: 'error' });
  await DBOS.launch();
  const counter = new pg.Client({ connectionString: sysUrl.toString() });
  await counter.connect();
  const finished = async () =>
    (
      await counter.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM dbos.workflow_status WHERE status = 'SUCCESS'`,
      )
    ).rows[0]!.n;
  try {
    // Results are read once all have completed: getResult polls the database while it waits,
    // which would load DBOS with work mainspring's side (a count) does not do.
    const handles: { getResult(): Promise<unknown> }[] = [];
    const start = (i: number, id: string) =>
      DBOS.startWorkflow(wf, { workflowID: id })(i).then((h) => {
        handles.push(h);
      });
    await startAll(WARM, 50, (i) => start(i, `warm-${i}`));
    await until(finished, WARM, 'DBOS warm-up');
    const t = performance.now();
    const cpu = process.cpuUsage();
    await startAll(n, 50, (k) => start(WARM + k, `x-${k}`));
    const startedAt = performance.now();
    const end = await until(finished, WARM + n, 'DBOS');
    const used = process.cpuUsage(cpu);
    await within(Promise.all(handles.map((h) => h.getResult())), 60_000, 'DBOS results');
    checkSteps('DBOS', WARM + n);
    const rows = await counter.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM dbos.workflow_status GROUP BY status',
    );
    const counts = Object.fromEntries(rows.rows.map((r) => [r.status, r.n]));
    if (counts['SUCCESS'] !== WARM + n || rows.rows.length !== 1)
      throw new Error(`DBOS throughput: expected ${WARM + n} SUCCESS, found ${JSON.stringify(counts)}`);
    return throughputOf(n, t, startedAt, end, used);
  } finally {
    await counter.end();
    await DBOS.shutdown();
  }
}

// ---------------------------------------------------------------------------------------------

if (args[0] === '--child') {
  await child(args[1]!, Number(args[2]));
} else {
  const only = option('only')?.split(',');
  // Parts and backends filter separately: --only sqlite,step is the step part on SQLite.
  const pick = <T>(all: readonly T[], key: (x: T) => string) =>
    all.filter((x) => !only?.some((o) => all.map(key).includes(o)) || only.includes(key(x)));
  const parts = pick(['step', 'memory', 'throughput'], (p) => p);
  const backends = pick([postgres, sqlite], (b) => b.key);
  const n = Number(option('n') ?? 10_000);
  const tp = Number(option('tp') ?? 2000);
  const leadMs = Number(option('lead') ?? 40) * 1000;
  const spreadMs = Number(option('spread') ?? 20) * 1000;

  console.log(`# workflow benchmark — ${new Date().toISOString().slice(0, 16)}Z — ${machine()}`);
  const results: Record<string, Record<string, unknown>> = {};
  for (const b of backends) {
    const r: Record<string, unknown> = {};
    if (parts.includes('step') || parts.includes('memory')) results[`mainspring (${b.name})`] = r;
    if (parts.includes('step')) {
      r['step'] = await stepOverhead(b);
      console.error(`${b.name} step overhead:`, r['step']);
    }
    if (parts.includes('memory')) {
      for (const count of [10, n]) {
        // Ten park at once: they need no lead to speak of.
        r[`wait_${count}`] = await waitingRun(b, count, count <= 100 ? 10_000 : leadMs, spreadMs);
        console.error(`${b.name} ${count} waiting:`, r[`wait_${count}`]);
      }
    }
  }
  if (parts.includes('throughput')) {
    const r = results['mainspring (PostgreSQL)'] ?? {};
    results['mainspring (PostgreSQL)'] = r;
    r['throughput'] = await mainspringThroughput(tp);
    console.error('mainspring throughput:', r['throughput']);
    results['DBOS Transact 5 (PostgreSQL)'] = { throughput: await dbosThroughput(tp) };
    console.error('DBOS throughput:', results['DBOS Transact 5 (PostgreSQL)']['throughput']);
  }
  rmSync(dir, { recursive: true, force: true });

  type Lat = { p50: number; p95: number; p99: number; max: number };
  type Wait = {
    rssWaitingMiB: number;
    rssAfterWakeMiB: number;
    heapWaitingMiB: number;
    parkedAfterMs: number;
    lateness: Lat;
  };
  type Tp = { perSec: number; startPerSec: number; cpuMsPerExecution: number };
  const cell = (v: unknown, f: (x: never) => string) => (v === undefined ? '—' : f(v as never));
  console.log(
    `\n| system | step p50 / p95 / p99 ms | RSS, 10 / ${n} waiting MiB | heap, 10 / ${n} waiting MiB | wake-up late, ${n} waiting, p50 / p99 / max ms | 10 waiting, p50 / max ms | executions/s (3 steps, ${tp}) |`,
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, r] of Object.entries(results)) {
    const w10 = r['wait_10'] as Wait | undefined;
    const wn = r[`wait_${n}`] as Wait | undefined;
    console.log(
      `| ${name} | ${cell(r['step'], (s: Lat) => `${fmt(s.p50, 2)} / ${fmt(s.p95, 2)} / ${fmt(s.p99, 2)}`)} | ${
        w10 && wn ? `${fmt(w10.rssWaitingMiB, 1)} / ${fmt(wn.rssWaitingMiB, 1)}` : '—'
      } | ${w10 && wn ? `${fmt(w10.heapWaitingMiB, 1)} / ${fmt(wn.heapWaitingMiB, 1)}` : '—'} | ${cell(
        wn,
        (w: Wait) => `${fmt(w.lateness.p50, 1)} / ${fmt(w.lateness.p99, 1)} / ${fmt(w.lateness.max, 1)}`,
      )} | ${cell(w10, (w: Wait) => `${fmt(w.lateness.p50, 1)} / ${fmt(w.lateness.max, 1)}`)} | ${cell(r['throughput'], (t: Tp) => fmt(t.perSec))} |`,
    );
  }
  console.log('\nGoals:');
  for (const [name, r] of Object.entries(results)) {
    const w10 = r['wait_10'] as Wait | undefined;
    const wn = r[`wait_${n}`] as Wait | undefined;
    if (w10 && wn)
      console.log(
        `- ${name}: RSS ${n} / 10 waiting = ${fmt((100 * wn.rssWaitingMiB) / w10.rssWaitingMiB - 100, 1)} % (goal ≤ +10 %); wake-up p99 ${fmt(wn.lateness.p99, 1)} ms (goal ≤ 100 ms); after waking all ${n}, RSS ${fmt(wn.rssAfterWakeMiB, 1)} MiB (10: ${fmt(w10.rssAfterWakeMiB, 1)})`,
      );
  }
  const ours = (results['mainspring (PostgreSQL)']?.['throughput'] as Tp | undefined)?.perSec;
  const theirs = (results['DBOS Transact 5 (PostgreSQL)']?.['throughput'] as Tp | undefined)?.perSec;
  if (ours !== undefined && theirs !== undefined)
    console.log(`- executions/s mainspring / DBOS = ${fmt(ours / theirs, 2)}× (goal ≥ 1.5×)`);
  for (const [name, r] of Object.entries(results)) {
    const t = r['throughput'] as Tp | undefined;
    if (t)
      console.log(
        `- ${name}: ${fmt(t.startPerSec)} starts/s while running; this process's CPU ${fmt(t.cpuMsPerExecution, 2)} ms per execution`,
      );
  }
  console.log('\nSettings:');
  console.log(
    `- mainspring: \`ms.startWorker()\` with defaults (engine concurrency 100, poll ≤ 1 s, lease 30 s), pool ${
      option('pool') ?? '10 (default)'
    }; worker in this process for S and T; for M and L a worker in this process parks them, then a fresh child process (node --expose-gc) runs the one worker measured; 50 starts in flight from this process; lateness spread ${spreadMs / 1000} s from ${leadMs / 1000} s after the first start.`,
  );
  console.log(
    '- DBOS Transact 5: `DBOS.startWorkflow(wf, { workflowID })(i)` (no queue: runs at once in this process, unbounded), steps by `DBOS.runStep`, system database pool 10 (its default), database `dbos_bench` dropped each run; 50 starts in flight; results read (getResult) once the count shows all completed.',
  );
  console.log(`\n\`\`\`json\n${JSON.stringify(results)}\n\`\`\``);
  process.exit(0);
}
