// The run history on SQLite: runs and their log lines. Batches (writes, log lines,
// retention) run in one IMMEDIATE transaction; every other operation is one statement.

import type { SQLInputValue } from 'node:sqlite';
import { Filter, SQLITE_PARAM } from '../filter.ts';
import {
  LOG_COLUMNS,
  type LogRow,
  type NewLogLine,
  putRunValues,
  type RawLog,
  type RawRun,
  RUN_COLUMNS,
  RUN_NUMBERS,
  RUN_VALUES,
  type RunFilter,
  type RunRow,
  type RunStore,
  type RunWrite,
  toLogRow,
  toRunRow,
} from '../run-row.ts';
import { type Connection, type Statement, transaction } from './database.ts';
import type { RunWriter, RunWriterSql } from './run-writer.ts';

const TERMINAL = `('succeeded', 'failed', 'timed_out', 'cancelled')`;

// Write run ?1 (function ?2, invocation ?3, attempt ?4, status ?5, trigger kind ?6, trigger ?7, input ?8,
// scheduled for ?9, created ?10, started ?11, finished ?12, result ?13, error ?14, owner ?15, log count ?16):
// inserts it, or updates a stored row that is still queued or running. A stored row keeps its
// created_at_ms and cancel_requested_at_ms, and its log_count unless the writer counted more.
const WRITE = `
  INSERT INTO runs (id, function_name, invocation_id, attempt, status, trigger_kind, trigger, input,
                    scheduled_for_ms, created_at_ms, started_at_ms, finished_at_ms, result, error, owner, log_count)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
  ON CONFLICT (id) DO UPDATE
     SET function_name = excluded.function_name, invocation_id = excluded.invocation_id,
         attempt = excluded.attempt, status = excluded.status, trigger_kind = excluded.trigger_kind,
         trigger = excluded.trigger, input = excluded.input, scheduled_for_ms = excluded.scheduled_for_ms,
         started_at_ms = excluded.started_at_ms,
         finished_at_ms = excluded.finished_at_ms, result = excluded.result, error = excluded.error,
         owner = excluded.owner, log_count = max(log_count, excluded.log_count)
   WHERE status IN ('queued', 'running')`;

// WRITE for WRITE_ROWS runs at once (the same 16 values per run, in order): one statement
// binds them all, about a third cheaper per run than a statement per run.
const WRITE_ROWS = 50;

/** WRITE without its conflict handling: for runs known to be new (fired by a scheduler). */
export const INSERT_RUN = WRITE.slice(0, WRITE.indexOf('ON CONFLICT'));
const WRITE_MANY = WRITE.replace(
  /VALUES \([^)]*\)/,
  `VALUES ${Array.from({ length: WRITE_ROWS }, () => `(${Array(RUN_VALUES).fill('?').join(', ')})`).join(', ')}`,
);

// Start queued run ?1 for owner ?2 at ?3 (now, ms); returns the row, or nothing when it is not queued.
const START = `
  UPDATE runs SET status = 'running', started_at_ms = ?3, owner = ?2
   WHERE id = ?1 AND status = 'queued'
  RETURNING ${RUN_COLUMNS}`;

// One run by id ?1.
const GET = `SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?1`;

// Cancel run ?1 at ?3 (now, ms): a queued one becomes cancelled with error ?2; a running one records
// the first cancellation request; a finished one is left as it was. Returns the row after.
const CANCEL = `
  UPDATE runs
     SET status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
         finished_at_ms = CASE WHEN status = 'queued' THEN ?3 ELSE finished_at_ms END,
         error = CASE WHEN status = 'queued' THEN ?2 ELSE error END,
         cancel_requested_at_ms = CASE WHEN status = 'running' THEN coalesce(cancel_requested_at_ms, ?3)
                                       ELSE cancel_requested_at_ms END
   WHERE id = ?1
  RETURNING ${RUN_COLUMNS}`;

// Of run ids ?1 (JSON array), the running ones whose cancellation was requested.
const CANCEL_REQUESTED = `
  SELECT id FROM runs
   WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'running' AND cancel_requested_at_ms IS NOT NULL`;

// Fail the running attempts of invocation ?1 before attempt ?2 with error ?3 at ?4 (now, ms).
const FAIL_ABANDONED = `
  UPDATE runs SET status = 'failed', finished_at_ms = ?4, error = ?3
   WHERE id >= ?1 || '-' AND id < ?1 || '.' AND invocation_id = ?1 AND attempt < ?2 AND status = 'running'`;

// Store line ?3 of run ?1 (function ?2, at ?4, level ?5, message ?6, fields ?7) unless that seq is stored.
const INSERT_LOG = `
  INSERT INTO run_logs (run_id, function_name, seq, at_ms, level, msg, fields) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
  ON CONFLICT (run_id, seq) DO NOTHING`;

// Add ?2 lines to run ?1's count.
const COUNT_LOGS = `UPDATE runs SET log_count = log_count + ?2 WHERE id = ?1`;
/** How many parameters INSERT_LOG takes per line. */
const LOG_VALUES = 7;

/** What the run writer thread runs: the same statements as the main thread. */
export const RUN_WRITER_SQL: RunWriterSql = {
  writeOne: WRITE,
  writeMany: WRITE_MANY,
  valuesPerRun: RUN_VALUES,
  runsPerChunk: WRITE_ROWS,
  runNumbers: RUN_NUMBERS,
  insertLog: INSERT_LOG,
  valuesPerLine: LOG_VALUES,
  // seq, at (see putLogValues)
  lineNumbers: [2, 3],
  countLogs: COUNT_LOGS,
};

// Up to ?3 lines of run ?1 with seq after ?2, in order.
const LOGS = `SELECT ${LOG_COLUMNS} FROM run_logs WHERE run_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3`;

// Up to ?4 lines of every run of function ?1 with id after ?2 and at or after ?3 (ms), in id order.
const FUNCTION_LOGS = `
  SELECT ${LOG_COLUMNS} FROM run_logs
   WHERE function_name = ?1 AND id > ?2 AND at_ms >= ?3
   ORDER BY id LIMIT ?4`;

// The oldest ?2 finished runs with an id below ?1 (created before the cutoff).
const DOOMED = `SELECT id FROM runs WHERE id < ?1 AND status IN ${TERMINAL} ORDER BY id LIMIT ?2`;

// Delete the log lines, then the rows, of those runs (both in one transaction, so the same set).
const DELETE_LOGS = `DELETE FROM run_logs WHERE run_id IN (${DOOMED})`;
const DELETE_RUNS = `DELETE FROM runs WHERE id IN (${DOOMED})`;

export class SqliteRunStore implements RunStore {
  readonly #db: Connection;
  readonly #write: Statement;
  readonly #start: Statement;
  readonly #get: Statement;
  readonly #cancel: Statement;
  readonly #cancelRequested: Statement;
  readonly #failAbandoned: Statement;
  readonly #writeMany: Statement;
  readonly #insertLog: Statement;
  readonly #countLogs: Statement;
  readonly #logs: Statement;
  readonly #functionLogs: Statement;
  readonly #deleteLogs: Statement;
  readonly #deleteRuns: Statement;
  /** list() statements by their WHERE clause (at most 2^6 shapes). */
  readonly #lists = new Map<string, Statement>();

  /** The file's writer thread while it runs (see run-writer.ts). */
  readonly #writer: () => RunWriter | null;

  constructor(db: Connection, writer: () => RunWriter | null = () => null) {
    this.#db = db;
    this.#writer = writer;
    this.#write = db.prepare(WRITE);
    this.#writeMany = db.prepare(WRITE_MANY);
    this.#start = db.prepare(START);
    this.#get = db.prepare(GET);
    this.#cancel = db.prepare(CANCEL);
    this.#cancelRequested = db.prepare(CANCEL_REQUESTED);
    this.#failAbandoned = db.prepare(FAIL_ABANDONED);
    this.#insertLog = db.prepare(INSERT_LOG);
    this.#countLogs = db.prepare(COUNT_LOGS);
    this.#logs = db.prepare(LOGS);
    this.#functionLogs = db.prepare(FUNCTION_LOGS);
    this.#deleteLogs = db.prepare(DELETE_LOGS);
    this.#deleteRuns = db.prepare(DELETE_RUNS);
  }

  async write(runs: readonly RunWrite[], options?: { readonly fresh?: boolean }): Promise<void> {
    if (runs.length === 0) return;
    const writer = this.#writer();
    // New runs are independent of each other: the thread may commit them in parts.
    if (writer) {
      const values = new Array<SQLInputValue>(runs.length * RUN_VALUES);
      for (let i = 0; i < runs.length; i++) putRunValues(values, i * RUN_VALUES, runs[i]!);
      return writer.writeRuns(values, options?.fresh === true);
    }
    transaction(this.#db, () => {
      for (const c of chunked(runs)) (c.length === RUN_VALUES ? this.#write : this.#writeMany).run(...c);
    });
  }

  async start(ids: readonly string[], owner: string, nowMs: number): Promise<RunRow[]> {
    if (ids.length === 0) return [];
    const rows: RunRow[] = [];
    transaction(this.#db, () => {
      for (const id of ids) {
        const row = this.#start.get(id, owner, nowMs) as RawRun | undefined;
        if (row) rows.push(toRunRow(row));
      }
    });
    return rows;
  }

  async get(id: string): Promise<RunRow | null> {
    const row = this.#get.get(id) as RawRun | undefined;
    return row ? toRunRow(row) : null;
  }

  async list(filter: RunFilter): Promise<RunRow[]> {
    const f = new Filter<SQLInputValue>(SQLITE_PARAM);
    f.add('function_name = ?', filter.functionName);
    f.add('status = ?', filter.status);
    f.add('trigger_kind = ?', filter.triggerKind);
    f.add('created_at_ms >= ?', filter.fromMs);
    f.add('created_at_ms < ?', filter.toMs);
    f.add('id < ?', filter.beforeId);
    const { where: clause, limit } = f.end(filter.limit);
    let statement = this.#lists.get(clause);
    if (!statement) {
      // Newest first by id, up to the last parameter (the limit).
      statement = this.#db.prepare(
        `SELECT ${RUN_COLUMNS} FROM runs ${clause} ORDER BY id DESC LIMIT ${limit}`,
      );
      this.#lists.set(clause, statement);
    }
    return (statement.all(...f.params) as unknown as RawRun[]).map(toRunRow);
  }

  async cancel(id: string, error: string, nowMs: number): Promise<RunRow | null> {
    const row = this.#cancel.get(id, error, nowMs) as RawRun | undefined;
    return row ? toRunRow(row) : null;
  }

  async cancelRequested(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = this.#cancelRequested.all(JSON.stringify(ids)) as unknown as { id: string }[];
    return rows.map((r) => r.id);
  }

  async failAbandoned(invocationId: string, attempt: number, error: string, nowMs: number): Promise<number> {
    return Number(this.#failAbandoned.run(invocationId, attempt, error, nowMs).changes);
  }

  async appendLogs(lines: readonly NewLogLine[]): Promise<void> {
    if (lines.length === 0) return;
    const writer = this.#writer();
    if (writer) {
      const values = new Array<SQLInputValue>(lines.length * LOG_VALUES);
      for (let i = 0; i < lines.length; i++) putLogValues(values, i * LOG_VALUES, lines[i]!);
      return writer.appendLogs(values);
    }
    transaction(this.#db, () => {
      const added = new Map<string, number>();
      const values = new Array<SQLInputValue>(LOG_VALUES);
      for (const l of lines) {
        putLogValues(values, 0, l);
        const { changes } = this.#insertLog.run(...values);
        if (Number(changes) === 1) added.set(l.runId, (added.get(l.runId) ?? 0) + 1);
      }
      for (const [runId, n] of added) this.#countLogs.run(runId, n);
    });
  }

  async logs(runId: string, afterSeq: number, limit: number): Promise<LogRow[]> {
    return (this.#logs.all(runId, afterSeq, limit) as unknown as RawLog[]).map(toLogRow);
  }

  async functionLogs(
    functionName: string,
    afterId: number,
    sinceMs: number,
    limit: number,
  ): Promise<LogRow[]> {
    const rows = this.#functionLogs.all(functionName, afterId, sinceMs, limit);
    return (rows as unknown as RawLog[]).map(toLogRow);
  }

  async deleteFinishedBefore(beforeId: string, limit: number): Promise<number> {
    return transaction(this.#db, () => {
      this.#deleteLogs.run(beforeId, limit);
      return Number(this.#deleteRuns.run(beforeId, limit).changes);
    });
  }
}

/** WRITE_MANY's parameters for each WRITE_ROWS runs, then WRITE's for each run left over. */
function chunked(runs: readonly RunWrite[]): SQLInputValue[][] {
  const chunks: SQLInputValue[][] = [];
  let i = 0;
  for (; i + WRITE_ROWS <= runs.length; i += WRITE_ROWS) {
    const values = new Array<SQLInputValue>(WRITE_ROWS * RUN_VALUES);
    for (let k = 0; k < WRITE_ROWS; k++) putRunValues(values, k * RUN_VALUES, runs[i + k]!);
    chunks.push(values);
  }
  for (; i < runs.length; i++) chunks.push(runValues(runs[i]!));
  return chunks;
}

function putLogValues(v: SQLInputValue[], at: number, l: NewLogLine): void {
  v[at] = l.runId;
  v[at + 1] = l.functionName;
  v[at + 2] = l.seq;
  v[at + 3] = l.atMs;
  v[at + 4] = l.level;
  v[at + 5] = l.msg;
  v[at + 6] = l.fields;
}

/** WRITE's (and INSERT_RUN's) parameters for one run. */
export function runValues(r: RunWrite): SQLInputValue[] {
  const values = new Array<SQLInputValue>(RUN_VALUES);
  putRunValues(values, 0, r);
  return values;
}
