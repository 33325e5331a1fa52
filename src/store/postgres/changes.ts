// The change marks of Store.changeMarks: counts and high-water marks per area, each a
// single index read or a scan of a small table.
import type pg from 'pg';
import type { ChangeMarks } from '../types.ts';

const SQL = `SELECT
  (SELECT count(*) FROM runs) || ',' || (SELECT coalesce(max(id), '') FROM runs) || ',' ||
    (SELECT count(*) FROM queue_runs) || ',' || (SELECT coalesce(max(id), '') FROM queue_runs) || ',' ||
    (SELECT count(*) FROM runs WHERE status = 'queued') || ',' ||
    (SELECT count(*) FROM runs WHERE status = 'running') AS runs,
  (SELECT count(*) || ',' || coalesce(max(id), 0) || ',' || count(*) FILTER (WHERE leased) || ',' ||
    coalesce(sum(receive_count), 0) || ',' || count(dead_at_ms) FROM messages) || ',' ||
    (SELECT coalesce(max(updated_at_ms), 0) FROM queues) AS queues,
  (SELECT count(*) || ',' || coalesce(max(updated_at_ms), 0) || ',' || coalesce(max(last_fired_at_ms), 0) || ',' ||
    coalesce(sum(version), 0) || ',' || count(*) FILTER (WHERE enabled) FROM schedules) AS schedules,
  (SELECT count(*) || ',' || coalesce(max(updated_at_ms), 0) || ',' || count(fired_at_ms) FROM tasks) AS tasks,
  (SELECT count(*) || ',' || coalesce(max(updated_at_ms), 0) FROM workflow_executions) AS workflows,
  (SELECT coalesce(max(seq), 0) FROM events) || ',' ||
    (SELECT count(*) FROM events WHERE routed_at_ms IS NULL) AS events`;

export async function readChangeMarks(pool: pg.Pool): Promise<ChangeMarks> {
  const { rows } = await pool.query<ChangeMarks>(SQL);
  return rows[0]!;
}
