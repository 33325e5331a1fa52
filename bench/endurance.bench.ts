// npm run bench:endurance — one queue in steady state for a long time (the "Endurance").
// A producer (this process) spreads --messages no-op messages over --minutes, sendBatch of 500
// each as soon as its last message is due; one consumer process (fromQueue concurrency 50, run
// records on: the defaults) drains them meanwhile. Every minute it samples:
//   sent/s, handled/s  over the minute (in steady state handled/s follows sent/s: a consumer
//                      falling behind shows as handled/s dropping and the backlog growing)
//   backlog            visible messages at the minute's end
//   queue table+idx    PostgreSQL: pg_total_relation_size(messages) (heap + indexes); SQLite: the
//                      pages of messages and its indexes (dbstat)
//   run records        queue_runs + runs + run_logs, the same way; these grow by design until
//                      retention (runRetention, 30 days by default) deletes them
//   consumer RSS       the consumer process's resident set
//   and dead tuples in messages (PostgreSQL) or file + WAL size and PRAGMA freelist_count (SQLite).
// Goals: the last full minute's handled/s within 20 % of the first's; the queue's table and
// indexes bounded (the largest size in the last half of the minutes against the first half);
// RSS flat (the largest in the last half against the first half). At the end every id must
// have been handled at least once (at-least-once: duplicates are allowed, and counted).
// Options: --backend postgres|sqlite|both (default both, one after the other)
//          --messages N (default 2000000)   --minutes M (default 10)
// PostgreSQL: MAINSPRING_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test), schema
// bench_endurance, dropped at the end. Run it on a server with autovacuum on: without it dead
// tuples are never reclaimed and the size figures say nothing about production.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createMainspring, type Mainspring } from '../src/app.ts';
import { defineQueue } from '../src/queue/define.ts';
import { defineFunction, fromQueue } from '../src/runtime/function.ts';
import { accountFor, fmt, machine, option } from './lib/stats.ts';

const PG = process.env['MAINSPRING_BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = 'bench_endurance';
const SELF = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const queue = defineQueue({ name: 'endurance' });
const BATCH = 500;
const MINUTE_MS = 60_000;
/** How often the consumer reports what it handled (the per-minute counts are this late at most). */
const REPORT_MS = 200;
/** A drain that makes no progress this long after the last send is given up. */
const STALL_MS = 120_000;
const RECORD_TABLES = ['queue_runs', 'runs', 'run_logs'];
const mib = (bytes: number, digits = 1) => fmt(bytes / 2 ** 20, digits);

// ---------------------------------------------------------------------------------------------
// Child: the consumer. Prints JSON lines on stdout: { ready, ids, rss } every REPORT_MS, and
// { ids, rss, closed } once stopped (stdin closes).

interface Report {
  readonly ids: number[];
  readonly rss: number;
  /** The V8 heap in use: RSS growing with it is the program's objects, without it native memory. */
  readonly heap: number;
  readonly ready?: true;
  readonly closed?: true;
}

async function consumerChild(url: string): Promise<void> {
  let ids: number[] = [];
  const fn = defineFunction({
    name: 'consume',
    triggers: [fromQueue(queue, { concurrency: 50 })],
    handler: (job: { i: number }) => {
      ids.push(job.i);
    },
  });
  const ms = await createMainspring({ db: url, queues: [queue], functions: [fn] });
  const worker = await ms.startWorker();
  const report = (extra: Partial<Report>) => {
    const { rss, heapUsed } = process.memoryUsage();
    const line: Report = { ids, rss, heap: heapUsed, ...extra };
    ids = [];
    return `${JSON.stringify(line)}\n`;
  };
  process.stdout.write(report({ ready: true }));
  const timer = setInterval(() => process.stdout.write(report({})), REPORT_MS);
  await new Promise<void>((r) => process.stdin.on('end', r).resume());
  clearInterval(timer);
  // Stopping flushes the run recorder: the records are all stored before the last size sample.
  await worker.stop({ graceMs: 5000 });
  await ms.close();
  await new Promise((r) => process.stdout.write(report({ closed: true }), r));
}

const childAt = args.indexOf('--child');
if (childAt >= 0) {
  await consumerChild(args[childAt + 1]!);
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// Parent: the store probes (what each backend's sizes are), the producer, the sampling.

interface Sizes {
  /** The messages table and its indexes, bytes. */
  readonly queueBytes: number;
  /** The run-record tables and their indexes, bytes. */
  readonly recordsBytes: number;
  /** The queue size cell: the total, and its parts where known. */
  readonly queueCell: string;
  /** The backend's own columns (Probe.columns). */
  readonly extra: readonly string[];
  readonly raw: Readonly<Record<string, number>>;
}

interface Probe {
  readonly backend: 'PostgreSQL' | 'SQLite';
  readonly url: string;
  readonly columns: readonly string[];
  /** Lines for the report before the table (settings that change what the figures mean). */
  readonly notes: readonly string[];
  /** Opened once the store exists (the parent's createMainspring made it). */
  open(): Promise<void>;
  sizes(): Promise<Sizes>;
  /** Closes and deletes the store. */
  drop(): Promise<void>;
}

async function postgresProbe(): Promise<Probe> {
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  const autovacuum = (await client.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]!.autovacuum;
  const host = new URL(PG);
  const notes = [`PostgreSQL at ${host.host}: autovacuum = ${autovacuum}`];
  if (autovacuum !== 'on') {
    const warning =
      'WARNING: autovacuum is off on this server: dead tuples are never reclaimed, so the size figures ' +
      'below do not represent a production server. Point MAINSPRING_BENCH_PG_URL at a server with ' +
      'autovacuum on.';
    notes.push(warning);
  }
  const total = async (tables: readonly string[]) => {
    const { rows } = await client.query<{ total: string; heap: string; idx: string }>(
      `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS total,
              coalesce(sum(pg_relation_size(c.oid)), 0) AS heap,
              coalesce(sum(pg_indexes_size(c.oid)), 0) AS idx
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = ANY($2) AND c.relkind = 'r'`,
      [SCHEMA, tables],
    );
    const r = rows[0]!;
    return { total: Number(r.total), heap: Number(r.heap), idx: Number(r.idx) };
  };
  return {
    backend: 'PostgreSQL',
    url: `${PG}?schema=${SCHEMA}`,
    columns: ['messages dead / live tuples', 'messages autovacuums'],
    notes,
    open: async () => {},
    sizes: async () => {
      const q = await total(['messages']);
      const records = await total(RECORD_TABLES);
      // The statistics collector's figures: up to a few hundred ms behind.
      const { rows } = await client.query<{ dead: string; live: string; vacuums: string }>(
        `SELECT n_dead_tup AS dead, n_live_tup AS live, autovacuum_count AS vacuums
           FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'messages'`,
        [SCHEMA],
      );
      const s = rows[0];
      const [dead, live, vacuums] = [Number(s?.dead ?? 0), Number(s?.live ?? 0), Number(s?.vacuums ?? 0)];
      return {
        queueBytes: q.total,
        recordsBytes: records.total,
        queueCell: `${mib(q.total)} (${mib(q.heap)} + ${mib(q.idx)})`,
        extra: [`${dead} / ${live}`, String(vacuums)],
        raw: {
          queueBytes: q.total,
          queueHeapBytes: q.heap,
          queueIndexBytes: q.idx,
          recordsBytes: records.total,
          deadTuples: dead,
          liveTuples: live,
          autovacuums: vacuums,
        },
      };
    },
    drop: async () => {
      await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
      await client.end();
    },
  };
}

function sqliteProbe(): Probe {
  const dir = mkdtempSync(join(tmpdir(), 'mainspring-bench-endurance-'));
  const path = join(dir, 'endurance.db');
  let db: DatabaseSync | null = null;
  const fileSize = (p: string) => {
    try {
      return statSync(p).size;
    } catch {
      return 0;
    }
  };
  // A table's pages and its indexes' (dbstat, aggregated per b-tree: a walk of that tree only).
  const pages = (tables: readonly string[]) => {
    const names = db!
      .prepare(
        `SELECT name FROM sqlite_schema WHERE tbl_name IN (${tables.map(() => '?').join(',')}) AND type IN ('table', 'index')`,
      )
      .all(...tables) as { name: string }[];
    const one = db!.prepare(
      'SELECT coalesce(sum(pgsize), 0) AS bytes FROM dbstat WHERE name = ? AND aggregate = 1',
    );
    return names.reduce((s, { name }) => s + Number((one.get(name) as { bytes: number }).bytes), 0);
  };
  return {
    backend: 'SQLite',
    url: `sqlite:${path}`,
    columns: ['file + WAL MiB', 'free pages'],
    notes: [`SQLite at ${path}`],
    open: async () => {
      // A reader of its own: the store's connections are the producer's and the consumer's.
      db = new DatabaseSync(path, { readOnly: true });
    },
    sizes: async () => {
      const queueBytes = pages(['messages']);
      const recordsBytes = pages(RECORD_TABLES);
      const free = Number(
        (db!.prepare('PRAGMA freelist_count').get() as { freelist_count: number }).freelist_count,
      );
      const [file, wal] = [fileSize(path), fileSize(`${path}-wal`)];
      return {
        queueBytes,
        recordsBytes,
        queueCell: mib(queueBytes),
        extra: [`${mib(file)} + ${mib(wal)}`, String(free)],
        raw: { queueBytes, recordsBytes, fileBytes: file, walBytes: wal, freePages: free },
      };
    },
    drop: async () => {
      db?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Consumer {
  proc: ChildProcess;
  /** Every id handled, in the order reported (duplicates included). */
  seen: number[];
  rss: number;
  heap: number;
  ready: Promise<void>;
  exited: Promise<void>;
  stopping: boolean;
}

function spawnConsumer(url: string): Consumer {
  const proc = spawn(process.execPath, [SELF, '--child', url], { stdio: ['pipe', 'pipe', 'inherit'] });
  let ready!: () => void;
  const c: Consumer = {
    proc,
    seen: [],
    rss: Number.NaN,
    heap: Number.NaN,
    ready: new Promise<void>((r) => {
      ready = r;
    }),
    exited: new Promise<void>((r) => proc.on('close', () => r())),
    stopping: false,
  };
  createInterface({ input: proc.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Report;
    for (const i of line.ids) c.seen.push(i);
    c.rss = line.rss;
    c.heap = line.heap;
    if (line.ready) ready();
  });
  proc.on('close', (code) => {
    if (c.stopping) return;
    console.error(`the consumer exited (code ${code}) before the run ended`);
    process.exit(1);
  });
  return c;
}

interface Sample {
  /** Milliseconds since the producer started. */
  readonly at: number;
  readonly sent: number;
  readonly handled: number;
  readonly backlog: number;
  readonly inFlight: number;
  readonly rss: number;
  readonly heap: number;
  readonly sizes: Sizes;
}

/** Sends n messages (bodies { i }) evenly over `ms` milliseconds from t0: each batch once its last message is due. */
async function produce(app: Mainspring, n: number, ms: number, t0: number, progress: { sent: number }) {
  while (progress.sent < n) {
    const count = Math.min(BATCH, n - progress.sent);
    const dueAt = t0 + ((progress.sent + count) / n) * ms;
    const wait = dueAt - now();
    if (wait > 0) await sleep(wait);
    const from = progress.sent;
    await app.queues.sendBatch(
      queue,
      Array.from({ length: count }, (_, k) => ({ body: { i: from + k } })),
    );
    progress.sent += count;
  }
}

interface Result {
  readonly backend: string;
  readonly columns: readonly string[];
  readonly samples: readonly Sample[];
  readonly n: number;
  readonly handledTotal: number;
  readonly missing: number;
  readonly duplicated: number;
  readonly stalled: boolean;
}

async function endurance(probe: Probe, n: number, minutes: number): Promise<Result> {
  const app = await createMainspring({ db: probe.url, queues: [queue] });
  await probe.open();
  const consumer = spawnConsumer(probe.url);
  await consumer.ready;
  const progress = { sent: 0 };
  const t0 = now();
  const sample = async (at: number): Promise<Sample> => {
    const { counts } = await app.queues.stats(queue.name);
    return {
      at: at - t0,
      sent: progress.sent,
      handled: consumer.seen.length,
      backlog: counts.visible,
      inFlight: counts.inFlight,
      rss: consumer.rss,
      heap: consumer.heap,
      sizes: await probe.sizes(),
    };
  };
  const samples: Sample[] = [await sample(t0)];
  let producing = true;
  const producer = produce(app, n, minutes * MINUTE_MS, t0, progress).finally(() => {
    producing = false;
  });
  const drained = async () => {
    if (producing) return false;
    const { counts } = await app.queues.stats(queue.name);
    return counts.visible + counts.inFlight + counts.delayed === 0;
  };
  let done = false;
  let stalled = false;
  let lastHandled = 0;
  let lastProgress = now();
  for (let k = 1; !done; k++) {
    const at = t0 + k * MINUTE_MS;
    while (now() < at) {
      // Once the last batch is sent, look for the end of the drain more often: it ends the last row.
      await sleep(Math.min(producing ? 1000 : 100, at - now()));
      if (consumer.seen.length !== lastHandled) [lastHandled, lastProgress] = [consumer.seen.length, now()];
      if (await drained()) {
        done = true;
        break;
      }
      if (!producing && now() - lastProgress > STALL_MS) {
        console.error(`${probe.backend}: no message handled for ${STALL_MS / 1000} s; giving up`);
        done = stalled = true;
        break;
      }
    }
    if (done) break;
    const s = await sample(at);
    samples.push(s);
    console.error(
      `${probe.backend} minute ${k}: sent ${s.sent}, handled ${s.handled}, backlog ${s.backlog}, ` +
        `queue ${mib(s.sizes.queueBytes)} MiB, records ${mib(s.sizes.recordsBytes)} MiB, RSS ${mib(s.rss)} MiB`,
    );
  }
  await producer;
  const end = now();
  // The consumer's last report comes as it closes: every handled id counted in the last row.
  consumer.stopping = true;
  consumer.proc.stdin!.end();
  await consumer.exited;
  const last = await sample(end);
  samples.push(last);
  await app.close();
  const { missing, duplicated } = accountFor(consumer.seen, n);
  return {
    backend: probe.backend,
    columns: probe.columns,
    samples,
    n,
    handledTotal: consumer.seen.length,
    missing,
    duplicated,
    stalled,
  };
}

const pct = (ratio: number) => `${ratio >= 1 ? '+' : ''}${fmt((ratio - 1) * 100, 1)} %`;

function report(r: Result, minutes: number): void {
  const header = [
    'minute',
    'sent/s',
    'handled/s',
    'backlog',
    'queue table+idx MiB',
    'run records MiB',
    'consumer RSS (heap) MiB',
    ...r.columns,
  ];
  console.log(`\n| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---|').join('')}`);
  const s = r.samples;
  // A row per interval; the last one (the drain's tail after the last send) is usually short.
  const full: { minute: number; handledPerS: number; sample: Sample }[] = [];
  s.forEach((cur, k) => {
    const prev = k > 0 ? s[k - 1]! : null;
    const secs = prev ? (cur.at - prev.at) / 1000 : 0;
    const isFull = prev !== null && Math.abs(secs - 60) < 1;
    const label = k === 0 ? '0 (start)' : isFull ? String(k) : `end (+${fmt(secs, 1)} s)`;
    const rate = (a: number, b: number) => (prev && secs > 0 ? fmt((a - b) / secs) : '—');
    const handledPerS = prev ? (cur.handled - prev.handled) / secs : Number.NaN;
    if (isFull) full.push({ minute: k, handledPerS, sample: cur });
    const cells = [
      label,
      rate(cur.sent, prev?.sent ?? 0),
      rate(cur.handled, prev?.handled ?? 0),
      String(cur.backlog),
      cur.sizes.queueCell,
      mib(cur.sizes.recordsBytes),
      `${mib(cur.rss)} (${mib(cur.heap)})`,
      ...cur.sizes.extra,
    ];
    console.log(`| ${cells.join(' | ')} |`);
  });

  console.log('');
  const distinct = r.n - r.missing;
  const ok = r.missing === 0 && !r.stalled;
  console.log(
    `- handled: ${r.handledTotal} in all, ${distinct} of ${r.n} ids at least once, ` +
      `${r.missing} missing, ${r.duplicated} duplicates → ${ok ? 'every id handled' : 'FAILED'}`,
  );
  const first = full[0];
  const lastFull = full.at(-1);
  if (first && lastFull && lastFull !== first) {
    const ratio = lastFull.handledPerS / first.handledPerS;
    const met = Math.abs(ratio - 1) <= 0.2;
    console.log(
      `- drain rate: minute ${lastFull.minute} ${fmt(lastFull.handledPerS)}/s against minute 1 ` +
        `${fmt(first.handledPerS)}/s (${pct(ratio)}) → ${met ? 'within 20 %' : 'NOT within 20 %'}`,
    );
    // Halves of the full minutes; an odd middle minute is left out.
    const half = Math.floor(full.length / 2);
    const maxOf = (xs: typeof full, f: (x: Sample) => number) => Math.max(...xs.map((x) => f(x.sample)));
    const q1 = maxOf(full.slice(0, half), (x) => x.sizes.queueBytes);
    const q2 = maxOf(full.slice(-half), (x) => x.sizes.queueBytes);
    console.log(
      `- queue table+idx: largest ${mib(q2, 2)} MiB in the last ${half} minute(s) against ${mib(q1, 2)} MiB ` +
        // Within 1 MiB counts as bounded too: a table of a few hundred KiB follows the backlog at the sample.
        `in the first ${half} (${pct(q2 / q1)}) → ${q2 <= q1 * 1.2 || q2 - q1 < 2 ** 20 ? 'bounded' : 'GROWING'}`,
    );
    // As the size: the largest of each half, so the first minute's warm-up (JIT, pools, the
    // heap growing to its working size) is not read as a leak.
    const rss1 = maxOf(full.slice(0, half), (x) => x.rss);
    const rss2 = maxOf(full.slice(-half), (x) => x.rss);
    console.log(
      `- consumer RSS: largest ${mib(rss2)} MiB in the last ${half} minute(s) against ${mib(rss1)} MiB in the ` +
        `first ${half} (${pct(rss2 / rss1)}; minute 1 ${mib(first.sample.rss)}, minute ${lastFull.minute} ` +
        `${mib(lastFull.sample.rss)}) → ${rss2 <= rss1 * 1.1 ? 'flat' : 'GROWING'}`,
    );
  } else {
    console.log('- fewer than two full minutes: no rate, size or RSS trend to compare');
  }
  // Steady state: at no minute did more than 10 s of sends wait.
  const perS = r.n / (minutes * 60);
  const maxBacklog = Math.max(...s.slice(1, -1).map((x) => x.backlog), 0);
  console.log(
    `- backlog: at most ${maxBacklog} visible at a minute's end (${fmt(maxBacklog / perS, 1)} s of sends) → ` +
      `${maxBacklog <= perS * 10 ? 'steady state' : 'NOT steady: the consumer fell behind'}`,
  );
  const rec0 = s[0]!.sizes.recordsBytes;
  const recN = s.at(-1)!.sizes.recordsBytes;
  console.log(
    `- run records: ${mib(rec0)} MiB at the start, ${mib(recN)} MiB at the end ` +
      `(${fmt((recN - rec0) / Math.max(1, r.handledTotal))} bytes per run; kept until runRetention)`,
  );
}

const backendOpt = option('backend') ?? 'both';
if (!['postgres', 'sqlite', 'both'].includes(backendOpt)) {
  console.error(`--backend ${backendOpt}: expected postgres, sqlite or both`);
  process.exit(2);
}
const messages = Number(option('messages') ?? 2_000_000);
const minutes = Number(option('minutes') ?? 10);
console.log(`# endurance benchmark — ${new Date().toISOString().slice(0, 10)} — ${machine()}`);
console.log(
  `\n${messages} messages through one queue over ${minutes} minute(s) (${fmt(messages / (minutes * 60))}/s ` +
    `in batches of ${BATCH}); one consumer process, fromQueue concurrency 50, run records on`,
);
const results: Result[] = [];
for (const b of backendOpt === 'both' ? ['postgres', 'sqlite'] : [backendOpt]) {
  const probe = b === 'postgres' ? await postgresProbe() : sqliteProbe();
  // Said before the run, not after it: a reader watching a 10-minute run sees what it measures.
  console.log(`\n## ${probe.backend}\n`);
  for (const note of probe.notes) console.log(note);
  try {
    const r = await endurance(probe, messages, minutes);
    results.push(r);
    report(r, minutes);
  } finally {
    await probe.drop();
  }
}
const json = results.map((r) => ({
  backend: r.backend,
  handled: r.handledTotal,
  missing: r.missing,
  duplicated: r.duplicated,
  samples: r.samples.map(({ sizes, ...rest }) => ({ ...rest, ...sizes.raw })),
}));
console.log(`\n\`\`\`json\n${JSON.stringify(json)}\n\`\`\``);
if (results.some((r) => r.missing > 0 || r.stalled)) process.exitCode = 1;
process.exit();
