// Run records off the event loop. Every finished run costs an INSERT into runs (about
// 3 µs of SQLite's CPU time with its indexes and commit), on the same thread that claims
// and acks every message. Once this process writes to the file in earnest (the moment
// checkpoints move to their thread), a second worker thread with its own connection takes
// the run records and log lines over; the main thread only hands it values. Both threads
// take the file's WriteLock before writing, so neither meets the other inside SQLite's busy
// handler, and the writer commits early whenever the main thread is waiting for it.
// Shared by every store this process opens on the file.

import type { SQLInputValue } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { MainspringError } from '../../core/errors.ts';
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

// Values cross to the thread by column, since cloning every value costs the main thread
// about 0.9 µs a run. A column with one value for the whole batch (function, status,
// owner, the nulls) is sent once; a numeric one as a Float64Array (NaN for null); a text one
// as one string joined by SEP, with NUL for null. A text value holding SEP makes the thread
// count too many and refuse the batch (E_ENCODING); it then gets the plain array.
const SEP = '\u001f';
const NUL = '\u0000';
const E_ENCODING = 'E_ENCODING';

type Column =
  | { readonly same: SQLInputValue }
  | { readonly numbers: Float64Array }
  | { readonly text: string };

/** `rows` rows of `width` values, by column; null when a value fits none of the forms. */
export function byColumn(
  values: readonly SQLInputValue[],
  rows: number,
  width: number,
  numeric: readonly boolean[],
): Column[] | null {
  const columns = new Array<Column>(width);
  for (let c = 0; c < width; c++) {
    const first = values[c]!;
    let r = 1;
    while (r < rows && values[r * width + c] === first) r++;
    if (r === rows) {
      columns[c] = { same: first };
    } else if (numeric[c]) {
      const numbers = new Float64Array(rows);
      for (r = 0; r < rows; r++) {
        const v = values[r * width + c];
        if (v === null) numbers[r] = Number.NaN;
        else if (typeof v === 'number' && !Number.isNaN(v)) numbers[r] = v;
        else return null;
      }
      columns[c] = { numbers };
    } else {
      const text = new Array<string>(rows);
      for (r = 0; r < rows; r++) {
        const v = values[r * width + c];
        if (v === null) text[r] = NUL;
        else if (typeof v === 'string' && v !== NUL) text[r] = v;
        else return null;
      }
      columns[c] = { text: text.join(SEP) };
    }
  }
  return columns;
}

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
const [SEP, NUL, E_ENCODING] = [${JSON.stringify(SEP)}, ${JSON.stringify(NUL)}, ${JSON.stringify(E_ENCODING)}];
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
// The flat values of a message: as sent, or rebuilt from its columns (see byColumn).
function decode(m, width) {
  if (!m.columns) return m.values;
  const rows = m.rows;
  const values = new Array(rows * width);
  for (let c = 0; c < width; c++) {
    const col = m.columns[c];
    if ('same' in col) {
      for (let r = 0; r < rows; r++) values[r * width + c] = col.same;
    } else if ('numbers' in col) {
      for (let r = 0; r < rows; r++) values[r * width + c] = Number.isNaN(col.numbers[r]) ? null : col.numbers[r];
    } else {
      const parts = col.text.split(SEP);
      if (parts.length !== rows) throw Object.assign(new Error('a value holds the separator'), { code: E_ENCODING });
      for (let r = 0; r < rows; r++) values[r * width + c] = parts[r] === NUL ? null : parts[r];
    }
  }
  return values;
}
function writeRuns(m) {
  const width = sql.valuesPerRun;
  const values = decode(m, width);
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
  const values = decode(m, width);
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

type Message = { kind: 'runs' | 'logs'; rows: number; split: boolean } & (
  | { columns: Column[] }
  | { values: SQLInputValue[] }
);

function flags(width: number, set: readonly number[]): boolean[] {
  return Array.from({ length: width }, (_, i) => set.includes(i));
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface Entry {
  readonly path: string;
  readonly lock: WriteLock;
  users: number;
  writer: RunWriter | null;
}

const entries = new Map<string, Entry>();

/** The file's write lock, shared by every connection of this process (refcounted by path). */
export function acquireFile(path: string): WriteLock {
  let entry = entries.get(path);
  if (!entry) {
    entry = { path, lock: new WriteLock(), users: 0, writer: null };
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
  readonly #lock: WriteLock;
  readonly #sql: RunWriterSql;
  readonly #runNumeric: boolean[];
  readonly #lineNumeric: boolean[];
  readonly #thread: Worker;
  readonly #waiting = new Map<number, Waiter>();
  readonly #exited: Promise<void>;
  #next = 1;
  #ready = false;

  constructor(path: string, lock: WriteLock, sql: RunWriterSql) {
    this.#lock = lock;
    this.#sql = sql;
    this.#runNumeric = flags(sql.valuesPerRun, sql.runNumbers);
    this.#lineNumeric = flags(sql.valuesPerLine, sql.lineNumbers);
    this.#thread = new Worker(THREAD, { eval: true, workerData: { path, buffer: lock.buffer, sql } });
    this.#thread.unref();
    this.#exited = new Promise((resolve) => this.#thread.once('exit', () => resolve()));
    this.#thread.on('message', (m: 'running' | { id: number; error?: string; code?: string }) => {
      if (m === 'running') {
        this.#ready = true;
        return;
      }
      const waiter = this.#waiting.get(m.id);
      this.#waiting.delete(m.id);
      if (this.#waiting.size === 0) this.#thread.unref();
      if (m.error === undefined) waiter?.resolve();
      else waiter?.reject(Object.assign(new Error(m.error), m.code ? { code: m.code } : {}));
    });
    // A thread that cannot open the file, or dies, hands the writes back to the main thread.
    this.#thread.once('error', (err) => this.#stop(err));
    this.#thread.once('exit', () => this.#stop(null));
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Writes runs (`valuesPerRun` values each, flat); `split`: they may commit in parts. */
  writeRuns(values: SQLInputValue[], split: boolean): Promise<void> {
    return this.#send('runs', values, this.#sql.valuesPerRun, this.#runNumeric, split);
  }

  /** Appends log lines (`valuesPerLine` values each, flat). */
  appendLogs(values: SQLInputValue[]): Promise<void> {
    return this.#send('logs', values, this.#sql.valuesPerLine, this.#lineNumeric, false);
  }

  async #send(
    kind: 'runs' | 'logs',
    values: SQLInputValue[],
    width: number,
    numeric: readonly boolean[],
    split: boolean,
  ): Promise<void> {
    const rows = values.length / width;
    const columns = byColumn(values, rows, width, numeric);
    try {
      await this.#post(columns ? { kind, rows, split, columns } : { kind, rows, split, values });
    } catch (err) {
      if (columns === null || (err as { code?: unknown }).code !== E_ENCODING) throw err;
      await this.#post({ kind, rows, split, values });
    }
  }

  #post(message: Message): Promise<void> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      // Held while it has work: the process must not exit with records unwritten.
      if (this.#waiting.size === 0) this.#thread.ref();
      this.#waiting.set(id, { resolve, reject });
      this.#thread.postMessage({ id, ...message });
    });
  }

  /** Lets the queued writes finish, then closes the thread's connection. */
  async close(): Promise<void> {
    this.#thread.ref();
    this.#thread.postMessage('close');
    await this.#exited;
  }

  #stop(err: Error | null): void {
    if (this.#lock.active) this.#lock.setActive(false);
    this.#ready = false;
    this.#lock.breakWriterHold();
    for (const w of this.#waiting.values()) {
      w.reject(
        new MainspringError(
          'E_STORE_WRITER',
          `the SQLite run writer thread stopped: ${err?.message ?? 'exited'}`,
          {
            cause: err,
          },
        ),
      );
    }
    this.#waiting.clear();
  }
}
