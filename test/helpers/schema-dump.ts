// A normalised text dump of a live store's schema, compared in tests against the
// snapshot committed under src/store/<backend>/schema.sql (regenerate with
// `npm run schema:dump` after adding a migration).

import type pg from 'pg';
import type { Store } from '../../src/store/types.ts';

export async function dumpSchema(store: Store): Promise<string> {
  if (store.backend === 'sqlite') {
    const db = (store as unknown as { db: import('node:sqlite').DatabaseSync }).db;
    const rows = db
      .prepare(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type DESC, name",
      )
      .all() as { sql: string }[];
    return `${rows.map((r) => `${r.sql.replace(/[ \t]+/g, ' ').replace(/\n /g, '\n  ')};`).join('\n\n')}\n`;
  }
  const { pool, schema } = store as unknown as { pool: pg.Pool; schema: string };
  const columns = await pool.query<{
    table_name: string;
    column_name: string;
    type: string;
    nullable: string;
    dflt: string | null;
  }>(
    `SELECT table_name, column_name, format_type(a.atttypid, a.atttypmod) AS type, is_nullable AS nullable, column_default AS dflt
       FROM information_schema.columns c
       JOIN pg_attribute a ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
      WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
    [schema],
  );
  const indexes = await pool.query<{ indexdef: string }>(
    'SELECT indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY tablename, indexname',
    [schema],
  );
  const constraints = await pool.query<{ table: string; name: string; def: string }>(
    `SELECT conrelid::regclass::text AS table, conname AS name, pg_get_constraintdef(oid) AS def
       FROM pg_constraint WHERE connamespace = $1::regnamespace ORDER BY 1, 2`,
    [schema],
  );
  // Storage options are part of the design (fillfactor, vacuum_truncate on messages).
  const options = await pool.query<{ table: string; options: string[] }>(
    `SELECT relname AS table, reloptions AS options FROM pg_class
      WHERE relnamespace = $1::regnamespace AND relkind = 'r' AND reloptions IS NOT NULL ORDER BY 1`,
    [schema],
  );
  // Routines are part of it too: send() (0013) and the send_one procedure (0019).
  const routines = await pool.query<{ kind: string; name: string; args: string }>(
    `SELECT CASE prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END AS kind, proname AS name,
            pg_get_function_arguments(oid) AS args
       FROM pg_proc WHERE pronamespace = $1::regnamespace ORDER BY 2, 3`,
    [schema],
  );
  const strip = (s: string) => s.replaceAll(`${schema}.`, '').replaceAll(`"${schema}".`, '');
  const lines: string[] = [];
  let table = '';
  for (const c of columns.rows) {
    if (c.table_name !== table) {
      table = c.table_name;
      lines.push('', `TABLE ${table}`);
    }
    lines.push(
      `  ${c.column_name} ${c.type}${c.nullable === 'NO' ? ' NOT NULL' : ''}${c.dflt ? ` DEFAULT ${strip(c.dflt)}` : ''}`,
    );
  }
  lines.push('');
  for (const i of indexes.rows) lines.push(`${strip(i.indexdef)};`);
  lines.push('');
  for (const o of options.rows) lines.push(`OPTIONS ${o.table} (${[...o.options].sort().join(', ')});`);
  lines.push('');
  for (const c of constraints.rows) lines.push(`CONSTRAINT ${strip(c.table)}.${c.name} ${strip(c.def)};`);
  lines.push('');
  for (const r of routines.rows) lines.push(`${r.kind} ${r.name}(${strip(r.args)});`);
  return `${lines.join('\n').trim()}\n`;
}
