// SQLite under kill -9: a sending process (chaos/lib/sqlite-sender.ts, the library) sends
// numbered messages to a queue on a SQLite file and prints each number only once send()
// resolved; it is SIGKILLed at a random moment (sometimes while it opens the store) and
// restarted, continuing after the highest number it tried, again and again. Meanwhile a
// `mainspring worker` consumes the queue, its handler appending each number to a file.
// Invariants, checked once the last sender is killed and the worker stopped (SIGTERM):
// `PRAGMA integrity_check` is ok, and every acknowledged number is present exactly once —
// still in the messages table or consumed by the handler, never both, never twice.
// Numbers stored but killed before their acknowledgement was printed are counted apart.
//
// node --conditions=mainspring-source chaos/sqlite-kill.ts [--quick]   (~3 min; --quick ~20 s)

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  between,
  describeExit,
  type Proc,
  scratchDir,
  sigkill,
  sleep,
  spawnCli,
  spawnNode,
  stop,
  writeConfig,
} from './lib/proc.ts';
import { finish, quick } from './lib/report.ts';
import { sqliteConfig } from './lib/sqlite-app.ts';

const KILLS = quick ? 10 : 60;
/** One kill in five lands in the first ~1.2 s after the spawn, often while the store opens. */
const STARTUP_KILL_MS: [number, number] = [50, 1200];
/** The others this long after the sender is ready (sending). */
const SENDING_MS: [number, number] = quick ? [0, 800] : [0, 2500];
const SENDER = join(import.meta.dirname, 'lib', 'sqlite-sender.ts');

const dir = scratchDir('sqlite-kill');
const dbPath = join(dir.path, 'app.db');
const url = `sqlite:${dbPath}`;
const config = writeConfig(dir.path, sqliteConfig(dir.path));
const failures: string[] = [];

const acknowledged = new Set<number>();
let highestTried = -1;
let failedSends = 0;
let killsBeforeReady = 0;
let kills = 0;

function startSender(k: number): { proc: Proc; ready: () => boolean; readyLine: Promise<string> } {
  const proc = spawnNode(SENDER, [url, String(highestTried + 1)], { name: `sender#${k}`, cwd: dir.path });
  let ready = false;
  const readyLine = proc.waitForLine((l) => l === 'ready', 60_000);
  readyLine.catch(() => {});
  proc.onLine((line) => {
    const [word, a, b] = line.split(' ');
    if (word === 'ready') ready = true;
    else if (word === 'try') highestTried = Math.max(highestTried, Number(b));
    else if (word === 'ack') for (let n = Number(a); n <= Number(b); n++) acknowledged.add(n);
    else if (word === 'fail') failedSends++;
  });
  return { proc, ready: () => ready, readyLine };
}

const started = Date.now();
let worker: Proc | undefined;
try {
  worker = spawnCli(['worker', '--no-scheduler', '--db', url, '-c', config], {
    name: 'worker',
    cwd: dir.path,
  });
  // The worker creates the file and migrates it; then the senders start.
  await worker.waitForLine((l) => l.includes('"mainspring worker running"'), 60_000);

  for (let k = 0; k < KILLS; k++) {
    const sender = startSender(k);
    if (Math.random() < 0.2) await sleep(between(...STARTUP_KILL_MS));
    else {
      await sender.readyLine.catch(() => {});
      await sleep(between(...SENDING_MS));
    }
    if (sender.proc.exit !== null) {
      failures.push(`a sender exited before it was killed: ${describeExit(sender.proc)}`);
      break;
    }
    if (!sender.ready()) killsBeforeReady++;
    await sigkill(sender.proc);
    kills++;
    if (worker.exit !== null) break;
  }

  if (worker.exit !== null) failures.push(`the worker exited on its own: ${describeExit(worker)}`);
  const stopped = await stop(worker, 30_000);
  if (stopped.code !== 0)
    failures.push(`the worker did not stop cleanly on SIGTERM: ${describeExit(worker)}`);

  // The evidence: the messages table, and what the handler consumed.
  const db = new DatabaseSync(dbPath);
  const integrity = (db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[])
    .map((r) => r.integrity_check)
    .join('; ');
  const stored = (db.prepare('SELECT body FROM messages').all() as { body: string }[]).map(
    (r) => (JSON.parse(r.body) as { n: number }).n,
  );
  db.close();
  const consumed: number[] = [];
  for (const f of readdirSync(dir.path).filter((n) => n.startsWith('consumed-')))
    for (const line of readFileSync(join(dir.path, f), 'utf8').split('\n'))
      if (line) consumed.push(Number(line));

  const counts = new Map<number, number>();
  for (const n of [...stored, ...consumed]) counts.set(n, (counts.get(n) ?? 0) + 1);
  const lost = [...acknowledged].filter((n) => !counts.has(n));
  let duplicates = 0;
  const duplicated: number[] = [];
  for (const [n, c] of counts)
    if (c > 1) {
      duplicates += c - 1;
      duplicated.push(n);
    }
  const unacknowledged = [...counts.keys()].filter((n) => !acknowledged.has(n)).length;
  const neverTried = [...counts.keys()].filter((n) => n > highestTried).length;

  if (integrity !== 'ok') failures.push(`PRAGMA integrity_check: ${integrity}`);
  if (lost.length > 0)
    failures.push(
      `${lost.length} acknowledged numbers are not in the store (e.g. ${lost.slice(0, 10).join(', ')})`,
    );
  if (duplicates > 0)
    failures.push(`${duplicates} extra copies, e.g. of ${duplicated.slice(0, 10).join(', ')}`);
  if (neverTried > 0) failures.push(`${neverTried} numbers in the store were never sent`);
  if (acknowledged.size === 0) failures.push('no send was acknowledged: nothing was checked');

  finish({
    scenario: 'sqlite-kill',
    ok: failures.length === 0,
    figures: {
      kills,
      kills_during_startup: killsBeforeReady,
      acknowledged: acknowledged.size,
      present: acknowledged.size - lost.length,
      lost: lost.length,
      duplicates,
      stored_not_acknowledged: unacknowledged,
      failed_sends: failedSends,
      still_queued: stored.length,
      consumed: consumed.length,
      integrity,
      seconds: Math.round((Date.now() - started) / 1000),
    },
    failures,
  });
} catch (err) {
  failures.push(`scenario error: ${(err as Error).stack ?? err}`);
  finish({ scenario: 'sqlite-kill', ok: false, figures: { kills }, failures });
} finally {
  if (worker && worker.exit === null) await sigkill(worker);
  if (process.exitCode === 0) dir.remove();
  else console.log(`     kept ${dir.path} for inspection`);
}
