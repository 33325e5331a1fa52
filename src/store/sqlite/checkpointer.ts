// WAL checkpoints off the event loop. With journal_mode = WAL and synchronous = NORMAL a
// commit only appends pages to the log; the fsyncs come with checkpoints, which SQLite runs
// inside whichever commit takes the log past 1000 pages — on the one thread that runs
// every claim, ack and run record. Once this process writes to the file in earnest, a worker
// thread with a connection of its own takes checkpoints over, and the store's connections
// keep only a far higher limit as a backstop, should the thread fall behind. Shared by every
// store this process opens on the file.

import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';

/** SQLite's own default: a commit that takes the log past this many pages checkpoints. */
const INLINE_PAGES = 1000;
/** The backstop while the thread checkpoints: the log stays under ~40 MB even if it stalls. */
const BACKSTOP_PAGES = 10_000;
/**
 * This many rows written through this process's connections means it writes in earnest: worth
 * a thread (~40 ms of CPU to start). A short command reading the file never gets one.
 */
const HANDOVER_CHANGES = 10_000;
/** How often a file not yet handed over is looked at (real time: this is I/O housekeeping). */
const WATCH_MS = 50;

// The thread's module: .ts when the library runs from its sources (tests), .js from dist/.
const THREAD = new URL(
  `./checkpoint-thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

interface Entry {
  readonly path: string;
  /** Each connection, with its `total_changes()` query (prepared once, read every look). */
  readonly connections: Map<DatabaseSync, StatementSync>;
  watch: NodeJS.Timeout | null;
  thread: Worker | null;
  exited: Promise<void> | null;
  /** Whether the thread has taken checkpoints over. */
  running: boolean;
}

const entries = new Map<string, Entry>();

/** Registers a connection to a file; checkpoints move to a thread once the file is busy. */
export function attachCheckpointer(path: string, db: DatabaseSync): void {
  let entry = entries.get(path);
  if (!entry) {
    entry = {
      path,
      connections: new Map(),
      watch: null,
      thread: null,
      exited: null,
      running: false,
    };
    entries.set(path, entry);
    const e = entry;
    e.watch = setInterval(() => watch(e), WATCH_MS).unref();
  }
  entry.connections.set(db, db.prepare('SELECT total_changes() AS n'));
  if (entry.running) db.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`);
}

/** Unregisters a connection (before it closes); the last one stops the thread. */
export async function detachCheckpointer(path: string, db: DatabaseSync): Promise<void> {
  const entry = entries.get(path);
  if (!entry?.connections.delete(db) || entry.connections.size > 0) return;
  entries.delete(path);
  if (entry.watch) clearInterval(entry.watch);
  // Held until it has closed its connection: the process may have nothing else to wait for.
  entry.thread?.ref();
  entry.thread?.postMessage('close');
  await entry.exited;
}

function watch(entry: Entry): void {
  let changes = 0;
  for (const changed of entry.connections.values()) changes += (changed.get() as { n: number }).n;
  if (changes < HANDOVER_CHANGES) return;
  if (entry.watch) clearInterval(entry.watch);
  entry.watch = null;
  start(entry);
}

function start(entry: Entry): void {
  const thread = new Worker(THREAD, { workerData: { path: entry.path } });
  thread.unref();
  entry.thread = thread;
  entry.exited = new Promise((resolve) => thread.once('exit', () => resolve()));
  thread.once('message', () => {
    if (entries.get(entry.path) !== entry) return;
    entry.running = true;
    for (const db of entry.connections.keys()) db.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  });
  // A thread that cannot open the file leaves checkpoints where SQLite puts them by default.
  thread.once('error', () => {
    entry.running = false;
    for (const db of entry.connections.keys())
      if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${INLINE_PAGES}`);
  });
}
