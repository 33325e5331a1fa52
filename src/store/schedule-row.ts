// The scheduler's sub-store contract (`store.scheduler`): schedules, one-off tasks,
// and the one transaction that claims what is due and creates its runs. Both
// backends implement it. The store knows nothing of expressions: the engine
// computes ticks in a plan callback that runs inside the claiming transaction.

import type { Dialect, ListQuery } from './dialect.ts';
import { Filter } from './filter.ts';
import type { NewMessage } from './message-row.ts';
import { ms } from './raw.ts';
import type { RunWrite } from './run-row.ts';
import type { SqlClient } from './sql-client.ts';

export type ScheduleSource = 'config' | 'api';

/** A schedule as stored. */
export interface ScheduleRow {
  readonly name: string;
  /** JSON text of the declared schedule (expression, zone, target, policies…), opaque to the store. */
  readonly spec: string;
  readonly source: ScheduleSource;
  readonly enabled: boolean;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  /** The next tick owed, or null when none is left (the schedule ended). */
  readonly nextTickMs: number | null;
  /**
   * When a scheduler acts on the schedule next: its next tick plus any flexible-window
   * offset, or a re-check while an overlap policy holds the tick. Null when disabled or ended.
   * The due-time index is on this column.
   */
  readonly dueAtMs: number | null;
  readonly lastTickMs: number | null;
  readonly lastFiredAtMs: number | null;
  /** The invocation the last fired tick created (null for queue targets). */
  readonly lastInvocationId: string | null;
  /** Bumped by every write; updates name the version they read (compare-and-set). */
  readonly version: number;
}

export type NewScheduleRow = Omit<ScheduleRow, 'version'>;

/** The fields an update may change; the rest stay. */
export type ScheduleUpdate = Partial<
  Pick<
    ScheduleRow,
    'spec' | 'source' | 'enabled' | 'updatedAtMs' | 'nextTickMs' | 'dueAtMs' | 'lastTickMs' | 'lastFiredAtMs'
  >
>;

export interface ScheduleFilter {
  /** Cursor: names after this one, in name order. */
  readonly afterName?: string;
  readonly source?: ScheduleSource;
  readonly enabled?: boolean;
  readonly limit: number;
}

export type TaskStatus = 'pending' | 'fired';

/** A one-off task as stored. */
export interface TaskRow {
  readonly id: string;
  /** The function that runs it. */
  readonly action: string;
  /** JSON text of the payload (the function's input), or null. */
  readonly payload: string | null;
  readonly dueMs: number;
  readonly status: TaskStatus;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly firedAtMs: number | null;
  /** The invocation firing it created. */
  readonly invocationId: string | null;
}

export interface NewTask {
  readonly id: string;
  readonly action: string;
  readonly payload: string | null;
  readonly dueMs: number;
}

export interface TaskFilter {
  readonly action?: string;
  readonly status?: TaskStatus;
  /** dueMs < dueBeforeMs */
  readonly dueBeforeMs?: number;
  /** dueMs >= dueAfterMs */
  readonly dueAfterMs?: number;
  /** Cursor: tasks after this (dueMs, id), in (dueMs, id) order. */
  readonly after?: { readonly dueMs: number; readonly id: string };
  readonly limit: number;
}

/** A due schedule as the plan sees it. */
export interface DueSchedule {
  readonly row: ScheduleRow;
  /** Whether an attempt of its last invocation is still queued or running (for overlap policies). */
  readonly lastActive: boolean;
}

/** What firing changes, all in the claiming transaction. */
export interface FirePlan {
  /** New state of each claimed schedule (every claimed one must appear, or it stays due). */
  readonly schedules: readonly {
    readonly name: string;
    readonly nextTickMs: number | null;
    readonly dueAtMs: number | null;
    readonly lastTickMs: number | null;
    readonly lastFiredAtMs: number | null;
    readonly lastInvocationId: string | null;
  }[];
  /** Claimed tasks, now fired (invocationId null when nothing could be created for it). */
  readonly tasks: readonly { readonly id: string; readonly invocationId: string | null }[];
  /** Queued runs to insert: fresh rows. */
  readonly runs: readonly RunWrite[];
  /** Messages to insert; their queues' consumers are woken after commit. */
  readonly messages: readonly { readonly queue: string; readonly message: NewMessage }[];
}

export interface FireOptions {
  readonly nowMs: number;
  /** Claim schedules with dueAtMs <= this (a lookahead lets a tick's run be ready at its time). */
  readonly scheduleHorizonMs: number;
  /** Claim pending tasks with dueMs <= this. */
  readonly taskHorizonMs: number;
  /** At most this many schedules, and at most this many tasks, per call. */
  readonly limit: number;
  /**
   * Only these schedules (by name) and tasks (by id), when given; `run-due` and tests use it.
   * A list left out claims nothing of its kind: `{ tasks: [id] }` claims no schedule.
   */
  readonly only?: { readonly schedules?: readonly string[]; readonly tasks?: readonly string[] };
}

export interface FireOutcome {
  readonly schedules: number;
  readonly tasks: number;
}

export interface SchedulerStore {
  /** Inserts a schedule (version 1); false when one with that name exists. */
  insertSchedule(row: NewScheduleRow): Promise<boolean>;
  getSchedule(name: string): Promise<ScheduleRow | null>;
  listSchedules(filter: ScheduleFilter): Promise<ScheduleRow[]>;
  /** Applies `update` if the stored version is `expectedVersion`, bumping it; false otherwise (or gone). */
  updateSchedule(name: string, expectedVersion: number, update: ScheduleUpdate): Promise<boolean>;
  /** Deletes a schedule; returns the deleted row, or null if there was none. */
  deleteSchedule(name: string): Promise<ScheduleRow | null>;
  /** How many schedules are stored. */
  countSchedules(): Promise<number>;

  /**
   * Creates or overwrites tasks by id (a new due, action or payload replaces the old; the
   * task becomes pending again). Returns the rows as they were before, null for new ids.
   * An id given twice in one call: the last one wins, and both get the row from before the call.
   */
  upsertTasks(tasks: readonly NewTask[], nowMs: number): Promise<(TaskRow | null)[]>;
  /**
   * As `upsertTasks`, but through `client`, in the caller's open transaction: the tasks exist
   * (or change) if and only if it commits. In that transaction it also cancels, with
   * `cancelError`, the queued first attempt of a replaced task that fired ahead of its due time,
   * and wakes schedulers on its commit. Only where the store is the caller's database
   * (PostgreSQL); absent elsewhere.
   */
  upsertTasksThrough?(
    client: SqlClient,
    tasks: readonly NewTask[],
    nowMs: number,
    cancelError: string,
  ): Promise<(TaskRow | null)[]>;
  getTask(id: string): Promise<TaskRow | null>;
  listTasks(filter: TaskFilter): Promise<TaskRow[]>;
  /** Deletes a task; returns the deleted row, or null. */
  deleteTask(id: string): Promise<TaskRow | null>;
  /** Deletes up to `limit` fired tasks fired before `beforeMs`; returns how many. */
  deleteFiredTasks(beforeMs: number, limit: number): Promise<number>;
  countPendingTasks(): Promise<number>;

  /**
   * In one transaction: claims due schedules (dueAtMs <= scheduleHorizonMs, earliest first,
   * enabled) and pending tasks (dueMs <= taskHorizonMs, earliest first), skipping rows
   * another transaction holds; calls `plan` synchronously with them; applies the plan;
   * commits. A claimed row the plan leaves out is unchanged. If anything fails, nothing
   * is changed. Across processes, each (schedule, tick) and each task is claimed by one.
   */
  fire(
    options: FireOptions,
    plan: (schedules: DueSchedule[], tasks: TaskRow[]) => FirePlan,
  ): Promise<FireOutcome>;
  /** The earliest dueAtMs of an enabled schedule or dueMs of a pending task, or null. */
  nextDueAt(): Promise<number | null>;
}

/** Channel a scheduler listens on: schedules or tasks changed, look again. */
export const SCHEDULER_CHANNEL = 'mainspring_scheduler';

// Columns of `schedules` and `tasks` as both backends select them, and their mapping.
export const SCHEDULE_COLUMNS = `name, spec, source, enabled, created_at_ms, updated_at_ms, next_tick_ms, due_at_ms,
  last_tick_ms, last_fired_at_ms, last_invocation_id, version`;

export const TASK_COLUMNS =
  'id, action, payload, due_ms, status, created_at_ms, updated_at_ms, fired_at_ms, invocation_id';

export interface RawSchedule {
  name: string;
  spec: string;
  source: string;
  /** 0/1 on SQLite, boolean on PostgreSQL. */
  enabled: number | boolean;
  created_at_ms: number | string;
  updated_at_ms: number | string;
  next_tick_ms: number | string | null;
  due_at_ms: number | string | null;
  last_tick_ms: number | string | null;
  last_fired_at_ms: number | string | null;
  last_invocation_id: string | null;
  version: number;
}

export interface RawTask {
  id: string;
  action: string;
  payload: string | null;
  due_ms: number | string;
  status: string;
  created_at_ms: number | string;
  updated_at_ms: number | string;
  fired_at_ms: number | string | null;
  invocation_id: string | null;
}

export function toScheduleRow(r: RawSchedule): ScheduleRow {
  return {
    name: r.name,
    spec: r.spec,
    source: r.source as ScheduleSource,
    enabled: Boolean(r.enabled),
    createdAtMs: Number(r.created_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
    nextTickMs: ms(r.next_tick_ms),
    dueAtMs: ms(r.due_at_ms),
    lastTickMs: ms(r.last_tick_ms),
    lastFiredAtMs: ms(r.last_fired_at_ms),
    lastInvocationId: r.last_invocation_id,
    version: Number(r.version),
  };
}

export function toTaskRow(r: RawTask): TaskRow {
  return {
    id: r.id,
    action: r.action,
    payload: r.payload,
    dueMs: Number(r.due_ms),
    status: r.status as TaskStatus,
    createdAtMs: Number(r.created_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
    firedAtMs: ms(r.fired_at_ms),
    invocationId: r.invocation_id,
  };
}

/** ScheduleUpdate's fields and their columns, in the order updates set them. */
export const SCHEDULE_UPDATE_COLUMNS: readonly (readonly [keyof ScheduleUpdate, string])[] = [
  ['spec', 'spec'],
  ['source', 'source'],
  ['enabled', 'enabled'],
  ['updatedAtMs', 'updated_at_ms'],
  ['nextTickMs', 'next_tick_ms'],
  ['dueAtMs', 'due_at_ms'],
  ['lastTickMs', 'last_tick_ms'],
  ['lastFiredAtMs', 'last_fired_at_ms'],
];

/** The tasks of one upsert call, one per id: the last occurrence wins. */
export function lastOfEachId(tasks: readonly NewTask[]): NewTask[] {
  const byId = new Map<string, NewTask>();
  for (const t of tasks) {
    byId.delete(t.id);
    byId.set(t.id, t);
  }
  return byId.size === tasks.length ? (tasks as NewTask[]) : [...byId.values()];
}

/**
 * Lists of pending and of fired tasks, each in (dueMs, id) order, merged into the first `limit`:
 * the tasks index leads with status, so a list of both statuses walks it twice.
 */
export function mergeByDue(a: readonly TaskRow[], b: readonly TaskRow[], limit: number): TaskRow[] {
  const out: TaskRow[] = [];
  let i = 0;
  let j = 0;
  while (out.length < limit && (i < a.length || j < b.length)) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && compareDue(x, y) < 0)) {
      out.push(x!);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}

// Ids compare byte-wise (UTF-8), as both stores order them.
function compareDue(x: TaskRow, y: TaskRow): number {
  return x.dueMs - y.dueMs || Buffer.compare(Buffer.from(x.id), Buffer.from(y.id));
}

/** Schedules matching `filter`, in name order. */
export function listSchedulesQuery(d: Dialect, filter: ScheduleFilter): ListQuery {
  const f = new Filter<unknown>(d.ref);
  f.add('name > ?', filter.afterName);
  f.add('source = ?', filter.source);
  f.add('enabled = ?', filter.enabled === undefined ? undefined : d.bool(filter.enabled));
  const { where, limit } = f.end(filter.limit);
  return {
    sql: `SELECT ${SCHEDULE_COLUMNS} FROM schedules ${where} ORDER BY name LIMIT ${limit}`,
    params: f.params,
  };
}

/** Tasks of one status matching `filter`, in (due, id) order (see listTasks for both statuses). */
export function listTasksQuery(d: Dialect, filter: TaskFilter & { readonly status: TaskStatus }): ListQuery {
  const f = new Filter<unknown>(d.ref);
  f.add('status = ?', filter.status);
  f.add('action = ?', filter.action);
  f.add('due_ms < ?', filter.dueBeforeMs);
  f.add('due_ms >= ?', filter.dueAfterMs);
  f.add(`(due_ms, id) > (?${d.cast('bigint')}, ?${d.cast('text')})`, filter.after?.dueMs, filter.after?.id);
  const { where, limit } = f.end(filter.limit);
  return {
    sql: `SELECT ${TASK_COLUMNS} FROM tasks ${where} ORDER BY due_ms, id LIMIT ${limit}`,
    params: f.params,
  };
}

/**
 * Tasks matching `filter` in (due, id) order: one query per status when none is given, each
 * on its (status, due) index, merged.
 */
export async function listTasks(
  filter: TaskFilter,
  list: (query: ListQuery) => Promise<TaskRow[]>,
  d: Dialect,
): Promise<TaskRow[]> {
  if (filter.status !== undefined) return list(listTasksQuery(d, { ...filter, status: filter.status }));
  const [pending, fired] = await Promise.all([
    list(listTasksQuery(d, { ...filter, status: 'pending' })),
    list(listTasksQuery(d, { ...filter, status: 'fired' })),
  ]);
  return mergeByDue(pending, fired, filter.limit);
}
