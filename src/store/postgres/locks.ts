// Leases on PostgreSQL. Each operation is one statement: ON CONFLICT DO UPDATE
// locks the row and re-checks the WHERE against its newest version, so two
// contenders can never both take an expired lease.

import type pg from 'pg';
import { LOCK_COLUMNS as COLUMNS, toLockRow } from '../lock-row.ts';
import type { LockRow, LockStore } from '../types.ts';
import { readRow, readRows } from './connect.ts';

// Take lease $1 for owner $2 until $3 if free or expired at $4; token continues from the old row.
const ACQUIRE = `
  INSERT INTO locks AS l (name, owner, token, acquired_at_ms, expires_at_ms) VALUES ($1, $2, 1, $4, $3)
  ON CONFLICT (name) DO UPDATE
     SET owner = excluded.owner, token = l.token + 1,
         acquired_at_ms = excluded.acquired_at_ms, expires_at_ms = excluded.expires_at_ms
   WHERE l.expires_at_ms <= $4
  RETURNING ${COLUMNS}`;

// Extend lease $1 held with token $2 until $3, if still live at $4.
const RENEW = `
  UPDATE locks SET expires_at_ms = $3
   WHERE name = $1 AND token = $2 AND expires_at_ms > $4
  RETURNING ${COLUMNS}`;

// End lease $1 held with token $2 (a released lease expires at 0, i.e. it is free).
const RELEASE = `UPDATE locks SET expires_at_ms = 0 WHERE name = $1 AND token = $2 AND expires_at_ms > 0`;

// One lease row by name.
const GET = `SELECT ${COLUMNS} FROM locks WHERE name = $1`;

// Leases live at $1.
const LIST_HELD = `SELECT ${COLUMNS} FROM locks WHERE expires_at_ms > $1 ORDER BY name`;

export class PgLockStore implements LockStore {
  readonly #db: pg.Pool;

  constructor(db: pg.Pool) {
    this.#db = db;
  }

  async acquire(name: string, owner: string, ttlMs: number, nowMs: number): Promise<LockRow | null> {
    return readRow(this.#db, ACQUIRE, [name, owner, nowMs + ttlMs, nowMs], toLockRow);
  }

  async renew(name: string, token: number, ttlMs: number, nowMs: number): Promise<LockRow | null> {
    return readRow(this.#db, RENEW, [name, token, nowMs + ttlMs, nowMs], toLockRow);
  }

  async release(name: string, token: number, _nowMs: number): Promise<boolean> {
    const { rowCount } = await this.#db.query(RELEASE, [name, token]);
    return rowCount === 1;
  }

  async get(name: string): Promise<LockRow | null> {
    return readRow(this.#db, GET, [name], toLockRow);
  }

  async listHeld(nowMs: number): Promise<LockRow[]> {
    return readRows(this.#db, LIST_HELD, [nowMs], toLockRow);
  }
}
