// Leases on SQLite. Each operation is one statement; the upsert's WHERE makes
// acquire atomic (take the row only if its lease has expired).

import { LOCK_COLUMNS as COLUMNS, type RawLock, toLockRow } from '../lock-row.ts';
import type { LockRow, LockStore } from '../types.ts';
import { type Connection, type Prepared, prepareAll } from './database.ts';

const SQL = {
  // Take lease $1 for owner $2 until $3 if free or expired at $4; token continues from the old row.
  acquire: `
  INSERT INTO locks (name, owner, token, acquired_at_ms, expires_at_ms) VALUES (?1, ?2, 1, ?4, ?3)
  ON CONFLICT (name) DO UPDATE
     SET owner = excluded.owner, token = locks.token + 1,
         acquired_at_ms = excluded.acquired_at_ms, expires_at_ms = excluded.expires_at_ms
   WHERE locks.expires_at_ms <= ?4
  RETURNING ${COLUMNS}`,
  // Extend lease $1 held with token $2 until $3, if still live at $4.
  renew: `
  UPDATE locks SET expires_at_ms = ?3
   WHERE name = ?1 AND token = ?2 AND expires_at_ms > ?4
  RETURNING ${COLUMNS}`,
  // End lease $1 held with token $2 (a released lease expires at 0, i.e. it is free).
  release: `UPDATE locks SET expires_at_ms = 0 WHERE name = ?1 AND token = ?2 AND expires_at_ms > 0`,
  // One lease row by name.
  get: `SELECT ${COLUMNS} FROM locks WHERE name = ?1`,
  // Leases live at $1.
  listHeld: `SELECT ${COLUMNS} FROM locks WHERE expires_at_ms > ?1 ORDER BY name`,
} as const;

export class SqliteLockStore implements LockStore {
  readonly #s: Prepared<typeof SQL>;

  constructor(db: Connection) {
    this.#s = prepareAll(db, SQL);
  }

  async acquire(name: string, owner: string, ttlMs: number, nowMs: number): Promise<LockRow | null> {
    const row = this.#s.acquire.get(name, owner, nowMs + ttlMs, nowMs) as RawLock | undefined;
    return row ? toLockRow(row) : null;
  }

  async renew(name: string, token: number, ttlMs: number, nowMs: number): Promise<LockRow | null> {
    const row = this.#s.renew.get(name, token, nowMs + ttlMs, nowMs) as RawLock | undefined;
    return row ? toLockRow(row) : null;
  }

  async release(name: string, token: number, _nowMs: number): Promise<boolean> {
    return Number(this.#s.release.run(name, token).changes) === 1;
  }

  async get(name: string): Promise<LockRow | null> {
    const row = this.#s.get.get(name) as RawLock | undefined;
    return row ? toLockRow(row) : null;
  }

  async listHeld(nowMs: number): Promise<LockRow[]> {
    return (this.#s.listHeld.all(nowMs) as unknown as RawLock[]).map(toLockRow);
  }
}
