// Run records off the event loop. Every finished run costs an INSERT into runs (about
// 3 µs of SQLite's CPU time with its indexes and commit), on the same thread that claims
// and acks every message. Once this process writes to the file in earnest (the moment
// checkpoints move to their thread), a second worker thread with its own connection takes
// the run records and log lines over; the main thread only hands it values. Both threads
// take the file's WriteLock before writing, so neither meets the other inside SQLite's busy
// handler, and the writer commits early whenever the main thread is waiting for it.
// Shared by every store this process opens on the file.

import type { SQLInputValue } from 'node:sqlite';
import { COLUMN_CONSTANTS, type ColumnBatch, decodeColumns, numericFlags, sendByColumn } from '../columns.ts';
import { WriterThread } from '../writer-thread.ts';
import { FREE, LOCK_CELL, MAIN_WAITING_CELL, WRITER, WRITER_WAITING_CELL, WriteLock } from './write-lock.ts';

/** The statements the thread runs, from the run store (one source of truth for the SQL). */
export interface RunWriterSql {
  /** One run: `valuesPerRun` parameters. */
  readonly writeOne: string;
  /** `runsPerChunk` runs at once. */
  readonly writeMany: string;
  readonly valuesPerRun: number;
  readonly runsPerChunk: number;
  /** Which of a run's values are numbers (or null). */
  readonly runNumbers: readonly number[];
  /** One log line: `valuesPerLine` parameters, run id first; changes 0 when already stored. */
  readonly insertLog: string;
  readonly valuesPerLine: number;
  /** Which of a line's values are numbers (or null). */
  readonly lineNumbers: readonly number[];
  /** Adds ?2 lines to run ?1's count. */
  readonly countLogs: string;
}

/** Log lines per transaction chunk: a chunk's lines and their counts commit together. */
const LINES_PER_CHUNK = 100;

// The thread. Writes each message's chunks in one IMMEDIATE transaction; a batch marked
// `split` (runs believed new, each independent of the others) and log lines commit between
// chunks when the main thread is waiting, so it waits for one chunk at most.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const { path, buffer, sql } = workerData;
const cell = new Int32Array(buffer);
const [LOCK, WAITING, SLEEPING] = [${LOCK_CELL}, ${MAIN_WAITING_CELL}, ${WRITER_WAITING_CELL}];
const [FREE, WRITER] = [${FREE}, ${WRITER}];
${COLUMN_CONSTANTS}
const db = new DatabaseSync(path);
db.exec('PRAGMA busy_timeout = 5000');
db.exec('PRAGMA synchronous = NORMAL');
db.exec('PRAGMA wal_autocheckpoint = 10000');
const one = db.prepare(sql.writeOne);
const many = db.prepare(sql.writeMany);
const insertLog = db.prepare(sql.insertLog);
const countLogs = db.prepare(sql.countLogs);
let held = false;

function begin() {
  for (;;) {
    if (Atomics.load(cell, WAITING) === 0 && Atomics.compareExchange(cell, LOCK, FREE, WRITER) === FREE) break;
    // Flagged before the holder is read again, so a release after this reading wakes it. A
    // free lock is only waited on while the main thread is about to take it.
    Atomics.store(cell, SLEEPING, 1);
    const holder = Atomics.load(cell, LOCK);
    if (holder !== FREE || Atomics.load(cell, WAITING) !== 0) Atomics.wait(cell, LOCK, holder, 1);
    Atomics.store(cell, SLEEPING, 0);
  }
  held = true;
  db.exec('BEGIN IMMEDIATE');
}
function end(ok) {
  try {
    if (db.isTransaction) db.exec(ok ? 'COMMIT' : 'ROLLBACK');
  } finally {
    if (db.isTransaction) db.exec('ROLLBACK');
    held = false;
    Atomics.store(cell, LOCK, FREE);
    Atomics.notify(cell, LOCK);
  }
}
function yieldIfWanted() {
  if (Atomics.load(cell, WAITING) === 0) return;
  end(true);
  begin();
}
function inTransaction(work) {
  begin();
  let ok = false;
  try {
    work();
    ok = true;
  } finally {
    if (held) end(ok);
  }
}
${decodeColumns.toString()}
function writeRuns(m) {
  const width = sql.valuesPerRun;
  const values = decodeColumns(m, width);
  const chunk = sql.runsPerChunk * width;
  inTransaction(() => {
    let at = 0;
    for (; at + chunk <= values.length; at += chunk) {
      if (at > 0 && m.split) yieldIfWanted();
      many.run(...values.slice(at, at + chunk));
    }
    for (; at < values.length; at += width) one.run(...values.slice(at, at + width));
  });
}
function appendLogs(m) {
  const width = sql.valuesPerLine;
  const values = decodeColumns(m, width);
  inTransaction(() => {
    for (let from = 0; from < m.rows; from += ${LINES_PER_CHUNK}) {
      if (from > 0) yieldIfWanted();
      const added = new Map();
      const to = Math.min(m.rows, from + ${LINES_PER_CHUNK});
      for (let l = from; l < to; l++) {
        const line = values.slice(l * width, (l + 1) * width);
        if (Number(insertLog.run(...line).changes) === 1) added.set(line[0], (added.get(line[0]) ?? 0) + 1);
      }
      for (const [runId, n] of added) countLogs.run(runId, n);
    }
  });
}
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    if (m.kind === 'runs') writeRuns(m);
    else appendLogs(m);
    parentPort.postMessage({ id: m.id });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String(err && err.message), code: err && err.code });
  }
});
parentPort.postMessage('running');
`;

type Message = { kind: 'runs' | 'logs'; split: boolean } & ColumnBatch;

interface Entry {
  readonly lock: WriteLock;
  users: number;
  writer: RunWriter | null;
}

const entries = new Map<string, Entry>();

/** The file's write lock, shared by every connection of this process (refcounted by path). */
export function acquireFile(path: string): WriteLock {
  let entry = entries.get(path);
  if (!entry) {
    entry = { lock: new WriteLock(), users: 0, writer: null };
    entries.set(path, entry);
  }
  entry.users++;
  return entry.lock;
}

/** Drops one user of the file; the last stops the writer thread once its queue is written. */
export async function releaseFile(path: string): Promise<void> {
  const entry = entries.get(path);
  if (!entry || --entry.users > 0) return;
  entries.delete(path);
  await entry.writer?.close();
}

/**
 * The file is written in earnest (see checkpointer.ts): the writer thread starts, idle until
 * the first run write. Started now rather than then so that write does not wait for it.
 */
export function markBusy(path: string, sql: RunWriterSql): void {
  const entry = entries.get(path);
  if (entry) entry.writer ??= new RunWriter(path, entry.lock, sql);
}

/**
 * The file's writer thread, when it runs; null while writes belong on the main thread. The
 * lock is switched on by the first run write: a process that records no runs never pays for it.
 */
export function runWriterOf(path: string): RunWriter | null {
  const entry = entries.get(path);
  if (!entry?.writer?.ready) return null;
  if (!entry.lock.active) entry.lock.setActive(true);
  return entry.writer;
}

export class RunWriter {
  readonly #sql: RunWriterSql;
  readonly #runNumeric: boolean[];
  readonly #lineNumeric: boolean[];
  readonly #thread: WriterThread;

  constructor(path: string, lock: WriteLock, sql: RunWriterSql) {
    this.#sql = sql;
    this.#runNumeric = numericFlags(sql.valuesPerRun, sql.runNumbers);
    this.#lineNumeric = numericFlags(sql.valuesPerLine, sql.lineNumbers);
    // A thread that cannot open the file, or dies, hands the writes back to the main thread.
    this.#thread = new WriterThread(
      'SQLite run writer thread',
      THREAD,
      { path, buffer: lock.buffer, sql },
      () => {
        if (lock.active) lock.setActive(false);
        lock.breakWriterHold();
      },
    );
  }

  get ready(): boolean {
    return this.#thread.ready;
  }

  /** Writes runs (`valuesPerRun` values each, flat); `split`: they may commit in parts. */
  writeRuns(values: SQLInputValue[], split: boolean): Promise<void> {
    return this.#send('runs', values, this.#sql.valuesPerRun, this.#runNumeric, split);
  }

  /** Appends log lines (`valuesPerLine` values each, flat). */
  appendLogs(values: SQLInputValue[]): Promise<void> {
    return this.#send('logs', values, this.#sql.valuesPerLine, this.#lineNumeric, false);
  }

  /** Lets the queued writes finish, then closes the thread's connection. */
  close(): Promise<void> {
    return this.#thread.close();
  }

  #send(
    kind: 'runs' | 'logs',
    values: SQLInputValue[],
    width: number,
    numeric: readonly boolean[],
    split: boolean,
  ): Promise<void> {
    const post = (batch: ColumnBatch) => this.#thread.post({ kind, split, ...batch } satisfies Message);
    return sendByColumn(post, values, width, numeric);
  }
}
