// npm run bench:runtime — what run records cost: the W1 queue drain of bench:queue
// (20,000 no-op jobs enqueued in bulk, then drained at the best settings) with run
// records on (the default) and off (`recordRuns: false`), on SQLite and PostgreSQL,
// plus the same drain with one ctx.log line per run (log lines are stored too).
// Variants are interleaved, each repeated (--runs N, default 5); medians are reported.
// Every run accounts for every id (none missing, none duplicated) and, with records
// on, checks that a run row was stored for every message.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { openStore } from '../src/store/open.ts';
import { accountFor, fmt, machine, option, postgresCpuS } from './lib/stats.ts';
import { mainspringSystem } from './queue/mainspring.ts';
import type { QueueSystem } from './queue/system.ts';

const PG = process.env['MAINSPRING_BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const runs = Number(option('runs') ?? 5);
const only = option('only')?.split(',');
const variantFilter = option('variant')?.split(',');
const N = 20_000;
const now = () => performance.timeOrigin + performance.now();
const dir = mkdtempSync(join(tmpdir(), 'mainspring-bench-runtime-'));

interface Variant {
  readonly backend: string;
  readonly label: string;
  readonly url: () => string;
  readonly records: boolean;
  readonly system: QueueSystem;
}

function variants(): Variant[] {
  const out: Variant[] = [];
  const backends = [
    // A fresh store per drain: a reused one carries the dead rows of earlier drains.
    { backend: 'SQLite', url: () => `sqlite:${join(dir, `runtime-${drainNo}.db`)}` },
    { backend: 'PostgreSQL', url: () => `${PG}?schema=bench_runtime_${drainNo}` },
  ].filter((b) => !only || only.some((o) => b.backend.toLowerCase().includes(o.toLowerCase())));
  for (const b of backends) {
    out.push({
      ...b,
      label: 'records off',
      records: false,
      system: mainspringSystem(b.backend, b.url, { recordRuns: false }),
    });
    out.push({
      ...b,
      label: 'records on',
      records: true,
      system: mainspringSystem(b.backend, b.url, { recordRuns: true }),
    });
    out.push({
      ...b,
      label: 'records on + 1 log line/run',
      records: true,
      system: mainspringSystem(b.backend, b.url, { recordRuns: true, logEach: true }),
    });
  }
  return variantFilter ? out.filter((v) => variantFilter.includes(v.label)) : out;
}

let drainNo = 0;
const schemas: string[] = [];

async function dropSchemas(): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await client.end();
}

async function countRuns(url: string): Promise<number> {
  const store = await openStore(url);
  try {
    let n = 0;
    let before: string | undefined;
    for (;;) {
      const page = await store.runs.list({ limit: 5000, ...(before ? { beforeId: before } : {}) });
      n += page.length;
      if (page.length < 5000) return n;
      before = page.at(-1)!.id;
    }
  } finally {
    await store.close();
  }
}

/** A drain's rate, and the CPU time its main thread spent per message (steadier than the rate on a shared VM). */
interface Drain {
  readonly rate: number;
  readonly cpuUs: number;
  /** PostgreSQL's CPU time per message, all its processes (NaN on SQLite). */
  readonly serverUs: number;
}

async function drain(v: Variant): Promise<Drain> {
  drainNo++;
  if (v.backend === 'PostgreSQL') schemas.push(`bench_runtime_${drainNo}`);
  const s = v.system;
  await s.setup();
  await s.enqueueBulk(Array.from({ length: N }, (_, i) => ({ i })));
  // A moment for housekeeping a long-running server would have started by now (SQLite's
  // checkpoint thread starts once the process has written 10,000 rows: the sends did).
  await sleep(100);
  // Each drain starts from a collected heap rather than inheriting the last one's garbage.
  (globalThis as { gc?: () => void }).gc?.();
  const seen: number[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  // Read before the clock starts: it runs two child processes.
  const server = v.backend === 'PostgreSQL' ? postgresCpuS() : Number.NaN;
  const t = now();
  const cpu = process.threadCpuUsage();
  await s.startWorkers('best', (job) => {
    seen.push(job.i);
    if (seen.length === N) resolve();
  });
  await done;
  const rate = N / ((now() - t) / 1000);
  const used = process.threadCpuUsage(cpu);
  const cpuUs = (used.user + used.system) / N;
  const serverUs = ((postgresCpuS() - server) * 1e6) / N;
  // Stopping flushes the recorder: every run row is written before the count.
  await s.stopWorkers();
  await s.teardown();
  const { missing, duplicated } = accountFor(seen, N);
  if (missing || duplicated)
    throw new Error(`${v.backend} ${v.label}: ${missing} missing, ${duplicated} duplicated`);
  if (v.records) {
    const stored = await countRuns(v.url());
    if (stored !== N) throw new Error(`${v.backend} ${v.label}: ${stored} run records for ${N} messages`);
  }
  await sleep(200);
  return { rate, cpuUs, serverUs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`# runtime benchmark — ${new Date().toISOString().slice(0, 10)} — ${machine()}`);
const all = variants();
const rates = new Map<Variant, number[]>(all.map((v) => [v, []]));
const cpus = new Map<Variant, number[]>(all.map((v) => [v, []]));
const serverCpus = new Map<Variant, number[]>(all.map((v) => [v, []]));
// One discarded drain per backend first: the first drain of a process pays for JIT and a new store.
for (const backend of new Set(all.map((v) => v.backend))) {
  const first = all.find((v) => v.backend === backend)!;
  console.error(`${backend} warm-up: ${fmt((await drain(first)).rate)}/s (discarded)`);
}
for (let k = 0; k < runs; k++) {
  for (const v of all) {
    const { rate, cpuUs, serverUs } = await drain(v);
    rates.get(v)!.push(rate);
    cpus.get(v)!.push(cpuUs);
    serverCpus.get(v)!.push(serverUs);
    const server = Number.isNaN(serverUs) ? '' : `, server ${fmt(serverUs, 1)} µs/msg`;
    console.error(
      `${v.backend} ${v.label} run ${k + 1}: ${fmt(rate)}/s, ${fmt(cpuUs, 1)} µs CPU/msg${server}`,
    );
  }
}
console.log(`\nW1 drain, ${N} no-op jobs, best settings; median of ${runs} interleaved runs\n`);
// Interference on a shared machine only ever slows a run down, so the best run is shown too.
console.log(
  '| backend | variant | drain/s median | drain/s best | runs | median vs off | best vs off | paired vs off | main-thread CPU µs/msg, median | server CPU µs/msg, median |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const best = (xs: number[]) => Math.max(...xs);
for (const v of all) {
  const xs = rates.get(v)!;
  // Without --variant 'records off' there is nothing to compare with.
  const offVariant = all.find((x) => x.backend === v.backend && !x.records);
  const off = offVariant ? rates.get(offVariant)! : [];
  const cost = (a: number, b: number) =>
    v.records && off.length > 0 ? `${fmt(((b - a) / b) * 100, 1)}% slower` : '—';
  const cells = [
    v.backend,
    v.label,
    fmt(median(xs)),
    fmt(best(xs)),
    xs.map((x) => fmt(x)).join(', '),
    cost(median(xs), median(off)),
    cost(best(xs), best(off)),
    // Each run against the 'records off' drain just before it: the machine's slow spells
    // (a shared VM) then hit both sides of a pair, not one median more than the other.
    off.length === xs.length ? cost(1, median(xs.map((x, k) => off[k]! / x))) : '—',
    fmt(median(cpus.get(v)!), 1),
    fmt(median(serverCpus.get(v)!), 1),
  ];
  console.log(`| ${cells.join(' | ')} |`);
}
await dropSchemas();
rmSync(dir, { recursive: true, force: true });
