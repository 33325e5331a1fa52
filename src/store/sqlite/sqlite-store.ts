// The embedded backend: one process owns an SQLite file in WAL mode. Wake-ups
// are in-process events, shared by every store this process opens on the file. A
// producer in another process (a client of the same file, as the background-jobs
// example's order service) is noticed by the file's data_version, read every 50 ms
// while something listens: it changes when another connection commits.

import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import type { Clock } from '../../core/clock.ts';
import { MESSAGES_CHANNEL } from '../message-row.ts';
import { SCHEDULER_CHANNEL } from '../schedule-row.ts';
import { schemaTooNew, storeNotFound } from '../schema-too-new.ts';
import { type ChangeMarks, Store, type StoreCapabilities, type Unlisten } from '../types.ts';
import { WORKFLOW_CHANNEL } from '../workflow-row.ts';
import { readChangeMarks } from './changes.ts';
import { attachCheckpointer, detachCheckpointer } from './checkpointer.ts';
import { Connection, openDatabase, translateOpenError } from './database.ts';
import { SqliteEventStore } from './events.ts';
import { SqliteLockStore } from './locks.ts';
import { currentVersion, migrateSqlite, SQLITE_MIGRATIONS } from './migrate.ts';
import { SqliteQueueStore } from './queues.ts';
import { SqliteRunStore } from './runs.ts';
import { SqliteSchedulerStore } from './scheduler.ts';
import { SqliteWorkflowStore } from './workflows.ts';

const buses = new Map<string, { bus: EventEmitter; users: number }>();

/** How often a listened-to file is checked for commits by other processes (real time). */
const WATCH_MS = 50;
/**
 * Channels whose listeners take '*' as "look again": another process's commit may have
 * sent messages, changed schedules, or started or woken workflow executions.
 */
const LOOK_AGAIN = [MESSAGES_CHANNEL, SCHEDULER_CHANNEL, WORKFLOW_CHANNEL];

function acquireBus(path: string): EventEmitter {
  // Each in-memory database is its own world; a file is shared by path.
  if (path === ':memory:') return new EventEmitter().setMaxListeners(0);
  const entry = buses.get(path) ?? { bus: new EventEmitter().setMaxListeners(0), users: 0 };
  entry.users++;
  buses.set(path, entry);
  return entry.bus;
}

function releaseBus(path: string, bus: EventEmitter): void {
  const entry = buses.get(path);
  if (entry?.bus !== bus) return;
  if (--entry.users === 0) buses.delete(path);
}

export interface SqliteStoreOptions {
  readonly path: string;
  readonly display: string;
  readonly clock: Clock;
  readonly migrate: boolean;
  /** Open the file read-only: no pragma, checkpoint or migration writes it. */
  readonly readOnly?: boolean;
  /** Refuse a missing file or one not at the current schema version, rather than create it. */
  readonly existing?: boolean;
}

export class SqliteStore extends Store {
  readonly backend = 'sqlite' as const;
  readonly capabilities: StoreCapabilities = {
    skipLocked: false,
    listenNotify: false,
    multiProcess: false,
    remote: false,
  };
  /** The connection itself, for tests and tools. */
  readonly db: DatabaseSync;
  readonly #conn: Connection;
  readonly #path: string;
  readonly #bus: EventEmitter;
  #watch: NodeJS.Timeout | null = null;

  private constructor(db: Connection, path: string, display: string, readOnly: boolean) {
    const bus = acquireBus(path);
    const notify = (channel: string, payload: string) => bus.emit(channel, payload);
    super(display, {
      runs: new SqliteRunStore(db),
      events: new SqliteEventStore(db),
      locks: new SqliteLockStore(db),
      queues: new SqliteQueueStore(db, notify),
      scheduler: new SqliteSchedulerStore(db, notify),
      workflows: new SqliteWorkflowStore(db, notify),
    });
    this.db = db.raw;
    this.#conn = db;
    this.#path = path;
    this.#bus = bus;
    // Checkpoints move to their thread once this process writes to the file in earnest.
    if (path !== ':memory:' && !readOnly) attachCheckpointer(path, db.raw);
  }

  static open(options: SqliteStoreOptions): SqliteStore {
    const file = options.path !== ':memory:';
    const readOnly = options.readOnly === true;
    if (options.existing && (!file || !existsSync(options.path)))
      throw storeNotFound(options.display, 0, SQLITE_MIGRATIONS.length);
    const raw = openDatabase(options.path, { readOnly });
    const db = new Connection(raw);
    try {
      const found = currentVersion(db);
      if (found > SQLITE_MIGRATIONS.length)
        throw schemaTooNew(options.display, found, SQLITE_MIGRATIONS.length);
      if (options.existing && found < SQLITE_MIGRATIONS.length)
        throw storeNotFound(options.display, found, SQLITE_MIGRATIONS.length);
      // Only now, with the file known to be ours, may anything be written to it.
      if (!readOnly) {
        if (file) db.exec('PRAGMA journal_mode = WAL');
        db.exec('PRAGMA synchronous = NORMAL');
      }
      if (options.migrate) migrateSqlite(db, options.display, options.clock.now());
      return new SqliteStore(db, options.path, options.display, readOnly);
    } catch (err) {
      db.close();
      throw translateOpenError(options.path, err);
    }
  }

  async schemaVersion(): Promise<number> {
    this.check();
    return currentVersion(this.#conn);
  }

  async ping(): Promise<void> {
    this.check();
    this.#conn.prepare('SELECT 1').get();
  }

  async changeMarks(): Promise<ChangeMarks> {
    this.check();
    return readChangeMarks(this.#conn);
  }

  async listen(channel: string, handler: (payload: string) => void): Promise<Unlisten> {
    this.check();
    this.#bus.on(channel, handler);
    if (this.#path !== ':memory:' && LOOK_AGAIN.includes(channel)) this.#watchOtherProcesses();
    return async () => {
      this.#bus.off(channel, handler);
    };
  }

  async notify(channel: string, payload: string): Promise<void> {
    this.check();
    this.#bus.emit(channel, payload);
  }

  /** Emits '*' on LOOK_AGAIN when another connection has committed to the file. */
  #watchOtherProcesses(): void {
    if (this.#watch) return;
    const version = this.#conn.prepare('PRAGMA data_version');
    const read = () => Number((version.get() as { data_version: number }).data_version);
    let seen = read();
    this.#watch = setInterval(() => {
      let now: number;
      try {
        now = read();
      } catch {
        return; // closing, or the file is busy: the next look, or the poll, finds it
      }
      if (now === seen) return;
      seen = now;
      for (const channel of LOOK_AGAIN) this.#bus.emit(channel, '*');
    }, WATCH_MS).unref();
  }

  protected async release(): Promise<void> {
    if (this.#watch) clearInterval(this.#watch);
    this.#watch = null;
    releaseBus(this.#path, this.#bus);
    if (this.#path !== ':memory:') {
      await detachCheckpointer(this.#path, this.db);
    }
    this.#conn.close();
  }
}
