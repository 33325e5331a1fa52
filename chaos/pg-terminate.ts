// Connections terminated in a loop: every client session of the disposable cluster is ended
// with pg_terminate_backend (as an administrator or a failover does), hundreds of times,
// while senders (the library, in this process) send and `mainspring worker` processes drain.
// Invariants: every send that got a success back is handled (0 lost), no worker process
// exits, and each stops cleanly on SIGTERM afterwards. Duplicates are counted.
//
// node --conditions=mainspring-source chaos/pg-terminate.ts [--quick]   (~90 s; --quick ~15 s)

import {
  createFleet,
  drain,
  sender,
  sendUntil,
  sleep,
  stopWorkers,
  tally,
  whereAre,
} from './lib/pg-fleet.ts';
import { finish, quick } from './lib/report.ts';

const TERMINATIONS = quick ? 40 : 500;
const WORKERS = 3;
const SENDERS = 4;
const EVERY_MS = 150;

const fleet = await createFleet();
const failures: string[] = [];
let terminations = 0;
let sessionsEnded = 0;
try {
  await Promise.all(Array.from({ length: WORKERS }, () => fleet.startWorker().ready));
  const ms = await sender(fleet.url);
  const sends = { next: 0, acknowledged: new Set<number>(), failedSends: 0 };
  let stop = false;
  const sending = sendUntil(ms, SENDERS, () => stop, sends);
  const started = Date.now();
  await sleep(2000);
  for (; terminations < TERMINATIONS; terminations++) {
    sessionsEnded += await fleet.cluster.terminateAll();
    // Some cuts land at once, some after the pools have filled again.
    await sleep(EVERY_MS * (0.5 + Math.random()));
  }
  stop = true;
  await sending;
  await ms.close();
  const missing = await drain(fleet, sends.acknowledged, 60_000);
  const exitsDuringChaos = fleet.unexpectedExits.length;
  await stopWorkers(fleet);
  const t = tally(fleet, sends.acknowledged);
  if (t.lost > 0)
    failures.push(`${t.lost} acknowledged sends were never handled (e.g. ${missing.slice(0, 5).join(', ')})`);
  if (t.lost > 0) failures.push(await whereAre(fleet, missing));
  failures.push(...fleet.unexpectedExits);
  finish({
    scenario: 'pg-terminate',
    ok: failures.length === 0,
    figures: {
      terminations,
      sessions_terminated: sessionsEnded,
      workers: WORKERS,
      senders: SENDERS,
      acknowledged: sends.acknowledged.size,
      failed_sends: sends.failedSends,
      handled: t.processed,
      lost: t.lost,
      duplicates: t.duplicates,
      process_exits: exitsDuringChaos,
      connection_warnings: t.connectionWarnings,
      seconds: Math.round((Date.now() - started) / 1000),
    },
    failures,
  });
} finally {
  await fleet.destroy();
}
