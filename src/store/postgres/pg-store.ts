// The shared backend: any number of processes on any number of machines use one
// PostgreSQL database (in its own schema), through a pool plus one LISTEN connection.

import type pg from 'pg';
import type { Clock } from '../../core/clock.ts';
import { isMainspringError } from '../../core/errors.ts';
import { EVENTS_CHANNEL } from '../event-row.ts';
import { MESSAGES_CHANNEL } from '../message-row.ts';
import { SCHEDULER_CHANNEL } from '../schedule-row.ts';
import { schemaTooNew, storeNotFound } from '../schema-too-new.ts';
import { type ChangeMarks, Store, type StoreCapabilities, type Unlisten } from '../types.ts';
import { WORKFLOW_CHANNEL } from '../workflow-row.ts';
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

export class PgStore extends Store {
  readonly backend = 'postgres' as const;
  readonly capabilities: StoreCapabilities = {
    skipLocked: true,
    listenNotify: true,
    multiProcess: true,
    remote: true,
  };
  readonly schema: string;
  readonly pool: pg.Pool;
  readonly #listener: PgListener;
  /** Claims, acks and run records: commits without waiting for the WAL flush. */
  readonly leasePool: pg.Pool;

  private constructor(pool: pg.Pool, target: PgTarget, settings: Record<string, string>) {
    const listener = new PgListener(target);
    // Receives, acks and retries commit without waiting for the WAL flush: if the server
    // crashes and loses one, the message is simply delivered again (at-least-once holds).
    // Sends keep the default, so a send that returned is never lost. Run records and
    // lines go the same way: they describe work whose acks may be lost alike.
    // enable_sort off: a claim must walk the claim index in order and stop at its limit. A queue
    // table is often empty when (auto)vacuum or analyze passes, which records it as 0 rows; the
    // planner then sorts every due message instead, and with a backlog each claim sorts all of
    // it (an endurance run stalled every other minute: 36,500 rows sorted per claim of 1,000).
    // Off only penalises a sort; statements that need one still sort.
    const leasePool = createPool(target, 4, { ...settings, synchronous_commit: 'off', enable_sort: 'off' });
    const messagesChannel = listener.channelName(MESSAGES_CHANNEL);
    super(target.display, {
      events: new PgEventStore(pool, listener.channelName(EVENTS_CHANNEL), target.schema),
      locks: new PgLockStore(pool),
      runs: new PgRunStore(pool, leasePool),
      queues: new PgQueueStore(pool, leasePool, messagesChannel, target.schema, () => listener.pid),
      scheduler: new PgSchedulerStore(
        pool,
        { messages: messagesChannel, scheduler: listener.channelName(SCHEDULER_CHANNEL) },
        target.schema,
      ),
      workflows: new PgWorkflowStore(pool, listener.channelName(WORKFLOW_CHANNEL), target.schema),
    });
    this.pool = pool;
    this.schema = target.schema;
    this.#listener = listener;
    this.leasePool = leasePool;
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
    this.check();
    return currentVersion(this.pool, this.schema);
  }

  async ping(): Promise<void> {
    this.check();
    await this.pool.query('SELECT 1');
  }

  async changeMarks(): Promise<ChangeMarks> {
    this.check();
    return readChangeMarks(this.pool);
  }

  async listen(channel: string, handler: (payload: string) => void): Promise<Unlisten> {
    this.check();
    return this.#listener.listen(channel, handler);
  }

  async notify(channel: string, payload: string): Promise<void> {
    this.check();
    await this.pool.query('SELECT pg_notify($1, $2)', [this.#listener.channelName(channel), payload]);
  }

  protected async release(): Promise<void> {
    await this.#listener.close();
    await Promise.all([this.pool.end(), this.leasePool.end()]);
  }
}
