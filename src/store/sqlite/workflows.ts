// Workflow executions and their journals on SQLite. One process owns the file: every
// multi-statement operation runs in one IMMEDIATE transaction, which alone serializes
// claims and checkpoints (no row locks to skip). Wake-ups go to the in-process bus
// after the transaction commits.

import { randomUUID } from 'node:crypto';
import type { SQLInputValue } from 'node:sqlite';
import { patchUpdate, SQLITE_DIALECT } from '../dialect.ts';
import { Filter, SQLITE_PARAM } from '../filter.ts';
import {
  type CallbackResolution,
  type ClaimExecutionsOptions,
  childOutcome,
  EXECUTION_COLUMNS,
  type ExecutionFilter,
  type ExecutionPatch,
  type ExecutionRow,
  type ExecutionStatus,
  isFinished,
  LIVE,
  type NewExecution,
  OP_COLUMNS,
  type OpOutcome,
  type OpRow,
  opValues,
  outcomeValues,
  type RawExecution,
  type RawOp,
  toExecutionRow,
  toOpRow,
  WORKFLOW_CHANNEL,
  type WorkflowStore,
} from '../workflow-row.ts';
import { type Connection, type Statement, transaction } from './database.ts';

// Insert execution ?1 (workflow ?2, version ?3, input ?4, parent ?5 and its operation ?6, timeout ?7) at ?8
// (now), running and due now; nothing when the id is taken. Returns the row inserted.
const START = `
  INSERT INTO workflow_executions (id, workflow, version, status, input, parent_id, parent_op, timeout_at_ms,
                                   due_at_ms, created_at_ms, updated_at_ms)
  VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6, ?7, ?8, ?8, ?8)
  ON CONFLICT (id) DO NOTHING
  RETURNING ${EXECUTION_COLUMNS}`;

// One execution by id ?1.
const GET = `SELECT ${EXECUTION_COLUMNS} FROM workflow_executions WHERE id = ?1`;

// The journal of execution ?1, in (started, op id) order.
const OPS = `SELECT ${OP_COLUMNS} FROM workflow_operations WHERE execution_id = ?1 ORDER BY started_at_ms, op_id`;

// Delete the operations, then the row, of execution ?1.
const DELETE_OPS = 'DELETE FROM workflow_operations WHERE execution_id = ?1';
const DELETE_EXECUTION = 'DELETE FROM workflow_executions WHERE id = ?1';

// Up to ?2 live executions due by ?1, the earliest first (the due index, in order).
const DUE = `
  SELECT seq FROM workflow_executions WHERE due_at_ms <= ?1 AND status IN ${LIVE}
   ORDER BY due_at_ms, seq LIMIT ?2`;

// Lease execution seq ?1 with token ?2 until ?3 at ?4 (now): running, due at the lease's end, not woken,
// one more replay, started now unless it had started. Returns the row after.
const CLAIM = `
  UPDATE workflow_executions
     SET lease_token = ?2, lease_until_ms = ?3, due_at_ms = ?3, status = 'running', woken = 0,
         replays = replays + 1, started_at_ms = coalesce(started_at_ms, ?4), updated_at_ms = ?4
   WHERE seq = ?1
  RETURNING ${EXECUTION_COLUMNS}`;

// The earliest due time of a live execution (the first entry of the due index).
const NEXT_DUE = `
  SELECT due_at_ms FROM workflow_executions WHERE due_at_ms IS NOT NULL AND status IN ${LIVE}
   ORDER BY due_at_ms LIMIT 1`;

// Whether execution ?1 is leased with token ?2.
const HOLDS = 'SELECT 1 AS held FROM workflow_executions WHERE id = ?1 AND lease_token = ?2';

// How many of op ids ?2 (JSON array) execution ?1 has journaled.
const COUNT_STORED_OPS = `
  SELECT count(*) AS n FROM workflow_operations
   WHERE execution_id = ?1 AND op_id IN (SELECT value FROM json_each(?2))`;

// Upsert an operation (OP_COLUMNS in order, ?1..?17): a stored one takes every new value.
const UPSERT_OP = `
  INSERT INTO workflow_operations (${OP_COLUMNS})
  VALUES (${Array.from({ length: 17 }, (_, i) => `?${i + 1}`).join(', ')})
  ON CONFLICT (execution_id, op_id) DO UPDATE
     SET parent_op_id = excluded.parent_op_id, type = excluded.type, name = excluded.name,
         status = excluded.status, attempt = excluded.attempt, result = excluded.result, error = excluded.error,
         started_at_ms = excluded.started_at_ms, finished_at_ms = excluded.finished_at_ms,
         wake_at_ms = excluded.wake_at_ms, heartbeat_at_ms = excluded.heartbeat_at_ms,
         callback_id = excluded.callback_id, child_id = excluded.child_id, detail = excluded.detail,
         updated_at_ms = excluded.updated_at_ms`;

// Wake live execution ?1 at ?2 (now): woken; due now (or when it was due, if earlier) unless a lease
// is held. Changes nothing for a finished or unknown execution.
const WAKE = `
  UPDATE workflow_executions
     SET woken = 1, updated_at_ms = ?2,
         due_at_ms = CASE WHEN lease_token IS NULL OR lease_until_ms <= ?2 THEN min(coalesce(due_at_ms, ?2), ?2)
                          ELSE due_at_ms END
   WHERE id = ?1 AND status IN ${LIVE}`;

// Complete waiting operation ?2 of live execution ?1 with status ?3, result ?4, error ?5, at ?6 (now).
const COMPLETE_OP = `
  UPDATE workflow_operations
     SET status = ?3, result = ?4, error = ?5, finished_at_ms = ?6, updated_at_ms = ?6
   WHERE execution_id = ?1 AND op_id = ?2 AND status = 'waiting'
     AND EXISTS (SELECT 1 FROM workflow_executions WHERE id = ?1 AND status IN ${LIVE})`;

// The operation with callback id ?1 and its execution's status.
const CALLBACK = `
  SELECT o.execution_id, o.op_id, o.status AS op_status, e.status AS execution_status
    FROM workflow_operations o JOIN workflow_executions e ON e.id = o.execution_id
   WHERE o.callback_id = ?1`;

// Record a heartbeat at ?2 (now) on the operation with callback id ?1.
const HEARTBEAT = 'UPDATE workflow_operations SET heartbeat_at_ms = ?2 WHERE callback_id = ?1';

// Extend the leases held with tokens ?1 (JSON array) to ?2, due then too; returns each token and
// whether its execution was asked to stop.
const RENEW = `
  UPDATE workflow_executions SET lease_until_ms = ?2, due_at_ms = ?2
   WHERE lease_token IN (SELECT value FROM json_each(?1))
  RETURNING lease_token, stop_requested_at_ms IS NOT NULL AS stop`;

// Up to ?2 waiting operations of type ?1 whose execution is live, oldest first.
const WAITING_OPS = `
  SELECT ${OP_COLUMNS} FROM workflow_operations o
   WHERE type = ?1 AND status = 'waiting'
     AND EXISTS (SELECT 1 FROM workflow_executions e WHERE e.id = o.execution_id AND e.status IN ${LIVE})
   ORDER BY started_at_ms, execution_id, op_id LIMIT ?2`;

// Stop execution ?1 at once with error ?2 at ?3 (now): finished, never due, lease and wake cleared,
// the first stop request kept. Returns the row after.
const STOP_NOW = `
  UPDATE workflow_executions
     SET status = 'stopped', error = ?2, finished_at_ms = ?3, updated_at_ms = ?3, due_at_ms = NULL,
         lease_token = NULL, lease_until_ms = NULL, woken = 0,
         stop_requested_at_ms = coalesce(stop_requested_at_ms, ?3)
   WHERE id = ?1
  RETURNING ${EXECUTION_COLUMNS}`;

// Record a stop request on leased execution ?1 at ?2 (now), keeping the first. Returns the row after.
const REQUEST_STOP = `
  UPDATE workflow_executions SET stop_requested_at_ms = coalesce(stop_requested_at_ms, ?2), updated_at_ms = ?2
   WHERE id = ?1
  RETURNING ${EXECUTION_COLUMNS}`;

// Up to ?2 finished executions finished before ?1, the oldest first.
const DOOMED = `
  SELECT id FROM workflow_executions
   WHERE finished_at_ms < ?1 AND status NOT IN ${LIVE}
   ORDER BY finished_at_ms LIMIT ?2`;

// Delete the operations, then the rows, of executions with ids ?1 (JSON array).
const DELETE_OPS_OF =
  'DELETE FROM workflow_operations WHERE execution_id IN (SELECT value FROM json_each(?1))';
const DELETE_EXECUTIONS = 'DELETE FROM workflow_executions WHERE id IN (SELECT value FROM json_each(?1))';

export class SqliteWorkflowStore implements WorkflowStore {
  readonly #db: Connection;
  readonly #notify: (channel: string, payload: string) => void;
  readonly #start: Statement;
  readonly #get: Statement;
  readonly #ops: Statement;
  readonly #deleteOps: Statement;
  readonly #deleteExecution: Statement;
  readonly #due: Statement;
  readonly #claim: Statement;
  readonly #nextDue: Statement;
  readonly #holds: Statement;
  readonly #countStoredOps: Statement;
  readonly #upsertOp: Statement;
  readonly #wake: Statement;
  readonly #completeOp: Statement;
  readonly #callback: Statement;
  readonly #heartbeat: Statement;
  readonly #renew: Statement;
  readonly #waitingOps: Statement;
  readonly #stopNow: Statement;
  readonly #requestStop: Statement;
  readonly #doomed: Statement;
  readonly #deleteOpsOf: Statement;
  readonly #deleteExecutions: Statement;
  /** Dynamic statements (lists, checkpoint updates) by their SQL; a few dozen shapes at most. */
  readonly #dynamic = new Map<string, Statement>();

  constructor(db: Connection, notify: (channel: string, payload: string) => void) {
    this.#db = db;
    this.#notify = notify;
    this.#start = db.prepare(START);
    this.#get = db.prepare(GET);
    this.#ops = db.prepare(OPS);
    this.#deleteOps = db.prepare(DELETE_OPS);
    this.#deleteExecution = db.prepare(DELETE_EXECUTION);
    this.#due = db.prepare(DUE);
    this.#claim = db.prepare(CLAIM);
    this.#nextDue = db.prepare(NEXT_DUE);
    this.#holds = db.prepare(HOLDS);
    this.#countStoredOps = db.prepare(COUNT_STORED_OPS);
    this.#upsertOp = db.prepare(UPSERT_OP);
    this.#wake = db.prepare(WAKE);
    this.#completeOp = db.prepare(COMPLETE_OP);
    this.#callback = db.prepare(CALLBACK);
    this.#heartbeat = db.prepare(HEARTBEAT);
    this.#renew = db.prepare(RENEW);
    this.#waitingOps = db.prepare(WAITING_OPS);
    this.#stopNow = db.prepare(STOP_NOW);
    this.#requestStop = db.prepare(REQUEST_STOP);
    this.#doomed = db.prepare(DOOMED);
    this.#deleteOpsOf = db.prepare(DELETE_OPS_OF);
    this.#deleteExecutions = db.prepare(DELETE_EXECUTIONS);
  }

  async start(row: NewExecution, nowMs: number): Promise<{ row: ExecutionRow; created: boolean }> {
    const inserted = this.#start.get(
      row.id,
      row.workflow,
      row.version,
      row.input,
      row.parentId,
      row.parentOp,
      row.timeoutAtMs,
      nowMs,
    ) as RawExecution | undefined;
    if (inserted) {
      this.#notify(WORKFLOW_CHANNEL, row.id);
      return { row: toExecutionRow(inserted), created: true };
    }
    return { row: this.#getRow(row.id)!, created: false };
  }

  async get(id: string): Promise<ExecutionRow | null> {
    return this.#getRow(id);
  }

  async list(filter: ExecutionFilter): Promise<ExecutionRow[]> {
    const f = new Filter<SQLInputValue>(SQLITE_PARAM);
    f.add('workflow = ?', filter.workflow);
    f.add('status = ?', filter.status);
    f.add('parent_id = ?', filter.parentId);
    if (filter.statuses && filter.statuses.length > 0)
      f.add(`status IN (${filter.statuses.map(() => '?').join(', ')})`, ...filter.statuses);
    f.add('seq < ?', filter.beforeSeq);
    const { where: clause, limit } = f.end(filter.limit);
    // Executions matching the filter, newest first, up to the last parameter (the limit).
    const sql = `SELECT ${EXECUTION_COLUMNS} FROM workflow_executions ${clause} ORDER BY seq DESC LIMIT ${limit}`;
    return (this.#statement(sql).all(...f.params) as unknown as RawExecution[]).map(toExecutionRow);
  }

  async delete(id: string): Promise<'deleted' | 'not_found' | 'not_finished'> {
    return transaction(this.#db, () => {
      const row = this.#getRow(id);
      if (!row) return 'not_found';
      if (!isFinished(row.status)) return 'not_finished';
      this.#deleteOps.run(id);
      this.#deleteExecution.run(id);
      return 'deleted';
    });
  }

  async ops(executionId: string): Promise<OpRow[]> {
    return (this.#ops.all(executionId) as unknown as RawOp[]).map(toOpRow);
  }

  async claim(options: ClaimExecutionsOptions): Promise<ExecutionRow[]> {
    const { nowMs, leaseMs, limit } = options;
    // The idle path (every poll) is one index probe, with no write lock taken.
    if (this.#due.all(nowMs, 1).length === 0) return [];
    return transaction(this.#db, () => {
      const due = this.#due.all(nowMs, limit) as unknown as { seq: number }[];
      return due.map(({ seq }) =>
        toExecutionRow(this.#claim.get(seq, randomUUID(), nowMs + leaseMs, nowMs) as unknown as RawExecution),
      );
    });
  }

  async nextDueAt(): Promise<number | null> {
    const row = this.#nextDue.get() as { due_at_ms: number } | undefined;
    return row ? Number(row.due_at_ms) : null;
  }

  async checkpoint(
    executionId: string,
    token: string,
    ops: readonly OpRow[],
    patch: ExecutionPatch,
    nowMs: number,
  ): Promise<boolean> {
    const woke = transaction(this.#db, (): string | false | null => {
      if (!this.#holds.get(executionId, token)) return false;
      let added = 0;
      if (ops.length > 0) {
        const ids = [...new Set(ops.map((o) => o.opId))];
        const stored = (this.#countStoredOps.get(executionId, JSON.stringify(ids)) as { n: number }).n;
        added = ids.length - Number(stored);
        // Ops of another execution would break the count: the journal is this execution's.
        for (const o of ops) this.#upsertOp.run(...opValues({ ...o, executionId }));
      }
      const { sql, params } = patchUpdate<SQLInputValue>(
        SQLITE_DIALECT,
        executionId,
        token,
        patch,
        added,
        nowMs,
      );
      const row = toExecutionRow(this.#statement(sql).get(...params) as unknown as RawExecution);
      return isFinished(row.status) ? this.#propagate(row, nowMs) : null;
    });
    if (woke === false) return false;
    if (woke !== null) this.#notify(WORKFLOW_CHANNEL, woke);
    return true;
  }

  async renew(
    tokens: readonly string[],
    untilMs: number,
    _nowMs: number,
  ): Promise<{ readonly lost: string[]; readonly stopRequested: string[] }> {
    if (tokens.length === 0) return { lost: [], stopRequested: [] };
    const rows = this.#renew.all(JSON.stringify(tokens), untilMs) as unknown as {
      lease_token: string;
      stop: number;
    }[];
    const held = new Set(rows.map((r) => r.lease_token));
    return {
      lost: tokens.filter((t) => !held.has(t)),
      stopRequested: rows.filter((r) => r.stop === 1).map((r) => r.lease_token),
    };
  }

  async resolveCallback(
    callbackId: string,
    outcome: OpOutcome | null,
    nowMs: number,
  ): Promise<CallbackResolution> {
    const resolution = transaction(this.#db, (): CallbackResolution => {
      const found = this.#callback.get(callbackId) as
        | { execution_id: string; op_id: string; op_status: string; execution_status: ExecutionStatus }
        | undefined;
      if (!found) return { kind: 'not_found' };
      const { execution_id: executionId, op_id: opId } = found;
      if (found.op_status !== 'waiting' || isFinished(found.execution_status)) {
        return {
          kind: 'closed',
          executionId,
          opStatus: found.op_status,
          executionStatus: found.execution_status,
        };
      }
      if (outcome === null) this.#heartbeat.run(callbackId, nowMs);
      else {
        this.#completeOp.run(executionId, opId, ...outcomeValues(outcome), nowMs);
        this.#wake.run(executionId, nowMs);
      }
      return { kind: 'done', executionId, opId };
    });
    if (resolution.kind === 'done' && outcome !== null)
      this.#notify(WORKFLOW_CHANNEL, resolution.executionId);
    return resolution;
  }

  async resolveOp(executionId: string, opId: string, outcome: OpOutcome, nowMs: number): Promise<boolean> {
    const done = transaction(this.#db, () => {
      const { changes } = this.#completeOp.run(executionId, opId, ...outcomeValues(outcome), nowMs);
      if (Number(changes) === 0) return false;
      this.#wake.run(executionId, nowMs);
      return true;
    });
    if (done) this.#notify(WORKFLOW_CHANNEL, executionId);
    return done;
  }

  async waitingOps(type: string, limit: number): Promise<OpRow[]> {
    return (this.#waitingOps.all(type, limit) as unknown as RawOp[]).map(toOpRow);
  }

  async stop(id: string, error: string, nowMs: number): Promise<ExecutionRow | null> {
    const outcome = transaction(this.#db, () => {
      const row = this.#getRow(id);
      if (!row || isFinished(row.status)) return { row, woke: null };
      if (row.leaseToken !== null && row.leaseUntilMs !== null && row.leaseUntilMs > nowMs) {
        return {
          row: toExecutionRow(this.#requestStop.get(id, nowMs) as unknown as RawExecution),
          woke: null,
        };
      }
      const stopped = toExecutionRow(this.#stopNow.get(id, error, nowMs) as unknown as RawExecution);
      return { row: stopped, woke: this.#propagate(stopped, nowMs) };
    });
    if (outcome.woke !== null) this.#notify(WORKFLOW_CHANNEL, outcome.woke);
    return outcome.row;
  }

  async wake(id: string, nowMs: number): Promise<void> {
    if (Number(this.#wake.run(id, nowMs).changes) === 1) this.#notify(WORKFLOW_CHANNEL, id);
  }

  async deleteFinished(beforeMs: number, limit: number): Promise<number> {
    return transaction(this.#db, () => {
      const ids = (this.#doomed.all(beforeMs, limit) as unknown as { id: string }[]).map((r) => r.id);
      if (ids.length === 0) return 0;
      const list = JSON.stringify(ids);
      this.#deleteOpsOf.run(list);
      return Number(this.#deleteExecutions.run(list).changes);
    });
  }

  /**
   * Inside a transaction: hands finished `child`'s outcome to its parent's operation, if that
   * still waits, and wakes the parent (also when it does not: on its next replay the parent may
   * look at the child itself). Returns the parent's id when it was woken, for a notification.
   */
  #propagate(child: ExecutionRow, nowMs: number): string | null {
    if (child.parentId === null || child.parentOp === null) return null;
    this.#completeOp.run(child.parentId, child.parentOp, ...outcomeValues(childOutcome(child)), nowMs);
    return Number(this.#wake.run(child.parentId, nowMs).changes) === 1 ? child.parentId : null;
  }

  #getRow(id: string): ExecutionRow | null {
    const row = this.#get.get(id) as RawExecution | undefined;
    return row ? toExecutionRow(row) : null;
  }

  #statement(sql: string): Statement {
    let statement = this.#dynamic.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#dynamic.set(sql, statement);
    }
    return statement;
  }
}
