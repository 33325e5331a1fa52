// The sending process of chaos/sqlite-kill.ts: sends numbered messages `{ n }` to the queue
// `chaos` of a SQLite store, one at a time or in small batches, until it is killed.
//   node --conditions=mainspring-source chaos/lib/sqlite-sender.ts <store URL> <first n>
// Protocol on stdout:
//   ready              the store is open
//   try A B            about to send A..B (the next process continues after the highest B tried)
//   ack A B            send() / sendBatch() resolved for A..B: they must be in the store
//   fail A B CODE      it threw: A..B may or may not be stored

import { writeSync } from 'node:fs';
import { createMainspring } from '../../src/app.ts';
import { sqliteQueue } from './sqlite-app.ts';

const [url, firstArg] = process.argv.slice(2);
if (!url || firstArg === undefined) throw new Error('usage: sqlite-sender.ts <store URL> <first n>');
let next = Number(firstArg);

// Written synchronously, so `try` is out before the send starts and `ack` before the next:
// stdout is a non-blocking pipe, so a full pipe (EAGAIN) is waited out rather than buffered.
function out(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  for (let at = 0; at < bytes.length; ) {
    try {
      at += writeSync(1, bytes, at);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EAGAIN') throw err;
    }
  }
}

const ms = await createMainspring({ db: url, queues: [sqliteQueue] });
out('ready');
for (;;) {
  // One send in five is a batch: a batch is stored whole or not at all.
  const size = Math.random() < 0.2 ? 2 + Math.floor(Math.random() * 19) : 1;
  const a = next;
  const b = next + size - 1;
  next = b + 1;
  out(`try ${a} ${b}`);
  try {
    if (size === 1) await ms.queues.send(sqliteQueue, { n: a });
    else
      await ms.queues.sendBatch(
        sqliteQueue,
        Array.from({ length: size }, (_, i) => ({ body: { n: a + i } })),
      );
    out(`ack ${a} ${b}`);
  } catch (err) {
    out(`fail ${a} ${b} ${(err as { code?: string }).code ?? (err as Error).message}`);
  }
  // As a producer inside a server would: timers and the store's worker threads get their turn.
  await new Promise((r) => setImmediate(r));
}
