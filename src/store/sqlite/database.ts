// Opening an SQLite file safely: every way the path can be wrong is detected
// before anything is written, and reported with the path and the fix.

import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { MainspringError } from '../../core/errors.ts';

// Required when this module runs, not linked as an import: on a Node.js without node:sqlite,
// linking would fail before the library's entry could say which version it needs.
const sqlite = createRequire(import.meta.url)('node:sqlite') as typeof import('node:sqlite');

const HEADER = 'SQLite format 3\u0000';
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;
const SQLITE_READONLY = 8;
const SQLITE_PERM = 3;
const BUSY_TIMEOUT_MS = 5000;

function sqliteErrcode(err: unknown): number | undefined {
  const code = (err as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' ? code & 0xff : undefined;
}

function notDatabase(path: string, why: string): MainspringError {
  return new MainspringError(
    'E_STORE_NOT_DATABASE',
    `${path} ${why}, not an SQLite database; point --db / DATABASE_URL at a new path or an existing mainspring database`,
    { details: { field: 'db', value: path } },
  );
}

export function notWritable(path: string, cause: unknown): MainspringError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new MainspringError(
    'E_STORE_NOT_WRITABLE',
    `cannot create or write the SQLite database ${path} (${reason}); choose a path in a folder you can write to, or fix its permissions`,
    { cause, details: { field: 'db', value: path } },
  );
}

/** Refuses a path that exists but cannot be an SQLite database, without touching it. */
function checkExisting(path: string): void {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw notDatabase(path, 'is a directory');
    if (!st.isFile()) throw notDatabase(path, 'is not a regular file');
    size = st.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    if (err instanceof MainspringError) throw err;
    throw notWritable(path, err);
  }
  if (size === 0) return;
  const buf = Buffer.alloc(HEADER.length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  if (buf.toString('latin1') !== HEADER) throw notDatabase(path, 'holds other data');
}

/** A prepared statement (node:sqlite's). */
export type Statement = StatementSync;

/** One prepared statement for each SQL text of `sql`, under the same key. */
export type Prepared<S extends Record<string, string>> = { readonly [K in keyof S]: Statement };

export function prepareAll<S extends Record<string, string>>(db: Connection, sql: S): Prepared<S> {
  return Object.fromEntries(Object.entries(sql).map(([k, text]) => [k, db.prepare(text)])) as Prepared<S>;
}

/** The store's connection to its file. */
export class Connection {
  /** The connection itself, for tests and tools that read around the store. */
  readonly raw: DatabaseSync;
  // A few dozen shapes at most: lists by their filters, updates by their columns.
  readonly #cache = new Map<string, Statement>();

  constructor(raw: DatabaseSync) {
    this.raw = raw;
  }

  get isTransaction(): boolean {
    return this.raw.isTransaction;
  }

  get isOpen(): boolean {
    return this.raw.isOpen;
  }

  prepare(sql: string): Statement {
    return this.raw.prepare(sql);
  }

  /** A statement built at run time (a list's filters, an update's columns), prepared once per text. */
  cached(sql: string): Statement {
    let statement = this.#cache.get(sql);
    if (!statement) {
      statement = this.raw.prepare(sql);
      this.#cache.set(sql, statement);
    }
    return statement;
  }

  exec(sql: string): void {
    this.raw.exec(sql);
  }

  close(): void {
    this.raw.close();
  }
}

export function openDatabase(path: string, options: { readOnly?: boolean } = {}): DatabaseSync {
  if (path !== ':memory:' && !options.readOnly) {
    checkExisting(path);
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (err) {
      throw notWritable(path, err);
    }
  }
  let db: DatabaseSync;
  try {
    db = new sqlite.DatabaseSync(path, { readOnly: options.readOnly === true });
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Reading the schema proves the file is a database before anything writes to it.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (err) {
    throw translateOpenError(path, err);
  }
  return db;
}

export function translateOpenError(path: string, err: unknown): MainspringError | unknown {
  const code = sqliteErrcode(err);
  if (code === SQLITE_NOTADB) return notDatabase(path, 'holds other data');
  if (code === SQLITE_CANTOPEN || code === SQLITE_READONLY || code === SQLITE_PERM)
    return notWritable(path, err);
  return err;
}

/** Runs `fn` inside BEGIN IMMEDIATE … COMMIT, rolling back if it throws. */
export function transaction<T>(db: Connection, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
