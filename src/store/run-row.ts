// The run history's sub-store contract (`store.runs`): one row per attempt of a
// function, and the log lines each attempt wrote. Both backends implement it.

import type { Dialect, ListQuery } from './dialect.ts';
import { Filter } from './filter.ts';
import { ms } from './raw.ts';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const TERMINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'timed_out', 'cancelled'];

/** What started a run; `queue` for messages of a user's queue, `event` for rule deliveries. */
export type TriggerKind = 'manual' | 'queue' | 'event' | 'schedule' | 'task' | 'webhook';

/**
 * A run as stored. `id` sorts by creation time (it starts with the creation
 * instant in base 36), so paging and retention walk the primary key.
 */
export interface RunRow {
  readonly id: string;
  readonly functionName: string;
  /** Shared by every attempt of one invocation (retries of a manual call, redeliveries of a message). */
  readonly invocationId: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly status: RunStatus;
  readonly triggerKind: TriggerKind;
  /** JSON text: the trigger's details (queue + message ids, schedule + tick, event id, …). */
  readonly trigger: string;
  /** JSON text of the input, kept for invocations the store queues (manual, retries); null otherwise. */
  readonly input: string | null;
  /** When the attempt is due to start (a tick's time, a retry's backoff end); null if at once. */
  readonly scheduledForMs: number | null;
  readonly createdAtMs: number;
  readonly startedAtMs: number | null;
  readonly finishedAtMs: number | null;
  /** JSON text of the result (succeeded runs). */
  readonly result: string | null;
  /** JSON text of the error record (failed, timed_out, cancelled). */
  readonly error: string | null;
  /** Set when someone asked to cancel the run while it was running. */
  readonly cancelRequestedAtMs: number | null;
  /** The process running (or that ran) the attempt. */
  readonly owner: string | null;
  /** Log lines stored for the run. */
  readonly logCount: number;
}

/**
 * A full write of a run: inserts it, or updates every mutable column of an
 * existing row whose status is still `queued` or `running` (a finished run is never rewritten).
 * `logCount` is how many lines the writer stored for the run so far: an existing row keeps
 * the larger of its count (lines appended after it was written) and this one.
 */
export type RunWrite = Omit<RunRow, 'cancelRequestedAtMs'> & {
  /**
   * Set on the finished record of a one-message queue run written once (never stored as
   * running): the store keeps it as a narrow queue-run record, whose trigger, invocation id,
   * attempt and creation time follow from this and the run id (see docs/architecture.md); its
   * `trigger` is not read, so the writer need not build it.
   */
  readonly source?: QueueRunSource | null;
  /** With `source`: the run's message. */
  readonly messageId?: number | null;
};

/**
 * What every one-message run of one consumer shares: its function, the queue its messages
 * came through (and, for a rule's delivery, the rule), and the process running them. One
 * object per consumer: a store may remember what it stored for it by the object.
 */
export interface QueueRunSource {
  readonly functionName: string;
  readonly queue: string;
  readonly rule: string | null;
  readonly owner: string | null;
}

export interface RunFilter {
  readonly functionName?: string;
  readonly status?: RunStatus;
  /** Any of these statuses (with `status`, both must hold). */
  readonly statuses?: readonly RunStatus[];
  readonly triggerKind?: TriggerKind;
  readonly invocationId?: string;
  /** A case-insensitive substring of the input, the error or a log line's message. */
  readonly search?: string;
  /** createdAtMs >= fromMs */
  readonly fromMs?: number;
  /** createdAtMs < toMs */
  readonly toMs?: number;
  /** Cursor: only runs with an id below this one (newest first paging). */
  readonly beforeId?: string;
  readonly limit: number;
}

export interface NewLogLine {
  readonly runId: string;
  readonly functionName: string;
  /** Position within the run, from 1, assigned by the writer. */
  readonly seq: number;
  readonly atMs: number;
  /** pino levels: 10 trace … 60 fatal. */
  readonly level: number;
  readonly msg: string;
  /** JSON text of the line's other fields, or null. */
  readonly fields: string | null;
}

export interface LogRow extends NewLogLine {
  /** Store-wide insertion order (for following every run of a function). */
  readonly id: number;
}

export interface RunStore {
  /**
   * Runs a batch of full writes (see RunWrite) in one transaction. A write with `source` is a
   * one-message queue run's only record and goes in as a narrow record (written once: a retried
   * write that finds it stored leaves it be); reads show both kinds alike.
   */
  write(runs: readonly RunWrite[]): Promise<void>;
  /**
   * Moves the queued runs among `ids` to running at `nowMs` for `owner`, in one statement,
   * and returns them; an id that is not queued (cancelled, already started elsewhere, or
   * unknown) is left out.
   */
  start(ids: readonly string[], owner: string, nowMs: number): Promise<RunRow[]>;
  get(id: string): Promise<RunRow | null>;
  /** Newest first (id descending). */
  list(filter: RunFilter): Promise<RunRow[]>;
  /** Runs created since `fromMs`, counted per `bucketMs` (0 = the bucket starting at fromMs) and status. */
  countByBucket(
    fromMs: number,
    bucketMs: number,
  ): Promise<{ bucket: number; status: RunStatus; count: number }[]>;
  /**
   * Cancels a run: a queued one becomes `cancelled` at once (finished at `nowMs`, `error` set);
   * a running one gets `cancelRequestedAtMs` (its worker aborts it). Returns the row after
   * the change, or as it was if it had already finished; null if unknown.
   */
  cancel(id: string, error: string, nowMs: number): Promise<RunRow | null>;
  /** Of these running run ids, those whose cancellation was requested. */
  cancelRequested(ids: readonly string[]): Promise<string[]>;
  /**
   * Marks attempts of `invocationId` before `attempt` still `running` as failed with `error`
   * (their worker died; a later attempt has started). Returns how many. Attempt ids are
   * `<invocationId>-<attempt>`, so the store finds them as a range of the primary key.
   */
  failAbandoned(invocationId: string, attempt: number, error: string, nowMs: number): Promise<number>;
  /** Appends log lines and adds them to their runs' `logCount`. */
  appendLogs(lines: readonly NewLogLine[]): Promise<void>;
  /** A run's lines with seq > afterSeq, in order. */
  logs(runId: string, afterSeq: number, limit: number): Promise<LogRow[]>;
  /** Lines of every run of a function with id > afterId and atMs >= sinceMs, in id order. */
  functionLogs(functionName: string, afterId: number, sinceMs: number, limit: number): Promise<LogRow[]>;
  /**
   * Deletes up to `limit` finished runs whose id is below `beforeId` (created before the
   * cutoff), with their log lines; returns how many runs.
   */
  deleteFinishedBefore(beforeId: string, limit: number): Promise<number>;
}

// Columns of `runs` and `run_logs` as both backends select them, and their mapping.
export const RUN_COLUMNS = `id, function_name, invocation_id, attempt, status, trigger_kind, trigger, input,
  scheduled_for_ms, created_at_ms, started_at_ms, finished_at_ms, result, error, cancel_requested_at_ms,
  owner, log_count`;

export const LOG_COLUMNS = 'id, run_id, function_name, seq, at_ms, level, msg, fields';

export interface RawRun {
  id: string;
  function_name: string;
  invocation_id: string;
  attempt: number;
  status: string;
  trigger_kind: string;
  trigger: string;
  input: string | null;
  scheduled_for_ms: number | string | null;
  created_at_ms: number | string;
  started_at_ms: number | string | null;
  finished_at_ms: number | string | null;
  result: string | null;
  error: string | null;
  cancel_requested_at_ms: number | string | null;
  owner: string | null;
  log_count: number;
}

export interface RawLog {
  id: number | string;
  run_id: string;
  function_name: string;
  seq: number;
  at_ms: number | string;
  level: number;
  msg: string;
  fields: string | null;
}

export function toRunRow(r: RawRun): RunRow {
  return {
    id: r.id,
    functionName: r.function_name,
    invocationId: r.invocation_id,
    attempt: r.attempt,
    status: r.status as RunStatus,
    triggerKind: r.trigger_kind as TriggerKind,
    trigger: r.trigger,
    input: r.input,
    scheduledForMs: ms(r.scheduled_for_ms),
    createdAtMs: Number(r.created_at_ms),
    startedAtMs: ms(r.started_at_ms),
    finishedAtMs: ms(r.finished_at_ms),
    result: r.result,
    error: r.error,
    cancelRequestedAtMs: ms(r.cancel_requested_at_ms),
    owner: r.owner,
    logCount: r.log_count,
  };
}

export function toLogRow(r: RawLog): LogRow {
  return {
    id: Number(r.id),
    runId: r.run_id,
    functionName: r.function_name,
    seq: r.seq,
    atMs: Number(r.at_ms),
    level: r.level,
    msg: r.msg,
    fields: r.fields,
  };
}

/** Run ids: creation instant in base 36 (9 digits, sortable until 5188), then 12 random characters. */
export function newRunId(nowMs: number): string {
  return `${runIdPrefix(nowMs)}${randomChars(12)}`;
}

/** The smallest id of a run created at `nowMs`: every id created earlier sorts below it. */
export function runIdPrefix(nowMs: number): string {
  const ms = Math.max(0, Math.floor(nowMs));
  // The last one is kept: the runs of a claim were mostly sent in the same millisecond.
  if (ms !== lastPrefixMs) {
    lastPrefixMs = ms;
    lastPrefix = ms.toString(36).padStart(9, '0');
  }
  return lastPrefix;
}

let lastPrefixMs = -1;
let lastPrefix = '';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

function randomChars(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  let out = '';
  for (const b of bytes) out += ALPHABET[b % 36];
  return out;
}

/** How many values a run write has (see putRunValues). */
export const RUN_VALUES = 16;

/** A run write's values, in the order every store's batch statements take them, from `at`. */
export function putRunValues(v: unknown[], at: number, r: RunWrite): void {
  v[at] = r.id;
  v[at + 1] = r.functionName;
  v[at + 2] = r.invocationId;
  v[at + 3] = r.attempt;
  v[at + 4] = r.status;
  v[at + 5] = r.triggerKind;
  v[at + 6] = r.trigger;
  v[at + 7] = r.input;
  v[at + 8] = r.scheduledForMs;
  v[at + 9] = r.createdAtMs;
  v[at + 10] = r.startedAtMs;
  v[at + 11] = r.finishedAtMs;
  v[at + 12] = r.result;
  v[at + 13] = r.error;
  v[at + 14] = r.owner;
  v[at + 15] = r.logCount;
}

/** How many values a one-message queue run's narrow record has (see putQueueRunValues). */
export const QUEUE_RUN_VALUES = 9;

/**
 * A one-message queue run's narrow record (its write has `source`, stored as `sourceId`), in
 * the order every store's queue_runs statements take them, from `at`. The message id is read
 * back from the run id (`<sent instant, 9 characters>m<message id in base 36>-<attempt>`); the
 * attempt, invocation id, trigger and creation time follow from the rest when it is read.
 */
export function putQueueRunValues(v: unknown[], at: number, r: RunWrite, sourceId: number): void {
  v[at] = r.id;
  v[at + 1] = sourceId;
  v[at + 2] = r.messageId ?? Number.parseInt(r.id.slice(10, r.id.lastIndexOf('-')), 36);
  v[at + 3] = r.status;
  v[at + 4] = r.startedAtMs;
  v[at + 5] = r.finishedAtMs;
  v[at + 6] = r.result;
  v[at + 7] = r.error;
  v[at + 8] = r.logCount;
}

/**
 * Runs matching `filter`, newest first by id: each table's newest (runs, and the queue run
 * records through their view), merged. The search looks in the input, the error and the run's
 * log lines (LIKE with backslash escapes); bounded by the other filters and the page size,
 * newest first, it stops at the page's last match.
 */
export function listRunsQuery(d: Dialect, filter: RunFilter): ListQuery {
  const f = new Filter<unknown>(d.ref);
  f.add('r.function_name = ?', filter.functionName);
  f.add('r.status = ?', filter.status);
  f.add('r.trigger_kind = ?', filter.triggerKind);
  f.add('r.invocation_id = ?', filter.invocationId);
  if (filter.statuses && filter.statuses.length > 0)
    f.add(`r.status IN (${filter.statuses.map(() => '?').join(', ')})`, ...filter.statuses);
  if (filter.search !== undefined) {
    const like = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const match = (column: string) => `${column} ${d.ilike} ? ESCAPE '\\'`;
    const inLogs = `EXISTS (SELECT 1 FROM run_logs l WHERE l.run_id = r.id AND ${match('l.msg')})`;
    f.add(`(${match('r.input')} OR ${match('r.error')} OR ${inLogs})`, like, like, like);
  }
  f.add('r.created_at_ms >= ?', filter.fromMs);
  f.add('r.created_at_ms < ?', filter.toMs);
  f.add('r.id < ?', filter.beforeId);
  const { where, limit } = f.end(filter.limit);
  const newest = (table: string, as: string) =>
    `SELECT * FROM (SELECT ${RUN_COLUMNS} FROM ${table} r ${where} ORDER BY id DESC LIMIT ${limit}) AS ${as}`;
  return {
    sql: `${newest('runs', 'a')} UNION ALL ${newest('queue_run_rows', 'b')} ORDER BY id DESC LIMIT ${limit}`,
    params: f.params,
  };
}
