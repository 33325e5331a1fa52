// The change marks of Store.changeMarks: counts and high-water marks per area, each a
// single index read or a scan of a small table.
import type { ChangeMarks } from '../types.ts';
import type { Connection } from './database.ts';

const SQL = `SELECT
  (SELECT count(*) FROM runs) || ',' || (SELECT coalesce(max(id), '') FROM runs) || ',' ||
    (SELECT count(*) FROM queue_runs) || ',' || (SELECT coalesce(max(id), '') FROM queue_runs) || ',' ||
    (SELECT count(*) FROM runs WHERE status = 'queued') || ',' ||
    (SELECT count(*) FROM runs WHERE status = 'running') AS runs,
  (SELECT count(*) || ',' || coalesce(max(id), 0) || ',' || coalesce(sum(leased), 0) || ',' ||
    coalesce(sum(receive_count), 0) || ',' || count(dead_at_ms) FROM messages) || ',' ||
    (SELECT coalesce(max(updated_at_ms), 0) FROM queues) AS queues,
  (SELECT count(*) || ',' || coalesce(max(updated_at_ms), 0) || ',' || coalesce(max(last_fired_at_ms), 0) || ',' ||
    coalesce(sum(version), 0) || ',' || coalesce(sum(enabled), 0) FROM schedules) AS schedules,
  (SELECT count(*) || ',' || coalesce(max(updated_at_ms), 0) || ',' || count(fired_at_ms) FROM tasks) AS tasks,
  (SELECT count(*) || ',' || coalesce(max(updated_at_ms), 0) FROM workflow_executions) AS workflows,
  (SELECT coalesce(max(seq), 0) FROM events) || ',' ||
    (SELECT count(*) FROM events WHERE routed_at_ms IS NULL) AS events`;

export function readChangeMarks(conn: Connection): ChangeMarks {
  return conn.prepare(SQL).get() as unknown as ChangeMarks;
}
