// The run records chaos/schedulers.ts checks, read straight from the store (PostgreSQL, or a
// SQLite file when the scenario runs with --sqlite): how many runs of a function are still
// queued or running, and every schedule-triggered run of it.

import { DatabaseSync } from 'node:sqlite';
import { parseStoreUrl } from '../../src/store/url.ts';
import { pgClient } from './proc.ts';

export interface RunRecord {
  readonly trigger: string;
  readonly attempt: number;
  readonly started_at_ms: number | null;
  readonly status: string;
}

export interface RunsReader {
  pending(fn: string): Promise<number>;
  scheduled(fn: string): Promise<RunRecord[]>;
  close(): Promise<void>;
}

const PENDING = `SELECT count(*) AS n FROM runs WHERE function_name = $1 AND status IN ('queued', 'running')`;
const SCHEDULED = `SELECT trigger, attempt, started_at_ms, status
  FROM runs WHERE function_name = $1 AND trigger_kind = 'schedule'`;

export async function openRuns(url: string): Promise<RunsReader> {
  const target = parseStoreUrl(url);
  if (target.backend === 'sqlite') {
    const db = new DatabaseSync(target.path, { readOnly: true });
    db.exec('PRAGMA busy_timeout = 5000');
    // node:sqlite binds a named parameter ($1) by name only.
    const sqlite = (sql: string) => db.prepare(sql.replace('$1', '?1'));
    return {
      pending: async (fn) => Number((sqlite(PENDING).get(fn) as { n: number }).n),
      scheduled: async (fn) => sqlite(SCHEDULED).all(fn) as unknown as RunRecord[],
      close: async () => db.close(),
    };
  }
  const db = await pgClient(url);
  return {
    pending: async (fn) => Number((await db.query<{ n: string }>(PENDING, [fn])).rows[0]!.n),
    scheduled: async (fn) =>
      (
        await db.query<RunRecord>(
          SCHEDULED.replace('started_at_ms', 'started_at_ms::float8 AS started_at_ms'),
          [fn],
        )
      ).rows,
    close: () => db.end(),
  };
}
