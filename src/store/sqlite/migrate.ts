// Applies pending SQLite migrations in one IMMEDIATE transaction, recorded in
// schema_migrations. A database from a newer mainspring is refused before any write.

import { loadMigrations } from '../migrations.ts';
import { schemaTooNew } from '../schema-too-new.ts';
import { type Connection, transaction } from './database.ts';

export const SQLITE_MIGRATIONS = loadMigrations(new URL('./migrations/', import.meta.url));

export function currentVersion(db: Connection): number {
  const exists = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (!exists) return 0;
  const row = db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as {
    v: number;
  };
  return row.v;
}

export function migrateSqlite(db: Connection, where: string, nowMs: number): number {
  const known = SQLITE_MIGRATIONS.length;
  const before = currentVersion(db);
  if (before > known) throw schemaTooNew(where, before, known);
  if (before === known) return known;
  return transaction(db, () => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version       INTEGER PRIMARY KEY,
      name          TEXT    NOT NULL,
      applied_at_ms INTEGER NOT NULL
    ) STRICT`);
    // Re-read inside the write lock: another connection may have migrated meanwhile.
    const from = currentVersion(db);
    if (from > known) throw schemaTooNew(where, from, known);
    const record = db.prepare(
      'INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)',
    );
    for (const m of SQLITE_MIGRATIONS.slice(from)) {
      db.exec(m.sql);
      record.run(m.version, m.name, nowMs);
    }
    return known;
  });
}
