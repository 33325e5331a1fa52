// The workflow sub-store contract (`store.workflows`): executions and their journals.
// Both backends implement it. An execution row doubles as its own work item: a worker
// claims due rows through the due-time index and holds a lease (a token) while it
// replays one; every write of that worker names the token, so a worker whose lease
// was taken over cannot write anything. The store knows nothing of replay: operation
// types, statuses and JSON fields are the engine's, opaque here except where noted.

import type { Dialect, ListQuery } from './dialect.ts';
import { Filter } from './filter.ts';
import { ms } from './raw.ts';
import type { SqlClient } from './sql-client.ts';

export const EXECUTION_STATUSES = [
  'running',
  'waiting',
  'succeeded',
  'failed',
  'stopped',
  'timed_out',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const FINISHED_STATUSES: readonly ExecutionStatus[] = ['succeeded', 'failed', 'stopped', 'timed_out'];

/** Wakes workers: an execution became due now (payload: its id). */
export const WORKFLOW_CHANNEL = 'mainspring_workflows';

/** An execution as stored. */
export interface ExecutionRow {
  readonly id: string;
  /** Insertion order: list cursor. */
  readonly seq: number;
  readonly workflow: string;
  readonly version: string;
  readonly status: ExecutionStatus;
  /** JSON text. */
  readonly input: string;
  /** JSON text of the return value, once succeeded. */
  readonly output: string | null;
  /** JSON text of the error, once failed, stopped or timed out. */
  readonly error: string | null;
  /** JSON text of the last `ctx.progress` value. */
  readonly progress: string | null;
  /** JSON text describing what it waits for (engine-defined), while waiting. */
  readonly wait: string | null;
  /**
   * When a worker should run it next; null when only an outside event can wake it.
   * While leased: the lease's end, so a dead worker's execution is claimed again then.
   * The due-time index is on this column.
   */
  readonly dueAtMs: number | null;
  readonly leaseToken: string | null;
  readonly leaseUntilMs: number | null;
  /** Something it waits on completed while it was leased: run it again at once when released. */
  readonly woken: boolean;
  /** The execution that started this one with `ctx.invoke`, and that operation's id. */
  readonly parentId: string | null;
  readonly parentOp: string | null;
  /** Journaled operations. */
  readonly opCount: number;
  /** Times claimed. */
  readonly replays: number;
  readonly stopRequestedAtMs: number | null;
  /** The execution times out then (null: never). */
  readonly timeoutAtMs: number | null;
  readonly createdAtMs: number;
  readonly startedAtMs: number | null;
  readonly updatedAtMs: number;
  readonly finishedAtMs: number | null;
  /** JSON text of the trace context it was started in (NewExecution.traceContext), or null. */
  readonly traceContext: string | null;
}

export interface NewExecution {
  readonly id: string;
  readonly workflow: string;
  readonly version: string;
  readonly input: string;
  readonly parentId: string | null;
  readonly parentOp: string | null;
  readonly timeoutAtMs: number | null;
  /**
   * JSON text of the trace context it was started in (an OpenTelemetry carrier: `traceparent`,
   * `tracestate`); absent or null when none was active. Opaque to the store.
   */
  readonly traceContext?: string | null;
}

/** One journaled operation. Keyed by (executionId, opId). */
export interface OpRow {
  readonly executionId: string;
  /** Its position: "3" for the root's third operation, "3-2" for the second inside it. */
  readonly opId: string;
  readonly parentOpId: string | null;
  readonly type: string;
  readonly name: string;
  /** Engine-defined, except `waiting`: an operation an outside call may complete. */
  readonly status: string;
  readonly attempt: number;
  readonly result: string | null;
  readonly error: string | null;
  readonly startedAtMs: number;
  readonly finishedAtMs: number | null;
  /** When a wait ends, a retry is due, or a callback times out. */
  readonly wakeAtMs: number | null;
  /** A callback's last heartbeat. */
  readonly heartbeatAtMs: number | null;
  /** Unique across executions when set. */
  readonly callbackId: string | null;
  /** The execution `ctx.invoke` started. */
  readonly childId: string | null;
  /** JSON text, operation-specific (options, a pattern…). */
  readonly detail: string | null;
  readonly updatedAtMs: number;
}

/** What a checkpoint changes on the execution row; absent fields stay. */
export interface ExecutionPatch {
  readonly status?: ExecutionStatus;
  readonly output?: string | null;
  readonly error?: string | null;
  readonly progress?: string | null;
  readonly wait?: string | null;
  readonly finishedAtMs?: number | null;
  /**
   * Give the lease up: due_at_ms becomes `dueAtMs` (null: until woken) — or now, when
   * `woken` was set meanwhile — and woken is cleared.
   */
  readonly release?: { readonly dueAtMs: number | null };
}

/** How an outside call completes a waiting operation. */
export type OpOutcome =
  | { readonly status: 'succeeded'; readonly result: string | null }
  | { readonly status: 'failed'; readonly error: string };

export interface ExecutionFilter {
  readonly workflow?: string;
  readonly status?: ExecutionStatus;
  /** Any of these statuses. */
  readonly statuses?: readonly ExecutionStatus[];
  readonly parentId?: string;
  /** Cursor: executions with a smaller seq (older). */
  readonly beforeSeq?: number;
  readonly limit: number;
}

export interface ClaimExecutionsOptions {
  readonly nowMs: number;
  readonly leaseMs: number;
  readonly limit: number;
}

/** How many executions of one workflow are waiting (`WorkflowStore.countWaiting`). */
export interface WaitingCount {
  readonly workflow: string;
  readonly waiting: number;
}

export type CallbackResolution =
  | { readonly kind: 'done'; readonly executionId: string; readonly opId: string }
  | { readonly kind: 'not_found' }
  /** The operation is no longer waiting, or its execution finished. */
  | {
      readonly kind: 'closed';
      readonly executionId: string;
      readonly opStatus: string;
      readonly executionStatus: ExecutionStatus;
    };

export interface WorkflowStore {
  /**
   * Creates the execution (status running, due now, woken false, op count 0, no lease) and
   * wakes workers; idempotent on id: when one is stored, returns it untouched with created false.
   */
  start(row: NewExecution, nowMs: number): Promise<{ row: ExecutionRow; created: boolean }>;
  /**
   * As `start`, but through `client`, in the caller's open transaction: the execution exists if
   * and only if it commits, and workers wake on its commit. Only where the store is the
   * caller's database (PostgreSQL); absent elsewhere.
   */
  startThrough?(
    client: SqlClient,
    row: NewExecution,
    nowMs: number,
  ): Promise<{ row: ExecutionRow; created: boolean }>;
  get(id: string): Promise<ExecutionRow | null>;
  /** Newest first (seq descending). */
  list(filter: ExecutionFilter): Promise<ExecutionRow[]>;
  /** Deletes a finished execution and its journal. */
  delete(id: string): Promise<'deleted' | 'not_found' | 'not_finished'>;
  /** The journal, in (startedAtMs, opId) order. */
  ops(executionId: string): Promise<OpRow[]>;
  /** The journals of several executions, each as `ops` reads it (a claimed batch: one read, not one each). */
  journals(executionIds: readonly string[]): Promise<Map<string, OpRow[]>>;
  /**
   * Leases up to `limit` running or waiting executions with due_at_ms <= now, earliest first
   * (SKIP LOCKED on PostgreSQL): each gets a fresh random lease token, lease_until_ms and
   * due_at_ms = now + leaseMs, status running, woken false, replays + 1, started_at_ms set if unset.
   */
  claim(options: ClaimExecutionsOptions): Promise<ExecutionRow[]>;
  /** The earliest due_at_ms of a running or waiting execution, or null. */
  nextDueAt(): Promise<number | null>;
  /**
   * One transaction, only while `token` is still the execution's lease token (else false and
   * nothing written): upserts `ops` (op_count grows by the ones new), applies `patch`, sets
   * updated_at_ms. When the patch finishes the execution (a finished status) and it has a
   * parent, the parent's operation (parentOp), if still waiting, gets the outcome — succeeded
   * with the output, or failed with the error — and the parent is woken.
   */
  checkpoint(
    executionId: string,
    token: string,
    ops: readonly OpRow[],
    patch: ExecutionPatch,
    nowMs: number,
  ): Promise<boolean>;
  /**
   * Extends the leases still held with these tokens to `untilMs` (due_at_ms too). Returns
   * the tokens no longer held, and those whose execution was asked to stop.
   */
  renew(
    tokens: readonly string[],
    untilMs: number,
    nowMs: number,
  ): Promise<{ readonly lost: string[]; readonly stopRequested: string[] }>;
  /**
   * Completes the waiting operation with this callback id and wakes its execution; a
   * heartbeat (`outcome` null) only sets heartbeat_at_ms. Refused (`closed`) when the
   * operation is not waiting or the execution finished.
   */
  resolveCallback(callbackId: string, outcome: OpOutcome | null, nowMs: number): Promise<CallbackResolution>;
  /** Completes a waiting operation by position and wakes its execution; false when not waiting. */
  resolveOp(executionId: string, opId: string, outcome: OpOutcome, nowMs: number): Promise<boolean>;
  /** Waiting operations of a type (event waits), oldest first. */
  waitingOps(type: string, limit: number): Promise<OpRow[]>;
  /**
   * Stops an execution. A finished one is returned as it is. One not leased (or whose lease
   * ran out) becomes stopped at once, with `error`, finished now, due never — its parent's
   * operation fails with that error, as in checkpoint. A leased one records the request
   * (stop_requested_at_ms, first one kept); its worker stops it. Null when unknown.
   */
  stop(id: string, error: string, nowMs: number): Promise<ExecutionRow | null>;
  /**
   * Wakes an execution: due now when not leased; woken set either way. Finished ones are left.
   */
  wake(id: string, nowMs: number): Promise<void>;
  /** Deletes up to `limit` executions finished before `beforeMs` with their journals; returns how many. */
  deleteFinished(beforeMs: number, limit: number): Promise<number>;
  /**
   * Executions waiting now, per workflow, by workflow name; workflows with none are left out.
   * Read at each metrics scrape. No index serves it: it scans the executions kept (finished
   * ones until their retention), which is cheap next to a scrape interval for up to a few
   * hundred thousand rows.
   */
  countWaiting(): Promise<WaitingCount[]>;
}

// The row mapping both backends share: they read the same column names, and bigints
// arrive as numbers on both.

export const EXECUTION_COLUMNS = `seq, id, workflow, version, status, input, output, error, progress, wait,
  due_at_ms, lease_token, lease_until_ms, woken, parent_id, parent_op, op_count, replays, stop_requested_at_ms,
  timeout_at_ms, created_at_ms, started_at_ms, updated_at_ms, finished_at_ms, trace_context`;

export const OP_COLUMNS = `execution_id, op_id, parent_op_id, type, name, status, attempt, result, error,
  started_at_ms, finished_at_ms, wake_at_ms, heartbeat_at_ms, callback_id, child_id, detail, updated_at_ms`;

/** An operation's upsert: a stored one takes every new value. */
export const OP_UPSERT = `ON CONFLICT (execution_id, op_id) DO UPDATE
     SET parent_op_id = excluded.parent_op_id, type = excluded.type, name = excluded.name,
         status = excluded.status, attempt = excluded.attempt, result = excluded.result, error = excluded.error,
         started_at_ms = excluded.started_at_ms, finished_at_ms = excluded.finished_at_ms,
         wake_at_ms = excluded.wake_at_ms, heartbeat_at_ms = excluded.heartbeat_at_ms,
         callback_id = excluded.callback_id, child_id = excluded.child_id, detail = excluded.detail,
         updated_at_ms = excluded.updated_at_ms`;

/** Statuses a worker may still run, as an SQL list. */
export const LIVE = `('running', 'waiting')`;

export interface RawExecution {
  seq: number;
  id: string;
  workflow: string;
  version: string;
  status: string;
  input: string;
  output: string | null;
  error: string | null;
  progress: string | null;
  wait: string | null;
  due_at_ms: number | null;
  lease_token: string | null;
  lease_until_ms: number | null;
  /** 0/1 on SQLite, boolean on PostgreSQL. */
  woken: number | boolean;
  parent_id: string | null;
  parent_op: string | null;
  op_count: number;
  replays: number;
  stop_requested_at_ms: number | null;
  timeout_at_ms: number | null;
  created_at_ms: number;
  started_at_ms: number | null;
  updated_at_ms: number;
  finished_at_ms: number | null;
  trace_context: string | null;
}

export interface RawOp {
  execution_id: string;
  op_id: string;
  parent_op_id: string | null;
  type: string;
  name: string;
  status: string;
  attempt: number;
  result: string | null;
  error: string | null;
  started_at_ms: number;
  finished_at_ms: number | null;
  wake_at_ms: number | null;
  heartbeat_at_ms: number | null;
  callback_id: string | null;
  child_id: string | null;
  detail: string | null;
  updated_at_ms: number;
}

export function toExecutionRow(r: RawExecution): ExecutionRow {
  return {
    id: r.id,
    seq: Number(r.seq),
    workflow: r.workflow,
    version: r.version,
    status: r.status as ExecutionStatus,
    input: r.input,
    output: r.output,
    error: r.error,
    progress: r.progress,
    wait: r.wait,
    dueAtMs: ms(r.due_at_ms),
    leaseToken: r.lease_token,
    leaseUntilMs: ms(r.lease_until_ms),
    woken: Boolean(r.woken),
    parentId: r.parent_id,
    parentOp: r.parent_op,
    opCount: Number(r.op_count),
    replays: Number(r.replays),
    stopRequestedAtMs: ms(r.stop_requested_at_ms),
    timeoutAtMs: ms(r.timeout_at_ms),
    createdAtMs: Number(r.created_at_ms),
    startedAtMs: ms(r.started_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
    finishedAtMs: ms(r.finished_at_ms),
    traceContext: r.trace_context ?? null,
  };
}

export function toOpRow(r: RawOp): OpRow {
  return {
    executionId: r.execution_id,
    opId: r.op_id,
    parentOpId: r.parent_op_id,
    type: r.type,
    name: r.name,
    status: r.status,
    attempt: Number(r.attempt),
    result: r.result,
    error: r.error,
    startedAtMs: Number(r.started_at_ms),
    finishedAtMs: ms(r.finished_at_ms),
    wakeAtMs: ms(r.wake_at_ms),
    heartbeatAtMs: ms(r.heartbeat_at_ms),
    callbackId: r.callback_id,
    childId: r.child_id,
    detail: r.detail,
    updatedAtMs: Number(r.updated_at_ms),
  };
}

/** An op's values in OP_COLUMNS order. */
export function opValues(o: OpRow): (string | number | null)[] {
  return [
    o.executionId,
    o.opId,
    o.parentOpId,
    o.type,
    o.name,
    o.status,
    o.attempt,
    o.result,
    o.error,
    o.startedAtMs,
    o.finishedAtMs,
    o.wakeAtMs,
    o.heartbeatAtMs,
    o.callbackId,
    o.childId,
    o.detail,
    o.updatedAtMs,
  ];
}

const finished = new Set<ExecutionStatus>(FINISHED_STATUSES);

export const isFinished = (status: ExecutionStatus): boolean => finished.has(status);

/** What a finished child hands its parent's waiting operation: its output, or its error. */
export function childOutcome(child: ExecutionRow): OpOutcome {
  return child.status === 'succeeded'
    ? { status: 'succeeded', result: child.output }
    : { status: 'failed', error: child.error ?? 'null' };
}

/** An outcome as the (status, result, error) an operation stores; the other field is cleared. */
export function outcomeValues(o: OpOutcome): [string, string | null, string | null] {
  return o.status === 'succeeded' ? ['succeeded', o.result, null] : ['failed', null, o.error];
}

/**
 * The checkpoint's update of execution 1 held with token 2: the patch's columns, 3 more
 * operations, updated at 4 (now). Finishing clears the lease and the due time (the due index
 * holds live rows only) and stamps finished_at_ms unless the patch does; releasing sets the due
 * time, or now when woken or asked to stop meanwhile (the next claim then stops it). Returns
 * the row after.
 */
export function patchUpdate(
  d: Dialect,
  id: string,
  token: string,
  patch: ExecutionPatch,
  added: number,
  nowMs: number,
): ListQuery {
  const params: unknown[] = [id, token, added, nowMs];
  const p = (v: unknown, type: 'text' | 'bigint') => {
    params.push(v);
    return d.typed(params.length, type);
  };
  const now = d.ref(4);
  const sets = [`op_count = op_count + ${d.typed(3, 'bigint')}`, `updated_at_ms = ${now}`];
  const columns = [
    ['status', patch.status],
    ['output', patch.output],
    ['error', patch.error],
    ['progress', patch.progress],
    ['wait', patch.wait],
  ] as const;
  for (const [column, value] of columns)
    if (value !== undefined) sets.push(`${column} = ${p(value, 'text')}`);
  const unlease = ['lease_token = NULL', 'lease_until_ms = NULL'];
  if (patch.status !== undefined && isFinished(patch.status)) {
    const finished =
      patch.finishedAtMs != null ? p(patch.finishedAtMs, 'bigint') : `coalesce(finished_at_ms, ${now})`;
    sets.push(`finished_at_ms = ${finished}`, 'due_at_ms = NULL', ...unlease, `woken = ${d.false}`);
  } else {
    if (patch.finishedAtMs !== undefined) sets.push(`finished_at_ms = ${p(patch.finishedAtMs, 'bigint')}`);
    if (patch.release) {
      const due = p(patch.release.dueAtMs, 'bigint');
      sets.push(
        `due_at_ms = CASE WHEN ${d.isTrue('woken')} OR stop_requested_at_ms IS NOT NULL THEN ${now} ELSE ${due} END`,
        `woken = ${d.false}`,
        ...unlease,
      );
    }
  }
  return {
    sql: `UPDATE workflow_executions SET ${sets.join(', ')} WHERE id = ${d.ref(1)} AND lease_token = ${d.ref(2)} RETURNING ${EXECUTION_COLUMNS}`,
    params,
  };
}

/** Executions matching `filter`, newest first. */
export function listExecutionsQuery(d: Dialect, filter: ExecutionFilter): ListQuery {
  const f = new Filter<unknown>(d.ref);
  f.add('workflow = ?', filter.workflow);
  f.add('status = ?', filter.status);
  f.add('parent_id = ?', filter.parentId);
  if (filter.statuses && filter.statuses.length > 0)
    f.add(`status IN (${filter.statuses.map(() => '?').join(', ')})`, ...filter.statuses);
  f.add('seq < ?', filter.beforeSeq);
  const { where, limit } = f.end(filter.limit);
  return {
    sql: `SELECT ${EXECUTION_COLUMNS} FROM workflow_executions ${where} ORDER BY seq DESC LIMIT ${limit}`,
    params: f.params,
  };
}
