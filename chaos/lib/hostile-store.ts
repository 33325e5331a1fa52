// What the hostile scenario compares before and after refused requests: every row of every
// table of the server's store, read beside the running server (a read-only SQLite
// connection, or a PostgreSQL client on its schema), as sorted JSON lines per table.

import { DatabaseSync } from 'node:sqlite';
import { pgClient } from './proc.ts';

export type Dump = ReadonlyMap<string, readonly string[]>;

const json = (row: unknown): string =>
  JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

export async function dumpStore(db: string): Promise<Dump> {
  const out = new Map<string, string[]>();
  if (db.startsWith('sqlite:')) {
    const conn = new DatabaseSync(db.slice('sqlite:'.length), { readOnly: true });
    try {
      const tables = conn
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .all() as { name: string }[];
      for (const { name } of tables) {
        const stmt = conn.prepare(`SELECT * FROM "${name}"`);
        // A value past 2^53 must show in the dump, not stop it.
        stmt.setReadBigInts(true);
        out.set(name, stmt.all().map(json).sort());
      }
    } finally {
      conn.close();
    }
    return out;
  }
  const client = await pgClient(db);
  try {
    const tables = await client.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
    );
    for (const { name } of tables.rows) {
      const rows = await client.query<{ j: string }>(`SELECT row_to_json(t)::text AS j FROM "${name}" t`);
      out.set(name, rows.rows.map((r) => r.j).sort());
    }
  } finally {
    await client.end();
  }
  return out;
}

/** Tables whose rows differ, each with a sample of what appeared or went; empty when equal. */
export function diffDumps(before: Dump, after: Dump): string[] {
  const out: string[] = [];
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const a = new Set(before.get(name) ?? []);
    const b = new Set(after.get(name) ?? []);
    const gone = [...a].filter((r) => !b.has(r));
    const added = [...b].filter((r) => !a.has(r));
    if (gone.length + added.length === 0) continue;
    out.push(
      `${name}: ${added.length} rows appeared${added[0] ? ` (e.g. ${added[0].slice(0, 200)})` : ''}, ${gone.length} went${gone[0] ? ` (e.g. ${gone[0].slice(0, 200)})` : ''}`,
    );
  }
  return out;
}
