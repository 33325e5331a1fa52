// The run history on SQLite: runs, the narrow records of one-message queue runs
// (queue_runs, read through the queue_run_rows view in the shape of runs; see migration
// 0013), and their log lines. Reads take both tables as one history. Batches (writes, log
// lines, retention) run in one IMMEDIATE transaction; every other operation is one statement.

import type { SQLInputValue } from 'node:sqlite';
import { Filter, SQLITE_PARAM } from '../filter.ts';
import {
  LOG_COLUMNS,
  type LogRow,
  type NewLogLine,
  putQueueRunValues,
  putRunValues,
  QUEUE_RUN_VALUES,
  type QueueRunSource,
  type RawLog,
  type RawRun,
  RUN_COLUMNS,
  RUN_VALUES,
  type RunFilter,
  type RunRow,
  type RunStatus,
  type RunStore,
  type RunWrite,
  runIdPrefix,
  toLogRow,
  toRunRow,
} from '../run-row.ts';
import { type Connection, type Statement, transaction } from './database.ts';

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
const WRITE_MANY = WRITE.replace(/VALUES \([^)]*\)/, `VALUES ${tuples(WRITE_ROWS, RUN_VALUES)}`);

// Store the narrow records of one-message queue runs (see putQueueRunValues), WRITE_ROWS or one
// at a time. A record is written once; a retried write that finds it stored leaves it be.
const INSERT_QUEUE_RUN = `
  INSERT INTO queue_runs (id, source, message_id, status, started_at_ms, finished_at_ms, result, error, log_count)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO NOTHING`;
const INSERT_QUEUE_RUNS = INSERT_QUEUE_RUN.replace(
  /VALUES \([^)]*\)/,
  `VALUES ${tuples(WRITE_ROWS, QUEUE_RUN_VALUES)}`,
);

// The id of source (function ?1, queue ?2, rule ?3 or '', owner ?4 or ''), stored the first time.
const ADD_SOURCE = `
  INSERT INTO queue_run_sources (function_name, queue, rule, owner) VALUES (?1, ?2, ?3, ?4)
  ON CONFLICT (function_name, queue, rule, owner) DO NOTHING`;
const SOURCE_ID = `SELECT id FROM queue_run_sources WHERE function_name = ?1 AND queue = ?2 AND rule = ?3 AND owner = ?4`;

function tuples(rows: number, width: number): string {
  return Array.from({ length: rows }, () => `(${Array(width).fill('?').join(', ')})`).join(', ');
}

// Start queued run ?1 for owner ?2 at ?3 (now, ms); returns the row, or nothing when it is not queued.
const START = `
  UPDATE runs SET status = 'running', started_at_ms = ?3, owner = ?2
   WHERE id = ?1 AND status = 'queued'
  RETURNING ${RUN_COLUMNS}`;

// One run by id ?1, wherever it is kept.
const GET = `SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?1
  UNION ALL SELECT ${RUN_COLUMNS} FROM queue_run_rows WHERE id = ?1`;

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

// Add ?2 lines to run ?1's count (the record is in one table or the other, or not stored yet).
const COUNT_LOGS = `UPDATE runs SET log_count = log_count + ?2 WHERE id = ?1`;
const COUNT_QUEUE_RUN_LOGS = `UPDATE queue_runs SET log_count = log_count + ?2 WHERE id = ?1`;
/** How many parameters INSERT_LOG takes per line. */
const LOG_VALUES = 7;

// Up to ?3 lines of run ?1 with seq after ?2, in order.
const LOGS = `SELECT ${LOG_COLUMNS} FROM run_logs WHERE run_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3`;

// Up to ?4 lines of every run of function ?1 with id after ?2 and at or after ?3 (ms), in id order.
const FUNCTION_LOGS = `
  SELECT ${LOG_COLUMNS} FROM run_logs
   WHERE function_name = ?1 AND id > ?2 AND at_ms >= ?3
   ORDER BY id LIMIT ?4`;

// The oldest ?2 finished runs with an id below ?1 (created before the cutoff); every queue
// run record is finished.
const DOOMED = `SELECT id FROM runs WHERE id < ?1 AND status IN ${TERMINAL} ORDER BY id LIMIT ?2`;
const DOOMED_QUEUE_RUNS = `SELECT id FROM queue_runs WHERE id < ?1 ORDER BY id LIMIT ?2`;

// Delete the log lines, then the rows, of those runs (both in one transaction, so the same set).
const DELETE_LOGS = `DELETE FROM run_logs WHERE run_id IN (${DOOMED})`;
const DELETE_RUNS = `DELETE FROM runs WHERE id IN (${DOOMED})`;
const DELETE_QUEUE_RUN_LOGS = `DELETE FROM run_logs WHERE run_id IN (${DOOMED_QUEUE_RUNS})`;
const DELETE_QUEUE_RUNS = `DELETE FROM queue_runs WHERE id IN (${DOOMED_QUEUE_RUNS})`;

// The dashboard's search: the input, the error, or any of the run's log lines (LIKE with
// backslash escapes). Bounded by the other filters and the page size: newest first, it stops at
// the page's last match.
const SEARCH = `(r.input LIKE ? ESCAPE '\\' OR r.error LIKE ? ESCAPE '\\' OR EXISTS (
  SELECT 1 FROM run_logs l WHERE l.run_id = r.id AND l.msg LIKE ? ESCAPE '\\'))`;

// Runs since a time, by bucket and status: the id range (ids start with their creation time)
// keeps it on the primary key.
// node:sqlite binds numbers as REAL: the division is made whole here.
const BUCKETS = `SELECT CAST((created_at_ms - ?1) / ?2 AS INTEGER) AS bucket, status, count(*) AS count
  FROM (SELECT created_at_ms, status FROM runs WHERE id >= ?3 AND created_at_ms >= ?1
        UNION ALL SELECT started_at_ms, status FROM queue_runs WHERE id >= ?3 AND started_at_ms >= ?1)
  GROUP BY bucket, status`;

export class SqliteRunStore implements RunStore {
  readonly #db: Connection;
  readonly #write: Statement;
  readonly #start: Statement;
  readonly #get: Statement;
  readonly #cancel: Statement;
  readonly #cancelRequested: Statement;
  readonly #failAbandoned: Statement;
  readonly #writeMany: Statement;
  readonly #insertQueueRun: Statement;
  readonly #insertQueueRuns: Statement;
  readonly #addSource: Statement;
  readonly #sourceId: Statement;
  /** The stored id of each consumer's source (see QueueRunSource). */
  readonly #sources = new WeakMap<QueueRunSource, number>();
  readonly #insertLog: Statement;
  readonly #countLogs: Statement;
  readonly #countQueueRunLogs: Statement;
  readonly #logs: Statement;
  readonly #functionLogs: Statement;
  readonly #deleteLogs: Statement;
  readonly #deleteRuns: Statement;
  readonly #deleteQueueRunLogs: Statement;
  readonly #deleteQueueRuns: Statement;
  /** list() statements by their WHERE clause (at most 2^6 shapes). */
  readonly #lists = new Map<string, Statement>();

  constructor(db: Connection) {
    this.#db = db;
    this.#write = db.prepare(WRITE);
    this.#writeMany = db.prepare(WRITE_MANY);
    this.#insertQueueRun = db.prepare(INSERT_QUEUE_RUN);
    this.#insertQueueRuns = db.prepare(INSERT_QUEUE_RUNS);
    this.#addSource = db.prepare(ADD_SOURCE);
    this.#sourceId = db.prepare(SOURCE_ID);
    this.#start = db.prepare(START);
    this.#get = db.prepare(GET);
    this.#cancel = db.prepare(CANCEL);
    this.#cancelRequested = db.prepare(CANCEL_REQUESTED);
    this.#failAbandoned = db.prepare(FAIL_ABANDONED);
    this.#insertLog = db.prepare(INSERT_LOG);
    this.#countLogs = db.prepare(COUNT_LOGS);
    this.#countQueueRunLogs = db.prepare(COUNT_QUEUE_RUN_LOGS);
    this.#logs = db.prepare(LOGS);
    this.#functionLogs = db.prepare(FUNCTION_LOGS);
    this.#deleteLogs = db.prepare(DELETE_LOGS);
    this.#deleteRuns = db.prepare(DELETE_RUNS);
    this.#deleteQueueRunLogs = db.prepare(DELETE_QUEUE_RUN_LOGS);
    this.#deleteQueueRuns = db.prepare(DELETE_QUEUE_RUNS);
  }

  async write(runs: readonly RunWrite[]): Promise<void> {
    if (runs.length === 0) return;
    const full: RunWrite[] = [];
    const narrow: RunWrite[] = [];
    for (const r of runs) (r.source ? narrow : full).push(r);
    // Sources first, each in a commit of its own: an id remembered must be stored for good.
    for (const r of narrow) this.#sourceOf(r.source!);
    transaction(this.#db, () => {
      writeChunked(full, RUN_VALUES, putRunValues, this.#writeMany, this.#write);
      const putNarrow = (v: SQLInputValue[], at: number, r: RunWrite) =>
        putQueueRunValues(v, at, r, this.#sourceOf(r.source!));
      writeChunked(narrow, QUEUE_RUN_VALUES, putNarrow, this.#insertQueueRuns, this.#insertQueueRun);
    });
  }

  #sourceOf(source: QueueRunSource): number {
    let id = this.#sources.get(source);
    if (id === undefined) {
      const key = [source.functionName, source.queue, source.rule ?? '', source.owner ?? ''];
      this.#addSource.run(...key);
      id = Number((this.#sourceId.get(...key) as { id: number }).id);
      this.#sources.set(source, id);
    }
    return id;
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
    f.add('r.function_name = ?', filter.functionName);
    f.add('r.status = ?', filter.status);
    f.add('r.trigger_kind = ?', filter.triggerKind);
    f.add('r.invocation_id = ?', filter.invocationId);
    if (filter.statuses && filter.statuses.length > 0)
      f.add(`r.status IN (${filter.statuses.map(() => '?').join(', ')})`, ...filter.statuses);
    if (filter.search !== undefined) {
      const like = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      f.add(SEARCH, like, like, like);
    }
    f.add('r.created_at_ms >= ?', filter.fromMs);
    f.add('r.created_at_ms < ?', filter.toMs);
    f.add('r.id < ?', filter.beforeId);
    const { where: clause, limit } = f.end(filter.limit);
    let statement = this.#lists.get(clause);
    if (!statement) {
      // Newest first by id, up to the last parameter (the limit): each table's newest, merged.
      const newest = (table: string) =>
        `SELECT * FROM (SELECT ${RUN_COLUMNS} FROM ${table} r ${clause} ORDER BY id DESC LIMIT ${limit})`;
      statement = this.#db.prepare(
        `${newest('runs')} UNION ALL ${newest('queue_run_rows')} ORDER BY id DESC LIMIT ${limit}`,
      );
      this.#lists.set(clause, statement);
    }
    return (statement.all(...f.params) as unknown as RawRun[]).map(toRunRow);
  }

  async countByBucket(fromMs: number, bucketMs: number) {
    const rows = this.#db.prepare(BUCKETS).all(fromMs, bucketMs, runIdPrefix(fromMs)) as {
      bucket: number;
      status: RunStatus;
      count: number;
    }[];
    return rows.map((r) => ({ bucket: Number(r.bucket), status: r.status, count: Number(r.count) }));
  }

  async cancel(id: string, error: string, nowMs: number): Promise<RunRow | null> {
    const row = this.#cancel.get(id, error, nowMs) as RawRun | undefined;
    // A queue run record is finished: it stays as it is.
    return row ? toRunRow(row) : this.get(id);
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
    transaction(this.#db, () => {
      const added = new Map<string, number>();
      const values = new Array<SQLInputValue>(LOG_VALUES);
      for (const l of lines) {
        putLogValues(values, 0, l);
        const { changes } = this.#insertLog.run(...values);
        if (Number(changes) === 1) added.set(l.runId, (added.get(l.runId) ?? 0) + 1);
      }
      for (const [runId, n] of added)
        if (Number(this.#countLogs.run(runId, n).changes) === 0) this.#countQueueRunLogs.run(runId, n);
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
      this.#deleteQueueRunLogs.run(beforeId, limit);
      return (
        Number(this.#deleteRuns.run(beforeId, limit).changes) +
        Number(this.#deleteQueueRuns.run(beforeId, limit).changes)
      );
    });
  }
}

/** Runs `many` for each WRITE_ROWS runs (one buffer, refilled: a statement copies what it binds), then `one` for each left. */
function writeChunked(
  runs: readonly RunWrite[],
  width: number,
  put: (v: SQLInputValue[], at: number, r: RunWrite) => void,
  many: Statement,
  one: Statement,
): void {
  let i = 0;
  if (runs.length >= WRITE_ROWS) {
    const values = new Array<SQLInputValue>(WRITE_ROWS * width);
    for (; i + WRITE_ROWS <= runs.length; i += WRITE_ROWS) {
      for (let k = 0; k < WRITE_ROWS; k++) put(values, k * width, runs[i + k]!);
      many.run(...values);
    }
  }
  const values = new Array<SQLInputValue>(width);
  for (; i < runs.length; i++) {
    put(values, 0, runs[i]!);
    one.run(...values);
  }
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
