// The plans of the statements that settle held messages (ack, release, fail, dead-letter) on PostgreSQL, under the statistics
// a vacuum of the empty `messages` table leaves (0 rows on pages it keeps, since the table is
// never truncated): the planner then believes any filter finds at most one row. Joined with
// unnest, the receipts were rescanned for every row, quadratic in the batch (1,000 acks: 140 ms
// against 3); the work each statement does must stay linear in its receipts whatever the
// statistics say. Work, not time, is asserted: the rows every plan node produced or discarded,
// from EXPLAIN ANALYZE, run in a transaction that is rolled back.

import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { PgStore } from '../../src/store/postgres/pg-store.ts';
import type { ClaimedMessage, Store } from '../../src/store/types.ts';
import { BACKENDS } from '../helpers/backends.ts';

const postgres = BACKENDS.find((b) => b.name === 'postgres')!;
const it_ = postgres.skip ? it.skip : it;
const N = 1000;
// The pages a vacuum keeps: with fewer (20,000 messages' worth) the planner still hashed the join.
const BACKLOG = 100_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

interface PlanNode {
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Join Filter'?: number;
  Plans?: PlanNode[];
}

/** Rows every node of the plan produced or discarded, over all its loops. */
function work(node: PlanNode): number {
  const loops = node['Actual Loops'] ?? 1;
  const own =
    ((node['Actual Rows'] ?? 0) +
      (node['Rows Removed by Filter'] ?? 0) +
      (node['Rows Removed by Join Filter'] ?? 0)) *
    loops;
  return own + (node.Plans ?? []).reduce((sum, p) => sum + work(p), 0);
}

/** Runs `settle` on the store, taking the statement it sends to `pool` instead of running it. */
async function statementOf(
  pool: pg.Pool,
  settle: () => Promise<unknown>,
): Promise<{ text: string; values: unknown[] }> {
  const query = pool.query;
  let sent: { text: string; values: unknown[] } | undefined;
  (pool as { query: unknown }).query = (
    text: string | { text: string; values?: unknown[] },
    values?: unknown[],
  ) => {
    sent =
      typeof text === 'string'
        ? { text, values: values ?? [] }
        : { text: text.text, values: text.values ?? [] };
    return Promise.resolve({ rows: [], rowCount: 0 });
  };
  try {
    await settle();
  } finally {
    pool.query = query;
  }
  if (!sent) throw new Error('the store sent no statement');
  return sent;
}

async function explained(store: PgStore, statement: { text: string; values: unknown[] }): Promise<PlanNode> {
  const client = new pg.Client({ connectionString: postgres.freshUrl().replace(/\?.*$/, '') });
  await client.connect();
  try {
    await client.query(`SET search_path = ${store.schema}`);
    await client.query('BEGIN');
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${statement.text}`,
      statement.values,
    );
    await client.query('ROLLBACK');
    return rows[0]!['QUERY PLAN'][0].Plan;
  } finally {
    await client.end();
  }
}

/** N messages claimed from a `messages` table vacuumed while empty (its pages kept, 0 rows recorded). */
async function heldAfterEmptyVacuum(store: PgStore): Promise<ClaimedMessage[]> {
  const queues = (store as Store).queues;
  await queues.upsertQueue('q', {}, T0);
  const body = JSON.stringify({ n: 1 });
  const batch = Array.from({ length: N }, () => ({
    body,
    priority: 0,
    visibleAtMs: T0,
    groupId: null,
    dedupKey: null,
    traceContext: null,
  }));
  // Pages for the vacuum to keep: a backlog sent and settled.
  for (let i = 0; i < BACKLOG / N; i++) await queues.send('q', batch, T0, 0);
  await store.pool.query('DELETE FROM messages');
  await store.pool.query('VACUUM messages');
  const { rows } = await store.pool.query<{ relpages: number; reltuples: number }>(
    `SELECT relpages, reltuples FROM pg_class WHERE oid = 'messages'::regclass`,
  );
  expect(rows[0]!.relpages).toBeGreaterThan(0);
  expect(rows[0]!.reltuples).toBe(0);
  await queues.send('q', batch, T0, 0);
  const held = await queues.claim('q', {
    limit: N,
    nowMs: T0,
    dueByMs: T0,
    visibilityMs: 60_000,
    fifo: false,
  });
  expect(held).toHaveLength(N);
  return held;
}

describe('settling on PostgreSQL after a vacuum of the empty messages table', () => {
  it_('acks, releases, retries and dead letters each do work linear in their receipts', async () => {
    const store = (await postgres.open()) as unknown as PgStore;
    const held = await heldAfterEmptyVacuum(store);
    const queues = (store as unknown as Store).queues;
    const statements = {
      ack: await statementOf(store.leasePool, () => queues.ack(held)),
      release: await statementOf(store.leasePool, () => queues.release(held, T0)),
      deadLetter: await statementOf(store.pool, () =>
        queues.deadLetter(
          held.map((m) => ({ ...m, error: { message: 'boom' } })),
          'q-dlq',
          T0,
        ),
      ),
      fail: await statementOf(store.leasePool, () =>
        queues.fail(
          held.map((m) => ({ ...m, visibleAtMs: T0 + 1000, error: { message: 'boom' } })),
          T0,
        ),
      ),
    };
    for (const [name, statement] of Object.entries(statements)) {
      const plan = await explained(store, statement);
      // The rows settled (N), each read once or twice by a node on the way: a few N, never N².
      expect(work(plan), `${name}: rows produced or discarded by its plan`).toBeLessThan(10 * N);
    }
  });
});
