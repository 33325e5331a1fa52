// Applies pending PostgreSQL migrations in one transaction under an advisory lock,
// so any number of processes may start at once against the same database.

import type pg from 'pg';
import { loadMigrations } from '../migrations.ts';
import { schemaTooNew } from '../schema-too-new.ts';
import { transaction } from './connect.ts';

export const PG_MIGRATIONS = loadMigrations(new URL('./migrations/', import.meta.url));

/** Highest applied version, or 0 when the schema or its version table does not exist yet. Read-only. */
export async function currentVersion(db: pg.Pool | pg.PoolClient, schema: string): Promise<number> {
  const table = `"${schema}".schema_migrations`;
  const exists = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table]);
  if (!exists.rows[0]?.t) return 0;
  const { rows } = await db.query<{ v: number }>(`SELECT coalesce(max(version), 0) AS v FROM ${table}`);
  return rows[0]?.v ?? 0;
}

export async function migratePostgres(
  pool: pg.Pool,
  schema: string,
  where: string,
  nowMs: number,
): Promise<number> {
  const known = PG_MIGRATIONS.length;
  const before = await currentVersion(pool, schema);
  if (before > known) throw schemaTooNew(where, before, known);
  if (before === known) return known;
  return transaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `mainspring:migrate:${schema}`,
    ]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS "${schema}".schema_migrations (
      version       integer PRIMARY KEY,
      name          text    NOT NULL,
      applied_at_ms bigint  NOT NULL
    )`);
    const from = await currentVersion(client, schema);
    if (from > known) throw schemaTooNew(where, from, known);
    for (const m of PG_MIGRATIONS.slice(from)) {
      await client.query(m.sql);
      await client.query(
        `INSERT INTO "${schema}".schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)`,
        [m.version, m.name, nowMs],
      );
    }
    return known;
  });
}
