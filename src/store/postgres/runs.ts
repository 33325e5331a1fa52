// The run history on PostgreSQL: runs, the narrow records of one-message queue runs
// (queue_runs, read through the queue_run_rows view in the shape of runs; see migration
// 0011), and their log lines. Reads take both tables as one history. Every operation is one
// statement; batches (writes, log lines) pass one JSON array, whatever their size.

import type pg from 'pg';
import { PG_DIALECT } from '../dialect.ts';
import {
  LOG_COLUMNS,
  type LogRow,
  listRunsQuery,
  type NewLogLine,
  putQueueRunValues,
  putRunValues,
  QUEUE_RUN_VALUES,
  type QueueRunSource,
  type RawRun,
  RUN_COLUMNS,
  RUN_VALUES,
  type RunFilter,
  type RunRow,
  type RunStatus,
  type RunStore,
  type RunWrite,
  runIdPrefix,
  TERMINAL_STATUSES,
  toLogRow,
  toRunRow,
} from '../run-row.ts';
import { arrayLiteral } from './array-literal.ts';
import { readRow, readRows } from './connect.ts';

const TERMINAL = `('succeeded', 'failed', 'timed_out', 'cancelled')`;

// Write runs ($1: a JSON array with one array per run, its values in runParams' order, one per id):
// inserts each, or updates a stored row that is still queued or running. A stored row keeps its
// cancel_requested_at_ms, and its log_count unless the writer counted more. One JSON text of
// arrays costs the client less than half what 16 arrays do (node-postgres escapes every element
// of a text array in JavaScript), and the server less than json_to_recordset over objects.
const WRITE = `
  INSERT INTO runs (id, function_name, invocation_id, attempt, status, trigger_kind, trigger, input,
                    scheduled_for_ms, created_at_ms, started_at_ms, finished_at_ms, result, error, owner, log_count)
  SELECT r->>0, r->>1, r->>2, (r->>3)::int, r->>4, r->>5, r->>6, r->>7,
         (r->>8)::bigint, (r->>9)::bigint, (r->>10)::bigint, (r->>11)::bigint, r->>12, r->>13, r->>14,
         (r->>15)::int
    FROM jsonb_array_elements($1::jsonb) AS r
  ON CONFLICT (id) DO UPDATE
     SET function_name = excluded.function_name, invocation_id = excluded.invocation_id,
         attempt = excluded.attempt, status = excluded.status, trigger_kind = excluded.trigger_kind,
         trigger = excluded.trigger, input = excluded.input, scheduled_for_ms = excluded.scheduled_for_ms,
         started_at_ms = excluded.started_at_ms,
         finished_at_ms = excluded.finished_at_ms, result = excluded.result, error = excluded.error,
         owner = excluded.owner, log_count = GREATEST(runs.log_count, excluded.log_count)
   WHERE runs.status IN ('queued', 'running')`;

// The same as WRITE for runs not stored yet: fails with a unique violation if one is.
export const INSERT_RUNS = WRITE.slice(0, WRITE.indexOf('ON CONFLICT'));

// Start the queued runs among ids $1 for owner $2 at $3 (now, ms); returns their rows.
const START = `
  UPDATE runs SET status = 'running', started_at_ms = $3, owner = $2
   WHERE id = ANY($1::text[]) AND status = 'queued'
  RETURNING ${RUN_COLUMNS}`;

// Store the narrow records of one-message queue runs, one array per column ($1..$9, in
// putQueueRunValues' order). A record is written once, so the insert has no conflict clause:
// its speculative insertion would cost about a fifth of the row (npm run bench:record-shapes).
// Only a write retried after a lost connection can find one stored; that retry goes again with
// ON CONFLICT DO NOTHING and leaves the stored ones be.
const INSERT_QUEUE_RUNS = `
  INSERT INTO queue_runs (id, source, message_id, status, started_at_ms, finished_at_ms, result, error, log_count)
  SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[],
                       $7::text[], $8::text[], $9::int[])`;
const INSERT_QUEUE_RUNS_AGAIN = `${INSERT_QUEUE_RUNS} ON CONFLICT (id) DO NOTHING`;
const UNIQUE_VIOLATION = '23505';

// The id of source (function $1, queue $2, rule $3 or '', owner $4 or ''), stored the first
// time (the no-op update lets RETURNING answer for one already stored, by this process or another).
const SOURCE_ID = `
  INSERT INTO queue_run_sources (function_name, queue, rule, owner) VALUES ($1, $2, $3, $4)
  ON CONFLICT (function_name, queue, rule, owner) DO UPDATE SET owner = excluded.owner
  RETURNING id`;

// One run by id $1, wherever it is kept.
const GET = `SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1
  UNION ALL SELECT ${RUN_COLUMNS} FROM queue_run_rows WHERE id = $1`;

// Cancel run $1 at $3 (now, ms): a queued one becomes cancelled with error $2; a running one records
// the first cancellation request; a finished one is left as it was. Returns the row after.
const CANCEL = `
  UPDATE runs
     SET status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
         finished_at_ms = CASE WHEN status = 'queued' THEN $3 ELSE finished_at_ms END,
         error = CASE WHEN status = 'queued' THEN $2 ELSE error END,
         cancel_requested_at_ms = CASE WHEN status = 'running' THEN coalesce(cancel_requested_at_ms, $3)
                                       ELSE cancel_requested_at_ms END
   WHERE id = $1
  RETURNING ${RUN_COLUMNS}`;

// Of run ids $1, the running ones whose cancellation was requested.
const CANCEL_REQUESTED = `
  SELECT id FROM runs WHERE id = ANY($1::text[]) AND status = 'running' AND cancel_requested_at_ms IS NOT NULL`;

// Fail the running attempts of invocation $1 before attempt $2 with error $3 at $4 (now, ms).
// Attempt ids are `<invocation>-<n>`: the primary key range finds them, with no index of its own.
const FAIL_ABANDONED = `
  UPDATE runs SET status = 'failed', finished_at_ms = $4, error = $3
   WHERE id >= $1 || '-' AND id < $1 || '.' AND invocation_id = $1 AND attempt < $2 AND status = 'running'`;

// Store lines ($1: a JSON array of NewLogLine objects) in array order, skipping a (run, seq)
// already stored, and add the lines stored to their runs' counts.
const APPEND_LOGS = `
  WITH stored AS (
    INSERT INTO run_logs (run_id, function_name, seq, at_ms, level, msg, fields)
    SELECT run_id, function_name, seq, at_ms, level, msg, fields
      FROM ROWS FROM (json_to_recordset($1::json)
             AS ("runId" text, "functionName" text, seq int, "atMs" bigint, level int, msg text, fields text))
           WITH ORDINALITY AS l(run_id, function_name, seq, at_ms, level, msg, fields, n)
     ORDER BY n
    ON CONFLICT (run_id, seq) DO NOTHING
    RETURNING run_id),
  counts AS (SELECT run_id, count(*) AS n FROM stored GROUP BY run_id),
  queue_run_counts AS (
    UPDATE queue_runs SET log_count = queue_runs.log_count + c.n FROM counts c WHERE queue_runs.id = c.run_id)
  UPDATE runs SET log_count = runs.log_count + c.n FROM counts c WHERE runs.id = c.run_id`;

// Up to $3 lines of run $1 with seq after $2, in order.
const LOGS = `SELECT ${LOG_COLUMNS} FROM run_logs WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`;

// Up to $4 lines of every run of function $1 with id after $2 and at or after $3 (ms), in id order.
const FUNCTION_LOGS = `
  SELECT ${LOG_COLUMNS} FROM run_logs
   WHERE function_name = $1 AND id > $2 AND at_ms >= $3
   ORDER BY id LIMIT $4`;

// Delete the oldest $2 finished runs with an id below $1 (created before the cutoff) of each
// table (every queue run record is finished) and their log lines; returns how many runs. Rows
// locked by another transaction (a cancel in flight) wait for the next batch.
const DELETE_FINISHED = `
  WITH doomed AS (
    SELECT id FROM runs WHERE id < $1 AND status IN ${TERMINAL} ORDER BY id LIMIT $2
       FOR UPDATE SKIP LOCKED),
  doomed_queue_runs AS (SELECT id FROM queue_runs WHERE id < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED),
  logs AS (DELETE FROM run_logs WHERE run_id IN (SELECT id FROM doomed UNION ALL SELECT id FROM doomed_queue_runs)),
  gone AS (DELETE FROM runs WHERE id IN (SELECT id FROM doomed) RETURNING 1),
  gone_queue_runs AS (DELETE FROM queue_runs WHERE id IN (SELECT id FROM doomed_queue_runs) RETURNING 1)
  SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM gone_queue_runs) AS n`;

const terminal = new Set<RunStatus>(TERMINAL_STATUSES);

/**
 * One write per id, with the outcome of applying the batch in order: an upsert may not touch
 * a row twice in one statement. The first terminal write of an id wins (later ones would not
 * rewrite it), else the last; the first write's log count is the one an insert would keep.
 */
function collapse(runs: readonly RunWrite[]): RunWrite[] {
  const byId = new Map<string, RunWrite>();
  for (const r of runs) {
    const prev = byId.get(r.id);
    if (!prev) byId.set(r.id, r);
    else if (!terminal.has(prev.status)) byId.set(r.id, { ...r, logCount: prev.logCount });
  }
  return [...byId.values()];
}

// Runs since a time, by bucket and status: the id range (ids start with their creation time)
// keeps it on the primary key.
const BUCKETS = `SELECT (created_at_ms - $1) / $2 AS bucket, status, count(*) AS count
  FROM (SELECT created_at_ms, status FROM runs WHERE id >= $3 AND created_at_ms >= $1
        UNION ALL SELECT started_at_ms, status FROM queue_runs WHERE id >= $3 AND started_at_ms >= $1) AS r
  GROUP BY bucket, status`;

export class PgRunStore implements RunStore {
  readonly #db: pg.Pool;
  /** For writes of runs and lines: commits without waiting for the WAL flush. */
  readonly #fast: pg.Pool;
  /** The stored id of each consumer's source (see QueueRunSource). */
  readonly #sources = new WeakMap<QueueRunSource, number>();

  /**
   * `fast` commits without waiting for the WAL flush: a crash of the server may lose the last
   * records and lines written, as it may lose the acks of their messages (which then run again).
   */
  constructor(db: pg.Pool, fast: pg.Pool = db) {
    this.#db = db;
    this.#fast = fast;
  }

  async write(runs: readonly RunWrite[]): Promise<void> {
    if (runs.length === 0) return;
    const full: RunWrite[] = [];
    const narrow: unknown[][] = Array.from({ length: QUEUE_RUN_VALUES }, () => []);
    const v = new Array<unknown>(QUEUE_RUN_VALUES);
    for (const r of runs) {
      if (!r.source) full.push(r);
      else {
        putQueueRunValues(v, 0, r, this.#sources.get(r.source) ?? (await this.#sourceOf(r.source)));
        for (let c = 0; c < QUEUE_RUN_VALUES; c++) narrow[c]!.push(v[c]);
      }
    }
    await Promise.all([
      full.length > 0 ? this.#fast.query(WRITE, runParams(collapse(full))) : null,
      narrow[0]!.length > 0 ? this.#insertQueueRuns(queueRunColumns(narrow)) : null,
    ]);
  }

  async #sourceOf(source: QueueRunSource): Promise<number> {
    const key = [source.functionName, source.queue, source.rule ?? '', source.owner ?? ''];
    const { rows } = await this.#fast.query<{ id: number }>(SOURCE_ID, key);
    this.#sources.set(source, rows[0]!.id);
    return rows[0]!.id;
  }

  async #insertQueueRuns(columns: string[]): Promise<void> {
    try {
      await this.#fast.query(INSERT_QUEUE_RUNS, columns);
    } catch (err) {
      if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
      await this.#fast.query(INSERT_QUEUE_RUNS_AGAIN, columns);
    }
  }

  async start(ids: readonly string[], owner: string, nowMs: number): Promise<RunRow[]> {
    if (ids.length === 0) return [];
    return readRows(this.#db, START, [ids, owner, nowMs], toRunRow);
  }

  async get(id: string): Promise<RunRow | null> {
    return readRow(this.#db, GET, [id], toRunRow);
  }

  async list(filter: RunFilter): Promise<RunRow[]> {
    const { sql, params } = listRunsQuery(PG_DIALECT, filter);
    return readRows(this.#db, sql, params, toRunRow);
  }

  async countByBucket(fromMs: number, bucketMs: number) {
    const { rows } = await this.#db.query<{ bucket: string; status: RunStatus; count: string }>(BUCKETS, [
      fromMs,
      bucketMs,
      runIdPrefix(fromMs),
    ]);
    return rows.map((r) => ({ bucket: Number(r.bucket), status: r.status, count: Number(r.count) }));
  }

  async cancel(id: string, error: string, nowMs: number): Promise<RunRow | null> {
    const { rows } = await this.#db.query<RawRun>(CANCEL, [id, error, nowMs]);
    // A queue run record is finished: it stays as it is.
    return rows[0] ? toRunRow(rows[0]) : this.get(id);
  }

  async cancelRequested(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.#db.query<{ id: string }>(CANCEL_REQUESTED, [ids]);
    return rows.map((r) => r.id);
  }

  async failAbandoned(invocationId: string, attempt: number, error: string, nowMs: number): Promise<number> {
    const { rowCount } = await this.#db.query(FAIL_ABANDONED, [invocationId, attempt, error, nowMs]);
    return rowCount ?? 0;
  }

  async appendLogs(lines: readonly NewLogLine[]): Promise<void> {
    if (lines.length === 0) return;
    await this.#fast.query(APPEND_LOGS, [JSON.stringify(lines)]);
  }

  async logs(runId: string, afterSeq: number, limit: number): Promise<LogRow[]> {
    return readRows(this.#db, LOGS, [runId, afterSeq, limit], toLogRow);
  }

  async functionLogs(
    functionName: string,
    afterId: number,
    sinceMs: number,
    limit: number,
  ): Promise<LogRow[]> {
    return readRows(this.#db, FUNCTION_LOGS, [functionName, afterId, sinceMs, limit], toLogRow);
  }

  async deleteFinishedBefore(beforeId: string, limit: number): Promise<number> {
    const { rows } = await this.#db.query<{ n: string }>(DELETE_FINISHED, [beforeId, limit]);
    return Number(rows[0]!.n);
  }
}

/** WRITE's and INSERT_RUNS's parameter: the runs as one JSON array of arrays (no keys to send). */
export function runParams(rs: readonly RunWrite[]): [string] {
  return [JSON.stringify(rs.map((r) => runWriteValues(r)))];
}

function runWriteValues(r: RunWrite): unknown[] {
  const v = new Array<unknown>(RUN_VALUES);
  putRunValues(v, 0, r);
  return v;
}

/** INSERT_QUEUE_RUNS' parameters: each column of the records (putQueueRunValues' order) as an array literal. */
function queueRunColumns(columns: unknown[][]): string[] {
  // Ids, status names and JSON texts (result, error): no control characters (see arrayLiteral).
  return columns.map((c) => arrayLiteral(c as (string | number | null)[]));
}
