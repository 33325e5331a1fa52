// Loads a backend's numbered migration files (`0001_init.sql`, …). Migrations are
// append-only: a released file is never edited, a change is a new number.

import { readdirSync, readFileSync } from 'node:fs';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function loadMigrations(dir: URL): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = FILE.exec(file);
      if (!m) throw new Error(`migration file ${file} in ${dir.pathname} is not named NNNN_name.sql`);
      return { version: Number(m[1]), name: m[2]!, sql: readFileSync(new URL(file, dir), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations in ${dir.pathname} skip from ${i} to ${m.version}`);
  });
  return migrations;
}
