// The Store contract. Every engine feature talks to storage only through these
// types; sqlite/ and postgres/ implement them with the same semantics, and
// test/store/ runs one conformance suite against both.
//
// Time is always passed in (`nowMs`): queries never read the database clock, so
// an injected Clock governs both backends alike.

import { MainspringError } from '../core/errors.ts';
import type { EventStore } from './event-row.ts';
import type { LockStore } from './lock-row.ts';
import type { QueueStore } from './message-row.ts';
import type { RunStore } from './run-row.ts';
import type { SchedulerStore } from './schedule-row.ts';
import type { WorkflowStore } from './workflow-row.ts';

export type { EventRow, EventStore, FileAnnouncement, NewEvent } from './event-row.ts';
export type { LockRow, LockStore } from './lock-row.ts';
export type {
  ClaimedMessage,
  ClaimOptions,
  FailedReceipt,
  InsertedMessage,
  ListMessagesOptions,
  MessageGate,
  MessageRow,
  NewMessage,
  PushOffer,
  QueueCounts,
  QueueRow,
  QueueStore,
  Receipt,
  RedriveFilter,
} from './message-row.ts';
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
export { checkTx, type SqlClient, type TxCall } from './sql-client.ts';

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

export type Unlisten = () => Promise<void>;

/** The areas a dashboard page shows, each with a mark that moves when anything in it changes. */
export type ChangeTopic = 'runs' | 'queues' | 'schedules' | 'tasks' | 'workflows' | 'events';
export type ChangeMarks = Readonly<Record<ChangeTopic, string>>;

/** The sub-stores, one per area. */
export type SubStores = Pick<Store, 'locks' | 'queues' | 'events' | 'runs' | 'scheduler' | 'workflows'>;

/**
 * A store: its backend's sub-stores and what the engine asks of the database as a whole. Both
 * backends extend it. After `close`, every call refuses with E_STORE_CLOSED.
 */
export abstract class Store {
  abstract readonly backend: Backend;
  abstract readonly capabilities: StoreCapabilities;
  /** The store URL with any password removed, for logs and health output. */
  readonly url: string;
  readonly locks: LockStore;
  readonly queues: QueueStore;
  readonly events: EventStore;
  readonly runs: RunStore;
  readonly scheduler: SchedulerStore;
  readonly workflows: WorkflowStore;
  #closed = false;

  protected constructor(url: string, parts: SubStores) {
    this.url = url;
    ({
      locks: this.locks,
      queues: this.queues,
      events: this.events,
      runs: this.runs,
      scheduler: this.scheduler,
      workflows: this.workflows,
    } = parts);
  }

  /** The highest applied migration. */
  abstract schemaVersion(): Promise<number>;
  /** Round-trips to the database; rejects when it does not answer. */
  abstract ping(): Promise<void>;
  /**
   * One cheap read (counts and high-water marks, served by indexes) per area: equal marks
   * mean nothing a list shows changed, so a live page reloads only what moved.
   */
  abstract changeMarks(): Promise<ChangeMarks>;
  /**
   * Calls `handler` for each notification on `channel`. A latency hint only:
   * notifications can be lost (e.g. across a reconnect), so consumers must also poll.
   */
  abstract listen(channel: string, handler: (payload: string) => void): Promise<Unlisten>;
  abstract notify(channel: string, payload: string): Promise<void>;

  /** Releases the connections; once only. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.release();
  }

  protected abstract release(): Promise<void>;

  /** Refuses a call after close. */
  protected check(): void {
    if (this.#closed) throw new MainspringError('E_STORE_CLOSED', `store ${this.url} is closed`);
  }
}
