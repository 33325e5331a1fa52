// The lock contract (store.locks) and its rows as the backends read them.

/** A lease row as stored. `token` is the fencing token: it increases strictly per name. */
export interface LockRow {
  readonly name: string;
  readonly owner: string;
  readonly token: number;
  readonly acquiredAtMs: number;
  readonly expiresAtMs: number;
}

export interface LockStore {
  /** Takes the lease on `name` if it is free or expired at `nowMs`; null while someone else holds it. */
  acquire(name: string, owner: string, ttlMs: number, nowMs: number): Promise<LockRow | null>;
  /** Extends a lease that is still held with `token` at `nowMs`; null when it expired or was taken over. */
  renew(name: string, token: number, ttlMs: number, nowMs: number): Promise<LockRow | null>;
  /** Ends a lease held with `token`; false when that token no longer holds it. */
  release(name: string, token: number, nowMs: number): Promise<boolean>;
  /** The current row for `name` (held or not), or null if the name was never locked. */
  get(name: string): Promise<LockRow | null>;
  /** Leases held at `nowMs`, by name. */
  listHeld(nowMs: number): Promise<LockRow[]>;
}

/** Columns of `locks` as both backends return them. */
export const LOCK_COLUMNS = 'name, owner, token, acquired_at_ms, expires_at_ms';

export interface RawLock {
  name: string;
  owner: string;
  token: number | bigint;
  acquired_at_ms: number | bigint;
  expires_at_ms: number | bigint;
}

export function toLockRow(r: RawLock): LockRow {
  return {
    name: r.name,
    owner: r.owner,
    token: Number(r.token),
    acquiredAtMs: Number(r.acquired_at_ms),
    expiresAtMs: Number(r.expires_at_ms),
  };
}
