// Workflow checkpoints on PostgreSQL, many executions' to a statement. Every commit waits for
// its WAL flush, so a hundred sessions checkpointing one statement each were bound by those
// flushes and by the pool's connections (a checkpoint's mean wait was 79 ms in the 3-step
// throughput benchmark). Checkpoints that arrive while others are being written wait and go
// out together: one statement, one commit, one flush for all. A lone checkpoint goes at once.
// The guarantee is unchanged: each caller's promise resolves after its own commit.

import type pg from 'pg';
import { isTransient } from '../../core/backoff.ts';
import {
  type ExecutionPatch,
  isFinished,
  OP_COLUMNS,
  OP_UPSERT,
  type OpRow,
  opValues,
} from '../workflow-row.ts';

/** Statements writing checkpoints at once: enough to overlap round trips, a few of the pool's connections. */
const MAX_IN_FLIGHT = 4;
/** Executions per statement. */
const MAX_BATCH = 500;

// What a checkpoint's patch sets, as bits of its `flags`.
const SET_STATUS = 1;
const SET_OUTPUT = 2;
const SET_ERROR = 4;
const SET_PROGRESS = 8;
const SET_WAIT = 16;
const SET_FINISHED_AT = 32;
const RELEASE = 64;
/** The patch finishes the execution: only written here when it has no parent (a child's finish wakes its parent, in a transaction). */
const FINISHING = 128;

const OP_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'int',
  'text',
  'text',
  'bigint',
  'bigint',
  'bigint',
  'bigint',
  'text',
  'text',
  'text',
  'bigint',
];

/**
 * Upserts operations given as arrays from `$first` (one entry per execution and op id, OP_COLUMNS
 * order) where `guard` holds of the row `v`: a stored one takes every new value. Returns each
 * row's execution and whether it was new (xmax is 0 only on a row this statement inserted).
 */
export const upsertOps = (first: number, guard = 'true') => `
  INSERT INTO workflow_operations AS o (${OP_COLUMNS})
  SELECT * FROM unnest(${OP_TYPES.map((t, k) => `$${first + k}::${t}[]`).join(', ')}) AS v(${OP_COLUMNS})
   WHERE ${guard}
  ${OP_UPSERT}
  RETURNING o.execution_id, (o.xmax = 0) AS inserted`;

// Checkpoint executions $1 (lease tokens $2; flags $3; status, output, error, progress, wait $4..$8;
// finished time $9; release's due time $10; now $11) with operations $12..$28. Each execution is
// locked first, in id order, if it still holds its token (and, finishing, has no parent): that fences
// a claim that replaced the token, which waits for this statement or is seen by it. Then its
// operations, then the execution's row as ExecutionPatch says (see patchUpdate, which this follows).
// Returns the ids written. A named statement, so its plan is cached: every join in it looks rows up
// by an index or a hash whatever the batch's size (the counts of new operations are one jsonb
// object, not a join), so the generic plan serves one execution and five hundred alike.
const CHECKPOINT = `
  WITH held AS MATERIALIZED (
    SELECT i.* FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
                           $8::text[], $9::bigint[], $10::bigint[], $11::bigint[])
        AS i(id, token, flags, status, output, error, progress, wait, finished_at_ms, release_due_ms, now_ms)
      JOIN workflow_executions e ON e.id = i.id
     WHERE e.lease_token = i.token AND (i.flags & ${FINISHING} = 0 OR e.parent_id IS NULL)
     ORDER BY e.id
       FOR UPDATE OF e),
  up AS (${upsertOps(12, 'v.execution_id IN (SELECT id FROM held)')}),
  added AS MATERIALIZED (
    SELECT coalesce(jsonb_object_agg(execution_id, n), '{}') AS n
      FROM (SELECT execution_id, count(*) FILTER (WHERE inserted) AS n FROM up GROUP BY execution_id) AS per)
  UPDATE workflow_executions e
     SET op_count = e.op_count + coalesce((a.n ->> e.id)::bigint, 0),
         updated_at_ms = i.now_ms,
         status = CASE WHEN i.flags & ${SET_STATUS} <> 0 THEN i.status ELSE e.status END,
         output = CASE WHEN i.flags & ${SET_OUTPUT} <> 0 THEN i.output ELSE e.output END,
         error = CASE WHEN i.flags & ${SET_ERROR} <> 0 THEN i.error ELSE e.error END,
         progress = CASE WHEN i.flags & ${SET_PROGRESS} <> 0 THEN i.progress ELSE e.progress END,
         wait = CASE WHEN i.flags & ${SET_WAIT} <> 0 THEN i.wait ELSE e.wait END,
         finished_at_ms = CASE WHEN i.flags & ${FINISHING} <> 0 THEN coalesce(i.finished_at_ms, e.finished_at_ms, i.now_ms)
                               WHEN i.flags & ${SET_FINISHED_AT} <> 0 THEN i.finished_at_ms
                               ELSE e.finished_at_ms END,
         due_at_ms = CASE WHEN i.flags & ${FINISHING} <> 0 THEN NULL
                          WHEN i.flags & ${RELEASE} = 0 THEN e.due_at_ms
                          WHEN e.woken OR e.stop_requested_at_ms IS NOT NULL THEN i.now_ms
                          ELSE i.release_due_ms END,
         lease_token = CASE WHEN i.flags & ${FINISHING | RELEASE} <> 0 THEN NULL ELSE e.lease_token END,
         lease_until_ms = CASE WHEN i.flags & ${FINISHING | RELEASE} <> 0 THEN NULL ELSE e.lease_until_ms END,
         woken = CASE WHEN i.flags & ${FINISHING | RELEASE} <> 0 THEN false ELSE e.woken END
    FROM held i, added a
   WHERE e.id = i.id
  RETURNING e.id`;

interface Checkpoint {
  readonly executionId: string;
  readonly token: string;
  readonly ops: readonly OpRow[];
  readonly patch: ExecutionPatch;
  readonly nowMs: number;
  readonly resolve: (written: boolean) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The operations to write for `executionId`: an upsert may not touch a row twice in one
 * statement, so the last of a repeated op id wins; ops of another execution would break the
 * count, so the journal is this execution's.
 */
export function journalOf(executionId: string, ops: readonly OpRow[]): OpRow[] {
  return [...new Map(ops.map((o) => [o.opId, { ...o, executionId }])).values()];
}

export class CheckpointWriter {
  readonly #db: pg.Pool;
  #waiting: Checkpoint[] = [];
  #inFlight = 0;
  #pumpScheduled = false;
  /** Executions with a checkpoint being written: the next of one waits for it, so they land in order. */
  readonly #writing = new Set<string>();

  constructor(db: pg.Pool) {
    this.#db = db;
  }

  /**
   * Writes the checkpoint once its execution's row holds `token` (and, when it finishes the
   * execution, has no parent); resolves whether it did, after the commit.
   */
  write(
    executionId: string,
    token: string,
    ops: readonly OpRow[],
    patch: ExecutionPatch,
    nowMs: number,
  ): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ executionId, token, ops, patch, nowMs, resolve, reject });
      this.#schedulePump();
    });
  }

  // After the current turn: checkpoints asked for in the same turn share a statement.
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < MAX_IN_FLIGHT && this.#waiting.length > 0) {
      const batch: Checkpoint[] = [];
      const later: Checkpoint[] = [];
      const taken = new Set<string>();
      for (const c of this.#waiting) {
        // One checkpoint per execution per statement, and none while one of it is in flight:
        // a later one stays behind the earlier, so the later patch is the one that holds.
        if (batch.length < MAX_BATCH && !taken.has(c.executionId) && !this.#writing.has(c.executionId)) {
          batch.push(c);
          taken.add(c.executionId);
        } else later.push(c);
      }
      this.#waiting = later;
      if (batch.length === 0) return;
      void this.#send(batch);
    }
  }

  async #send(batch: Checkpoint[]): Promise<void> {
    this.#inFlight++;
    for (const c of batch) this.#writing.add(c.executionId);
    try {
      let written: Set<string>;
      try {
        written = await this.#statement(batch);
      } catch (err) {
        // A checkpoint the server refuses must not fail the others: each goes again alone.
        if (batch.length === 1 || isTransient(err)) throw err;
        await Promise.all(
          batch.map((c) =>
            this.#statement([c]).then(
              (alone) => c.resolve(alone.has(c.executionId)),
              (e: unknown) => c.reject(e),
            ),
          ),
        );
        return;
      }
      for (const c of batch) c.resolve(written.has(c.executionId));
    } catch (err) {
      for (const c of batch) c.reject(err);
    } finally {
      for (const c of batch) this.#writing.delete(c.executionId);
      this.#inFlight--;
      this.#schedulePump();
    }
  }

  async #statement(batch: readonly Checkpoint[]): Promise<Set<string>> {
    const inputs: unknown[][] = Array.from({ length: 11 }, () => []);
    const ops: (string | number | null)[][] = [];
    for (const c of batch) {
      const { patch } = c;
      const finishing = patch.status !== undefined && isFinished(patch.status);
      let flags = finishing ? FINISHING : 0;
      if (patch.status !== undefined) flags |= SET_STATUS;
      if (patch.output !== undefined) flags |= SET_OUTPUT;
      if (patch.error !== undefined) flags |= SET_ERROR;
      if (patch.progress !== undefined) flags |= SET_PROGRESS;
      if (patch.wait !== undefined) flags |= SET_WAIT;
      if (patch.finishedAtMs !== undefined) flags |= SET_FINISHED_AT;
      if (patch.release !== undefined) flags |= RELEASE;
      const row = [
        c.executionId,
        c.token,
        flags,
        patch.status ?? null,
        patch.output ?? null,
        patch.error ?? null,
        patch.progress ?? null,
        patch.wait ?? null,
        patch.finishedAtMs ?? null,
        patch.release?.dueAtMs ?? null,
        c.nowMs,
      ];
      for (let k = 0; k < row.length; k++) inputs[k]!.push(row[k]);
      for (const op of journalOf(c.executionId, c.ops)) ops.push(opValues(op));
    }
    const columns = OP_TYPES.map((_, k) => ops.map((v) => v[k]));
    const { rows } = await this.#db.query<{ id: string }>({
      name: 'ms_wf_checkpoint',
      text: CHECKPOINT,
      values: [...inputs, ...columns],
    });
    return new Set(rows.map((r) => r.id));
  }
}
