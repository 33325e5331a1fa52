// Workflow executions and their journals on SQLite. One process owns the file: every
// multi-statement operation runs in one IMMEDIATE transaction, which alone serializes
// claims and checkpoints (no row locks to skip). Wake-ups go to the in-process bus
// after the transaction commits.

import { randomUUID } from 'node:crypto';
import type { SQLInputValue } from 'node:sqlite';
import { SQLITE_DIALECT } from '../dialect.ts';
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
  listExecutionsQuery,
  type NewExecution,
  OP_COLUMNS,
  OP_UPSERT,
  type OpOutcome,
  type OpRow,
  opValues,
  outcomeValues,
  patchUpdate,
  type RawExecution,
  type RawOp,
  toExecutionRow,
  toOpRow,
  type WaitingCount,
  WORKFLOW_CHANNEL,
  type WorkflowStore,
} from '../workflow-row.ts';
import { type Connection, type Prepared, prepareAll, transaction } from './database.ts';

const SQL = {
  // Insert execution ?1 (workflow ?2, version ?3, input ?4, parent ?5 and its operation ?6, timeout ?7,
  // trace context ?9) at ?8 (now), running and due now; nothing when the id is taken. Returns the row inserted.
  start: `
  INSERT INTO workflow_executions (id, workflow, version, status, input, parent_id, parent_op, timeout_at_ms,
                                   due_at_ms, created_at_ms, updated_at_ms, trace_context)
  VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6, ?7, ?8, ?8, ?8, ?9)
  ON CONFLICT (id) DO NOTHING
  RETURNING ${EXECUTION_COLUMNS}`,
  // One execution by id ?1.
  get: `SELECT ${EXECUTION_COLUMNS} FROM workflow_executions WHERE id = ?1`,
  // The journal of execution ?1, in (started, op id) order.
  ops: `SELECT ${OP_COLUMNS} FROM workflow_operations WHERE execution_id = ?1 ORDER BY started_at_ms, op_id`,
  // Delete the operations, then the row, of execution ?1.
  deleteOps: 'DELETE FROM workflow_operations WHERE execution_id = ?1',
  deleteExecution: 'DELETE FROM workflow_executions WHERE id = ?1',
  // Up to ?2 live executions due by ?1, the earliest first (the due index, in order).
  due: `
  SELECT seq FROM workflow_executions WHERE due_at_ms <= ?1 AND status IN ${LIVE}
   ORDER BY due_at_ms, seq LIMIT ?2`,
  // Lease execution seq ?1 with token ?2 until ?3 at ?4 (now): running, due at the lease's end, not woken,
  // one more replay, started now unless it had started. Returns the row after.
  claim: `
  UPDATE workflow_executions
     SET lease_token = ?2, lease_until_ms = ?3, due_at_ms = ?3, status = 'running', woken = 0,
         replays = replays + 1, started_at_ms = coalesce(started_at_ms, ?4), updated_at_ms = ?4
   WHERE seq = ?1
  RETURNING ${EXECUTION_COLUMNS}`,
  // The earliest due time of a live execution (the first entry of the due index).
  nextDue: `
  SELECT due_at_ms FROM workflow_executions WHERE due_at_ms IS NOT NULL AND status IN ${LIVE}
   ORDER BY due_at_ms LIMIT 1`,
  // Whether execution ?1 is leased with token ?2.
  holds: 'SELECT 1 AS held FROM workflow_executions WHERE id = ?1 AND lease_token = ?2',
  // How many of op ids ?2 (JSON array) execution ?1 has journaled.
  countStoredOps: `
  SELECT count(*) AS n FROM workflow_operations
   WHERE execution_id = ?1 AND op_id IN (SELECT value FROM json_each(?2))`,
  // Upsert an operation (OP_COLUMNS in order, ?1..?17): a stored one takes every new value.
  upsertOp: `
  INSERT INTO workflow_operations (${OP_COLUMNS})
  VALUES (${Array.from({ length: 17 }, (_, i) => `?${i + 1}`).join(', ')})
  ${OP_UPSERT}`,
  // Wake live execution ?1 at ?2 (now): woken; due now (or when it was due, if earlier) unless a lease
  // is held. Changes nothing for a finished or unknown execution.
  wake: `
  UPDATE workflow_executions
     SET woken = 1, updated_at_ms = ?2,
         due_at_ms = CASE WHEN lease_token IS NULL OR lease_until_ms <= ?2 THEN min(coalesce(due_at_ms, ?2), ?2)
                          ELSE due_at_ms END
   WHERE id = ?1 AND status IN ${LIVE}`,
  // Complete waiting operation ?2 of live execution ?1 with status ?3, result ?4, error ?5, at ?6 (now).
  completeOp: `
  UPDATE workflow_operations
     SET status = ?3, result = ?4, error = ?5, finished_at_ms = ?6, updated_at_ms = ?6
   WHERE execution_id = ?1 AND op_id = ?2 AND status = 'waiting'
     AND EXISTS (SELECT 1 FROM workflow_executions WHERE id = ?1 AND status IN ${LIVE})`,
  // The operation with callback id ?1 and its execution's status.
  callback: `
  SELECT o.execution_id, o.op_id, o.status AS op_status, e.status AS execution_status
    FROM workflow_operations o JOIN workflow_executions e ON e.id = o.execution_id
   WHERE o.callback_id = ?1`,
  // Record a heartbeat at ?2 (now) on the operation with callback id ?1.
  heartbeat: 'UPDATE workflow_operations SET heartbeat_at_ms = ?2 WHERE callback_id = ?1',
  // Extend the leases held with tokens ?1 (JSON array) to ?2, due then too; returns each token and
  // whether its execution was asked to stop.
  renew: `
  UPDATE workflow_executions SET lease_until_ms = ?2, due_at_ms = ?2
   WHERE lease_token IN (SELECT value FROM json_each(?1))
  RETURNING lease_token, stop_requested_at_ms IS NOT NULL AS stop`,
  // Up to ?2 waiting operations of type ?1 whose execution is live, oldest first.
  waitingOps: `
  SELECT ${OP_COLUMNS} FROM workflow_operations o
   WHERE type = ?1 AND status = 'waiting'
     AND EXISTS (SELECT 1 FROM workflow_executions e WHERE e.id = o.execution_id AND e.status IN ${LIVE})
   ORDER BY started_at_ms, execution_id, op_id LIMIT ?2`,
  // Stop execution ?1 at once with error ?2 at ?3 (now): finished, never due, lease and wake cleared,
  // the first stop request kept. Returns the row after.
  stopNow: `
  UPDATE workflow_executions
     SET status = 'stopped', error = ?2, finished_at_ms = ?3, updated_at_ms = ?3, due_at_ms = NULL,
         lease_token = NULL, lease_until_ms = NULL, woken = 0,
         stop_requested_at_ms = coalesce(stop_requested_at_ms, ?3)
   WHERE id = ?1
  RETURNING ${EXECUTION_COLUMNS}`,
  // Record a stop request on leased execution ?1 at ?2 (now), keeping the first. Returns the row after.
  requestStop: `
  UPDATE workflow_executions SET stop_requested_at_ms = coalesce(stop_requested_at_ms, ?2), updated_at_ms = ?2
   WHERE id = ?1
  RETURNING ${EXECUTION_COLUMNS}`,
  // Up to ?2 finished executions finished before ?1, the oldest first.
  doomed: `
  SELECT id FROM workflow_executions
   WHERE finished_at_ms < ?1 AND status NOT IN ${LIVE}
   ORDER BY finished_at_ms LIMIT ?2`,
  // Delete the operations, then the rows, of executions with ids ?1 (JSON array).
  deleteOpsOf: 'DELETE FROM workflow_operations WHERE execution_id IN (SELECT value FROM json_each(?1))',
  deleteExecutions: 'DELETE FROM workflow_executions WHERE id IN (SELECT value FROM json_each(?1))',
  // Executions waiting now, per workflow, by workflow name.
  countWaiting: `
  SELECT workflow, count(*) AS waiting FROM workflow_executions WHERE status = 'waiting'
   GROUP BY workflow ORDER BY workflow`,
} as const;

export class SqliteWorkflowStore implements WorkflowStore {
  readonly #s: Prepared<typeof SQL>;
  readonly #db: Connection;
  readonly #notify: (channel: string, payload: string) => void;

  constructor(db: Connection, notify: (channel: string, payload: string) => void) {
    this.#s = prepareAll(db, SQL);
    this.#db = db;
    this.#notify = notify;
  }

  async start(row: NewExecution, nowMs: number): Promise<{ row: ExecutionRow; created: boolean }> {
    const inserted = this.#s.start.get(
      row.id,
      row.workflow,
      row.version,
      row.input,
      row.parentId,
      row.parentOp,
      row.timeoutAtMs,
      nowMs,
      row.traceContext ?? null,
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
    const { sql, params } = listExecutionsQuery(SQLITE_DIALECT, filter);
    return (this.#db.cached(sql).all(...(params as SQLInputValue[])) as unknown as RawExecution[]).map(
      toExecutionRow,
    );
  }

  async delete(id: string): Promise<'deleted' | 'not_found' | 'not_finished'> {
    return transaction(this.#db, () => {
      const row = this.#getRow(id);
      if (!row) return 'not_found';
      if (!isFinished(row.status)) return 'not_finished';
      this.#s.deleteOps.run(id);
      this.#s.deleteExecution.run(id);
      return 'deleted';
    });
  }

  async ops(executionId: string): Promise<OpRow[]> {
    return (this.#s.ops.all(executionId) as unknown as RawOp[]).map(toOpRow);
  }

  async journals(executionIds: readonly string[]): Promise<Map<string, OpRow[]>> {
    // In process, one statement per execution costs no round trip.
    const journals = new Map<string, OpRow[]>();
    for (const id of executionIds) journals.set(id, await this.ops(id));
    return journals;
  }

  async claim(options: ClaimExecutionsOptions): Promise<ExecutionRow[]> {
    const { nowMs, leaseMs, limit } = options;
    // The idle path (every poll) is one index probe, with no write lock taken.
    if (this.#s.due.all(nowMs, 1).length === 0) return [];
    return transaction(this.#db, () => {
      const due = this.#s.due.all(nowMs, limit) as unknown as { seq: number }[];
      return due.map(({ seq }) =>
        toExecutionRow(
          this.#s.claim.get(seq, randomUUID(), nowMs + leaseMs, nowMs) as unknown as RawExecution,
        ),
      );
    });
  }

  async nextDueAt(): Promise<number | null> {
    const row = this.#s.nextDue.get() as { due_at_ms: number } | undefined;
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
      if (!this.#s.holds.get(executionId, token)) return false;
      let added = 0;
      if (ops.length > 0) {
        const ids = [...new Set(ops.map((o) => o.opId))];
        const stored = (this.#s.countStoredOps.get(executionId, JSON.stringify(ids)) as { n: number }).n;
        added = ids.length - Number(stored);
        // Ops of another execution would break the count: the journal is this execution's.
        for (const o of ops) this.#s.upsertOp.run(...opValues({ ...o, executionId }));
      }
      const { sql, params } = patchUpdate(SQLITE_DIALECT, executionId, token, patch, added, nowMs);
      const row = toExecutionRow(
        this.#db.cached(sql).get(...(params as SQLInputValue[])) as unknown as RawExecution,
      );
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
    const rows = this.#s.renew.all(JSON.stringify(tokens), untilMs) as unknown as {
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
      const found = this.#s.callback.get(callbackId) as
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
      if (outcome === null) this.#s.heartbeat.run(callbackId, nowMs);
      else {
        this.#s.completeOp.run(executionId, opId, ...outcomeValues(outcome), nowMs);
        this.#s.wake.run(executionId, nowMs);
      }
      return { kind: 'done', executionId, opId };
    });
    if (resolution.kind === 'done' && outcome !== null)
      this.#notify(WORKFLOW_CHANNEL, resolution.executionId);
    return resolution;
  }

  async resolveOp(executionId: string, opId: string, outcome: OpOutcome, nowMs: number): Promise<boolean> {
    const done = transaction(this.#db, () => {
      const { changes } = this.#s.completeOp.run(executionId, opId, ...outcomeValues(outcome), nowMs);
      if (Number(changes) === 0) return false;
      this.#s.wake.run(executionId, nowMs);
      return true;
    });
    if (done) this.#notify(WORKFLOW_CHANNEL, executionId);
    return done;
  }

  async waitingOps(type: string, limit: number): Promise<OpRow[]> {
    return (this.#s.waitingOps.all(type, limit) as unknown as RawOp[]).map(toOpRow);
  }

  async stop(id: string, error: string, nowMs: number): Promise<ExecutionRow | null> {
    const outcome = transaction(this.#db, () => {
      const row = this.#getRow(id);
      if (!row || isFinished(row.status)) return { row, woke: null };
      if (row.leaseToken !== null && row.leaseUntilMs !== null && row.leaseUntilMs > nowMs) {
        return {
          row: toExecutionRow(this.#s.requestStop.get(id, nowMs) as unknown as RawExecution),
          woke: null,
        };
      }
      const stopped = toExecutionRow(this.#s.stopNow.get(id, error, nowMs) as unknown as RawExecution);
      return { row: stopped, woke: this.#propagate(stopped, nowMs) };
    });
    if (outcome.woke !== null) this.#notify(WORKFLOW_CHANNEL, outcome.woke);
    return outcome.row;
  }

  async wake(id: string, nowMs: number): Promise<void> {
    if (Number(this.#s.wake.run(id, nowMs).changes) === 1) this.#notify(WORKFLOW_CHANNEL, id);
  }

  async countWaiting(): Promise<WaitingCount[]> {
    return (this.#s.countWaiting.all() as unknown as { workflow: string; waiting: number }[]).map((r) => ({
      workflow: r.workflow,
      waiting: Number(r.waiting),
    }));
  }

  async deleteFinished(beforeMs: number, limit: number): Promise<number> {
    return transaction(this.#db, () => {
      const ids = (this.#s.doomed.all(beforeMs, limit) as unknown as { id: string }[]).map((r) => r.id);
      if (ids.length === 0) return 0;
      const list = JSON.stringify(ids);
      this.#s.deleteOpsOf.run(list);
      return Number(this.#s.deleteExecutions.run(list).changes);
    });
  }

  /**
   * Inside a transaction: hands finished `child`'s outcome to its parent's operation, if that
   * still waits, and wakes the parent (also when it does not: on its next replay the parent may
   * look at the child itself). Returns the parent's id when it was woken, for a notification.
   */
  #propagate(child: ExecutionRow, nowMs: number): string | null {
    if (child.parentId === null || child.parentOp === null) return null;
    this.#s.completeOp.run(child.parentId, child.parentOp, ...outcomeValues(childOutcome(child)), nowMs);
    return Number(this.#s.wake.run(child.parentId, nowMs).changes) === 1 ? child.parentId : null;
  }

  #getRow(id: string): ExecutionRow | null {
    const row = this.#s.get.get(id) as RawExecution | undefined;
    return row ? toExecutionRow(row) : null;
  }
}
