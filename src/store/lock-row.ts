import type { LockRow } from './types.ts';

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
