// What the PostgreSQL chaos scenarios share (pg-workers, pg-restart, pg-terminate): a
// disposable cluster (test/helpers/pg-cluster.ts, never the shared 5432 server), an app whose
// handler writes each message's number to a file of its process — evidence that does not
// depend on the connections being cut — `mainspring worker` processes, senders that count
// the sends they got a success back for, and the tally: lost, duplicates, process exits.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { createMainspring, type Mainspring } from '../../src/app.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { PgCluster } from '../../test/helpers/pg-cluster.ts';

const REPO = join(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'src', 'cli', 'main.ts');
const src = (p: string) => pathToFileURL(join(REPO, 'src', p)).href;

export const QUEUE = 'chaos';
/** Short, so a message whose worker was killed or whose ack was cut comes back soon. */
export const VISIBILITY = '3s';

export interface Fleet {
  readonly cluster: PgCluster;
  readonly dir: string;
  readonly url: string;
  /** Workers started, by pid. */
  readonly workers: Map<number, WorkerProcess>;
  /** Exits we did not cause: the invariant is that there are none. */
  readonly unexpectedExits: string[];
  startWorker(): WorkerProcess;
  /** The numbers every handler call wrote, duplicates included. */
  processed(): number[];
  destroy(): Promise<void>;
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Set before we kill it, so its exit counts as ours. */
  killedByUs: boolean;
  exited: boolean;
  /** Warnings it logged about a lost store connection. */
  connectionWarnings: number;
  /** Resolves once it logs that it is running (start-up reads the store: cut then, it fails). */
  readonly ready: Promise<void>;
  isReady: boolean;
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: string;
}

/** A cluster, the app's config in a temp folder, and its schema migrated. */
export async function createFleet(
  options: { concurrency?: number; handlerMs?: number } = {},
): Promise<Fleet> {
  const cluster = await PgCluster.create();
  const dir = mkdtempSync(join(tmpdir(), 'mainspring-chaos-'));
  const url = cluster.url('chaos');
  writeFileSync(
    join(dir, 'mainspring.config.ts'),
    `import { appendFileSync } from 'node:fs';
import { defineConfig } from '${src('config.ts')}';
import { defineQueue } from '${src('queue/define.ts')}';
import { defineFunction, fromQueue } from '${src('runtime/function.ts')}';

const chaos = defineQueue({ name: '${QUEUE}', visibilityTimeout: '${VISIBILITY}' });
const audit = defineQueue({ name: 'audit' });
const out = ${JSON.stringify(dir)} + '/processed-' + process.pid + '.txt';

export default defineConfig({
  queues: [chaos, audit],
  functions: [
    defineFunction({
      name: 'handle',
      triggers: [fromQueue(chaos, { concurrency: ${options.concurrency ?? 10} })],
      handler: async (body: { n: number }, ctx) => {
        // Idempotent fan-out: a transaction on a connection checked out of the pool.
        if (body.n % 4 === 0) await ctx.queues.send(audit, body, { dedupKey: String(body.n) });
        ${options.handlerMs ? `await new Promise((r) => setTimeout(r, ${options.handlerMs}));` : ''}
        appendFileSync(out, body.n + '\\n');
      },
    }),
  ],
  worker: { pollIntervalMs: 250 },
  log: { level: 'info' },
});
`,
  );
  // Creates the schema and the queues before any worker or sender races to.
  const ms = await sender(url);
  await ms.close();

  const workers = new Map<number, WorkerProcess>();
  const unexpectedExits: string[] = [];
  return {
    cluster,
    dir,
    url,
    workers,
    unexpectedExits,
    startWorker() {
      const child = spawn(process.execPath, ['--conditions=mainspring-source', CLI, 'worker', '--db', url], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, DATABASE_URL: undefined, MAINSPRING_LOG_FORMAT: 'json' },
      });
      let up = () => {};
      const w: WorkerProcess = {
        child,
        pid: child.pid!,
        killedByUs: false,
        exited: false,
        connectionWarnings: 0,
        stderr: '',
        ready: new Promise<void>((resolve) => {
          up = resolve;
        }),
        isReady: false,
        closed: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))),
      };
      workers.set(w.pid, w);
      child.stderr!.on('data', (d: Buffer) => {
        w.stderr = (w.stderr + d).slice(-20000);
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (/lost (its|the) connection/.test(line)) w.connectionWarnings++;
        else if (line.includes('"mainspring worker running"')) {
          w.isReady = true;
          up();
        }
      });
      child.on('close', (code, signal) => {
        w.exited = true;
        if (!w.killedByUs)
          unexpectedExits.push(
            `worker ${w.pid} exited (code ${code}, signal ${signal}): ${w.stderr.slice(0, 3000)}`,
          );
      });
      return w;
    },
    processed() {
      const out: number[] = [];
      for (const f of readdirSync(dir).filter((n) => n.startsWith('processed-'))) {
        for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line) out.push(Number(line));
      }
      return out;
    },
    async destroy() {
      for (const w of workers.values()) if (!w.exited) w.child.kill('SIGKILL');
      await cluster.destroy();
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A producer: the library, in this process, on the same store. */
export function sender(url: string): Promise<Mainspring> {
  return createMainspring({ db: url, queues: [defineQueue({ name: QUEUE, visibilityTimeout: VISIBILITY })] });
}

/** Kills a worker (SIGKILL) as chaos, not as a failure. */
export function kill(w: WorkerProcess): void {
  w.killedByUs = true;
  w.child.kill('SIGKILL');
}

/**
 * Sends numbered messages from `loops` concurrent loops until `stop()` is true; a send that
 * resolves is acknowledged, one that throws (its connection was cut) is only attempted.
 */
export async function sendUntil(
  ms: Mainspring,
  loops: number,
  stop: () => boolean,
  tally: { next: number; acknowledged: Set<number>; failedSends: number },
): Promise<void> {
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (!stop()) {
        const n = tally.next++;
        try {
          await ms.queues.send(QUEUE, { n });
          tally.acknowledged.add(n);
        } catch {
          tally.failedSends++;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }),
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until every acknowledged number was processed, or until the workers made no progress
 * for `idleMs` (a busy machine drains slowly; a lost message never comes). Returns the missing.
 */
export async function drain(fleet: Fleet, acknowledged: Iterable<number>, idleMs: number): Promise<number[]> {
  const want = [...acknowledged];
  let seenCount = -1;
  let progressAt = Date.now();
  for (;;) {
    const seen = new Set(fleet.processed());
    const missing = want.filter((n) => !seen.has(n));
    if (missing.length === 0) return missing;
    if (seen.size !== seenCount) {
      seenCount = seen.size;
      progressAt = Date.now();
    } else if (Date.now() - progressAt > idleMs) return missing;
    await sleep(250);
  }
}

/**
 * Stops the live workers with SIGTERM, as an operator would; each must exit 0. Returns the
 * tally's process-exit figures.
 */
export async function stopWorkers(fleet: Fleet): Promise<void> {
  const live = [...fleet.workers.values()].filter((w) => !w.exited);
  // A process still loading has no signal handlers yet: SIGTERM would kill it outright.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(live.map((w) => Promise.race([w.ready, w.closed]))),
    new Promise((r) => {
      timer = setTimeout(r, 180_000);
    }),
  ]);
  clearTimeout(timer);
  await Promise.all(
    live
      .filter((w) => !w.exited)
      .map(async (w) => {
        if (!w.isReady)
          fleet.unexpectedExits.push(`worker ${w.pid} never finished starting: ${w.stderr.slice(0, 3000)}`);
        w.killedByUs = true;
        w.child.kill('SIGTERM');
        const timer = setTimeout(() => w.child.kill('SIGKILL'), 45_000);
        const { code, signal } = await w.closed;
        clearTimeout(timer);
        if (code !== 0)
          fleet.unexpectedExits.push(
            `worker ${w.pid} did not stop cleanly on SIGTERM (code ${code}, signal ${signal}): ${w.stderr.slice(0, 3000)}`,
          );
      }),
  );
}

/**
 * Where the missing numbers' messages are, read from the store: still queued (when, how often
 * received), dead-lettered, or not stored at all — the line a failure report carries.
 */
export async function whereAre(fleet: Fleet, missing: readonly number[]): Promise<string> {
  if (missing.length === 0) return '';
  const c = new pg.Client({ connectionString: fleet.cluster.url() });
  await c.connect();
  try {
    const { rows } = await c.query<{
      n: number;
      queue: string;
      receive_count: number;
      leased: boolean;
      visible_at_ms: number;
      errors: unknown;
    }>(
      `SELECT (body::jsonb->>'n')::int AS n, queue, receive_count, leased, visible_at_ms, errors
         FROM chaos.messages WHERE queue = 'chaos' AND (body::jsonb->>'n')::int = ANY($1::int[])`,
      [missing],
    );
    const now = Date.now();
    const leased = rows.filter((r) => r.leased).length;
    const later = rows.filter((r) => !r.leased && r.visible_at_ms > now).length;
    const sample = rows.find((r) => r.errors !== null);
    return `${missing.length} missing: ${rows.length} still in the queue (${leased} leased, ${later} due later, max receives ${Math.max(0, ...rows.map((r) => r.receive_count))}), ${missing.length - rows.length} not in the queue${sample ? `; an error: ${JSON.stringify(sample.errors).slice(0, 400)}` : ''}`;
  } finally {
    await c.end();
  }
}

/** Lost and duplicate counts of acknowledged numbers against what the handlers wrote. */
export function tally(fleet: Fleet, acknowledged: ReadonlySet<number>) {
  const processed = fleet.processed();
  const counts = new Map<number, number>();
  for (const n of processed) counts.set(n, (counts.get(n) ?? 0) + 1);
  let lost = 0;
  for (const n of acknowledged) if (!counts.has(n)) lost++;
  let duplicates = 0;
  for (const c of counts.values()) duplicates += c - 1;
  let connectionWarnings = 0;
  for (const w of fleet.workers.values()) connectionWarnings += w.connectionWarnings;
  return { processed: processed.length, unique: counts.size, lost, duplicates, connectionWarnings };
}
