// Schedules and one-off tasks on PostgreSQL, shared by any number of schedulers. fire claims
// with FOR UPDATE SKIP LOCKED in one transaction: a plan that moves a schedule's due time
// makes it un-due for every other scheduler, which re-checks the row under READ COMMITTED.

import type pg from 'pg';
import { type ListQuery, PG_DIALECT } from '../dialect.ts';
import {
  type DueSchedule,
  type FireOptions,
  type FireOutcome,
  type FirePlan,
  lastOfEachId,
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
import type { NewMessage, SqlClient } from '../types.ts';
import { readRow, readRows, withClient } from './connect.ts';
import { insertMessages } from './queues.ts';
import { INSERT_RUNS, runParams } from './runs.ts';

// Insert schedule $1 (spec $2, source $3, enabled $4, created $5, updated $6, next tick $7, due $8,
// last tick $9, last fired $10, last invocation $11) at version 1, unless the name is taken.
const INSERT_SCHEDULE = `
  INSERT INTO schedules (name, spec, source, enabled, created_at_ms, updated_at_ms, next_tick_ms, due_at_ms,
                         last_tick_ms, last_fired_at_ms, last_invocation_id, version)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1)
  ON CONFLICT (name) DO NOTHING`;

// One schedule by name $1.
const GET_SCHEDULE = `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE name = $1`;

// Delete schedule $1; returns it.
const DELETE_SCHEDULE = `DELETE FROM schedules WHERE name = $1 RETURNING ${SCHEDULE_COLUMNS}`;

const COUNT_SCHEDULES = 'SELECT count(*)::int AS n FROM schedules';

// What an upsert sets on a stored task: the new values, pending again, its created_at_ms kept.
const TASK_REPLACED = `ON CONFLICT (id) DO UPDATE
       SET action = excluded.action, payload = excluded.payload, due_ms = excluded.due_ms, status = 'pending',
           updated_at_ms = excluded.updated_at_ms, fired_at_ms = NULL, invocation_id = NULL`;

// Upsert tasks (ids $1, actions $2, payloads $3, dues $4; one entry per id) at $5 (now), returning
// the rows as they were. A stored task takes the new values and is pending again; it keeps its
// created_at_ms. `before` reads the statement's snapshot (no lock: the parts of one statement run
// in no set order), so a concurrent upsert of the same id may show as the older row.
const UPSERT_TASKS = `
  WITH before AS (SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ANY($1::text[])),
  upsert AS (
    INSERT INTO tasks AS t (id, action, payload, due_ms, status, created_at_ms, updated_at_ms)
    SELECT n.id, n.action, n.payload, n.due_ms, 'pending', $5, $5
      FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS n(id, action, payload, due_ms)
    ${TASK_REPLACED})
  SELECT * FROM before`;

// Through the caller's client, in its open transaction (issue 25): as UPSERT_TASKS, with the
// tables of schema `s` (the caller's search_path is its own) and tasks $1 as one JSON array of
// { id, action, payload, due_ms } (one text parameter: any driver passes it alike; postgres.js would
// encode again a string it is told is jsonb), at $2 (now).
// It also does, in the same transaction, what Tasks does after an upsert through the pool:
// cancels with error $3 the queued first attempt of a task that fired ahead of its due time,
// and wakes schedulers on channel $4 (delivered on commit). Returns the rows as they were, or
// one row of NULLs when there were none (the outer side of the join makes the NOTIFY run once).
const upsertTasksThrough = (s: string) => `
  WITH n AS MATERIALIZED (
    SELECT e ->> 'id' AS id, e ->> 'action' AS action, e ->> 'payload' AS payload, (e ->> 'due_ms')::bigint AS due_ms
      FROM jsonb_array_elements($1::text::jsonb) AS e),
  before AS (SELECT ${TASK_COLUMNS} FROM ${s}.tasks WHERE id = ANY(ARRAY(SELECT id FROM n))),
  upsert AS (
    INSERT INTO ${s}.tasks AS t (id, action, payload, due_ms, status, created_at_ms, updated_at_ms)
    SELECT n.id, n.action, n.payload, n.due_ms, 'pending', $2::bigint, $2::bigint FROM n
    ${TASK_REPLACED}),
  cancelled AS (
    UPDATE ${s}.runs r SET status = 'cancelled', finished_at_ms = $2::bigint, error = $3::text
      FROM before b
     WHERE b.status = 'fired' AND b.invocation_id IS NOT NULL AND b.due_ms > $2::bigint
       AND r.id = b.invocation_id || '-1' AND r.status = 'queued')
  SELECT before.* FROM (SELECT pg_notify($4::text, 'changed')) AS wake LEFT JOIN before ON true`;

// One task by id $1.
const GET_TASK = `SELECT ${TASK_COLUMNS} FROM tasks WHERE id = $1`;

// Delete task $1; returns it.
const DELETE_TASK = `DELETE FROM tasks WHERE id = $1 RETURNING ${TASK_COLUMNS}`;

// Delete up to $2 tasks fired before $1, the earliest due first, each a primary key lookup. The CTE
// runs once (a subquery may be re-scanned, and locking would then skip the rows already deleted
// and take the next ones).
// The outer conditions re-check a row upserted back to pending meanwhile; rows another
// transaction holds wait for the next call.
const DELETE_FIRED = `
  WITH doomed AS (
    SELECT id FROM tasks WHERE status = 'fired' AND fired_at_ms < $1
     ORDER BY due_ms, id LIMIT $2 FOR UPDATE SKIP LOCKED)
  DELETE FROM tasks WHERE id = ANY(ARRAY(SELECT id FROM doomed)) AND status = 'fired' AND fired_at_ms < $1`;

const COUNT_PENDING = `SELECT count(*)::int AS n FROM tasks WHERE status = 'pending'`;

// The earliest due time of an enabled schedule and of a pending task (each an index lookup).
const NEXT_DUE = `
  SELECT (SELECT due_at_ms FROM schedules WHERE due_at_ms IS NOT NULL AND enabled ORDER BY due_at_ms LIMIT 1) AS s,
         (SELECT due_ms FROM tasks WHERE status = 'pending' ORDER BY due_ms LIMIT 1) AS t`;

// Whether a schedule is due by $1 (of names $3, when not null) and a task by $2 (of ids $4,
// when not null); $5, $6: whether to look for each at all.
const ANY_DUE = `
  SELECT $5::boolean AND EXISTS (SELECT 1 FROM schedules WHERE enabled AND due_at_ms <= $1
                                    AND ($3::text[] IS NULL OR name = ANY($3))) AS schedules,
         $6::boolean AND EXISTS (SELECT 1 FROM tasks WHERE status = 'pending' AND due_ms <= $2
                                    AND ($4::text[] IS NULL OR id = ANY($4))) AS tasks`;

// Claim up to $2 enabled schedules due by $1 (of names $3, when not null), the earliest first,
// skipping rows another scheduler holds; each with whether an attempt of its last invocation is
// queued or running (attempt ids `<invocation>-<n>` are a primary key range of runs).
const CLAIM_SCHEDULES = `
  SELECT ${SCHEDULE_COLUMNS},
         EXISTS (SELECT 1 FROM runs r
                  WHERE r.id >= s.last_invocation_id || '-' AND r.id < s.last_invocation_id || '.'
                    AND r.invocation_id = s.last_invocation_id AND r.status IN ('queued', 'running')) AS last_active
    FROM schedules s
   WHERE enabled AND due_at_ms <= $1 AND ($3::text[] IS NULL OR name = ANY($3))
   ORDER BY due_at_ms, name LIMIT $2
     FOR UPDATE OF s SKIP LOCKED`;

// Claim up to $2 pending tasks due by $1 (of ids $3, when not null), the earliest first, skipping
// rows another scheduler holds.
const CLAIM_TASKS = `
  SELECT ${TASK_COLUMNS} FROM tasks
   WHERE status = 'pending' AND due_ms <= $1 AND ($3::text[] IS NULL OR id = ANY($3))
   ORDER BY due_ms, id LIMIT $2
     FOR UPDATE SKIP LOCKED`;

// Set fired schedules' (names $1) next ticks $2, dues $3, last ticks $4, last fired $5, last invocations $6.
const FIRE_SCHEDULES = `
  UPDATE schedules s
     SET next_tick_ms = u.next_tick_ms, due_at_ms = u.due_at_ms, last_tick_ms = u.last_tick_ms,
         last_fired_at_ms = u.last_fired_at_ms, last_invocation_id = u.last_invocation_id, version = s.version + 1
    FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[])
         AS u(name, next_tick_ms, due_at_ms, last_tick_ms, last_fired_at_ms, last_invocation_id)
   WHERE s.name = u.name`;

// Mark tasks (ids $1) fired at $3 with invocations $2.
const FIRE_TASKS = `
  UPDATE tasks t SET status = 'fired', fired_at_ms = $3, invocation_id = u.invocation_id
    FROM unnest($1::text[], $2::text[]) AS u(id, invocation_id)
   WHERE t.id = u.id`;

export class PgSchedulerStore implements SchedulerStore {
  readonly #db: pg.Pool;
  readonly #messagesChannel: string;
  readonly #schedulerChannel: string;
  readonly #upsertTasksThrough: string;

  /** Channels as named in this store's schema; `schema` qualifies what runs on a caller's client. */
  constructor(db: pg.Pool, channels: { messages: string; scheduler: string }, schema: string) {
    this.#db = db;
    this.#messagesChannel = channels.messages;
    this.#schedulerChannel = channels.scheduler;
    this.#upsertTasksThrough = upsertTasksThrough(`"${schema}"`);
  }

  async insertSchedule(r: NewScheduleRow): Promise<boolean> {
    const { rowCount } = await this.#db.query(INSERT_SCHEDULE, [
      r.name,
      r.spec,
      r.source,
      r.enabled,
      r.createdAtMs,
      r.updatedAtMs,
      r.nextTickMs,
      r.dueAtMs,
      r.lastTickMs,
      r.lastFiredAtMs,
      r.lastInvocationId,
    ]);
    return rowCount === 1;
  }

  async getSchedule(name: string): Promise<ScheduleRow | null> {
    return readRow(this.#db, GET_SCHEDULE, [name], toScheduleRow);
  }

  async listSchedules(filter: ScheduleFilter): Promise<ScheduleRow[]> {
    const { sql, params } = listSchedulesQuery(PG_DIALECT, filter);
    return readRows(this.#db, sql, params, toScheduleRow);
  }

  async updateSchedule(name: string, expectedVersion: number, update: ScheduleUpdate): Promise<boolean> {
    const sets: string[] = [];
    const params: unknown[] = [name, expectedVersion];
    for (const [key, column] of SCHEDULE_UPDATE_COLUMNS) {
      const value = update[key];
      if (value === undefined) continue;
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    }
    // Set the given columns of schedule $1 if its version is $2, bumping the version.
    const sql = `UPDATE schedules SET ${[...sets, 'version = version + 1'].join(', ')} WHERE name = $1 AND version = $2`;
    const { rowCount } = await this.#db.query(sql, params);
    return rowCount === 1;
  }

  async deleteSchedule(name: string): Promise<ScheduleRow | null> {
    return readRow(this.#db, DELETE_SCHEDULE, [name], toScheduleRow);
  }

  async countSchedules(): Promise<number> {
    const { rows } = await this.#db.query<{ n: number }>(COUNT_SCHEDULES);
    return rows[0]!.n;
  }

  async upsertTasks(tasks: readonly NewTask[], nowMs: number): Promise<(TaskRow | null)[]> {
    if (tasks.length === 0) return [];
    // An upsert may not touch a row twice in one statement: the last of a repeated id wins.
    const ts = lastOfEachId(tasks);
    const { rows } = await this.#db.query<RawTask>(UPSERT_TASKS, [
      ts.map((t) => t.id),
      ts.map((t) => t.action),
      ts.map((t) => t.payload),
      ts.map((t) => t.dueMs),
      nowMs,
    ]);
    const before = new Map(rows.map((r) => [r.id, toTaskRow(r)]));
    return tasks.map((t) => before.get(t.id) ?? null);
  }

  async upsertTasksThrough(
    client: SqlClient,
    tasks: readonly NewTask[],
    nowMs: number,
    cancelError: string,
  ): Promise<(TaskRow | null)[]> {
    if (tasks.length === 0) return [];
    const ts = lastOfEachId(tasks);
    const json = JSON.stringify(
      ts.map((t) => ({ id: t.id, action: t.action, payload: t.payload, due_ms: t.dueMs })),
    );
    const { rows } = await client.query(this.#upsertTasksThrough, [
      json,
      nowMs,
      cancelError,
      this.#schedulerChannel,
    ]);
    const before = new Map((rows as RawTask[]).filter((r) => r?.id != null).map((r) => [r.id, toTaskRow(r)]));
    return tasks.map((t) => before.get(t.id) ?? null);
  }

  async getTask(id: string): Promise<TaskRow | null> {
    return readRow(this.#db, GET_TASK, [id], toTaskRow);
  }

  async listTasks(filter: TaskFilter): Promise<TaskRow[]> {
    const list = async ({ sql, params }: ListQuery) =>
      (await this.#db.query<RawTask>(sql, params)).rows.map(toTaskRow);
    return listTasks(filter, list, PG_DIALECT);
  }

  async deleteTask(id: string): Promise<TaskRow | null> {
    return readRow(this.#db, DELETE_TASK, [id], toTaskRow);
  }

  async deleteFiredTasks(beforeMs: number, limit: number): Promise<number> {
    const { rowCount } = await this.#db.query(DELETE_FIRED, [beforeMs, limit]);
    return rowCount ?? 0;
  }

  async countPendingTasks(): Promise<number> {
    const { rows } = await this.#db.query<{ n: number }>(COUNT_PENDING);
    return rows[0]!.n;
  }

  async fire(
    options: FireOptions,
    plan: (schedules: DueSchedule[], tasks: TaskRow[]) => FirePlan,
  ): Promise<FireOutcome> {
    const { only } = options;
    const names = only ? (only.schedules ?? []) : null;
    const ids = only ? (only.tasks ?? []) : null;
    // The idle path (every second per scheduler) is this one round trip, outside any transaction.
    const { rows: due } = await this.#db.query<{ schedules: boolean; tasks: boolean }>(ANY_DUE, [
      options.scheduleHorizonMs,
      options.taskHorizonMs,
      names,
      ids,
      names === null || names.length > 0,
      ids === null || ids.length > 0,
    ]);
    if (!due[0]!.schedules && !due[0]!.tasks) return { schedules: 0, tasks: 0 };

    return withClient(this.#db, async (client, discard) => {
      await client.query('BEGIN');
      try {
        const schedules = due[0]!.schedules
          ? (
              await client.query<RawSchedule & { last_active: boolean }>(CLAIM_SCHEDULES, [
                options.scheduleHorizonMs,
                options.limit,
                names,
              ])
            ).rows.map((r): DueSchedule => ({ row: toScheduleRow(r), lastActive: r.last_active }))
          : [];
        const tasks = due[0]!.tasks
          ? (await client.query<RawTask>(CLAIM_TASKS, [options.taskHorizonMs, options.limit, ids])).rows.map(
              toTaskRow,
            )
          : [];
        // Another scheduler took them since the check.
        if (schedules.length === 0 && tasks.length === 0) {
          await client.query('ROLLBACK');
          return { schedules: 0, tasks: 0 };
        }
        await this.#apply(client, plan(schedules, tasks), options.nowMs);
        await client.query('COMMIT');
        return { schedules: schedules.length, tasks: tasks.length };
      } catch (err) {
        // A client whose rollback failed is in an unknown state: the pool discards it.
        await client.query('ROLLBACK').catch(discard);
        throw err;
      }
    });
  }

  /** Applies a plan inside fire's transaction; message inserts notify their queues on commit. */
  async #apply(client: pg.PoolClient, p: FirePlan, nowMs: number): Promise<void> {
    if (p.schedules.length > 0) {
      await client.query(FIRE_SCHEDULES, [
        p.schedules.map((s) => s.name),
        p.schedules.map((s) => s.nextTickMs),
        p.schedules.map((s) => s.dueAtMs),
        p.schedules.map((s) => s.lastTickMs),
        p.schedules.map((s) => s.lastFiredAtMs),
        p.schedules.map((s) => s.lastInvocationId),
      ]);
    }
    if (p.tasks.length > 0) {
      await client.query(FIRE_TASKS, [p.tasks.map((t) => t.id), p.tasks.map((t) => t.invocationId), nowMs]);
    }
    if (p.runs.length > 0) await client.query(INSERT_RUNS, runParams(p.runs));
    // One insert per queue, in order of first appearance; within a queue ids ascend in array order.
    const byQueue = new Map<string, NewMessage[]>();
    for (const { queue, message } of p.messages) {
      const list = byQueue.get(queue);
      if (list) list.push(message);
      else byQueue.set(queue, [message]);
    }
    for (const [queue, messages] of byQueue) {
      await insertMessages(client, this.#messagesChannel, queue, messages, nowMs);
    }
  }

  async nextDueAt(): Promise<number | null> {
    const { rows } = await this.#db.query<{ s: number | null; t: number | null }>(NEXT_DUE);
    const { s, t } = rows[0]!;
    if (s === null) return t;
    return t === null ? s : Math.min(s, t);
  }
}
