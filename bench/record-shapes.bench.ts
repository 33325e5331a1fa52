// npm run bench:record-shapes — what one run record costs to write, by the shape of its
// row, against what acknowledging a queue message costs. Each shape gets fresh tables and
// 20,000 rows written as the recorder writes them (batches of 500, one transaction or
// statement each); shapes are interleaved and repeated (--runs N, default 5), and the
// median wall time per row is reported. SQLite on a file (WAL, synchronous NORMAL, as the
// store opens it) and PostgreSQL over loopback (synchronous_commit off, as records are).

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { fmt, machine } from './lib/stats.ts';

const PG = process.env['MAINSPRING_BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 5);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const N = 20_000;
const BATCH = 500;
const T0 = Date.UTC(2026, 11, 5);

/** The values every shape is written from: a finished, successful queue run. */
interface Rec {
  readonly seq: number;
  readonly id: string;
  readonly invocationId: string;
  readonly trigger: string;
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
}

function records(): Rec[] {
  return Array.from({ length: N }, (_, i) => {
    const sent = T0 + i;
    const invocationId = `${sent.toString(36).padStart(9, '0')}m${(i + 1).toString(36)}`;
    return {
      seq: i + 1,
      id: `${invocationId}-1`,
      invocationId,
      trigger: `{"kind":"queue","queue":"bench","messageIds":["${i + 1}"]}`,
      startedAtMs: sent + 5,
      finishedAtMs: sent + 6,
    };
  });
}

// The runs table as it stands (SQLite migration 0008, PostgreSQL likewise), with its indexes.
const RUNS_COLUMNS = `
  function_name TEXT NOT NULL, invocation_id TEXT NOT NULL, attempt INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status = 'queued' OR status = 'running' OR status = 'succeeded' OR status = 'failed'
    OR status = 'timed_out' OR status = 'cancelled'),
  trigger_kind TEXT NOT NULL, trigger TEXT NOT NULL, input TEXT, scheduled_for_ms BIGINT,
  created_at_ms BIGINT NOT NULL, started_at_ms BIGINT, finished_at_ms BIGINT, result TEXT, error TEXT,
  cancel_requested_at_ms BIGINT, owner TEXT, log_count INTEGER NOT NULL DEFAULT 0`;
const RUNS_INDEXES = `
  CREATE INDEX runs_active ON runs (status) WHERE status IN ('queued', 'running');
  CREATE INDEX runs_failures ON runs (id) WHERE status IN ('failed', 'timed_out');
  CREATE INDEX runs_function ON runs (function_name, id);`;
const RUNS_INSERT = `INSERT INTO runs (id, function_name, invocation_id, attempt, status, trigger_kind, trigger,
  input, scheduled_for_ms, created_at_ms, started_at_ms, finished_at_ms, result, error, owner, log_count)`;
const RUNS_UPSERT = `
  ON CONFLICT (id) DO UPDATE SET status = excluded.status, started_at_ms = excluded.started_at_ms,
    finished_at_ms = excluded.finished_at_ms, result = excluded.result, error = excluded.error
  WHERE runs.status IN ('queued', 'running')`;
const runValues = (r: Rec) => [
  r.id,
  'work',
  r.invocationId,
  1,
  'succeeded',
  'queue',
  r.trigger,
  null,
  null,
  r.startedAtMs,
  r.startedAtMs,
  r.finishedAtMs,
  null,
  null,
  'host-1234',
  0,
];

// A narrow record: an integer key in append order and what the message and function do not
// already say (the id, trigger and times are derived from the message's id and send time).
const NARROW = `CREATE TABLE run_records (seq INTEGER PRIMARY KEY, function_id INTEGER NOT NULL,
  message_id BIGINT NOT NULL, sent_at_ms BIGINT NOT NULL, attempt INTEGER NOT NULL, status INTEGER NOT NULL,
  started_at_ms BIGINT NOT NULL, finished_at_ms BIGINT NOT NULL, error TEXT)`;
const NARROW_INSERT = `INSERT INTO run_records (seq, function_id, message_id, sent_at_ms, attempt, status,
  started_at_ms, finished_at_ms, error)`;
const narrowValues = (r: Rec) => [
  r.seq,
  1,
  r.seq,
  r.startedAtMs - 5,
  1,
  2,
  r.startedAtMs,
  r.finishedAtMs,
  null,
];

// The message table as it stands, for the acknowledgement a record is measured against.
const MESSAGES = `CREATE TABLE messages (id INTEGER PRIMARY KEY, queue TEXT NOT NULL, body TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0, visible_at_ms BIGINT NOT NULL, receive_count INTEGER NOT NULL DEFAULT 0,
  leased INTEGER NOT NULL DEFAULT 0, group_id TEXT, sent_at_ms BIGINT NOT NULL, errors TEXT, source_queue TEXT,
  dead_at_ms BIGINT, lease_until_ms BIGINT, prior_receives INTEGER NOT NULL DEFAULT 0);
  CREATE INDEX messages_claim ON messages (queue, priority DESC, visible_at_ms, id);
  CREATE INDEX messages_fifo ON messages (queue, group_id, id) WHERE group_id IS NOT NULL;
  CREATE INDEX messages_next_visible ON messages (queue, visible_at_ms);`;

interface Shape {
  readonly name: string;
  readonly ddl: string;
  /** Rows the table holds before the timed writes (the messages an ack removes). */
  readonly prefill?: boolean;
}

const SHAPES: Shape[] = [
  { name: 'ack: DELETE the message row (reference)', ddl: MESSAGES, prefill: true },
  { name: 'runs as today: 16 columns, text key, upsert', ddl: 'runs' },
  { name: 'runs, plain INSERT (run known new)', ddl: 'runs' },
  { name: 'runs WITHOUT ROWID, plain INSERT', ddl: 'runs-without-rowid' },
  { name: 'narrow, integer key, append', ddl: NARROW },
  {
    name: 'narrow + (function_id, seq) index',
    ddl: `${NARROW}; CREATE INDEX run_records_function ON run_records (function_id, seq);`,
  },
  { name: 'narrow, text id key (WITHOUT ROWID on SQLite)', ddl: 'narrow-text' },
  { name: 'narrow, text id key + (function, id) index', ddl: 'narrow-text-indexed' },
  { name: 'message row kept on ack: UPDATE', ddl: MESSAGES, prefill: true },
  { name: 'queue_runs as built (its migration, the store’s insert)', ddl: 'as-built' },
];

// The narrow record as the store keeps it: its migration, and the store's own insert
// (SQLite: ON CONFLICT DO NOTHING; PostgreSQL: none, see src/store/postgres/runs.ts).
const migration = (backend: 'sqlite' | 'postgres') => {
  const folder = new URL(`../src/store/${backend}/migrations/`, import.meta.url);
  const file = readdirSync(folder).find((f) => f.endsWith('_queue_runs.sql'))!;
  return readFileSync(new URL(file, folder), 'utf8');
};
const AS_BUILT_INSERT = `INSERT INTO queue_runs (id, source, message_id, status, started_at_ms, finished_at_ms,
  result, error, log_count)`;
const asBuiltValues = (r: Rec) => [r.id, 1, r.seq, 'succeeded', r.startedAtMs, r.finishedAtMs, null, null, 0];
// The one source the runs point to (the store adds it once per consumer).
const AS_BUILT_SOURCE = `INSERT INTO queue_run_sources (function_name, queue, rule, owner)
  VALUES ('work', 'bench', '', 'host:1234:abcdef12')`;

// The narrow record keyed by the run's text id instead: lookups by id need no translation.
function narrowTextDdl(indexed: boolean, pgSyntax: boolean): string {
  return `CREATE TABLE run_records (id TEXT PRIMARY KEY, function_name TEXT NOT NULL, attempt INTEGER NOT NULL,
    status INTEGER NOT NULL, started_at_ms BIGINT NOT NULL, finished_at_ms BIGINT NOT NULL, error TEXT)${pgSyntax ? '' : ' WITHOUT ROWID'};
    ${indexed ? 'CREATE INDEX run_records_function ON run_records (function_name, id);' : ''}`;
}
const NARROW_TEXT_INSERT =
  'INSERT INTO run_records (id, function_name, attempt, status, started_at_ms, finished_at_ms, error)';
const narrowTextValues = (r: Rec) => [r.id, 'work', 1, 2, r.startedAtMs, r.finishedAtMs, null];
function ddlOf(shape: Shape, pgSyntax: boolean): string {
  if (shape.ddl === 'as-built') return `${migration(pgSyntax ? 'postgres' : 'sqlite')};\n${AS_BUILT_SOURCE}`;
  if (shape.ddl.startsWith('narrow-text')) return narrowTextDdl(shape.ddl.endsWith('indexed'), pgSyntax);
  return shape.ddl.startsWith('runs') ? runsDdl(shape.ddl, pgSyntax) : shape.ddl;
}

function runsDdl(kind: string, pgSyntax: boolean): string {
  const key = pgSyntax || kind !== 'runs-without-rowid' ? '' : ' WITHOUT ROWID';
  return `CREATE TABLE runs (id TEXT PRIMARY KEY, ${RUNS_COLUMNS})${key}; ${RUNS_INDEXES}`;
}

// --- SQLite --------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'mainspring-record-shapes-'));
let fileNo = 0;

function sqliteOnce(shape: Shape, recs: readonly Rec[]): number {
  const path = join(dir, `s${fileNo++}.db`);
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL');
  db.exec(ddlOf(shape, false));
  if (shape.prefill) {
    const put =
      db.prepare(`INSERT INTO messages (id, queue, body, visible_at_ms, sent_at_ms, receive_count, leased)
      VALUES (?, 'bench', '{"n":1}', ?, ?, 1, 1)`);
    db.exec('BEGIN');
    for (const r of recs) put.run(r.seq, r.startedAtMs, r.startedAtMs);
    db.exec('COMMIT');
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }
  const rowsPerStatement = shape.prefill ? 1 : 50;
  const [sql, values] = sqliteStatement(shape, rowsPerStatement);
  const many = db.prepare(sql);
  const t = performance.now();
  for (let at = 0; at < recs.length; at += BATCH) {
    db.exec('BEGIN IMMEDIATE');
    for (let i = at; i < at + BATCH; i += rowsPerStatement) {
      const params = recs.slice(i, i + rowsPerStatement).flatMap(values);
      many.run(...(params as (string | number | null)[]));
    }
    db.exec('COMMIT');
  }
  const perRowUs = ((performance.now() - t) * 1000) / recs.length;
  db.close();
  rmSync(path, { force: true });
  rmSync(`${path}-wal`, { force: true });
  rmSync(`${path}-shm`, { force: true });
  return perRowUs;
}

type Values = (r: Rec) => unknown[];

function sqliteStatement(shape: Shape, rows: number): [string, Values] {
  const tuples = (width: number) =>
    Array.from({ length: rows }, () => `(${Array(width).fill('?').join(', ')})`).join(', ');
  if (shape.name.startsWith('ack'))
    return ['DELETE FROM messages WHERE id = ? AND receive_count = ?', (r) => [r.seq, 1]];
  if (shape.name.startsWith('message row kept'))
    return [
      `UPDATE messages SET queue = 'bench#done', visible_at_ms = ?, leased = 0 WHERE id = ? AND receive_count = ?`,
      (r) => [r.finishedAtMs, r.seq, 1],
    ];
  if (shape.ddl === 'as-built')
    return [`${AS_BUILT_INSERT} VALUES ${tuples(9)} ON CONFLICT (id) DO NOTHING`, asBuiltValues];
  if (shape.ddl.startsWith('narrow-text'))
    return [`${NARROW_TEXT_INSERT} VALUES ${tuples(7)}`, narrowTextValues];
  if (shape.ddl.startsWith('runs')) {
    const upsert = shape.name.includes('upsert') ? RUNS_UPSERT.replaceAll('runs.status', 'status') : '';
    return [`${RUNS_INSERT} VALUES ${tuples(16)}${upsert}`, runValues];
  }
  return [`${NARROW_INSERT} VALUES ${tuples(9)}`, narrowValues];
}

// --- PostgreSQL ----------------------------------------------------------------------

async function pgOnce(pool: pg.Pool, shape: Shape, recs: readonly Rec[], schema: string): Promise<number> {
  const c = await pool.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    await c.query(`SET search_path = ${schema}; SET synchronous_commit = off`);
    await c.query(ddlOf(shape, true));
    if (shape.prefill) {
      await c.query(
        `INSERT INTO messages (id, queue, body, visible_at_ms, sent_at_ms, receive_count, leased)
         SELECT i, 'bench', '{"n":1}', $1::bigint + i, $1::bigint + i, 1, 1 FROM generate_series(1, $2::int) i`,
        [T0, recs.length],
      );
      await c.query('VACUUM ANALYZE messages');
    }
    const [sql, values] = pgStatement(shape);
    const t = performance.now();
    for (let at = 0; at < recs.length; at += BATCH) {
      await c.query(sql, [JSON.stringify(recs.slice(at, at + BATCH).map(values))]);
    }
    const perRowUs = ((performance.now() - t) * 1000) / recs.length;
    await c.query(`DROP SCHEMA ${schema} CASCADE`);
    return perRowUs;
  } finally {
    c.release();
  }
}

function pgStatement(shape: Shape): [string, Values] {
  if (shape.name.startsWith('ack'))
    return [
      `DELETE FROM messages m USING jsonb_array_elements($1::jsonb) r
        WHERE m.id = (r->>0)::bigint AND m.receive_count = (r->>1)::int`,
      (r) => [r.seq, 1],
    ];
  if (shape.name.startsWith('message row kept'))
    return [
      `UPDATE messages m SET queue = 'bench#done', visible_at_ms = (r->>0)::bigint, leased = 0
         FROM jsonb_array_elements($1::jsonb) r WHERE m.id = (r->>1)::bigint AND m.receive_count = (r->>2)::int`,
      (r) => [r.finishedAtMs, r.seq, 1],
    ];
  if (shape.ddl === 'as-built')
    return [
      `${AS_BUILT_INSERT}
       SELECT r->>0, (r->>1)::int, (r->>2)::bigint, r->>3, (r->>4)::bigint, (r->>5)::bigint, r->>6, r->>7, (r->>8)::int
         FROM jsonb_array_elements($1::jsonb) r`,
      asBuiltValues,
    ];
  if (shape.ddl.startsWith('narrow-text'))
    return [
      `${NARROW_TEXT_INSERT}
       SELECT r->>0, r->>1, (r->>2)::int, (r->>3)::int, (r->>4)::bigint, (r->>5)::bigint, r->>6
         FROM jsonb_array_elements($1::jsonb) r`,
      narrowTextValues,
    ];
  if (shape.ddl.startsWith('runs')) {
    const upsert = shape.name.includes('upsert') ? RUNS_UPSERT : '';
    return [
      `${RUNS_INSERT}
       SELECT r->>0, r->>1, r->>2, (r->>3)::int, r->>4, r->>5, r->>6, r->>7, (r->>8)::bigint, (r->>9)::bigint,
              (r->>10)::bigint, (r->>11)::bigint, r->>12, r->>13, r->>14, (r->>15)::int
         FROM jsonb_array_elements($1::jsonb) r${upsert}`,
      runValues,
    ];
  }
  return [
    `${NARROW_INSERT}
     SELECT (r->>0)::bigint, (r->>1)::int, (r->>2)::bigint, (r->>3)::bigint, (r->>4)::int, (r->>5)::int,
            (r->>6)::bigint, (r->>7)::bigint, r->>8
       FROM jsonb_array_elements($1::jsonb) r`,
    narrowValues,
  ];
}

// --- Run -----------------------------------------------------------------------------

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const recs = records();
  const shapes = SHAPES.filter((s) => !shapeFilter || s.name.includes(shapeFilter));
  const results = new Map<string, number[]>();
  const pool = new pg.Pool({ connectionString: PG, max: 1 });
  const backends = ['SQLite', 'PostgreSQL'].filter((b) => !only || b.toLowerCase().startsWith(only));
  try {
    for (let run = 0; run < runs; run++) {
      for (const shape of shapes) {
        for (const backend of backends) {
          const us =
            backend === 'SQLite'
              ? sqliteOnce(shape, recs)
              : await pgOnce(pool, shape, recs, 'bench_record_shapes');
          const key = `${backend}\t${shape.name}`;
          results.set(key, [...(results.get(key) ?? []), us]);
        }
      }
    }
  } finally {
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `record shapes — ${new Date().toISOString()}, ${machine()}, ${runs} runs of ${N} rows in batches of ${BATCH}`,
  );
  console.log('| backend | shape | µs per row, median | range |');
  console.log('|---|---|---|---|');
  for (const [key, xs] of results) {
    const [backend, name] = key.split('\t');
    console.log(
      `| ${backend} | ${name} | ${fmt(median(xs), 2)} | ${fmt(Math.min(...xs), 2)}–${fmt(Math.max(...xs), 2)} |`,
    );
  }
}

const shapeFilter = args.includes('--shape') ? args[args.indexOf('--shape') + 1] : undefined;
await main();
