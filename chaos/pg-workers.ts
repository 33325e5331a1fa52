// Worker processes killed: several `mainspring worker` processes drain N messages on a
// disposable PostgreSQL cluster while one of them is killed (SIGKILL) every second and a new
// one started in its place. Invariants: no message lost (each killed worker's leased messages
// come back after the visibility timeout), no process exits but the ones killed, and the
// survivors stop cleanly on SIGTERM. Duplicates (a message handled by a worker killed before
// its ack) are counted, not refused: delivery is at least once.
//
// node --conditions=mainspring-source chaos/pg-workers.ts [--quick]   (~60 s; --quick ~20 s)

import { createFleet, drain, kill, sender, sleep, stopWorkers, tally, whereAre } from './lib/pg-fleet.ts';
import { finish, quick } from './lib/report.ts';

const MESSAGES = quick ? 3_000 : 30_000;
const WORKERS = 4;
const MIN_KILLS = quick ? 5 : 30;

const fleet = await createFleet({ handlerMs: 2 });
const failures: string[] = [];
let kills = 0;
try {
  const ms = await sender(fleet.url);
  const acknowledged = new Set<number>();
  for (let n = 0; n < MESSAGES; n += 500) {
    const batch = Array.from({ length: Math.min(500, MESSAGES - n) }, (_, i) => ({ body: { n: n + i } }));
    await ms.queues.sendBatch('chaos', batch);
    for (const { body } of batch) acknowledged.add(body.n);
  }
  await ms.close();

  await Promise.all(Array.from({ length: WORKERS }, () => fleet.startWorker().ready));
  const started = Date.now();
  // One kill a second, for as long as there is work left (and at least MIN_KILLS times).
  while (kills < MIN_KILLS || new Set(fleet.processed()).size < MESSAGES) {
    await sleep(1000);
    // Killed once up: one killed while loading its config would test nothing of ours.
    const live = [...fleet.workers.values()].filter((w) => w.isReady && !w.exited && !w.killedByUs);
    const victim = live[Math.floor(Math.random() * live.length)];
    if (victim) {
      kill(victim);
      kills++;
      fleet.startWorker();
    }
    if (Date.now() - started > (quick ? 90_000 : 600_000)) break;
  }
  const missing = await drain(fleet, acknowledged, 30_000);
  await stopWorkers(fleet);
  const t = tally(fleet, acknowledged);
  if (t.lost > 0)
    failures.push(
      `${t.lost} acknowledged messages were never handled (e.g. ${missing.slice(0, 5).join(', ')})`,
    );
  if (t.lost > 0) failures.push(await whereAre(fleet, missing));
  failures.push(...fleet.unexpectedExits);
  finish({
    scenario: 'pg-workers',
    ok: failures.length === 0,
    figures: {
      messages: MESSAGES,
      workers: WORKERS,
      kills,
      workers_started: fleet.workers.size,
      handled: t.processed,
      lost: t.lost,
      duplicates: t.duplicates,
      process_exits: fleet.unexpectedExits.length,
      seconds: Math.round((Date.now() - started) / 1000),
    },
    failures,
  });
} finally {
  await fleet.destroy();
}
