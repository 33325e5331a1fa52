// The shared backend: any number of processes on any number of machines use one
// PostgreSQL database (in its own schema), through a pool plus one LISTEN connection.

import type pg from 'pg';
import type { Clock } from '../../core/clock.ts';
import { isMainspringError, MainspringError } from '../../core/errors.ts';
import { MESSAGES_CHANNEL } from '../message-row.ts';
import { schemaTooNew, storeNotFound } from '../schema-too-new.ts';
import type {
  ChangeMarks,
  EventStore,
  LockStore,
  QueueStore,
  RunStore,
  SchedulerStore,
  Store,
  StoreCapabilities,
  Unlisten,
} from '../types.ts';
import { WORKFLOW_CHANNEL, type WorkflowStore } from '../workflow-row.ts';
import { readChangeMarks } from './changes.ts';
import { createPool, isConnectionError, type PgTarget, unreachable } from './connect.ts';
import { PgEventStore } from './events.ts';
import { PgListener } from './listener.ts';
import { PgLockStore } from './locks.ts';
import { currentVersion, migratePostgres, PG_MIGRATIONS } from './migrate.ts';
import { PgQueueStore } from './queues.ts';
import { PgRunStore } from './runs.ts';
import { PgSchedulerStore } from './scheduler.ts';
import { PgWorkflowStore } from './workflows.ts';

export interface PgStoreOptions extends PgTarget {
  readonly clock: Clock;
  readonly migrate: boolean;
  readonly poolSize?: number;
  /** Every connection refuses writes (`default_transaction_read_only`). */
  readonly readOnly?: boolean;
  /** Refuse a schema that is missing or not at the current version, rather than create it. */
  readonly existing?: boolean;
}

export class PgStore implements Store {
  readonly backend = 'postgres' as const;
  readonly capabilities: StoreCapabilities = {
    skipLocked: true,
    listenNotify: true,
    multiProcess: true,
    remote: true,
  };
  readonly url: string;
  readonly schema: string;
  readonly locks: LockStore;
  readonly queues: QueueStore;
  readonly events: EventStore;
  readonly runs: RunStore;
  readonly scheduler: SchedulerStore;
  readonly workflows: WorkflowStore;
  readonly pool: pg.Pool;
  readonly #listener: PgListener;
  readonly #leasePool: pg.Pool;
  #closed = false;

  private constructor(pool: pg.Pool, target: PgTarget, settings: Record<string, string>) {
    this.pool = pool;
    this.url = target.display;
    this.schema = target.schema;
    this.events = new PgEventStore(pool);
    this.locks = new PgLockStore(pool);
    this.#listener = new PgListener(target);
    // Receives, acks and retries commit without waiting for the WAL flush: if the server
    // crashes and loses one, the message is simply delivered again (at-least-once holds).
    // Sends keep the default, so a send that returned is never lost. Run records and
    // lines go the same way: they describe work whose acks may be lost alike.
    this.#leasePool = createPool(target, 4, { ...settings, synchronous_commit: 'off' });
    this.runs = new PgRunStore(pool, this.#leasePool);
    const messagesChannel = this.#listener.channelName(MESSAGES_CHANNEL);
    this.queues = new PgQueueStore(pool, this.#leasePool, messagesChannel);
    this.scheduler = new PgSchedulerStore(pool, messagesChannel);
    this.workflows = new PgWorkflowStore(pool, this.#listener.channelName(WORKFLOW_CHANNEL));
  }

  static async open(options: PgStoreOptions): Promise<PgStore> {
    const settings: Record<string, string> = options.readOnly ? { default_transaction_read_only: 'on' } : {};
    const pool = createPool(options, options.poolSize ?? 10, settings);
    try {
      await pool.query('SELECT 1').catch((err: unknown) => {
        throw unreachable(options.display, err);
      });
      const found = await currentVersion(pool, options.schema);
      if (found > PG_MIGRATIONS.length) throw schemaTooNew(options.display, found, PG_MIGRATIONS.length);
      if (options.existing && found < PG_MIGRATIONS.length)
        throw storeNotFound(options.display, found, PG_MIGRATIONS.length);
      if (options.migrate) await migratePostgres(pool, options.schema, options.display, options.clock.now());
      return new PgStore(pool, options, settings);
    } catch (err) {
      await pool.end().catch(() => {});
      throw isConnectionError(err) && !isMainspringError(err) ? unreachable(options.display, err) : err;
    }
  }

  async schemaVersion(): Promise<number> {
    this.#check();
    return currentVersion(this.pool, this.schema);
  }

  async ping(): Promise<void> {
    this.#check();
    await this.pool.query('SELECT 1');
  }

  async changeMarks(): Promise<ChangeMarks> {
    this.#check();
    return readChangeMarks(this.pool);
  }

  async listen(channel: string, handler: (payload: string) => void): Promise<Unlisten> {
    this.#check();
    return this.#listener.listen(channel, handler);
  }

  async notify(channel: string, payload: string): Promise<void> {
    this.#check();
    await this.pool.query('SELECT pg_notify($1, $2)', [this.#listener.channelName(channel), payload]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#listener.close();
    await Promise.all([this.pool.end(), this.#leasePool.end()]);
  }

  #check(): void {
    if (this.#closed) throw new MainspringError('E_STORE_CLOSED', `store ${this.url} is closed`);
  }
}
