// Leases for user code and for the engine: "only one replica runs this at a time".
// A lease has a TTL and a fencing token that increases strictly per name, so a
// holder that stalled past its TTL can be told apart from the one that took over.
// TTLs, waits and retries are real time (`clock.real`): a scaled clock never lets a
// lease lapse under a holder that is still working at real speed.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../core/clock.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { MainspringError } from '../core/errors.ts';
import { NAME_LIMITS } from '../core/names.ts';
import type { LockRow, LockStore } from '../store/types.ts';

/** A held lease. Pass `token` along with writes guarded by the lease (fencing). */
export interface Lease {
  readonly name: string;
  readonly owner: string;
  readonly token: number;
  readonly acquiredAt: Date;
  readonly expiresAt: Date;
}

export interface AcquireOptions {
  /** How long the lease lasts unless renewed: milliseconds or a string like `'30s'` (real time). */
  readonly ttl: Duration;
  /** Who holds it, for operators reading `locks list`; defaults to host:pid:random. */
  readonly owner?: string;
}

export interface WithLockOptions {
  /** Lease length; `withLock` renews it every third of this while `fn` runs. Default 30 s. */
  readonly ttl?: Duration;
  readonly owner?: string;
  /** How long to keep trying while someone else holds the lease (default 0: try once). */
  readonly wait?: Duration;
  /** How often to retry while waiting (default 250 ms). */
  readonly retryEvery?: Duration;
}

export type WithLockResult<T> =
  | { readonly acquired: true; readonly result: T }
  | { readonly acquired: false };

const MAX_NAME = NAME_LIMITS.lock;
const MAX_TTL_MS = 366 * 86_400_000;

export const defaultOwner = (): string => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

function toLease(row: LockRow): Lease {
  return {
    name: row.name,
    owner: row.owner,
    token: row.token,
    acquiredAt: new Date(row.acquiredAtMs),
    expiresAt: new Date(row.expiresAtMs),
  };
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME) {
    throw new MainspringError(
      'E_LOCK_INVALID',
      `lock name ${JSON.stringify(name)} is invalid; use a non-empty string of at most ${MAX_NAME} characters`,
      { details: { field: 'name', value: name } },
    );
  }
  return name;
}

function checkTtl(ttl: Duration): number {
  const ms = parseDuration(ttl, 'ttl');
  if (ms < 1 || ms > MAX_TTL_MS) {
    throw new MainspringError(
      'E_LOCK_INVALID',
      `lock ttl ${JSON.stringify(ttl)} is out of range; use between 1 ms and 366 days (e.g. '30s')`,
      { details: { field: 'ttl', value: ttl } },
    );
  }
  return ms;
}

/**
 * The lease API.
 *
 * @example
 * ```ts
 * const ran = await ms.locks.withLock('nightly-report', async ({ token, signal }) => {
 *   await buildReport({ fencingToken: token, signal });
 * }, { ttl: '1m' });
 * if (!ran.acquired) console.log('another replica is running it');
 * ```
 */
export class Locks {
  readonly #store: LockStore;
  readonly #clock: Clock;
  readonly #owner: string;

  constructor(store: LockStore, clock: Clock, owner: string = defaultOwner()) {
    this.#store = store;
    this.#clock = clock;
    this.#owner = owner;
  }

  /** Takes the lease if it is free or expired; null while another holder has it. */
  async acquire(name: string, options: AcquireOptions): Promise<Lease | null> {
    const row = await this.#store.acquire(
      checkName(name),
      options.owner ?? this.#owner,
      this.#clock.real(checkTtl(options.ttl)),
      this.#clock.now(),
    );
    return row ? toLease(row) : null;
  }

  /** Extends a held lease by `ttl` from now; null when it expired or was taken over. */
  async renew(lease: Pick<Lease, 'name' | 'token'>, options: { ttl: Duration }): Promise<Lease | null> {
    const row = await this.#store.renew(
      checkName(lease.name),
      lease.token,
      this.#clock.real(checkTtl(options.ttl)),
      this.#clock.now(),
    );
    return row ? toLease(row) : null;
  }

  /** Gives the lease up; false when `lease.token` no longer holds it. */
  async release(lease: Pick<Lease, 'name' | 'token'>): Promise<boolean> {
    return this.#store.release(checkName(lease.name), lease.token, this.#clock.now());
  }

  /** The current holder of `name`, or null when nobody holds it now. */
  async holder(name: string): Promise<Lease | null> {
    const row = await this.#store.get(checkName(name));
    return row && row.expiresAtMs > this.#clock.now() ? toLease(row) : null;
  }

  async list(): Promise<Lease[]> {
    return (await this.#store.listHeld(this.#clock.now())).map(toLease);
  }

  /**
   * Runs `fn` while holding the lease, renewing it every ttl/3, and releases it after.
   * If a renewal finds the lease taken over, `signal` aborts and `withLock` rejects
   * with E_LOCK_LOST once `fn` settles. Returns `{ acquired: false }` if the lease
   * could not be taken within `wait`.
   */
  async withLock<T>(
    name: string,
    fn: (ctx: { lease: Lease; token: number; signal: AbortSignal }) => Promise<T> | T,
    options: WithLockOptions = {},
  ): Promise<WithLockResult<T>> {
    const ttl = checkTtl(options.ttl ?? 30_000);
    const clock = this.#clock;
    const waitMs = clock.real(parseDuration(options.wait ?? 0, 'wait'));
    const retryMs = clock.real(Math.max(1, parseDuration(options.retryEvery ?? 250, 'retryEvery')));
    const owner = options.owner ?? this.#owner;
    const giveUpAt = clock.now() + waitMs;
    let lease = await this.acquire(name, { ttl, owner });
    while (!lease && clock.now() + retryMs <= giveUpAt) {
      await clock.sleep(retryMs);
      lease = await this.acquire(name, { ttl, owner });
    }
    if (!lease) return { acquired: false };

    const lost = new AbortController();
    const stopRenewing = new AbortController();
    const held = lease;
    const renewing = (async () => {
      let current: Lease = held;
      while (!stopRenewing.signal.aborted) {
        try {
          await clock.sleep(Math.max(1, Math.floor(clock.real(ttl) / 3)), stopRenewing.signal);
        } catch {
          return;
        }
        const next = await this.renew(current, { ttl }).catch(() => undefined);
        if (next === null) {
          lost.abort(
            new MainspringError(
              'E_LOCK_LOST',
              `lock "${name}" (token ${held.token}) was taken over before it was renewed`,
            ),
          );
          return;
        }
        if (next) current = next;
      }
    })();

    try {
      const result = await fn({ lease: held, token: held.token, signal: lost.signal });
      if (lost.signal.aborted) throw lost.signal.reason;
      return { acquired: true, result };
    } finally {
      stopRenewing.abort();
      await renewing;
      if (!lost.signal.aborted) await this.release(held).catch(() => false);
    }
  }
}
