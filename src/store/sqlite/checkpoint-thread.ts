// The SQLite checkpoint thread (started by checkpointer.ts with the file's path): a PASSIVE
// checkpoint, which never blocks readers or writers, every 50 ms while the log keeps growing,
// backing off to 1 s while it does not. It answers 'close' by closing its connection, so the
// store's own connection is the last and removes the log when it closes.

import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const FAST_MS = 50;
const SLOW_MS = 1000;

const port = parentPort!;
const db = new DatabaseSync((workerData as { path: string }).path);
db.exec('PRAGMA busy_timeout = 5000');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
let delay = FAST_MS;
let timer: NodeJS.Timeout | null = null;
let closed = false;
let last = '';

function pass(): void {
  timer = null;
  const r = checkpoint.get() as { log: number; checkpointed: number };
  const now = `${r.log}/${r.checkpointed}`;
  delay = now !== last ? FAST_MS : Math.min(delay * 2, SLOW_MS);
  last = now;
  if (!closed) timer = setTimeout(pass, delay);
}

port.on('message', (m: unknown) => {
  if (m !== 'close') return;
  closed = true;
  if (timer) clearTimeout(timer);
  db.close();
  port.close();
});
port.postMessage('running');
pass();
