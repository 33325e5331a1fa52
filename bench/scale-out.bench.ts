// npm run bench:scale-out — mainspring on one PostgreSQL with several processes (issue 24).
//   D  W1 drain with 1, 2 and 4 worker processes: 40,000 no-op messages enqueued while the queue
//      is paused, every worker started and ready, then resume; drain/s = messages / (resume →
//      the last handled, as the workers report it). Each process: fromQueue concurrency 50,
//      prefetch 1000, run records off (bench:queue's "best"). CPU seconds of the workers and of
//      the PostgreSQL server during the drain say what limits it.
//   S  Scheduler lateness with 3 processes each running a scheduler and a worker, 100,000
//      schedules stored (hourly and daily crons, ~870 firing at each minute), and one
//      `* * * * * *` schedule whose handler reports handler start − tick.
// Every id is accounted for: each message handled once, each measured tick run once, across
// all processes, or the run fails.
// Options: --only drain|scheduler   --messages N (default 40000)   --processes 1,2,4
//          --schedules N (default 100000)   --ticks N (default 90)

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createMainspring } from '../src/app.ts';
import { defineQueue } from '../src/queue/define.ts';
import { defineFunction, fromQueue } from '../src/runtime/function.ts';
import { backgroundRows } from './lib/schedules.ts';
import { accountFor, fmt, machine, option, postgresCpuS, summary } from './lib/stats.ts';

const PG = process.env['MAINSPRING_BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const SELF = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const queue = defineQueue({ name: 'bench' });

// ---------------------------------------------------------------------------------------------
// Children: each prints JSON lines on stdout ({ ready }, { handled: [...] }, { tick, late }).

async function drainChild(url: string): Promise<void> {
  const handled: number[] = [];
  let last = 0;
  const fn = defineFunction({
    name: 'noop',
    triggers: [fromQueue(queue, { concurrency: 50, prefetch: 1000 })],
    handler: (job: { i: number }) => {
      handled.push(job.i);
      last = now();
    },
  });
  const ms = await createMainspring({ db: url, queues: [queue], functions: [fn], recordRuns: false });
  const worker = await ms.startWorker();
  const cpu0 = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  // The parent says when the drain is over (stdin closes).
  await new Promise<void>((r) => process.stdin.on('end', r).resume());
  const cpu = process.cpuUsage(cpu0);
  await worker.stop({ graceMs: 1000 });
  await ms.close();
  // Written whole before the process exits: a pipe takes a large write in pieces.
  await new Promise((r) =>
    process.stdout.write(`${JSON.stringify({ handled, last, cpuS: (cpu.user + cpu.system) / 1e6 })}\n`, r),
  );
}

/** The measured schedule's target: reports handler start − tick on stdout. */
const tick = defineFunction({
  name: 'tick',
  handler: (_input: unknown, ctx) => {
    const t = now();
    const trigger = ctx.run.trigger;
    if (trigger.kind === 'schedule') {
      const tickMs = Date.parse(trigger.tickAt);
      process.stdout.write(`${JSON.stringify({ tick: tickMs, late: t - tickMs })}\n`);
    }
    return null;
  },
});
const work = defineFunction({ name: 'work', handler: () => null });

async function schedulerChild(url: string): Promise<void> {
  const ms = await createMainspring({ db: url, functions: [tick, work] });
  await ms.startWorker();
  await ms.startScheduler();
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  await new Promise<void>((r) => process.stdin.on('end', r).resume());
  await ms.close();
  await new Promise((r) => process.stdout.write(`${JSON.stringify({ closed: true })}\n`, r));
}

const childAt = args.indexOf('--child');
if (childAt >= 0) {
  const [kind, url] = [args[childAt + 1]!, args[childAt + 2]!];
  await (kind === 'drain' ? drainChild(url) : schedulerChild(url));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// Parent.

interface Child {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  ready: Promise<void>;
  exited: Promise<void>;
}

function spawnChild(
  kind: 'drain' | 'scheduler',
  url: string,
  onLine?: (l: Record<string, unknown>) => void,
): Child {
  const proc = spawn(process.execPath, [SELF, '--child', kind, url], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  let ready!: () => void;
  const readyP = new Promise<void>((r) => {
    ready = r;
  });
  createInterface({ input: proc.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    if (line['ready']) ready();
    onLine?.(line);
  });
  const exited = new Promise<void>((r) => proc.on('close', () => r()));
  return { proc, lines, ready: readyP, exited };
}

async function freshSchema(name: string): Promise<string> {
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  await client.end();
  return `${PG}?schema=${name}`;
}

interface DrainResult {
  processes: number;
  drainPerS: number;
  workerCpuS: number;
  postgresCpuS: number;
  seconds: number;
}

async function drain(processes: number, n: number): Promise<DrainResult> {
  const url = await freshSchema('bench_scale_out');
  const ms = await createMainspring({ db: url, queues: [queue] });
  await ms.queues.pause(queue);
  for (let i = 0; i < n; i += 5000) {
    await ms.queues.sendBatch(
      queue,
      Array.from({ length: Math.min(5000, n - i) }, (_, k) => ({ body: { i: i + k } })),
    );
  }
  const children = Array.from({ length: processes }, () => spawnChild('drain', url));
  await Promise.all(children.map((c) => c.ready));
  const pg0 = postgresCpuS();
  const t0 = now();
  await ms.queues.resume(queue);
  for (;;) {
    const { counts } = await ms.queues.stats('bench');
    if (counts.visible + counts.inFlight + counts.delayed === 0) break;
    await sleep(20);
  }
  const pgCpu = postgresCpuS() - pg0;
  for (const c of children) c.proc.stdin!.end();
  await Promise.all(children.map((c) => c.exited));
  await ms.close();
  const reports = children.map(
    (c) => c.lines.find((l) => l['handled']) as { handled: number[]; last: number; cpuS: number },
  );
  const seen = reports.flatMap((r) => r.handled);
  const { missing, duplicated } = accountFor(seen, n);
  if (missing || duplicated)
    throw new Error(`drain with ${processes}: ${missing} missing, ${duplicated} duplicated`);
  const last = Math.max(...reports.map((r) => r.last));
  const seconds = (last - t0) / 1000;
  return {
    processes,
    drainPerS: n / seconds,
    workerCpuS: reports.reduce((s, r) => s + r.cpuS, 0),
    postgresCpuS: pgCpu,
    seconds,
  };
}

interface SchedulerResult {
  processes: number;
  schedules: number;
  ticks: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  missed: number;
  duplicated: number;
}

async function schedulerLateness(
  processes: number,
  schedules: number,
  ticks: number,
): Promise<SchedulerResult> {
  const url = await freshSchema('bench_scale_out_sched');
  const ms = await createMainspring({ db: url, functions: [tick, work] });
  const rows = backgroundRows(schedules, Date.now(), 'work');
  for (let i = 0; i < rows.length; i += 32) {
    const ok = await Promise.all(rows.slice(i, i + 32).map((r) => ms.store.scheduler.insertSchedule(r)));
    if (ok.includes(false)) throw new Error('a background schedule was not inserted');
  }
  await ms.schedules.create({
    name: 'every-second',
    expression: '* * * * * *',
    target: { kind: 'function', function: 'tick' },
  });
  const seen = new Map<number, number[]>();
  let measuring = false;
  const children = Array.from({ length: processes }, () =>
    spawnChild('scheduler', url, (l) => {
      if (!measuring || typeof l['tick'] !== 'number') return;
      const at = seen.get(l['tick']) ?? [];
      at.push(l['late'] as number);
      seen.set(l['tick'], at);
    }),
  );
  await Promise.all(children.map((c) => c.ready));
  // Leave the start-up out: the first pass, JIT, the ticks owed since the insert.
  await sleep(10_000);
  measuring = true;
  const from = Math.ceil(Date.now() / 1000) * 1000 + 1000;
  await sleep(ticks * 1000 + 3000);
  measuring = false;
  for (const c of children) c.proc.stdin!.end();
  await Promise.all(children.map((c) => c.exited));
  await ms.close();
  const window = Array.from({ length: ticks }, (_, k) => from + k * 1000);
  const late = window.flatMap((t) => seen.get(t) ?? []);
  const missed = window.filter((t) => !seen.has(t)).length;
  const duplicated = window.filter((t) => (seen.get(t)?.length ?? 0) > 1).length;
  if (duplicated > 0) throw new Error(`scheduler with ${processes} processes: ${duplicated} ticks ran twice`);
  return { processes, schedules, ticks, ...summary(late), missed, duplicated };
}

const only = option('only');
const messages = Number(option('messages') ?? 40_000);
const counts = (option('processes') ?? '1,2,4').split(',').map(Number);
console.log(`# scale-out benchmark — ${new Date().toISOString().slice(0, 10)} — ${machine()}`);
const out: { drain: DrainResult[]; scheduler: SchedulerResult | null } = { drain: [], scheduler: null };
if (only !== 'scheduler') {
  for (const p of counts) {
    const r = await drain(p, messages);
    console.error(`drain, ${p} process(es):`, r);
    out.drain.push(r);
  }
  console.log(
    `\n| worker processes | W1 drain/s | × 1 process | worker CPU s | PostgreSQL CPU s | CPU s per 1,000 msgs |`,
  );
  console.log('|---|---|---|---|---|---|');
  const base = out.drain[0]!.drainPerS;
  for (const r of out.drain) {
    console.log(
      `| ${r.processes} | ${fmt(r.drainPerS)} | ${fmt(r.drainPerS / base, 2)} | ${fmt(r.workerCpuS, 1)} | ${fmt(r.postgresCpuS, 1)} | ${fmt(((r.workerCpuS + r.postgresCpuS) / messages) * 1000, 3)} |`,
    );
  }
}
if (only !== 'drain') {
  const r = await schedulerLateness(3, Number(option('schedules') ?? 100_000), Number(option('ticks') ?? 90));
  console.error('scheduler:', r);
  out.scheduler = r;
  console.log(
    '\n| scheduler processes | schedules | ticks | lateness p50 / p95 / p99 / max ms | missed | run twice |',
  );
  console.log('|---|---|---|---|---|---|');
  console.log(
    `| ${r.processes} | ${r.schedules} | ${r.ticks} | ${fmt(r.p50, 1)} / ${fmt(r.p95, 1)} / ${fmt(r.p99, 1)} / ${fmt(r.max, 1)} | ${r.missed} | ${r.duplicated} |`,
  );
}
console.log(`\n\`\`\`json\n${JSON.stringify(out)}\n\`\`\``);
process.exit(0);
