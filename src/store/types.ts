// The Store contract. Every engine feature talks to storage only through these
// interfaces; sqlite/ and postgres/ implement them with the same semantics, and
// test/store/ runs one conformance suite against both.
//
// Time is always passed in (`nowMs`): queries never read the database clock, so
// an injected Clock governs both backends alike.

export type Backend = 'sqlite' | 'postgres';

/** What a backend can do; engine code branches on these, never on the backend name. */
export interface StoreCapabilities {
  /** Claims can skip rows another transaction has locked (`FOR UPDATE SKIP LOCKED`). */
  readonly skipLocked: boolean;
  /** Wake-ups cross processes (`LISTEN/NOTIFY`); otherwise they are in-process only. */
  readonly listenNotify: boolean;
  /** Several processes may share the store at once. */
  readonly multiProcess: boolean;
}

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

export type Unlisten = () => Promise<void>;

export interface Store {
  readonly backend: Backend;
  readonly capabilities: StoreCapabilities;
  /** The store URL with any password removed, for logs and health output. */
  readonly url: string;
  readonly locks: LockStore;
  /** The highest applied migration. */
  schemaVersion(): Promise<number>;
  /** Round-trips to the database; rejects when it does not answer. */
  ping(): Promise<void>;
  /**
   * Calls `handler` for each notification on `channel`. A latency hint only:
   * notifications can be lost (e.g. across a reconnect), so consumers must also poll.
   */
  listen(channel: string, handler: (payload: string) => void): Promise<Unlisten>;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}
