// Schedules and one-off tasks on SQLite. One process owns the file: fire runs claim, plan
// and apply in one IMMEDIATE transaction, which alone serializes schedulers (no row locks
// to skip). Bulk task upserts bind many rows per statement.

import type { SQLInputValue } from 'node:sqlite';
import { type ListQuery, SQLITE_DIALECT } from '../dialect.ts';
import { MESSAGES_CHANNEL } from '../message-row.ts';
import {
  type DueSchedule,
  type FireOptions,
  type FireOutcome,
  type FirePlan,
  listSchedulesQuery,
  listTasks,
  type NewScheduleRow,
  type NewTask,
  type RawSchedule,
  type RawTask,
  SCHEDULE_COLUMNS,
  SCHEDULE_UPDATE_COLUMNS,
  type ScheduleFilter,
  type ScheduleRow,
  type SchedulerStore,
  type ScheduleUpdate,
  TASK_COLUMNS,
  type TaskFilter,
  type TaskRow,
  toScheduleRow,
  toTaskRow,
} from '../schedule-row.ts';
import { type Connection, type Prepared, prepareAll, type Statement, transaction } from './database.ts';
import { INSERT_MESSAGE } from './queues.ts';
import { INSERT_RUN, runValues } from './runs.ts';

// Upsert UPSERT_ROWS tasks at ?1 (now): ?2.. are id, action, payload, due of each in turn. A stored
// task takes the new values and is pending again; it keeps its created_at_ms.
const UPSERT_ROWS = 250;
const upsertTasks = (rows: number) => `
  INSERT INTO tasks (id, action, payload, due_ms, status, created_at_ms, updated_at_ms)
  VALUES ${Array.from({ length: rows }, (_, k) => `(?${4 * k + 2}, ?${4 * k + 3}, ?${4 * k + 4}, ?${4 * k + 5}, 'pending', ?1, ?1)`).join(', ')}
  ON CONFLICT (id) DO UPDATE
     SET action = excluded.action, payload = excluded.payload, due_ms = excluded.due_ms, status = 'pending',
         updated_at_ms = excluded.updated_at_ms, fired_at_ms = NULL, invocation_id = NULL`;

// Claim conditions: enabled schedules due by ?1; pending tasks due by ?1. The `only` variants
// (names or ids in JSON array ?3) look up the key and filter; the unary + keeps the planner
// from walking the due-time index instead, past a backlog of other due rows.
const DUE_SCHEDULES = 'enabled = 1 AND due_at_ms <= ?1';
const DUE_TASKS = `status = 'pending' AND due_ms <= ?1`;
const ONLY_SCHEDULES = 'name IN (SELECT value FROM json_each(?3)) AND +enabled = 1 AND +due_at_ms <= ?1';
const ONLY_TASKS = `id IN (SELECT value FROM json_each(?3)) AND +status = 'pending' AND +due_ms <= ?1`;

// Whether a schedule is due by ?1 (only those named in ?3 in the `only` variant).
const anyScheduleDue = (where: string) => `SELECT EXISTS (SELECT 1 FROM schedules WHERE ${where}) AS due`;
// Whether a task is due by ?1 (only those in ?3 in the `only` variant).
const anyTaskDue = (where: string) => `SELECT EXISTS (SELECT 1 FROM tasks WHERE ${where}) AS due`;

// Up to ?2 schedules due by ?1, the earliest first, each with whether an attempt of its last
// invocation is queued or running (attempt ids `<invocation>-<n>` are a primary key range of runs).
const claimSchedules = (where: string) => `
  SELECT ${SCHEDULE_COLUMNS},
         EXISTS (SELECT 1 FROM runs r
                  WHERE r.id >= s.last_invocation_id || '-' AND r.id < s.last_invocation_id || '.'
                    AND r.invocation_id = s.last_invocation_id AND r.status IN ('queued', 'running')) AS last_active
    FROM schedules s WHERE ${where} ORDER BY due_at_ms, name LIMIT ?2`;

// Up to ?2 pending tasks due by ?1, the earliest first.
const claimTasks = (where: string) =>
  `SELECT ${TASK_COLUMNS} FROM tasks WHERE ${where} ORDER BY due_ms, id LIMIT ?2`;

const SQL = {
  // Insert schedule ?1 (spec ?2, source ?3, enabled ?4 as 0/1, created ?5, updated ?6, next tick ?7,
  // due ?8, last tick ?9, last fired ?10, last invocation ?11) at version 1, unless the name is taken.
  insertSchedule: `
  INSERT INTO schedules (name, spec, source, enabled, created_at_ms, updated_at_ms, next_tick_ms, due_at_ms,
                         last_tick_ms, last_fired_at_ms, last_invocation_id, version)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1)
  ON CONFLICT (name) DO NOTHING`,
  // One schedule by name ?1.
  getSchedule: `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE name = ?1`,
  // Delete schedule ?1; returns it.
  deleteSchedule: `DELETE FROM schedules WHERE name = ?1 RETURNING ${SCHEDULE_COLUMNS}`,
  countSchedules: 'SELECT count(*) AS n FROM schedules',
  // Tasks with ids in JSON array ?1, as they are.
  tasksById: `SELECT ${TASK_COLUMNS} FROM tasks WHERE id IN (SELECT value FROM json_each(?1))`,
  upsertMany: upsertTasks(UPSERT_ROWS),
  upsertOne: upsertTasks(1),
  // One task by id ?1.
  getTask: `SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?1`,
  // Delete task ?1; returns it.
  deleteTask: `DELETE FROM tasks WHERE id = ?1 RETURNING ${TASK_COLUMNS}`,
  // Delete up to ?2 tasks fired before ?1, the earliest due first.
  deleteFired: `
  DELETE FROM tasks WHERE id IN (
    SELECT id FROM tasks WHERE status = 'fired' AND fired_at_ms < ?1 ORDER BY due_ms, id LIMIT ?2)`,
  countPending: `SELECT count(*) AS n FROM tasks WHERE status = 'pending'`,
  // The earliest due time of an enabled schedule and of a pending task (each an index lookup).
  nextDue: `
  SELECT (SELECT due_at_ms FROM schedules WHERE due_at_ms IS NOT NULL AND enabled = 1 ORDER BY due_at_ms LIMIT 1) AS s,
         (SELECT due_ms FROM tasks WHERE status = 'pending' ORDER BY due_ms LIMIT 1) AS t`,
  // Set fired schedule ?1's next tick ?2, due ?3, last tick ?4, last fired ?5, last invocation ?6.
  fireSchedule: `
  UPDATE schedules SET next_tick_ms = ?2, due_at_ms = ?3, last_tick_ms = ?4, last_fired_at_ms = ?5,
                       last_invocation_id = ?6, version = version + 1
   WHERE name = ?1`,
  // Mark task ?1 fired at ?2 with invocation ?3.
  fireTask: `UPDATE tasks SET status = 'fired', fired_at_ms = ?2, invocation_id = ?3 WHERE id = ?1`,
  insertRun: INSERT_RUN,
  insertMessage: INSERT_MESSAGE,
} as const;

export class SqliteSchedulerStore implements SchedulerStore {
  readonly #s: Prepared<typeof SQL>;
  readonly #db: Connection;
  readonly #notify: (channel: string, payload: string) => void;
  /** [all, only] variants of each claim-side statement. */
  readonly #anyScheduleDue: readonly [Statement, Statement];
  readonly #anyTaskDue: readonly [Statement, Statement];
  readonly #claimSchedules: readonly [Statement, Statement];
  readonly #claimTasks: readonly [Statement, Statement];

  constructor(db: Connection, notify: (channel: string, payload: string) => void) {
    this.#s = prepareAll(db, SQL);
    this.#db = db;
    this.#notify = notify;
    const both = (sql: (where: string) => string, all: string, only: string) =>
      [db.prepare(sql(all)), db.prepare(sql(only))] as const;
    this.#anyScheduleDue = both(anyScheduleDue, DUE_SCHEDULES, ONLY_SCHEDULES);
    this.#anyTaskDue = both(anyTaskDue, DUE_TASKS, ONLY_TASKS);
    this.#claimSchedules = both(claimSchedules, DUE_SCHEDULES, ONLY_SCHEDULES);
    this.#claimTasks = both(claimTasks, DUE_TASKS, ONLY_TASKS);
  }

  async insertSchedule(r: NewScheduleRow): Promise<boolean> {
    const { changes } = this.#s.insertSchedule.run(
      r.name,
      r.spec,
      r.source,
      r.enabled ? 1 : 0,
      r.createdAtMs,
      r.updatedAtMs,
      r.nextTickMs,
      r.dueAtMs,
      r.lastTickMs,
      r.lastFiredAtMs,
      r.lastInvocationId,
    );
    return Number(changes) === 1;
  }

  async getSchedule(name: string): Promise<ScheduleRow | null> {
    const row = this.#s.getSchedule.get(name) as RawSchedule | undefined;
    return row ? toScheduleRow(row) : null;
  }

  async listSchedules(filter: ScheduleFilter): Promise<ScheduleRow[]> {
    const { sql, params } = listSchedulesQuery(SQLITE_DIALECT, filter);
    return (this.#db.cached(sql).all(...(params as SQLInputValue[])) as unknown as RawSchedule[]).map(
      toScheduleRow,
    );
  }

  async updateSchedule(name: string, expectedVersion: number, update: ScheduleUpdate): Promise<boolean> {
    const sets: string[] = [];
    const params: SQLInputValue[] = [name, expectedVersion];
    for (const [key, column] of SCHEDULE_UPDATE_COLUMNS) {
      const value = update[key];
      if (value === undefined) continue;
      params.push(typeof value === 'boolean' ? (value ? 1 : 0) : value);
      sets.push(`${column} = ?${params.length}`);
    }
    // Set the given columns of schedule ?1 if its version is ?2, bumping the version.
    const sql = `UPDATE schedules SET ${[...sets, 'version = version + 1'].join(', ')} WHERE name = ?1 AND version = ?2`;
    return Number(this.#db.cached(sql).run(...params).changes) === 1;
  }

  async deleteSchedule(name: string): Promise<ScheduleRow | null> {
    const row = this.#s.deleteSchedule.get(name) as RawSchedule | undefined;
    return row ? toScheduleRow(row) : null;
  }

  async countSchedules(): Promise<number> {
    return Number((this.#s.countSchedules.get() as { n: number }).n);
  }

  async upsertTasks(tasks: readonly NewTask[], nowMs: number): Promise<(TaskRow | null)[]> {
    if (tasks.length === 0) return [];
    return transaction(this.#db, () => {
      const before = new Map<string, TaskRow>();
      const rows = this.#s.tasksById.all(JSON.stringify(tasks.map((t) => t.id))) as unknown as RawTask[];
      for (const r of rows) before.set(r.id, toTaskRow(r));
      // Statements apply rows in order, so a repeated id ends with its last values.
      let i = 0;
      for (; i + UPSERT_ROWS <= tasks.length; i += UPSERT_ROWS) {
        const values: SQLInputValue[] = [nowMs];
        for (let k = i; k < i + UPSERT_ROWS; k++) {
          const t = tasks[k]!;
          values.push(t.id, t.action, t.payload, t.dueMs);
        }
        this.#s.upsertMany.run(...values);
      }
      for (; i < tasks.length; i++) {
        const t = tasks[i]!;
        this.#s.upsertOne.run(nowMs, t.id, t.action, t.payload, t.dueMs);
      }
      return tasks.map((t) => before.get(t.id) ?? null);
    });
  }

  async getTask(id: string): Promise<TaskRow | null> {
    const row = this.#s.getTask.get(id) as RawTask | undefined;
    return row ? toTaskRow(row) : null;
  }

  async listTasks(filter: TaskFilter): Promise<TaskRow[]> {
    const list = async ({ sql, params }: ListQuery) =>
      (this.#db.cached(sql).all(...(params as SQLInputValue[])) as unknown as RawTask[]).map(toTaskRow);
    return listTasks(filter, list, SQLITE_DIALECT);
  }

  async deleteTask(id: string): Promise<TaskRow | null> {
    const row = this.#s.deleteTask.get(id) as RawTask | undefined;
    return row ? toTaskRow(row) : null;
  }

  async deleteFiredTasks(beforeMs: number, limit: number): Promise<number> {
    return Number(this.#s.deleteFired.run(beforeMs, limit).changes);
  }

  async countPendingTasks(): Promise<number> {
    return Number((this.#s.countPending.get() as { n: number }).n);
  }

  async fire(
    options: FireOptions,
    plan: (schedules: DueSchedule[], tasks: TaskRow[]) => FirePlan,
  ): Promise<FireOutcome> {
    const { only } = options;
    const v = only ? 1 : 0;
    // Parameters: ?1 horizon, ?2 limit, ?3 names or ids (the `only` variants).
    const scheduleArgs: SQLInputValue[] = [options.scheduleHorizonMs, options.limit];
    const taskArgs: SQLInputValue[] = [options.taskHorizonMs, options.limit];
    if (only) {
      scheduleArgs.push(JSON.stringify(only.schedules ?? []));
      taskArgs.push(JSON.stringify(only.tasks ?? []));
    }
    // The idle path (every second per scheduler) is two index probes, with no write lock taken.
    const due = (s: Statement, [horizon, , list]: SQLInputValue[]) =>
      (s.get(...(list === undefined ? [horizon!] : [horizon!, null, list])) as { due: number }).due === 1;
    const schedulesDue =
      (!only || (only.schedules?.length ?? 0) > 0) && due(this.#anyScheduleDue[v], scheduleArgs);
    const tasksDue = (!only || (only.tasks?.length ?? 0) > 0) && due(this.#anyTaskDue[v], taskArgs);
    if (!schedulesDue && !tasksDue) return { schedules: 0, tasks: 0 };

    // Nothing here awaits: other async users of the connection cannot run inside the transaction.
    const outcome = transaction(this.#db, () => {
      const schedules = schedulesDue
        ? (
            this.#claimSchedules[v].all(...scheduleArgs) as unknown as (RawSchedule & {
              last_active: number;
            })[]
          ).map((r): DueSchedule => ({ row: toScheduleRow(r), lastActive: r.last_active === 1 }))
        : [];
      const tasks = tasksDue
        ? (this.#claimTasks[v].all(...taskArgs) as unknown as RawTask[]).map(toTaskRow)
        : [];
      if (schedules.length === 0 && tasks.length === 0) return { schedules: 0, tasks: 0, queues: [] };
      const p = plan(schedules, tasks);
      for (const s of p.schedules) {
        this.#s.fireSchedule.run(
          s.name,
          s.nextTickMs,
          s.dueAtMs,
          s.lastTickMs,
          s.lastFiredAtMs,
          s.lastInvocationId,
        );
      }
      for (const t of p.tasks) this.#s.fireTask.run(t.id, options.nowMs, t.invocationId);
      for (const r of p.runs) this.#s.insertRun.run(...runValues(r));
      const queues = new Set<string>();
      for (const { queue, message: m } of p.messages) {
        this.#s.insertMessage.run(
          queue,
          m.body,
          m.priority,
          m.visibleAtMs,
          m.groupId,
          options.nowMs,
          m.traceContext ?? null,
        );
        queues.add(queue);
      }
      return { schedules: schedules.length, tasks: tasks.length, queues: [...queues] };
    });
    for (const queue of outcome.queues) this.#notify(MESSAGES_CHANNEL, queue);
    return { schedules: outcome.schedules, tasks: outcome.tasks };
  }

  async nextDueAt(): Promise<number | null> {
    const { s, t } = this.#s.nextDue.get() as { s: number | null; t: number | null };
    if (s === null) return t;
    return t === null ? s : Math.min(s, t);
  }
}
