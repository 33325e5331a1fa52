// The run history on PostgreSQL: runs and their log lines. Every operation is one
// statement; batches (writes, log lines) pass one JSON array, whatever their size.

import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Filter, PG_PARAM } from '../filter.ts';
import {
  LOG_COLUMNS,
  type LogRow,
  type NewLogLine,
  putRunValues,
  type RawLog,
  type RawRun,
  RUN_COLUMNS,
  RUN_VALUES,
  type RunFilter,
  type RunRow,
  type RunStatus,
  type RunStore,
  type RunWrite,
  TERMINAL_STATUSES,
  toLogRow,
  toRunRow,
} from '../run-row.ts';
import { withClient } from './connect.ts';

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

// One run by id $1.
const GET = `SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1`;

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
    RETURNING run_id)
  UPDATE runs SET log_count = runs.log_count + s.n
    FROM (SELECT run_id, count(*) AS n FROM stored GROUP BY run_id) s
   WHERE runs.id = s.run_id`;

// Up to $3 lines of run $1 with seq after $2, in order.
const LOGS = `SELECT ${LOG_COLUMNS} FROM run_logs WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`;

// Up to $4 lines of every run of function $1 with id after $2 and at or after $3 (ms), in id order.
const FUNCTION_LOGS = `
  SELECT ${LOG_COLUMNS} FROM run_logs
   WHERE function_name = $1 AND id > $2 AND at_ms >= $3
   ORDER BY id LIMIT $4`;

// Delete the oldest $2 finished runs with an id below $1 (created before the cutoff) and their
// log lines. Rows locked by another transaction (a cancel in flight) wait for the next batch.
const DELETE_FINISHED = `
  WITH doomed AS (
    SELECT id FROM runs WHERE id < $1 AND status IN ${TERMINAL} ORDER BY id LIMIT $2
       FOR UPDATE SKIP LOCKED),
  logs AS (DELETE FROM run_logs WHERE run_id IN (SELECT id FROM doomed))
  DELETE FROM runs WHERE id IN (SELECT id FROM doomed)`;

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

export class PgRunStore implements RunStore {
  readonly #db: pg.Pool;
  /** For writes of runs and lines: commits without waiting for the WAL flush. */
  readonly #fast: pg.Pool;

  /**
   * `fast` commits without waiting for the WAL flush: a crash of the server may lose the last
   * records and lines written, as it may lose the acks of their messages (which then run again).
   */
  constructor(db: pg.Pool, fast: pg.Pool = db) {
    this.#db = db;
    this.#fast = fast;
  }

  async write(runs: readonly RunWrite[], options: { readonly fresh?: boolean } = {}): Promise<void> {
    if (runs.length === 0) return;
    const rs = collapse(runs);
    if (options.fresh) {
      // COPY skips the upsert's speculative insertion and the JSON; a run that turns out to
      // be stored sends the batch the full way.
      try {
        await this.#copy(rs);
        return;
      } catch (err) {
        if ((err as { code?: unknown }).code !== '23505') throw err;
      }
    }
    await this.#fast.query(WRITE, runParams(rs));
  }

  async #copy(rs: readonly RunWrite[]): Promise<void> {
    await withClient(this.#fast, async (client, discard) => {
      try {
        const copy = client.query(copyFrom(COPY_RUNS));
        copy.end(copyText(rs));
        await finished(copy);
      } catch (err) {
        // A connection whose COPY failed is not trusted with the next statement.
        discard(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
    });
  }

  async start(ids: readonly string[], owner: string, nowMs: number): Promise<RunRow[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.#db.query<RawRun>(START, [ids, owner, nowMs]);
    return rows.map(toRunRow);
  }

  async get(id: string): Promise<RunRow | null> {
    const { rows } = await this.#db.query<RawRun>(GET, [id]);
    return rows[0] ? toRunRow(rows[0]) : null;
  }

  async list(filter: RunFilter): Promise<RunRow[]> {
    const f = new Filter<unknown>(PG_PARAM);
    f.add('function_name = ?', filter.functionName);
    f.add('status = ?', filter.status);
    f.add('trigger_kind = ?', filter.triggerKind);
    f.add('created_at_ms >= ?', filter.fromMs);
    f.add('created_at_ms < ?', filter.toMs);
    f.add('id < ?', filter.beforeId);
    const { where: clause, limit } = f.end(filter.limit);
    // Runs matching the filter, newest first by id, up to the last parameter (the limit).
    const sql = `SELECT ${RUN_COLUMNS} FROM runs ${clause} ORDER BY id DESC LIMIT ${limit}`;
    const { rows } = await this.#db.query<RawRun>(sql, f.params);
    return rows.map(toRunRow);
  }

  async cancel(id: string, error: string, nowMs: number): Promise<RunRow | null> {
    const { rows } = await this.#db.query<RawRun>(CANCEL, [id, error, nowMs]);
    return rows[0] ? toRunRow(rows[0]) : null;
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
    const { rows } = await this.#db.query<RawLog>(LOGS, [runId, afterSeq, limit]);
    return rows.map(toLogRow);
  }

  async functionLogs(
    functionName: string,
    afterId: number,
    sinceMs: number,
    limit: number,
  ): Promise<LogRow[]> {
    const { rows } = await this.#db.query<RawLog>(FUNCTION_LOGS, [functionName, afterId, sinceMs, limit]);
    return rows.map(toLogRow);
  }

  async deleteFinishedBefore(beforeId: string, limit: number): Promise<number> {
    const { rowCount } = await this.#db.query(DELETE_FINISHED, [beforeId, limit]);
    return rowCount ?? 0;
  }
}

// Runs believed new, as COPY text (see copyText): the server's cheapest way in, about a
// fifth less of its time a run than INSERT_RUNS, which parses JSON and evaluates 16
// expressions a row. Fails with a unique violation if one is stored.
const COPY_RUNS = `
  COPY runs (id, function_name, invocation_id, attempt, status, trigger_kind, trigger, input,
             scheduled_for_ms, created_at_ms, started_at_ms, finished_at_ms, result, error, owner, log_count)
  FROM STDIN`;

/** COPY's text format: values by tab, rows by newline, null as \N, and those characters escaped. */
function copyText(rs: readonly RunWrite[]): string {
  const values = new Array<unknown>(RUN_VALUES);
  const lines = new Array<string>(rs.length);
  for (let i = 0; i < rs.length; i++) {
    putRunValues(values, 0, rs[i]!);
    for (let k = 0; k < RUN_VALUES; k++) {
      const v = values[k];
      if (v === null) values[k] = '\\N';
      else if (typeof v === 'string' && COPY_SPECIAL.test(v))
        values[k] = v.replace(COPY_SPECIAL_ALL, copyEscape);
    }
    lines[i] = values.join('\t');
  }
  return `${lines.join('\n')}\n`;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIAL_ALL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
function copyEscape(c: string): string {
  return COPY_ESCAPES[c]!;
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
