// The Store contract. Every engine feature talks to storage only through these
// interfaces; sqlite/ and postgres/ implement them with the same semantics, and
// test/store/ runs one conformance suite against both.
//
// Time is always passed in (`nowMs`): queries never read the database clock, so
// an injected Clock governs both backends alike.

import type { EventStore } from './event-row.ts';
import type { RunStore } from './run-row.ts';
import type { SchedulerStore } from './schedule-row.ts';
import type { WorkflowStore } from './workflow-row.ts';

export type { EventRow, EventStore, FileAnnouncement, NewEvent } from './event-row.ts';
export type {
  LogRow,
  NewLogLine,
  RunFilter,
  RunRow,
  RunStatus,
  RunStore,
  RunWrite,
  TriggerKind,
} from './run-row.ts';
export type {
  DueSchedule,
  FireOptions,
  FireOutcome,
  FirePlan,
  NewScheduleRow,
  NewTask,
  ScheduleFilter,
  ScheduleRow,
  SchedulerStore,
  ScheduleSource,
  ScheduleUpdate,
  TaskFilter,
  TaskRow,
  TaskStatus,
} from './schedule-row.ts';

export type Backend = 'sqlite' | 'postgres';

/** What a backend can do; engine code branches on these, never on the backend name. */
export interface StoreCapabilities {
  /** Claims can skip rows another transaction has locked (`FOR UPDATE SKIP LOCKED`). */
  readonly skipLocked: boolean;
  /** Wake-ups cross processes (`LISTEN/NOTIFY`); otherwise they are in-process only. */
  readonly listenNotify: boolean;
  /** Several processes may share the store at once. */
  readonly multiProcess: boolean;
  /**
   * Each statement is a network round trip to a server: gathering writes into fewer,
   * larger statements saves more than the wait costs (an embedded store writes in-process).
   */
  readonly remote: boolean;
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

/** A queue's definition as stored, so every process (producers, API, CLI) sees the same settings. */
export interface QueueRow {
  readonly name: string;
  /** The resolved queue settings, opaque to the store. */
  readonly config: unknown;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

export interface NewMessage {
  /** JSON text. */
  readonly body: string;
  readonly priority: number;
  readonly visibleAtMs: number;
  readonly groupId: string | null;
  readonly dedupKey: string | null;
}

export interface InsertedMessage {
  readonly id: number;
  /** True when a live dedup key matched: nothing was inserted and `id` is the first message's. */
  readonly deduplicated: boolean;
}

export interface ClaimedMessage {
  readonly id: number;
  readonly body: string;
  readonly priority: number;
  /** Includes this receive: 1 on first delivery. Also the receipt: acks must quote it. */
  readonly receiveCount: number;
  /**
   * Receives before receiveCount last restarted (the message was dead-lettered, or redriven):
   * `priorReceives + receiveCount` numbers this receive among all the message ever had.
   */
  readonly priorReceives: number;
  readonly sentAtMs: number;
  readonly groupId: string | null;
  /** When it is due: may be after now for messages leased ahead (ClaimOptions.dueByMs). */
  readonly visibleAtMs: number;
}

/** A received message, identified by id plus the receive count it was received with. */
export interface Receipt {
  readonly id: number;
  readonly receiveCount: number;
}

export interface FailedReceipt extends Receipt {
  /** When the message may be received again (now + backoff). */
  readonly visibleAtMs: number;
  /** Appended to the message's error history. */
  readonly error: unknown;
}

export interface MessageRow {
  readonly id: number;
  readonly queue: string;
  readonly body: string;
  readonly priority: number;
  readonly visibleAtMs: number;
  readonly receiveCount: number;
  readonly leased: boolean;
  /** While leased: when the visibility timeout ends. */
  readonly leaseUntilMs: number | null;
  readonly groupId: string | null;
  readonly sentAtMs: number;
  readonly errors: unknown[];
  readonly sourceQueue: string | null;
  readonly deadAtMs: number | null;
}

export interface QueueCounts {
  readonly queue: string;
  /** Receivable now. */
  readonly visible: number;
  /** Received and within their visibility timeout. */
  readonly inFlight: number;
  /** Waiting for a delay or a retry backoff. */
  readonly delayed: number;
  /** In a dead-letter queue, moved there from this queue. */
  readonly dead: number;
  readonly oldestSentAtMs: number | null;
}

export interface ClaimOptions {
  readonly limit: number;
  readonly nowMs: number;
  /**
   * Also lease messages that become visible by then (>= nowMs), so a consumer can
   * start each at its exact due time; a message's lease runs from its due time.
   */
  readonly dueByMs: number;
  /** The visibility timeout: each claimed message stays leased this long after max(now, its due time). */
  readonly visibilityMs: number;
  /** Deliver only the oldest message of each group, and none of a group with one in flight. */
  readonly fifo: boolean;
}

export interface ListMessagesOptions {
  readonly limit: number;
  readonly afterId?: number;
  readonly sourceQueue?: string;
}

export interface RedriveFilter {
  readonly sourceQueue?: string;
  readonly ids?: readonly number[];
}

export interface QueueStore {
  upsertQueue(name: string, config: unknown, nowMs: number): Promise<void>;
  getQueue(name: string): Promise<QueueRow | null>;
  listQueues(): Promise<QueueRow[]>;
  /**
   * Inserts messages in order (ids ascend in array order) and wakes consumers of the queue.
   * A message whose dedup key is live (within `dedupWindowMs` of its first send) is not inserted.
   */
  send(
    queue: string,
    messages: readonly NewMessage[],
    nowMs: number,
    dedupWindowMs: number,
  ): Promise<InsertedMessage[]>;
  /** Leases up to `limit` visible messages, highest priority first, then oldest. */
  claim(queue: string, options: ClaimOptions): Promise<ClaimedMessage[]>;
  /** Deletes messages still held with these receipts; returns the ids deleted. */
  ack(receipts: readonly Receipt[]): Promise<number[]>;
  /** Returns failed messages to the queue at their `visibleAtMs`, recording the error. */
  fail(receipts: readonly FailedReceipt[], nowMs: number): Promise<number>;
  /** Moves messages still held with these receipts into `deadLetterQueue`, recording their errors. */
  deadLetter(
    receipts: readonly (Receipt & { error?: unknown })[],
    deadLetterQueue: string,
    nowMs: number,
  ): Promise<number>;
  /** Pushes a held message's visibility timeout to `visibleAtMs`; false if the lease was lost. */
  extend(receipt: Receipt, visibleAtMs: number, nowMs: number): Promise<boolean>;
  /** Makes held messages visible again at once (graceful shutdown). */
  release(receipts: readonly Receipt[], nowMs: number): Promise<number>;
  /** The earliest time a message of the queue becomes visible after `nowMs`, or null. */
  nextVisibleAt(queue: string, nowMs: number): Promise<number | null>;
  counts(nowMs: number): Promise<QueueCounts[]>;
  getMessage(id: number): Promise<MessageRow | null>;
  /** Messages of a queue by id, `limit` at a time after `afterId`; only those from `sourceQueue` if given. */
  listMessages(queue: string, options: ListMessagesOptions): Promise<MessageRow[]>;
  /**
   * Moves dead letters back to the queue they came from; only those from `sourceQueue`
   * and only `ids` when given. Returns how many moved.
   */
  redrive(deadLetterQueue: string, filter: RedriveFilter, nowMs: number): Promise<number>;
  /** Deletes every message of the queue; returns how many. */
  purge(queue: string): Promise<number>;
}

export type Unlisten = () => Promise<void>;

export interface Store {
  readonly backend: Backend;
  readonly capabilities: StoreCapabilities;
  /** The store URL with any password removed, for logs and health output. */
  readonly url: string;
  readonly locks: LockStore;
  readonly queues: QueueStore;
  readonly events: EventStore;
  readonly runs: RunStore;
  readonly scheduler: SchedulerStore;
  readonly workflows: WorkflowStore;
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
