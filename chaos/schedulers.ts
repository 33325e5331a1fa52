// Scheduler replicas killed at random: three `mainspring scheduler` processes on one
// PostgreSQL schema (a fresh one on the shared server; no server restart here) fire an
// every-second schedule; one `mainspring worker --no-scheduler` runs the ticks, its handler
// appending each tick to a file. Each replica independently is SIGKILLed — one kill in five
// during its start-up, the others 0.3–8 s after it runs, half of those in the first 40 ms of
// a second, where the next tick is taken — and restarted after a random 0–1.5 s: two minutes
// of that (20 s with --quick).
//
// The window: from the first whole second after all three first logged "running", plus one,
// to the last whole second before the kills stop. Then the replicas run undisturbed for 5 s
// (3 s with --quick; every tick of the window is then older), stop on SIGTERM, and the
// worker drains. Misfire policy is `skip` with a 60 s grace: a tick is missed only if no
// scheduler ran for a minute, so every tick of the window must fire — the longest stretch
// without a running replica is measured and must stay under the grace. Invariant: each tick
// of the window has exactly one first-attempt run and exactly one handler call, and no tick
// at all has two.
//
// SQLite is not run: a SQLite file belongs to one process (docs/architecture.md; the
// store's capability multiProcess is false), so replicas on one file are not a setup we offer.
// `--sqlite` runs it on one anyway, as an experiment (results in schedulers-sqlite.json).
//
// node --conditions=mainspring-source chaos/schedulers.ts [--quick] [--sqlite]   (~2.5 min; --quick ~30 s)

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summary } from '../bench/lib/stats.ts';
import {
  between,
  describeExit,
  logEntry,
  logged,
  type Proc,
  pgClient,
  scratchDir,
  scratchPgSchema,
  sigkill,
  sleep,
  spawnCli,
  stop,
  writeConfig,
} from './lib/proc.ts';
import { finish, quick } from './lib/report.ts';
import { FUNCTION, MISFIRE_GRACE_MS, schedConfig } from './lib/sched-app.ts';
import { openRuns } from './lib/sched-runs.ts';

const REPLICAS = 3;
const KILL_PHASE_MS = quick ? 20_000 : 120_000;
const LIFETIME_MS: [number, number] = [300, 8000];
const RESTART_DELAY_MS: [number, number] = [0, 1500];
const CALM_MS = quick ? 3000 : 5000;
const READY_TIMEOUT_MS = 60_000;

const dir = scratchDir('schedulers');
/** An experiment, not part of `npm run chaos`: the same on one SQLite file (see above). */
const SQLITE = process.argv.includes('--sqlite');
const store = SQLITE
  ? { url: `sqlite:${join(dir.path, 'app.db')}`, drop: async () => {} }
  : scratchPgSchema('sched');
const config = writeConfig(dir.path, schedConfig(dir.path));
const failures: string[] = [];
/** Warnings and errors the replicas logged: a pass that failed sleeps its backoff. */
const warnings: string[] = [];
const procs: Proc[] = [];
let kills = 0;
let killsDuringStartup = 0;
let serial = 0;

/** Replicas running now (logged "running", not yet killed): for the longest stretch without one. */
const running = new Set<Proc>();
// Counted from the first replica up: start-up is not a gap.
let noneRunningSince: number | null = null;
let everRunning = false;
let longestGapMs = 0;
function setRunning(p: Proc, on: boolean): void {
  if (on) running.add(p);
  else running.delete(p);
  everRunning ||= on;
  const now = Date.now();
  if (running.size === 0 && everRunning && noneRunningSince === null) noneRunningSince = now;
  if (running.size > 0 && noneRunningSince !== null) {
    longestGapMs = Math.max(longestGapMs, now - noneRunningSince);
    noneRunningSince = null;
  }
}

function startReplica(): { proc: Proc; ready: Promise<string> } {
  const proc = spawnCli(['scheduler', '--db', store.url, '-c', config], {
    name: `scheduler#${serial++}`,
    cwd: dir.path,
    tailLines: 500,
  });
  procs.push(proc);
  proc.onLine((line) => {
    const e = logEntry(line);
    if (e && Number(e['level']) >= 40)
      warnings.push(`${new Date().toISOString()} ${proc.name}: ${String(e['msg'])}`);
  });
  const ready = proc.waitForLine(logged('mainspring scheduler running'), READY_TIMEOUT_MS);
  ready.then(
    () => setRunning(proc, proc.exit === null),
    () => {},
  );
  void proc.exited.then(() => setRunning(proc, false));
  return { proc, ready };
}

/**
 * When to kill a replica: one in five at a random moment of its start-up (about 1.5 s),
 * the others a random lifetime after it is running, half of those moved into the first
 * 40 ms of a second. Undefined: the kills stopped first.
 */
async function killMoment(p: Proc, ready: Promise<string>, endAt: number): Promise<number | undefined> {
  if (Math.random() < 0.2) return Date.now() + between(50, 1500);
  await Promise.race([ready.catch(() => {}), sleep(endAt - Date.now())]);
  const at = Date.now() + between(...LIFETIME_MS);
  const moment = Math.random() < 0.5 ? Math.ceil(at / 1000) * 1000 + between(0, 40) : at;
  return moment < endAt && p.exit === null ? moment : undefined;
}

/** One replica's slot: kill and restart until `endAt`, then leave one running; returns it. */
async function slot(first: { proc: Proc; ready: Promise<string> }, endAt: number): Promise<Proc> {
  let current = first;
  for (;;) {
    const at = await killMoment(current.proc, current.ready, endAt);
    if (at === undefined || at >= endAt) return current.proc;
    await Promise.race([sleep(at - Date.now()), current.proc.exited]);
    if (current.proc.exit !== null && !current.proc.killedByUs) {
      failures.push(`a scheduler exited on its own: ${describeExit(current.proc)}`);
      return current.proc;
    }
    if (!running.has(current.proc)) killsDuringStartup++;
    await sigkill(current.proc);
    kills++;
    await sleep(between(...RESTART_DELAY_MS));
    current = startReplica();
  }
}

async function until(done: () => boolean): Promise<void> {
  const give = Date.now() + READY_TIMEOUT_MS;
  while (!done() && Date.now() < give) await sleep(50);
}

let activity: unknown = null;
async function serverActivity(): Promise<unknown> {
  const client = await pgClient(store.url);
  try {
    const { rows } = await client.query(
      `SELECT pid, state, wait_event_type, wait_event, xact_start, query_start, left(query, 200) AS query
         FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    const locks = await client.query(
      'SELECT pid, locktype, mode, relation::regclass::text FROM pg_locks WHERE NOT granted',
    );
    return { sessions: rows, waiting: locks.rows };
  } finally {
    await client.end();
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
const started = Date.now();
let worker: Proc | undefined;
try {
  worker = spawnCli(['worker', '--no-scheduler', '--db', store.url, '-c', config], {
    name: 'worker',
    cwd: dir.path,
  });
  const workerReady = worker.waitForLine(logged('mainspring worker running'), READY_TIMEOUT_MS);
  const firsts = Array.from({ length: REPLICAS }, startReplica);
  await Promise.all([workerReady, ...firsts.map((f) => f.ready)]);
  const upAt = Date.now();
  const firstTick = Math.ceil(upAt / 1000) * 1000 + 1000;
  const killEnd = upAt + KILL_PHASE_MS;
  const lastTick = Math.floor(killEnd / 1000) * 1000;

  const survivors = await Promise.all(firsts.map((f) => slot(f, killEnd)));
  // Undisturbed: the survivors come up, then run CALM_MS (every tick of the window is older).
  for (const s of survivors) if (!running.has(s)) await until(() => running.has(s) || s.exit !== null);
  await sleep(CALM_MS);
  // The server's sessions as the calm ends: a replica waiting on a lock shows here.
  activity = SQLITE ? null : await serverActivity().catch((err: unknown) => `could not read: ${err}`);

  for (const p of procs)
    if (p.exit !== null && !p.killedByUs) failures.push(`a process exited on its own: ${describeExit(p)}`);
  for (const s of survivors) {
    const e = await stop(s, 30_000);
    if (e.code !== 0) failures.push(`${s.name} did not stop cleanly on SIGTERM: ${describeExit(s)}`);
  }

  // The worker drains every run of the window before it stops.
  const db = await openRuns(store.url);
  try {
    const drainUntil = Date.now() + 30_000;
    while ((await db.pending(FUNCTION)) > 0 && Date.now() < drainUntil) await sleep(200);
    const w = await stop(worker, 30_000);
    if (w.code !== 0) failures.push(`the worker did not stop cleanly on SIGTERM: ${describeExit(worker)}`);

    const runs = await db.scheduled(FUNCTION);
    const runsPerTick = new Map<number, number>();
    const late: number[] = [];
    const notSucceeded: string[] = [];
    for (const r of runs) {
      if (r.attempt !== 1) continue;
      const tick = Date.parse((JSON.parse(r.trigger) as { tickAt: string }).tickAt);
      runsPerTick.set(tick, (runsPerTick.get(tick) ?? 0) + 1);
      if (tick >= firstTick && tick <= lastTick) {
        if (r.started_at_ms !== null) late.push(r.started_at_ms - tick);
        if (r.status !== 'succeeded') notSucceeded.push(`${iso(tick)} ${r.status}`);
      }
    }
    const beatsPerTick = new Map<number, number>();
    for (const f of readdirSync(dir.path).filter((n) => n.startsWith('beats-')))
      for (const line of readFileSync(join(dir.path, f), 'utf8').split('\n')) {
        if (!line) continue;
        const tick = Number(line.split(' ')[0]);
        beatsPerTick.set(tick, (beatsPerTick.get(tick) ?? 0) + 1);
      }

    const missing: string[] = [];
    for (let t = firstTick; t <= lastTick; t += 1000) {
      const r = runsPerTick.get(t) ?? 0;
      const b = beatsPerTick.get(t) ?? 0;
      if (r === 0 || b === 0) missing.push(`${iso(t)} (runs ${r}, handler calls ${b})`);
    }
    const duplicated: string[] = [];
    for (const t of new Set([...runsPerTick.keys(), ...beatsPerTick.keys()])) {
      const r = runsPerTick.get(t) ?? 0;
      const b = beatsPerTick.get(t) ?? 0;
      if (r > 1 || b > 1) duplicated.push(`${iso(t)} (runs ${r}, handler calls ${b})`);
    }
    const ticks = (lastTick - firstTick) / 1000 + 1;
    const fired = ticks - missing.length;
    if (missing.length > 0)
      failures.push(`${missing.length} ticks missing: ${missing.slice(0, 10).join('; ')}`);
    if (duplicated.length > 0)
      failures.push(`${duplicated.length} ticks fired twice: ${duplicated.slice(0, 10).join('; ')}`);
    if (notSucceeded.length > 0)
      failures.push(`${notSucceeded.length} runs did not succeed: ${notSucceeded.slice(0, 10).join('; ')}`);
    if (longestGapMs >= MISFIRE_GRACE_MS)
      failures.push(`no scheduler ran for ${longestGapMs} ms, past the misfire grace: ticks may be skipped`);
    if (ticks < (quick ? 10 : 100)) failures.push(`only ${ticks} ticks in the window`);
    if (failures.length > 0 && warnings.length > 0)
      failures.push(`the replicas warned ${warnings.length} times: ${warnings.slice(-10).join('; ')}`);
    const s = summary(late);
    finish({
      scenario: SQLITE ? 'schedulers-sqlite' : 'schedulers',
      ok: failures.length === 0,
      figures: {
        backend: SQLITE ? 'sqlite' : 'postgres',
        replicas: REPLICAS,
        kills,
        kills_during_startup: killsDuringStartup,
        processes_started: procs.length,
        window: `${iso(firstTick)}..${iso(lastTick)}`,
        ticks_expected: ticks,
        fired,
        missing: missing.length,
        duplicated: duplicated.length,
        longest_without_scheduler_ms: longestGapMs,
        replica_warnings: warnings.length,
        late_p50_ms: Math.round(s.p50),
        late_p99_ms: Math.round(s.p99),
        late_max_ms: Math.round(s.max),
        ...(SQLITE ? {} : { sqlite: 'not run: one process per SQLite file' }),
        seconds: Math.round((Date.now() - started) / 1000),
      },
      failures,
    });
  } finally {
    await db.close();
  }
} catch (err) {
  failures.push(`scenario error: ${(err as Error).stack ?? err}`);
  finish({ scenario: 'schedulers', ok: false, figures: { kills }, failures });
} finally {
  for (const p of procs) if (p.exit === null) await sigkill(p);
  if (worker && worker.exit === null) await sigkill(worker);
  if (process.exitCode === 0) {
    dir.remove();
    await store.drop();
  } else {
    // What each process last wrote: a tick no replica fired is explained by their warnings.
    for (const p of [...procs, ...(worker ? [worker] : [])])
      writeFileSync(join(dir.path, `${p.name.replace('#', '-')}.log`), `${p.tail.join('\n')}\n`);
    if (activity !== null)
      writeFileSync(join(dir.path, 'server-activity.json'), JSON.stringify(activity, null, 2));
    console.log(
      `     kept ${dir.path} (with each process's last lines, *.log) and ${store.url} for inspection`,
    );
  }
}
