// The SQL both backends build the same way but for their dialect: placeholders (with
// PostgreSQL's casts) and boolean literals. Hot paths stay hand-written per backend.

import type { Placeholder } from './filter.ts';
import { EXECUTION_COLUMNS, type ExecutionPatch, isFinished } from './workflow-row.ts';

export interface Dialect {
  /** Parameter n as written in a fixed position: `?n` or `$n`. */
  readonly ref: Placeholder;
  /** Parameter n where its type must be said: `?n` on SQLite, `$n::type` on PostgreSQL. */
  typed(n: number, type: 'text' | 'bigint'): string;
  /** A boolean column set false, and the test that one is true. */
  readonly false: string;
  isTrue(column: string): string;
}

export const SQLITE_DIALECT: Dialect = {
  ref: (n) => `?${n}`,
  typed: (n) => `?${n}`,
  false: '0',
  isTrue: (column) => `${column} = 1`,
};

export const PG_DIALECT: Dialect = {
  ref: (n) => `$${n}`,
  typed: (n, type) => `$${n}::${type}`,
  false: 'false',
  isTrue: (column) => column,
};

/**
 * The checkpoint's update of execution 1 held with token 2: the patch's columns, 3 more
 * operations, updated at 4 (now). Finishing clears the lease and the due time (the due index
 * holds live rows only) and stamps finished_at_ms unless the patch does; releasing sets the due
 * time, or now when woken or asked to stop meanwhile (the next claim then stops it). Returns
 * the row after.
 */
export function patchUpdate<V>(
  d: Dialect,
  id: string,
  token: string,
  patch: ExecutionPatch,
  added: number,
  nowMs: number,
): { sql: string; params: V[] } {
  const params: unknown[] = [id, token, added, nowMs];
  const p = (v: unknown, type: 'text' | 'bigint') => {
    params.push(v);
    return d.typed(params.length, type);
  };
  const now = d.ref(4);
  const sets = [`op_count = op_count + ${d.ref(3)}`, `updated_at_ms = ${now}`];
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
    params: params as V[],
  };
}
