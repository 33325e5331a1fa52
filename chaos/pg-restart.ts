// PostgreSQL restarted under load: senders (the library, in this process) and `mainspring
// worker` processes keep going while the disposable cluster is restarted again and again,
// alternately a fast shutdown and a crash (immediate: recovery on start). Invariants: every
// send that got a success back is handled (0 lost), no worker process exits, and each stops
// cleanly on SIGTERM afterwards. Duplicates (acks a crash forgot) are counted.
//
// node --conditions=mainspring-source chaos/pg-restart.ts [--quick]   (~90 s; --quick ~25 s)

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

const RESTARTS = quick ? 2 : 10;
const WORKERS = 3;
const SENDERS = 4;
const EVERY_MS = quick ? 3000 : 5000;

const fleet = await createFleet();
const failures: string[] = [];
let restarts = 0;
try {
  await Promise.all(Array.from({ length: WORKERS }, () => fleet.startWorker().ready));
  const ms = await sender(fleet.url);
  const sends = { next: 0, acknowledged: new Set<number>(), failedSends: 0 };
  let stop = false;
  const sending = sendUntil(ms, SENDERS, () => stop, sends);
  const started = Date.now();
  await sleep(EVERY_MS);
  for (; restarts < RESTARTS; restarts++) {
    await fleet.cluster.restart({ mode: restarts % 2 === 0 ? 'fast' : 'immediate', downMs: 500 });
    await sleep(EVERY_MS);
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
    scenario: 'pg-restart',
    ok: failures.length === 0,
    figures: {
      restarts,
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
