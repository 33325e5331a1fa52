// One-off tasks, upserted by id: the "slow scheduler" pattern (a task due in
// months, moved or cancelled any time before it fires) without a table scan.

import type { Clock } from '../core/clock.ts';
import { MainspringError } from '../core/errors.ts';
import { NAME_LIMITS } from '../core/names.ts';
import { attemptRunId } from '../functions/ids.ts';
import type { FunctionDefinition } from '../runtime/function.ts';
import { CANCELLED_ERROR, type Runs } from '../runtime/runs.ts';
import { type NewTask, SCHEDULER_CHANNEL, type TaskRow, type TaskStatus } from '../store/schedule-row.ts';
import { checkTx, type SqlClient, type Store } from '../store/types.ts';
import { instantMs, invalidField, payloadJson } from './spec.ts';

export interface TaskInput {
  /**
   * Caller-chosen: 1–200 printable characters (spaces and any script; no control characters),
   * e.g. `"some task id"`. Upserting an existing id overwrites it.
   */
  readonly id: string;
  /** When it fires: a Date or an ISO-8601 instant. A time already past fires at the next tick. */
  readonly due: Date | string;
  /** The function that runs it. */
  readonly action: string;
  /** The function's input (JSON, at most 256 KiB). */
  readonly payload?: unknown;
}

/** A task as the client, API and CLI return it. */
export interface TaskInfo {
  readonly id: string;
  readonly action: string;
  readonly payload: unknown;
  readonly due: string;
  /** `pending` until it fires, then `fired` (its run tells how that went). */
  readonly status: TaskStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly firedAt: string | null;
  /** The first attempt of the run it fired. */
  readonly runId: string | null;
}

/** How an upsert is carried out. */
export interface TaskTransactionOptions {
  /**
   * PostgreSQL only: your own client, inside a transaction you opened (a node-postgres Client
   * or PoolClient as it is; postgres.js through a one-line adapter). The tasks are stored
   * through it, so they exist (or change) if and only if you commit; running schedulers wake
   * on your commit.
   */
  readonly tx?: SqlClient;
}

export interface ListTasksOptions {
  readonly action?: string;
  readonly status?: TaskStatus;
  readonly dueBefore?: Date | string;
  readonly dueAfter?: Date | string;
  readonly cursor?: string;
  /** Default 50, at most 1000. */
  readonly limit?: number;
}

export interface TasksDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly runs: Runs;
  readonly functions: ReadonlyMap<string, FunctionDefinition>;
}

/** Longest task id, in characters (code points): the API's path parameter is sized from it. */
export const MAX_TASK_ID = NAME_LIMITS.task;
// C0 and C1 control characters (tab, newline, NUL, DEL, NEL…): they break logs, tables and terminals.
const CONTROL = /^\p{Cc}$/u;
// Tasks per store call (one transaction): large ones amortise the index writes of random due times.
const BULK = 50_000;
const TASK_CALL = { noun: 'a task upsert', verb: 'upsert the task' };

/**
 * Tasks: one-off runs at a given time, created or moved by id.
 *
 * @example
 * ```ts
 * await ms.tasks.upsert({ id: 'trial-end:42', due: '2027-03-01T09:00:00Z', action: 'end-trial', payload: { user: 42 } });
 * await ms.tasks.upsert({ id: 'trial-end:42', due: '2027-04-01T09:00:00Z', action: 'end-trial', payload: { user: 42 } }); // moved
 * await ms.tasks.delete('trial-end:42'); // never fires
 * ```
 */
export class Tasks {
  readonly #d: TasksDeps;

  constructor(deps: TasksDeps) {
    this.#d = deps;
  }

  /**
   * Creates the task, or overwrites the one with its id (a new due, action or payload replaces the old).
   * With `tx` (PostgreSQL), the upsert is part of your open transaction.
   *
   * @example
   * ```ts
   * await client.query('BEGIN');
   * await client.query(insertTrial, [42]);                       // your own write
   * await ms.tasks.upsert({ id: 'trial-end:42', due, action: 'end-trial' }, { tx: client });
   * await client.query('COMMIT');                                // the task exists from here on
   * ```
   */
  async upsert(task: TaskInput, options: TaskTransactionOptions = {}): Promise<TaskInfo> {
    const tx = this.#tx(options);
    const row = this.#check(task, '');
    const now = this.#d.clock.now();
    const [before] = await this.#upsert([row], now, tx);
    return toInfo({
      ...row,
      status: 'pending',
      createdAtMs: before?.createdAtMs ?? now,
      updatedAtMs: now,
      firedAtMs: null,
      invocationId: null,
    });
  }

  /**
   * Upserts many tasks (all are checked before any is stored; a later duplicate id wins).
   * Returns how many were stored.
   */
  async upsertMany(tasks: readonly TaskInput[], options: TaskTransactionOptions = {}): Promise<number> {
    const tx = this.#tx(options);
    if (!Array.isArray(tasks)) throw invalid('tasks', 'must be an array of tasks');
    const rows = tasks.map((t, i) => this.#check(t, `tasks[${i}]`));
    for (let i = 0; i < rows.length; i += BULK) {
      await this.#upsert(rows.slice(i, i + BULK), this.#d.clock.now(), tx);
    }
    return rows.length;
  }

  async get(id: string): Promise<TaskInfo> {
    const row = await this.#d.store.scheduler.getTask(id);
    if (!row) throw notFound(id);
    return toInfo(row);
  }

  async list(options: ListTasksOptions = {}): Promise<{ tasks: TaskInfo[]; nextCursor: string | null }> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw invalid('limit', 'use a whole number from 1 to 1000', limit);
    }
    if (options.status !== undefined && options.status !== 'pending' && options.status !== 'fired') {
      throw invalid('status', 'use pending or fired', options.status);
    }
    let after: { dueMs: number; id: string } | undefined;
    if (options.cursor !== undefined) {
      const m = /^(-?\d+):(.+)$/.exec(options.cursor);
      // Past a safe integer the store cannot compare it (PostgreSQL's bigint answered a 500).
      if (!m || !Number.isSafeInteger(Number(m[1]))) {
        throw invalid('cursor', 'pass the nextCursor of the previous page', options.cursor);
      }
      after = { dueMs: Number(m[1]), id: m[2]! };
    }
    const rows = await this.#d.store.scheduler.listTasks({
      limit: limit + 1,
      ...(options.action !== undefined ? { action: options.action } : {}),
      ...(options.status !== undefined ? { status: options.status } : {}),
      ...(options.dueBefore !== undefined
        ? { dueBeforeMs: instantMs(options.dueBefore, 'dueBefore', 'E_TASK_INVALID') }
        : {}),
      ...(options.dueAfter !== undefined
        ? { dueAfterMs: instantMs(options.dueAfter, 'dueAfter', 'E_TASK_INVALID') }
        : {}),
      ...(after ? { after } : {}),
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      tasks: page.map(toInfo),
      nextCursor: rows.length > limit && last ? `${last.dueMs}:${last.id}` : null,
    };
  }

  /** Deletes the task: it never fires. One taken ahead of its time whose run has not started is cancelled. */
  async delete(id: string): Promise<TaskInfo> {
    const row = await this.#d.store.scheduler.deleteTask(id);
    if (!row) throw notFound(id);
    await this.#cancelEarly(row);
    await this.#d.store.notify(SCHEDULER_CHANNEL, 'changed').catch(() => {});
    return toInfo(row);
  }

  #check(task: TaskInput, field: string): NewTask {
    if (typeof task !== 'object' || task === null) {
      throw invalid(field || 'task', 'must be an object { id, due, action, payload }');
    }
    // One task's fields are named as sent (due); a batch's by position (tasks[3].due).
    const at = (name: string) => (field === '' ? name : `${field}.${name}`);
    const { id, action } = task;
    if (typeof id !== 'string') throw invalid(at('id'), 'must be a string of 1–200 characters', id);
    const problem = idProblem(id);
    if (problem !== null) throw invalid(at('id'), problem, id);
    // Built-in functions (`mainspring:…`) are reached through schedule targets, not tasks.
    if (typeof action !== 'string' || !this.#d.functions.has(action) || action.startsWith('mainspring:')) {
      const known = [...this.#d.functions.keys()].filter((f) => !f.startsWith('mainspring:'));
      throw invalid(
        at('action'),
        `no function named ${JSON.stringify(action)}; ${known.length > 0 ? `defined: ${known.join(', ')}` : 'the app defines none'}`,
        action,
      );
    }
    return {
      id,
      action,
      dueMs: instantMs(task.due, at('due'), 'E_TASK_INVALID'),
      payload: task.payload === undefined ? null : payloadJson(task.payload, at('payload'), 'E_TASK_INVALID'),
    };
  }

  /** `options.tx`, checked: undefined when absent. */
  #tx(options: TaskTransactionOptions): SqlClient | undefined {
    const tx = options?.tx;
    if (tx !== undefined) checkTx(tx, this.#d.store.scheduler.upsertTasksThrough !== undefined, TASK_CALL);
    return tx;
  }

  /**
   * Stores the tasks, then cancels the early-fired runs of those replaced and wakes schedulers.
   * Through `tx` the store does all of it in the caller's transaction, so none of it happens
   * unless it commits.
   */
  async #upsert(
    rows: readonly NewTask[],
    now: number,
    tx: SqlClient | undefined,
  ): Promise<(TaskRow | null)[]> {
    const { scheduler } = this.#d.store;
    if (tx !== undefined) return scheduler.upsertTasksThrough!(tx, rows, now, CANCELLED_ERROR);
    const before = await scheduler.upsertTasks(rows, now);
    for (const row of before) if (row !== null) await this.#cancelEarly(row);
    await this.#d.store.notify(SCHEDULER_CHANNEL, 'changed').catch(() => {});
    return before;
  }

  /** A task fired ahead of its due time whose run has not started: cancelled, so it never runs at the old time. */
  async #cancelEarly(row: TaskRow): Promise<void> {
    if (row.status !== 'fired' || row.invocationId === null || row.dueMs <= this.#d.clock.now()) return;
    const id = attemptRunId(row.invocationId, 1);
    const run = await this.#d.store.runs.get(id);
    if (run?.status === 'queued') await this.#d.runs.cancel(id).catch(() => {});
  }
}

function toInfo(row: TaskRow): TaskInfo {
  return {
    id: row.id,
    action: row.action,
    payload: row.payload === null ? null : (JSON.parse(row.payload) as unknown),
    due: new Date(row.dueMs).toISOString(),
    status: row.status,
    createdAt: new Date(row.createdAtMs).toISOString(),
    updatedAt: new Date(row.updatedAtMs).toISOString(),
    firedAt: row.firedAtMs === null ? null : new Date(row.firedAtMs).toISOString(),
    runId: row.invocationId === null ? null : attemptRunId(row.invocationId, 1),
  };
}

/** Why `id` cannot be a task id, or null when it can. */
function idProblem(id: string): string | null {
  const chars = [...id];
  if (chars.length === 0) return 'is empty; use 1–200 printable characters';
  if (chars.length > MAX_TASK_ID) {
    return `${JSON.stringify(`${chars.slice(0, 20).join('')}…`)} is ${chars.length} characters long; use at most ${MAX_TASK_ID}`;
  }
  const at = chars.findIndex((c) => CONTROL.test(c));
  if (at >= 0) {
    const code = chars[at]!.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return `${JSON.stringify(id)} has a control character (U+${code}) at character ${at + 1}; use printable characters only`;
  }
  // A lone surrogate cannot be stored as UTF-8 (PostgreSQL refuses it; SQLite would mangle it).
  if (!id.isWellFormed())
    return `${JSON.stringify(id)} has half of a UTF-16 surrogate pair; send whole characters`;
  return null;
}

function invalid(field: string, message: string, value?: unknown): MainspringError {
  return invalidField('E_TASK_INVALID', field, message, value);
}

function notFound(id: string): MainspringError {
  return new MainspringError('E_TASK_NOT_FOUND', `no task with id "${id}"`, {
    details: { field: 'id', value: id },
  });
}
