// The run history on SQLite: runs, the narrow records of one-message queue runs
// (queue_runs, read through the queue_run_rows view in the shape of runs; see migration
// 0013), and their log lines. Reads take both tables as one history. Batches (writes, log
// lines, retention) run in one IMMEDIATE transaction; every other operation is one statement.

import type { SQLInputValue } from 'node:sqlite';
import { SQLITE_DIALECT } from '../dialect.ts';
import {
  LOG_COLUMNS,
  type LogRow,
  listRunsQuery,
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
import { type Connection, type Prepared, prepareAll, type Statement, transaction } from './database.ts';

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

// Store the narrow records of one-message queue runs (see putQueueRunValues), WRITE_ROWS or one
// at a time. A record is written once; a retried write that finds it stored leaves it be.
const INSERT_QUEUE_RUN = `
  INSERT INTO queue_runs (id, source, message_id, status, started_at_ms, finished_at_ms, result, error, log_count)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO NOTHING`;

function tuples(rows: number, width: number): string {
  return Array.from({ length: rows }, () => `(${Array(width).fill('?').join(', ')})`).join(', ');
}

// Store line ?3 of run ?1 (function ?2, at ?4, level ?5, message ?6, fields ?7) unless that seq is stored.
const INSERT_LOG = `
  INSERT INTO run_logs (run_id, function_name, seq, at_ms, level, msg, fields) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
  ON CONFLICT (run_id, seq) DO NOTHING`;

// The oldest ?2 finished runs with an id below ?1 (created before the cutoff); every queue
// run record is finished.
const DOOMED = `SELECT id FROM runs WHERE id < ?1 AND status IN ${TERMINAL} ORDER BY id LIMIT ?2`;
const DOOMED_QUEUE_RUNS = `SELECT id FROM queue_runs WHERE id < ?1 ORDER BY id LIMIT ?2`;

// Runs since a time, by bucket and status: the id range (ids start with their creation time)
// keeps it on the primary key.
// node:sqlite binds numbers as REAL: the division is made whole here.
const BUCKETS = `SELECT CAST((created_at_ms - ?1) / ?2 AS INTEGER) AS bucket, status, count(*) AS count
  FROM (SELECT created_at_ms, status FROM runs WHERE id >= ?3 AND created_at_ms >= ?1
        UNION ALL SELECT started_at_ms, status FROM queue_runs WHERE id >= ?3 AND started_at_ms >= ?1)
  GROUP BY bucket, status`;

const SQL = {
  write: WRITE,
  writeMany: WRITE.replace(/VALUES \([^)]*\)/, `VALUES ${tuples(WRITE_ROWS, RUN_VALUES)}`),
  insertQueueRun: INSERT_QUEUE_RUN,
  insertQueueRuns: INSERT_QUEUE_RUN.replace(
    /VALUES \([^)]*\)/,
    `VALUES ${tuples(WRITE_ROWS, QUEUE_RUN_VALUES)}`,
  ),
  // The id of source (function ?1, queue ?2, rule ?3 or '', owner ?4 or ''), stored the first time.
  addSource: `
  INSERT INTO queue_run_sources (function_name, queue, rule, owner) VALUES (?1, ?2, ?3, ?4)
  ON CONFLICT (function_name, queue, rule, owner) DO NOTHING`,
  sourceId: `SELECT id FROM queue_run_sources WHERE function_name = ?1 AND queue = ?2 AND rule = ?3 AND owner = ?4`,
  // Start queued run ?1 for owner ?2 at ?3 (now, ms); returns the row, or nothing when it is not queued.
  start: `
  UPDATE runs SET status = 'running', started_at_ms = ?3, owner = ?2
   WHERE id = ?1 AND status = 'queued'
  RETURNING ${RUN_COLUMNS}`,
  // One run by id ?1, wherever it is kept.
  get: `SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?1
  UNION ALL SELECT ${RUN_COLUMNS} FROM queue_run_rows WHERE id = ?1`,
  // Cancel run ?1 at ?3 (now, ms): a queued one becomes cancelled with error ?2; a running one records
  // the first cancellation request; a finished one is left as it was. Returns the row after.
  cancel: `
  UPDATE runs
     SET status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
         finished_at_ms = CASE WHEN status = 'queued' THEN ?3 ELSE finished_at_ms END,
         error = CASE WHEN status = 'queued' THEN ?2 ELSE error END,
         cancel_requested_at_ms = CASE WHEN status = 'running' THEN coalesce(cancel_requested_at_ms, ?3)
                                       ELSE cancel_requested_at_ms END
   WHERE id = ?1
  RETURNING ${RUN_COLUMNS}`,
  // Of run ids ?1 (JSON array), the running ones whose cancellation was requested.
  cancelRequested: `
  SELECT id FROM runs
   WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'running' AND cancel_requested_at_ms IS NOT NULL`,
  // Fail the running attempts of invocation ?1 before attempt ?2 with error ?3 at ?4 (now, ms).
  failAbandoned: `
  UPDATE runs SET status = 'failed', finished_at_ms = ?4, error = ?3
   WHERE id >= ?1 || '-' AND id < ?1 || '.' AND invocation_id = ?1 AND attempt < ?2 AND status = 'running'`,
  insertLog: INSERT_LOG,
  // Add ?2 lines to run ?1's count (the record is in one table or the other, or not stored yet).
  countLogs: `UPDATE runs SET log_count = log_count + ?2 WHERE id = ?1`,
  countQueueRunLogs: `UPDATE queue_runs SET log_count = log_count + ?2 WHERE id = ?1`,
  // Up to ?3 lines of run ?1 with seq after ?2, in order.
  logs: `SELECT ${LOG_COLUMNS} FROM run_logs WHERE run_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3`,
  // Up to ?4 lines of every run of function ?1 with id after ?2 and at or after ?3 (ms), in id order.
  functionLogs: `
  SELECT ${LOG_COLUMNS} FROM run_logs
   WHERE function_name = ?1 AND id > ?2 AND at_ms >= ?3
   ORDER BY id LIMIT ?4`,
  // Delete the log lines, then the rows, of those runs (both in one transaction, so the same set).
  deleteLogs: `DELETE FROM run_logs WHERE run_id IN (${DOOMED})`,
  deleteRuns: `DELETE FROM runs WHERE id IN (${DOOMED})`,
  deleteQueueRunLogs: `DELETE FROM run_logs WHERE run_id IN (${DOOMED_QUEUE_RUNS})`,
  deleteQueueRuns: `DELETE FROM queue_runs WHERE id IN (${DOOMED_QUEUE_RUNS})`,
} as const;

export class SqliteRunStore implements RunStore {
  readonly #s: Prepared<typeof SQL>;
  readonly #db: Connection;
  /** The stored id of each consumer's source (see QueueRunSource). */
  readonly #sources = new WeakMap<QueueRunSource, number>();

  constructor(db: Connection) {
    this.#s = prepareAll(db, SQL);
    this.#db = db;
  }

  async write(runs: readonly RunWrite[]): Promise<void> {
    if (runs.length === 0) return;
    const full: RunWrite[] = [];
    const narrow: RunWrite[] = [];
    for (const r of runs) (r.source ? narrow : full).push(r);
    // Sources first, each in a commit of its own: an id remembered must be stored for good.
    for (const r of narrow) this.#sourceOf(r.source!);
    transaction(this.#db, () => {
      writeChunked(full, RUN_VALUES, putRunValues, this.#s.writeMany, this.#s.write);
      const putNarrow = (v: SQLInputValue[], at: number, r: RunWrite) =>
        putQueueRunValues(v, at, r, this.#sourceOf(r.source!));
      writeChunked(narrow, QUEUE_RUN_VALUES, putNarrow, this.#s.insertQueueRuns, this.#s.insertQueueRun);
    });
  }

  #sourceOf(source: QueueRunSource): number {
    let id = this.#sources.get(source);
    if (id === undefined) {
      const key = [source.functionName, source.queue, source.rule ?? '', source.owner ?? ''];
      this.#s.addSource.run(...key);
      id = Number((this.#s.sourceId.get(...key) as { id: number }).id);
      this.#sources.set(source, id);
    }
    return id;
  }

  async start(ids: readonly string[], owner: string, nowMs: number): Promise<RunRow[]> {
    if (ids.length === 0) return [];
    const rows: RunRow[] = [];
    transaction(this.#db, () => {
      for (const id of ids) {
        const row = this.#s.start.get(id, owner, nowMs) as RawRun | undefined;
        if (row) rows.push(toRunRow(row));
      }
    });
    return rows;
  }

  async get(id: string): Promise<RunRow | null> {
    const row = this.#s.get.get(id) as RawRun | undefined;
    return row ? toRunRow(row) : null;
  }

  async list(filter: RunFilter): Promise<RunRow[]> {
    const { sql, params } = listRunsQuery(SQLITE_DIALECT, filter);
    return (this.#db.cached(sql).all(...(params as SQLInputValue[])) as unknown as RawRun[]).map(toRunRow);
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
    const row = this.#s.cancel.get(id, error, nowMs) as RawRun | undefined;
    // A queue run record is finished: it stays as it is.
    return row ? toRunRow(row) : this.get(id);
  }

  async cancelRequested(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = this.#s.cancelRequested.all(JSON.stringify(ids)) as unknown as { id: string }[];
    return rows.map((r) => r.id);
  }

  async failAbandoned(invocationId: string, attempt: number, error: string, nowMs: number): Promise<number> {
    return Number(this.#s.failAbandoned.run(invocationId, attempt, error, nowMs).changes);
  }

  async appendLogs(lines: readonly NewLogLine[]): Promise<void> {
    if (lines.length === 0) return;
    transaction(this.#db, () => {
      const added = new Map<string, number>();
      for (const l of lines) {
        const { changes } = this.#s.insertLog.run(
          l.runId,
          l.functionName,
          l.seq,
          l.atMs,
          l.level,
          l.msg,
          l.fields,
        );
        if (Number(changes) === 1) added.set(l.runId, (added.get(l.runId) ?? 0) + 1);
      }
      for (const [runId, n] of added)
        if (Number(this.#s.countLogs.run(runId, n).changes) === 0) this.#s.countQueueRunLogs.run(runId, n);
    });
  }

  async logs(runId: string, afterSeq: number, limit: number): Promise<LogRow[]> {
    return (this.#s.logs.all(runId, afterSeq, limit) as unknown as RawLog[]).map(toLogRow);
  }

  async functionLogs(
    functionName: string,
    afterId: number,
    sinceMs: number,
    limit: number,
  ): Promise<LogRow[]> {
    const rows = this.#s.functionLogs.all(functionName, afterId, sinceMs, limit);
    return (rows as unknown as RawLog[]).map(toLogRow);
  }

  async deleteFinishedBefore(beforeId: string, limit: number): Promise<number> {
    return transaction(this.#db, () => {
      this.#s.deleteLogs.run(beforeId, limit);
      this.#s.deleteQueueRunLogs.run(beforeId, limit);
      return (
        Number(this.#s.deleteRuns.run(beforeId, limit).changes) +
        Number(this.#s.deleteQueueRuns.run(beforeId, limit).changes)
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

/** WRITE's (and INSERT_RUN's) parameters for one run. */
export function runValues(r: RunWrite): SQLInputValue[] {
  const values = new Array<SQLInputValue>(RUN_VALUES);
  putRunValues(values, 0, r);
  return values;
}
