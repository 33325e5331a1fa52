// Workflow executions and their journals on PostgreSQL, shared by any number of workers.
// Claims lock due rows FOR UPDATE SKIP LOCKED, so workers never wait on each other; a
// checkpoint locks its execution row (checking the lease token) before anything else.
// Every transaction locks an execution's row before that execution's operations, and a
// child before its parent, so transactions that meet wait in one order and never deadlock.
// Wake-ups are pg_notify inside the writing transaction: sent when it commits.

import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { PG_DIALECT } from '../dialect.ts';
import type { SqlClient } from '../sql-client.ts';
import type {
  CallbackResolution,
  ClaimExecutionsOptions,
  ExecutionFilter,
  ExecutionPatch,
  ExecutionRow,
  ExecutionStatus,
  NewExecution,
  OpOutcome,
  OpRow,
  WaitingCount,
  WorkflowStore,
} from '../workflow-row.ts';
import {
  childOutcome,
  EXECUTION_COLUMNS,
  isFinished,
  LIVE,
  listExecutionsQuery,
  OP_COLUMNS,
  opValues,
  outcomeValues,
  patchUpdate,
  type RawExecution,
  toExecutionRow,
  toOpRow,
} from '../workflow-row.ts';
import { CheckpointWriter, journalOf, upsertOps } from './checkpoints.ts';
import { readRow, readRows, transaction } from './connect.ts';

// Insert execution $1 (workflow $2, version $3, input $4, parent $5 and its operation $6, timeout $7, trace
// context $10) at $8 (now), running and due now, and notify channel $9 with its id; nothing when the id is
// taken. Returns the row inserted. `t` prefixes the table: '' on the pool, the schema and a dot on a
// caller's client (whose search_path is its own), where the NOTIFY goes out on the caller's commit.
const start = (t: string) => `
  WITH ins AS (
    INSERT INTO ${t}workflow_executions (id, workflow, version, status, input, parent_id, parent_op, timeout_at_ms,
                                     due_at_ms, created_at_ms, updated_at_ms, trace_context)
    VALUES ($1, $2, $3, 'running', $4, $5, $6, $7, $8, $8, $8, $10)
    ON CONFLICT (id) DO NOTHING
    RETURNING ${EXECUTION_COLUMNS})
  SELECT ins.* FROM ins, LATERAL (SELECT pg_notify($9, ins.id)) AS n`;
const START = start('');

// One execution by id $1 (`t` as for start).
const get = (t: string) => `SELECT ${EXECUTION_COLUMNS} FROM ${t}workflow_executions WHERE id = $1`;
const GET = get('');

// Execution $1, locked for the rest of the transaction.
const LOCK = `SELECT ${EXECUTION_COLUMNS} FROM workflow_executions WHERE id = $1 FOR UPDATE`;

// The journal of execution $1, in (started, op id) order.
const OPS = `SELECT ${OP_COLUMNS} FROM workflow_operations WHERE execution_id = $1 ORDER BY started_at_ms, op_id`;
// The journals of executions $1, each in OPS' order.
const JOURNALS = `SELECT ${OP_COLUMNS} FROM workflow_operations WHERE execution_id = ANY($1::text[])
  ORDER BY execution_id, started_at_ms, op_id`;

// Delete the operations, then the row, of execution $1 (locked first).
const DELETE_OPS = 'DELETE FROM workflow_operations WHERE execution_id = $1';
const DELETE_EXECUTION = 'DELETE FROM workflow_executions WHERE id = $1';

// Lease up to $2 live executions due by $1, the earliest first, skipping rows another worker holds:
// the n-th gets token $3[n], lease and due time $1 + $4, status running, woken cleared, one more
// replay, started now unless it had started. Returns the rows after, with their claim order.
const CLAIM = `
  WITH due AS MATERIALIZED (
    SELECT s, row_number() OVER (ORDER BY d, s) AS n FROM (
      SELECT seq AS s, due_at_ms AS d FROM workflow_executions
       WHERE due_at_ms <= $1 AND status IN ${LIVE}
       ORDER BY due_at_ms, seq LIMIT $2
         FOR UPDATE SKIP LOCKED) AS locked)
  UPDATE workflow_executions e
     SET lease_token = ($3::text[])[due.n], lease_until_ms = $1::bigint + $4::bigint,
         due_at_ms = $1::bigint + $4::bigint, status = 'running', woken = false, replays = e.replays + 1,
         started_at_ms = coalesce(e.started_at_ms, $1), updated_at_ms = $1
    FROM due
   WHERE e.seq = due.s
  RETURNING ${EXECUTION_COLUMNS}, due.n AS claim_order`;

// The earliest due time of a live execution (the first entry of the due index).
const NEXT_DUE = `
  SELECT due_at_ms FROM workflow_executions WHERE due_at_ms IS NOT NULL AND status IN ${LIVE}
   ORDER BY due_at_ms LIMIT 1`;

// Lock execution $1 if it is leased with token $2.
const LOCK_HELD = 'SELECT 1 FROM workflow_executions WHERE id = $1 AND lease_token = $2 FOR UPDATE';

// Upsert operations $1..$17; returns how many were new.
const UPSERT_OPS = `WITH up AS (${upsertOps(1)}) SELECT count(*) FILTER (WHERE inserted)::int AS n FROM up`;

// Wake live execution $1 at $2 (now): woken; due now (or when it was due, if earlier) unless a lease
// is held; notify channel $3 with its id. Returns a row when it woke one (none for finished or unknown).
const WAKE = `
  WITH w AS (
    UPDATE workflow_executions
       SET woken = true, updated_at_ms = $2,
           due_at_ms = CASE WHEN lease_token IS NULL OR lease_until_ms <= $2
                            THEN least(coalesce(due_at_ms, $2), $2) ELSE due_at_ms END
     WHERE id = $1 AND status IN ${LIVE}
    RETURNING id)
  SELECT pg_notify($3, w.id) FROM w`;

// Complete waiting operation $2 of execution $1 with status $3, result $4, error $5, at $6 (now).
// Callers lock the execution first and check that it is live.
const COMPLETE_OP = `
  UPDATE workflow_operations
     SET status = $3, result = $4, error = $5, finished_at_ms = $6, updated_at_ms = $6
   WHERE execution_id = $1 AND op_id = $2 AND status = 'waiting'`;

// The execution of the operation with callback id $1.
const CALLBACK_EXECUTION = 'SELECT execution_id FROM workflow_operations WHERE callback_id = $1';

// The operation with callback id $1 of execution $2, locked (its execution is locked already).
const LOCK_CALLBACK = `
  SELECT op_id, status FROM workflow_operations WHERE callback_id = $1 AND execution_id = $2 FOR UPDATE`;

// Record a heartbeat at $2 (now) on the operation with callback id $1.
const HEARTBEAT = 'UPDATE workflow_operations SET heartbeat_at_ms = $2 WHERE callback_id = $1';

// Extend the leases held with tokens $1 to $2, due then too; returns each token and whether its
// execution was asked to stop. The rows are locked in id order, as a batch of checkpoints locks
// them, so the two never wait on each other in a cycle.
const RENEW = `
  WITH held AS MATERIALIZED (
    SELECT id FROM workflow_executions WHERE lease_token = ANY($1::text[]) ORDER BY id FOR UPDATE)
  UPDATE workflow_executions e SET lease_until_ms = $2, due_at_ms = $2
    FROM held
   WHERE e.id = held.id AND e.lease_token = ANY($1::text[])
  RETURNING e.lease_token, e.stop_requested_at_ms IS NOT NULL AS stop`;

// Up to $2 waiting operations of type $1 whose execution is live, oldest first.
const WAITING_OPS = `
  SELECT ${OP_COLUMNS} FROM workflow_operations o
   WHERE type = $1 AND status = 'waiting'
     AND EXISTS (SELECT 1 FROM workflow_executions e WHERE e.id = o.execution_id AND e.status IN ${LIVE})
   ORDER BY started_at_ms, execution_id, op_id LIMIT $2`;

// Stop execution $1 at once with error $2 at $3 (now): finished, never due, lease and wake cleared,
// the first stop request kept. Returns the row after.
const STOP_NOW = `
  UPDATE workflow_executions
     SET status = 'stopped', error = $2, finished_at_ms = $3, updated_at_ms = $3, due_at_ms = NULL,
         lease_token = NULL, lease_until_ms = NULL, woken = false,
         stop_requested_at_ms = coalesce(stop_requested_at_ms, $3)
   WHERE id = $1
  RETURNING ${EXECUTION_COLUMNS}`;

// Record a stop request on leased execution $1 at $2 (now), keeping the first. Returns the row after.
const REQUEST_STOP = `
  UPDATE workflow_executions SET stop_requested_at_ms = coalesce(stop_requested_at_ms, $2), updated_at_ms = $2
   WHERE id = $1
  RETURNING ${EXECUTION_COLUMNS}`;

// Delete up to $2 executions finished before $1, the oldest first, with their operations. The
// executions are locked first (skipping any another transaction holds, for the next batch), then
// their operations go, then they do.
const DELETE_FINISHED = `
  WITH doomed AS MATERIALIZED (
    SELECT id FROM workflow_executions
     WHERE finished_at_ms < $1 AND status NOT IN ${LIVE}
     ORDER BY finished_at_ms LIMIT $2
       FOR UPDATE SKIP LOCKED),
  ops AS (DELETE FROM workflow_operations WHERE execution_id IN (SELECT id FROM doomed))
  DELETE FROM workflow_executions WHERE id IN (SELECT id FROM doomed)`;

// Executions waiting now, per workflow, by workflow name.
const COUNT_WAITING = `
  SELECT workflow, count(*)::int AS waiting FROM workflow_executions WHERE status = 'waiting'
   GROUP BY workflow ORDER BY workflow`;

type Queryable = pg.Pool | pg.PoolClient;

export class PgWorkflowStore implements WorkflowStore {
  readonly #db: pg.Pool;
  readonly #channel: string;
  readonly #checkpoints: CheckpointWriter;
  /** start and get on a caller's client: the tables qualified with the store's schema. */
  readonly #through: { readonly start: string; readonly get: string };

  /** `channel`: WORKFLOW_CHANNEL as named in this store's schema. */
  constructor(db: pg.Pool, channel: string, schema: string) {
    this.#db = db;
    this.#channel = channel;
    this.#checkpoints = new CheckpointWriter(db);
    this.#through = { start: start(`"${schema}".`), get: get(`"${schema}".`) };
  }

  async start(row: NewExecution, nowMs: number): Promise<{ row: ExecutionRow; created: boolean }> {
    return this.#start(this.#db, { start: START, get: GET }, row, nowMs);
  }

  async startThrough(
    client: SqlClient,
    row: NewExecution,
    nowMs: number,
  ): Promise<{ row: ExecutionRow; created: boolean }> {
    return this.#start(client, this.#through, row, nowMs);
  }

  async #start(
    db: SqlClient,
    sql: { readonly start: string; readonly get: string },
    row: NewExecution,
    nowMs: number,
  ): Promise<{ row: ExecutionRow; created: boolean }> {
    const { rows } = await db.query(sql.start, [
      row.id,
      row.workflow,
      row.version,
      row.input,
      row.parentId,
      row.parentOp,
      row.timeoutAtMs,
      nowMs,
      this.#channel,
      row.traceContext ?? null,
    ]);
    if (rows[0]) return { row: toExecutionRow(rows[0] as RawExecution), created: true };
    // ON CONFLICT waited for a concurrent insert of the id to commit (or it is the caller's own,
    // earlier in its transaction, which its client sees): the row is there.
    const found = await db.query(sql.get, [row.id]);
    return { row: toExecutionRow(found.rows[0] as RawExecution), created: false };
  }

  async get(id: string): Promise<ExecutionRow | null> {
    return readRow(this.#db, GET, [id], toExecutionRow);
  }

  async list(filter: ExecutionFilter): Promise<ExecutionRow[]> {
    const { sql, params } = listExecutionsQuery(PG_DIALECT, filter);
    return readRows(this.#db, sql, params, toExecutionRow);
  }

  async delete(id: string): Promise<'deleted' | 'not_found' | 'not_finished'> {
    return this.#transaction(async (c) => {
      const { rows } = await c.query<RawExecution>(LOCK, [id]);
      if (!rows[0]) return 'not_found';
      if (!isFinished(rows[0].status as ExecutionStatus)) return 'not_finished';
      await c.query(DELETE_OPS, [id]);
      await c.query(DELETE_EXECUTION, [id]);
      return 'deleted';
    });
  }

  async ops(executionId: string): Promise<OpRow[]> {
    return readRows(this.#db, OPS, [executionId], toOpRow);
  }

  async journals(executionIds: readonly string[]): Promise<Map<string, OpRow[]>> {
    const journals = new Map(executionIds.map((id) => [id, [] as OpRow[]]));
    if (executionIds.length === 0) return journals;
    for (const op of await readRows(this.#db, JOURNALS, [executionIds], toOpRow)) {
      journals.get(op.executionId)?.push(op);
    }
    return journals;
  }

  async claim(options: ClaimExecutionsOptions): Promise<ExecutionRow[]> {
    const { nowMs, leaseMs, limit } = options;
    const tokens = Array.from({ length: limit }, () => randomUUID());
    const { rows } = await this.#db.query<RawExecution & { claim_order: number }>(CLAIM, [
      nowMs,
      limit,
      tokens,
      leaseMs,
    ]);
    return rows.sort((a, b) => Number(a.claim_order) - Number(b.claim_order)).map(toExecutionRow);
  }

  async nextDueAt(): Promise<number | null> {
    const { rows } = await this.#db.query<{ due_at_ms: number }>(NEXT_DUE);
    return rows[0] ? Number(rows[0].due_at_ms) : null;
  }

  async checkpoint(
    executionId: string,
    token: string,
    ops: readonly OpRow[],
    patch: ExecutionPatch,
    nowMs: number,
  ): Promise<boolean> {
    // One statement, shared with other executions' checkpoints (see CheckpointWriter). A child's
    // finish is not written there: it hands the outcome to its parent, in the transaction below.
    if (await this.#checkpoints.write(executionId, token, ops, patch, nowMs)) return true;
    // Not written: the lease was lost, or (finishing) the execution is a child.
    if (patch.status === undefined || !isFinished(patch.status)) return false;
    return this.#transaction(async (c) => {
      // The lock fences: a claim that replaced the token waits for this transaction, or this
      // one sees the new token and writes nothing.
      if ((await c.query(LOCK_HELD, [executionId, token])).rowCount === 0) return false;
      let added = 0;
      if (ops.length > 0) {
        const values = journalOf(executionId, ops).map(opValues);
        const columns = Array.from({ length: 17 }, (_, k) => values.map((v) => v[k]));
        const { rows } = await c.query<{ n: number }>(UPSERT_OPS, columns);
        added = rows[0]!.n;
      }
      const { sql, params } = patchUpdate(PG_DIALECT, executionId, token, patch, added, nowMs);
      const { rows } = await c.query<RawExecution>(sql, params);
      const row = toExecutionRow(rows[0]!);
      if (isFinished(row.status)) await this.#propagate(c, row, nowMs);
      return true;
    });
  }

  async renew(
    tokens: readonly string[],
    untilMs: number,
    _nowMs: number,
  ): Promise<{ readonly lost: string[]; readonly stopRequested: string[] }> {
    if (tokens.length === 0) return { lost: [], stopRequested: [] };
    const { rows } = await this.#db.query<{ lease_token: string; stop: boolean }>(RENEW, [tokens, untilMs]);
    const held = new Set(rows.map((r) => r.lease_token));
    return {
      lost: tokens.filter((t) => !held.has(t)),
      stopRequested: rows.filter((r) => r.stop).map((r) => r.lease_token),
    };
  }

  async resolveCallback(
    callbackId: string,
    outcome: OpOutcome | null,
    nowMs: number,
  ): Promise<CallbackResolution> {
    const found = await this.#db.query<{ execution_id: string }>(CALLBACK_EXECUTION, [callbackId]);
    if (!found.rows[0]) return { kind: 'not_found' };
    const executionId = found.rows[0].execution_id;
    return this.#transaction(async (c): Promise<CallbackResolution> => {
      const execution = (await c.query<RawExecution>(LOCK, [executionId])).rows[0];
      const op = (await c.query<{ op_id: string; status: string }>(LOCK_CALLBACK, [callbackId, executionId]))
        .rows[0];
      // Deleted (or its callback id moved) since the lookup.
      if (!execution || !op) return { kind: 'not_found' };
      const executionStatus = execution.status as ExecutionStatus;
      if (op.status !== 'waiting' || isFinished(executionStatus)) {
        return { kind: 'closed', executionId, opStatus: op.status, executionStatus };
      }
      if (outcome === null) await c.query(HEARTBEAT, [callbackId, nowMs]);
      else {
        await c.query(COMPLETE_OP, [executionId, op.op_id, ...outcomeValues(outcome), nowMs]);
        await this.#wake(c, executionId, nowMs);
      }
      return { kind: 'done', executionId, opId: op.op_id };
    });
  }

  async resolveOp(executionId: string, opId: string, outcome: OpOutcome, nowMs: number): Promise<boolean> {
    return this.#transaction(async (c) => {
      const execution = (await c.query<RawExecution>(LOCK, [executionId])).rows[0];
      if (!execution || isFinished(execution.status as ExecutionStatus)) return false;
      const { rowCount } = await c.query(COMPLETE_OP, [executionId, opId, ...outcomeValues(outcome), nowMs]);
      if (rowCount === 0) return false;
      await this.#wake(c, executionId, nowMs);
      return true;
    });
  }

  async waitingOps(type: string, limit: number): Promise<OpRow[]> {
    return readRows(this.#db, WAITING_OPS, [type, limit], toOpRow);
  }

  async stop(id: string, error: string, nowMs: number): Promise<ExecutionRow | null> {
    return this.#transaction(async (c) => {
      const raw = (await c.query<RawExecution>(LOCK, [id])).rows[0];
      if (!raw) return null;
      const row = toExecutionRow(raw);
      if (isFinished(row.status)) return row;
      if (row.leaseToken !== null && row.leaseUntilMs !== null && row.leaseUntilMs > nowMs) {
        return toExecutionRow((await c.query<RawExecution>(REQUEST_STOP, [id, nowMs])).rows[0]!);
      }
      const stopped = toExecutionRow((await c.query<RawExecution>(STOP_NOW, [id, error, nowMs])).rows[0]!);
      await this.#propagate(c, stopped, nowMs);
      return stopped;
    });
  }

  async wake(id: string, nowMs: number): Promise<void> {
    await this.#wake(this.#db, id, nowMs);
  }

  async countWaiting(): Promise<WaitingCount[]> {
    const { rows } = await this.#db.query<{ workflow: string; waiting: number }>(COUNT_WAITING);
    return rows.map((r) => ({ workflow: r.workflow, waiting: Number(r.waiting) }));
  }

  async deleteFinished(beforeMs: number, limit: number): Promise<number> {
    const { rowCount } = await this.#db.query(DELETE_FINISHED, [beforeMs, limit]);
    return rowCount ?? 0;
  }

  /** Wakes a live execution (notifying on commit); false when it is finished or unknown. */
  async #wake(db: Queryable, id: string, nowMs: number): Promise<boolean> {
    const { rowCount } = await db.query(WAKE, [id, nowMs, this.#channel]);
    return rowCount === 1;
  }

  /**
   * Inside a transaction: hands finished `child`'s outcome to its parent's operation, if that
   * still waits, and wakes the parent (also when it does not: on its next replay the parent may
   * look at the child itself). The wake locks the parent's row before its operation is written.
   */
  async #propagate(c: pg.PoolClient, child: ExecutionRow, nowMs: number): Promise<void> {
    if (child.parentId === null || child.parentOp === null) return;
    if (!(await this.#wake(c, child.parentId, nowMs))) return;
    await c.query(COMPLETE_OP, [
      child.parentId,
      child.parentOp,
      ...outcomeValues(childOutcome(child)),
      nowMs,
    ]);
  }

  #transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return transaction(this.#db, fn);
  }
}
