// npm run bench:queue — mainspring (SQLite and PostgreSQL) against graphile-worker
// and pg-boss on the same PostgreSQL and BullMQ on the local Redis, in one run.
//   W1: 20,000 no-op jobs enqueued in bulk, then drained (concurrency 1 and best)
//   W2: 500 jobs sent one at a time 20 ms apart to idle workers: enqueue → handler start
//   W3: 1,000 jobs due at now + 3 s: handler start − due time
// Every run accounts for every id: zero missing, zero duplicated, or the run fails.
// Options: --only key1,key2 (a key below, or part of one or of a system's name:
//          sqlite, postgresql, sqlite-defaults, postgresql-defaults, graphile, pg-boss, bullmq;
//          `defaults` is both defaults rows, `mainspring` all four of its rows)
//          --runs N (W1 and W2 rounds, every system once a round; the median is reported, and
//          each round's W1 ratios against graphile-worker)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { accountFor, fmt, machine, option, summary } from './lib/stats.ts';
import { bullmqSystem } from './queue/bullmq.ts';
import { graphileSystem } from './queue/graphile-worker.ts';
import { mainspringSystem } from './queue/mainspring.ts';
import { pgBossSystem } from './queue/pg-boss.ts';
import type { Job, QueueSystem } from './queue/system.ts';

const PG = process.env['MAINSPRING_BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const only = option('only')?.split(',');
const runs = Number(option('runs') ?? 1);

const dir = mkdtempSync(join(tmpdir(), 'mainspring-bench-'));
// Fresh schemas each run, for every system on PostgreSQL: one reused across runs carries their
// dead rows, all the more on a server with autovacuum off (the SQLite file is new too). Until
// 2026-12-06 only mainspring's was dropped, and graphile-worker's jobs table had grown to
// 1.5 million dead rows (293 MB) over the runs of this machine.
{
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  for (const schema of [
    'bench_mainspring',
    'bench_mainspring_defaults',
    'bench_graphile_worker',
    'bench_pgboss',
  ])
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}
// Each with its key for --only (the names hold commas, which --only splits on).
const all: [key: string, system: QueueSystem][] = [
  // Peers run at their fastest settings (BullMQ drops completed jobs); so does mainspring,
  // without run records. What records cost is measured by bench:runtime.
  [
    'sqlite',
    mainspringSystem('mainspring (SQLite)', () => `sqlite:${join(dir, 'bench.db')}`, { recordRuns: false }),
  ],
  [
    'postgresql',
    mainspringSystem('mainspring (PostgreSQL)', () => `${PG}?schema=bench_mainspring`, { recordRuns: false }),
  ],
  // As users run it (issue 24): the function as written with no options, records on.
  [
    'sqlite-defaults',
    mainspringSystem('mainspring (SQLite, defaults)', () => `sqlite:${join(dir, 'defaults.db')}`, {
      defaults: true,
    }),
  ],
  // A schema of its own: on a server with autovacuum off, the rows above leave dead rows behind.
  [
    'postgresql-defaults',
    mainspringSystem('mainspring (PostgreSQL, defaults)', () => `${PG}?schema=bench_mainspring_defaults`, {
      defaults: true,
    }),
  ],
  ['graphile', graphileSystem(PG)],
  ['pg-boss', pgBossSystem(PG)],
  ['bullmq', bullmqSystem()],
];
const systems = all
  .filter(
    ([key, s]) =>
      !only ||
      only.some((o) => key.includes(o.toLowerCase()) || s.name.toLowerCase().includes(o.toLowerCase())),
  )
  .map(([, s]) => s);
if (systems.length === 0)
  throw new Error(`--only ${only?.join(',')}: no system matches; keys: ${all.map(([k]) => k).join(', ')}`);

const now = () => performance.timeOrigin + performance.now();

function collector(n: number) {
  const seen: number[] = [];
  const at = new Float64Array(n);
  let resolve!: () => void;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    seen,
    at,
    done,
    handler: (job: Job) => {
      at[job.i] = now();
      seen.push(job.i);
      if (seen.length === n) resolve();
    },
  };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  const t = sleep(ms).then(() => {
    throw new Error(`${what}: did not finish within ${ms} ms`);
  });
  return Promise.race([p, t]);
}

function check(name: string, what: string, seen: number[], n: number) {
  const { missing, duplicated } = accountFor(seen, n);
  if (missing || duplicated) throw new Error(`${name} ${what}: ${missing} missing, ${duplicated} duplicated`);
}

async function w1(s: QueueSystem, concurrency: number | 'best') {
  const n = 20_000;
  await s.setup();
  const jobs = Array.from({ length: n }, (_, i) => ({ i }));
  let t = now();
  await s.enqueueBulk(jobs);
  const enqueue = n / ((now() - t) / 1000);
  const c = collector(n);
  t = now();
  await s.startWorkers(concurrency, c.handler);
  await within(c.done, 300_000, `${s.name} W1`);
  const drain = n / ((now() - t) / 1000);
  await s.stopWorkers();
  await s.teardown();
  await sleep(200);
  check(s.name, 'W1', c.seen, n);
  return { enqueue, drain };
}

async function w2(s: QueueSystem) {
  const n = 500;
  await s.setup();
  const c = collector(n);
  await s.startWorkers('best', c.handler);
  await sleep(1000);
  const sent = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    sent[i] = now();
    await s.enqueueOne({ i });
    await sleep(20);
  }
  await within(c.done, 60_000, `${s.name} W2`);
  await s.stopWorkers();
  await s.teardown();
  check(s.name, 'W2', c.seen, n);
  return summary(Array.from(c.at, (at, i) => at - sent[i]!));
}

async function w3(s: QueueSystem) {
  const n = 1000;
  await s.setup();
  const c = collector(n);
  await s.startWorkers('best', c.handler);
  await sleep(500);
  const due = new Date(Date.now() + 3000);
  const dueAt = due.getTime();
  for (let i = 0; i < n; i += 50)
    await Promise.all(Array.from({ length: 50 }, (_, k) => s.enqueueOne({ i: i + k }, due)));
  if (Date.now() > dueAt) throw new Error(`${s.name} W3: enqueueing took longer than 3 s`);
  await within(c.done, 60_000, `${s.name} W3`);
  await s.stopWorkers();
  await s.teardown();
  check(s.name, 'W3', c.seen, n);
  return summary(Array.from(c.at, (at) => at - dueAt));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`# queue benchmark — ${new Date().toISOString().slice(0, 10)} — ${machine()}`);
type W1 = { enqueue: number; drain: number };
// W1 in rounds, every system once per round (each at c=1 then best): the machine's drift from
// one minute to the next (a third of a drain rate here) then falls on every system alike, and
// a round's ratios compare systems measured within a minute of each other.
const w1Runs = new Map<QueueSystem, { one: W1[]; best: W1[] }>(
  systems.map((s) => [s, { one: [], best: [] }]),
);
const rounds: Record<string, number>[] = [];
for (let k = 0; k < runs; k++) {
  const round: Record<string, number> = {};
  for (const s of systems) {
    const r = w1Runs.get(s)!;
    r.one.push(await w1(s, 1));
    r.best.push(await w1(s, 'best'));
    round[s.name] = Math.max(r.one.at(-1)!.drain, r.best.at(-1)!.drain);
    console.error(
      `round ${k + 1}: ${s.name} W1 drain c=1 ${fmt(r.one.at(-1)!.drain)}, best ${fmt(r.best.at(-1)!.drain)}`,
    );
  }
  rounds.push(round);
}
const medianW1 = (reps: W1[]): W1 => ({
  enqueue: median(reps.map((x) => x.enqueue)),
  drain: median(reps.map((x) => x.drain)),
});
// W2 in rounds too (it is close between the fastest systems): the round with the median p50.
const w2Runs = new Map<QueueSystem, Awaited<ReturnType<typeof w2>>[]>(systems.map((s) => [s, []]));
for (let k = 0; k < runs; k++) {
  for (const s of systems) {
    const l = await w2(s);
    w2Runs.get(s)!.push(l);
    console.error(`round ${k + 1}: ${s.name} W2 p50 ${fmt(l.p50, 2)} ms`);
  }
}
const results: Record<string, Record<string, unknown>> = {};
for (const s of systems) {
  const r: Record<string, unknown> = { settings: s.settings };
  r['w1_1'] = medianW1(w1Runs.get(s)!.one);
  r['w1_best'] = medianW1(w1Runs.get(s)!.best);
  const byP50 = [...w2Runs.get(s)!].sort((a, b) => a.p50 - b.p50);
  r['w2'] = byP50[Math.floor(byP50.length / 2)];
  r['w2_p50s'] = w2Runs.get(s)!.map((l) => l.p50);
  r['w3'] = await w3(s);
  console.error(`${s.name} W3:`, r['w3']);
  results[s.name] = r;
}
rmSync(dir, { recursive: true, force: true });

type Lat = { p50: number; p95: number; p99: number; max: number };
console.log(
  '\n| system | W1 enqueue/s | W1 drain/s, c=1 | W1 drain/s, best | W2 p50 / p95 / p99 ms | W3 p50 / p99 ms |',
);
console.log('|---|---|---|---|---|---|');
for (const [name, r] of Object.entries(results)) {
  const b = r['w1_best'] as W1;
  const one = r['w1_1'] as W1;
  const l2 = r['w2'] as Lat;
  const l3 = r['w3'] as Lat;
  console.log(
    `| ${name} | ${fmt(b.enqueue)} | ${fmt(one.drain)} | ${fmt(b.drain)} | ${fmt(l2.p50, 2)} / ${fmt(l2.p95, 2)} / ${fmt(l2.p99, 2)} | ${fmt(l3.p50, 1)} / ${fmt(l3.p99, 1)} |`,
  );
}
// Each round's W1 ratios: every mainspring row's better drain over graphile-worker's better one.
const peer = systems.find((s) => s.name.startsWith('graphile-worker'));
if (peer) {
  console.log(`\nW1 drain against ${peer.name}'s better column, round by round:`);
  for (const s of systems.filter((x) => x.name.startsWith('mainspring'))) {
    const ratios = rounds.map((r) => r[s.name]! / r[peer.name]!);
    console.log(
      `- ${s.name}: ${ratios.map((x) => `${x.toFixed(2)}×`).join(', ')} (median ${median(ratios).toFixed(2)}×)`,
    );
  }
}
if (runs > 1) {
  console.log('\nW2 p50 round by round (ms; the table shows the median round):');
  for (const [name, r] of Object.entries(results))
    console.log(`- ${name}: ${(r['w2_p50s'] as number[]).map((x) => fmt(x, 2)).join(', ')}`);
}
console.log('\nSettings:');
for (const [name, r] of Object.entries(results)) console.log(`- ${name}: ${r['settings']}`);
console.log(`\n\`\`\`json\n${JSON.stringify({ results, rounds })}\n\`\`\``);
process.exit(0);
