// Schedules as users manage them (client, API, CLI): create, read, change,
// enable and disable, see what fires next; and the reconciliation of the ones
// the config declares. Every write is a compare-and-set on the row's version, so
// it never undoes a tick a scheduler fired meanwhile.

import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { MainspringError } from '../core/errors.ts';
import { attemptRunId } from '../functions/ids.ts';
import type { Queues } from '../queue/queues.ts';
import type { FunctionDefinition } from '../runtime/function.ts';
import type { Runs } from '../runtime/runs.ts';
import type { RunStatus } from '../store/run-row.ts';
import { SCHEDULER_CHANNEL, type ScheduleRow, type ScheduleSource } from '../store/schedule-row.ts';
import type { Store } from '../store/types.ts';
import { hostAllowed, notAllowed } from './http-target.ts';
import {
  type CreateScheduleInput,
  checkScheduleName,
  type MisfirePolicy,
  type OverlapPolicy,
  resolveSpec,
  type ScheduleSpec,
  type ScheduleTarget,
  scheduleInvalid,
  scheduleOf,
  specToInput,
  type UpdateScheduleInput,
} from './spec.ts';
import { dueAt, tickAfter } from './ticks.ts';

/** A schedule as the client, API and CLI return it. */
export interface ScheduleInfo {
  readonly name: string;
  readonly expression: string;
  readonly timezone: string;
  /** In plain English, e.g. "At 02:00 (UTC)". */
  readonly summary: string;
  readonly start: string | null;
  readonly end: string | null;
  readonly enabled: boolean;
  readonly target: ScheduleTarget;
  readonly payload: unknown;
  readonly retry: { readonly maxAttempts: number | null; readonly maxEventAgeMs: number | null };
  readonly flexibleWindowMs: number;
  readonly misfire: MisfirePolicy;
  readonly misfireLimit: number;
  readonly overlap: OverlapPolicy;
  readonly description: string | null;
  /** `config`: declared in the config (change it there); `api`: created at run time. */
  readonly source: ScheduleSource;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly state: {
    /** The next tick, or null when disabled or ended. */
    readonly nextTick: string | null;
    /** When that tick fires (later than the tick within a flexible window). */
    readonly nextFireAt: string | null;
    readonly lastTick: string | null;
    readonly lastFiredAt: string | null;
    /** The last fired tick's run: its latest attempt. */
    readonly lastRun: { readonly id: string; readonly status: RunStatus } | null;
    /** No tick is left (an end date passed, an at() fired). */
    readonly ended: boolean;
  };
}

export interface ListSchedulesOptions {
  readonly source?: ScheduleSource;
  readonly enabled?: boolean;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
  /** Default 50, at most 500. */
  readonly limit?: number;
}

/** A schedule declared in the config (a function's `schedule()` trigger). */
export interface DeclaredSchedule {
  readonly name: string;
  readonly input: Omit<CreateScheduleInput, 'name'>;
}

export interface SchedulesDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly queues: Queues;
  readonly runs: Runs;
  readonly functions: ReadonlyMap<string, FunctionDefinition>;
  readonly httpAllowList: readonly string[];
  /** The app's workflow names (workflow targets). */
  readonly workflows: ReadonlySet<string>;
}

const CAS_ATTEMPTS = 10;

/**
 * Schedules: persistent, named, firing exactly once per tick on any number of schedulers.
 *
 * @example
 * ```ts
 * await ms.schedules.create({
 *   name: 'nightly-report',
 *   expression: 'cron(0 2 * * ? *)',
 *   timezone: 'Europe/Berlin',
 *   target: { kind: 'function', function: 'build-report' },
 *   payload: { format: 'pdf' },
 * });
 * await ms.schedules.next('nightly-report', 3); // the next three ticks
 * await ms.schedules.disable('nightly-report');
 * ```
 */
export class Schedules {
  readonly #d: SchedulesDeps;

  constructor(deps: SchedulesDeps) {
    this.#d = deps;
  }

  async create(input: CreateScheduleInput): Promise<ScheduleInfo> {
    const name = checkScheduleName((input as { name?: unknown } | null)?.name);
    const now = this.#d.clock.now();
    const { spec, schedule } = resolveSpec(input, now);
    await this.#checkTarget(spec);
    const enabled = input.enabled ?? true;
    const nextTickMs = tickAfter(schedule, now);
    if (nextTickMs === null) {
      throw scheduleInvalid(
        'expression',
        `"${spec.expression}" has no tick after ${new Date(now).toISOString()}${spec.endMs !== null ? ' before its end' : ''}; it would never fire`,
      );
    }
    const row = {
      name,
      spec: JSON.stringify(spec),
      source: 'api' as const,
      enabled,
      createdAtMs: now,
      updatedAtMs: now,
      nextTickMs: enabled ? nextTickMs : null,
      dueAtMs: enabled ? dueAt(spec, nextTickMs, Math.random) : null,
      lastTickMs: null,
      lastFiredAtMs: null,
      lastInvocationId: null,
    };
    if (!(await this.#d.store.scheduler.insertSchedule(row))) {
      throw new MainspringError(
        'E_SCHEDULE_EXISTS',
        `a schedule named "${name}" exists; update it, or delete it first`,
        { details: { field: 'name', value: name } },
      );
    }
    await this.#changed();
    return this.#info({ ...row, version: 1 });
  }

  async get(name: string): Promise<ScheduleInfo> {
    return this.#info(await this.#row(name));
  }

  async list(
    options: ListSchedulesOptions = {},
  ): Promise<{ schedules: ScheduleInfo[]; nextCursor: string | null }> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
      throw scheduleInvalid('limit', 'use a whole number from 1 to 500', limit);
    }
    const rows = await this.#d.store.scheduler.listSchedules({
      limit: limit + 1,
      ...(options.cursor !== undefined ? { afterName: options.cursor } : {}),
      ...(options.source !== undefined ? { source: options.source } : {}),
      ...(options.enabled !== undefined ? { enabled: options.enabled } : {}),
    });
    const page = rows.slice(0, limit);
    return {
      schedules: await Promise.all(page.map((r) => this.#info(r))),
      nextCursor: rows.length > limit ? page[page.length - 1]!.name : null,
    };
  }

  /**
   * Changes the given fields; the rest stay. A change to when it fires (expression,
   * zone, start, end, window) takes effect from now; ticks already fired stay fired.
   */
  async update(name: string, patch: UpdateScheduleInput): Promise<ScheduleInfo> {
    if (typeof patch !== 'object' || patch === null) throw scheduleInvalid('schedule', 'must be an object');
    if ('name' in patch && (patch as { name?: unknown }).name !== name) {
      throw scheduleInvalid('name', 'cannot be changed; create a new schedule and delete this one');
    }
    return this.#write(name, 'update', (row, spec, now) => {
      const merged = { ...specToInput(spec), ...stripUndefined(patch) } as CreateScheduleInput;
      const resolved = resolveSpec(merged, spec.createdAtMs);
      const after = Math.max(now, row.lastTickMs ?? Number.NEGATIVE_INFINITY);
      if (resolved.spec.expression !== spec.expression && tickAfter(resolved.schedule, after) === null) {
        throw scheduleInvalid(
          'expression',
          `"${resolved.spec.expression}" has no tick after ${new Date(after).toISOString()}; it would never fire`,
        );
      }
      return { spec: resolved, enabled: patch.enabled ?? row.enabled, retime: true, now };
    });
  }

  async enable(name: string): Promise<ScheduleInfo> {
    return this.#write(name, 'enable', (_row, spec, now) => ({
      spec: { spec, schedule: scheduleOf(spec) },
      enabled: true,
      retime: false,
      now,
    }));
  }

  async disable(name: string): Promise<ScheduleInfo> {
    return this.#write(name, 'disable', (_row, spec, now) => ({
      spec: { spec, schedule: scheduleOf(spec) },
      enabled: false,
      retime: false,
      now,
    }));
  }

  /** Deletes the schedule; a tick already taken but not yet started is cancelled. */
  async delete(name: string): Promise<ScheduleInfo> {
    const row = await this.#row(name);
    if (row.source === 'config') throw readOnly(name, 'delete');
    const deleted = await this.#d.store.scheduler.deleteSchedule(name);
    if (!deleted) throw notFound(name);
    await this.#cancelEarly(deleted);
    await this.#changed();
    return this.#info(deleted);
  }

  /** The next `count` ticks (1–1000) from now, whether or not the schedule is enabled. */
  async next(name: string, count = 5): Promise<Date[]> {
    const row = await this.#row(name);
    const spec = JSON.parse(row.spec) as ScheduleSpec;
    if (!Number.isInteger(count) || count < 1 || count > 1000) {
      throw scheduleInvalid('count', 'use a whole number from 1 to 1000', count);
    }
    const after = Math.max(this.#d.clock.now(), row.lastTickMs ?? Number.NEGATIVE_INFINITY);
    return scheduleOf(spec).next(new Date(after), count);
  }

  /**
   * Makes the stored config-declared schedules match `declared`: adds new ones, updates
   * changed ones (keeping their state), removes ones no longer declared. Runs at scheduler
   * start; any number of processes may run it at once.
   */
  async reconcile(declared: readonly DeclaredSchedule[], log?: Logger): Promise<void> {
    const names = new Set<string>();
    for (const d of declared) {
      names.add(d.name);
      await this.#reconcileOne(d, log);
    }
    let afterName: string | undefined;
    for (;;) {
      const page = await this.#d.store.scheduler.listSchedules({
        source: 'config',
        limit: 500,
        ...(afterName !== undefined ? { afterName } : {}),
      });
      for (const row of page) {
        if (names.has(row.name)) continue;
        const gone = await this.#d.store.scheduler.deleteSchedule(row.name);
        if (gone) {
          await this.#cancelEarly(gone);
          log?.info({ schedule: row.name }, 'schedule no longer in the config; removed');
        }
      }
      if (page.length < 500) break;
      afterName = page[page.length - 1]!.name;
    }
    await this.#changed();
  }

  async #reconcileOne(d: DeclaredSchedule, log?: Logger): Promise<void> {
    const { store, clock } = this.#d;
    for (let i = 0; i < CAS_ATTEMPTS; i++) {
      const now = clock.now();
      const row = await store.scheduler.getSchedule(d.name);
      const { spec, schedule } = resolveSpec(
        d.input,
        row ? (JSON.parse(row.spec) as ScheduleSpec).createdAtMs : now,
      );
      const declaredEnabled = d.input.enabled ?? true;
      // The config's own enabled value is kept with the spec, to tell its changes from run-time ones.
      const specJson = JSON.stringify({ ...spec, declaredEnabled });
      if (row === null) {
        const next = declaredEnabled ? tickAfter(schedule, now) : null;
        const inserted = await store.scheduler.insertSchedule({
          name: d.name,
          spec: specJson,
          source: 'config',
          enabled: declaredEnabled,
          createdAtMs: now,
          updatedAtMs: now,
          nextTickMs: next,
          dueAtMs: dueAt(spec, next, Math.random),
          lastTickMs: null,
          lastFiredAtMs: null,
          lastInvocationId: null,
        });
        if (inserted) {
          log?.info({ schedule: d.name }, 'schedule from the config added');
          return;
        }
        continue; // another process added it first: compare with theirs
      }
      // The enabled flag is run-time state (enable/disable), unless the config's own value changed.
      const stored = JSON.parse(row.spec) as ScheduleSpec & { declaredEnabled?: boolean };
      if (row.spec === specJson && row.source === 'config') return;
      const enabled =
        stored.declaredEnabled === declaredEnabled && row.source === 'config' ? row.enabled : declaredEnabled;
      const timing = retimed(stored, spec, row, enabled, schedule, now);
      const ok = await store.scheduler.updateSchedule(d.name, row.version, {
        spec: specJson,
        source: 'config',
        enabled,
        updatedAtMs: now,
        ...timing,
      });
      if (ok) {
        if (row.source === 'api')
          log?.warn(
            { schedule: d.name },
            'a schedule created through the API is now declared in the config; the config wins',
          );
        else log?.info({ schedule: d.name }, 'schedule from the config changed');
        return;
      }
    }
    throw new MainspringError(
      'E_CONFLICT',
      `schedule "${d.name}" kept changing while being reconciled; try again`,
    );
  }

  async #write(
    name: string,
    action: 'update' | 'enable' | 'disable',
    change: (
      row: ScheduleRow,
      spec: ScheduleSpec,
      now: number,
    ) => {
      spec: { spec: ScheduleSpec; schedule: ReturnType<typeof scheduleOf> };
      enabled: boolean;
      retime: boolean;
      now: number;
    },
  ): Promise<ScheduleInfo> {
    for (let i = 0; i < CAS_ATTEMPTS; i++) {
      const row = await this.#row(name);
      if (row.source === 'config' && action === 'update') throw readOnly(name, 'update');
      const stored = JSON.parse(row.spec) as ScheduleSpec;
      const now = this.#d.clock.now();
      const next = change(row, stored, now);
      await this.#checkTarget(next.spec.spec);
      const specJson = row.source === 'config' ? row.spec : JSON.stringify(next.spec.spec);
      const timing =
        next.retime || next.enabled !== row.enabled
          ? retimed(stored, next.spec.spec, row, next.enabled, next.spec.schedule, now)
          : {};
      const update = { spec: specJson, enabled: next.enabled, updatedAtMs: now, ...timing };
      if (await this.#d.store.scheduler.updateSchedule(name, row.version, update)) {
        if ('dueAtMs' in timing) await this.#cancelEarly(row);
        await this.#changed();
        return this.#info({ ...row, ...update, version: row.version + 1 });
      }
    }
    throw new MainspringError(
      'E_CONFLICT',
      `schedule "${name}" kept changing while being updated; try again`,
    );
  }

  /** A tick taken ahead of its time (within the lookahead) whose run has not started: cancelled. */
  async #cancelEarly(row: ScheduleRow): Promise<void> {
    if (row.lastInvocationId === null || row.lastTickMs === null || row.lastTickMs <= this.#d.clock.now())
      return;
    const id = attemptRunId(row.lastInvocationId, 1);
    const run = await this.#d.store.runs.get(id);
    if (run?.status === 'queued') await this.#d.runs.cancel(id).catch(() => {});
  }

  async #checkTarget(spec: ScheduleSpec): Promise<void> {
    const t = spec.target;
    if (t.kind === 'function' && !this.#d.functions.has(t.function)) {
      const known = [...this.#d.functions.keys()].filter((f) => !f.startsWith('mainspring:'));
      throw scheduleInvalid(
        'target.function',
        `no function named "${t.function}"; ${known.length > 0 ? `defined: ${known.join(', ')}` : 'the app defines none'}`,
        t.function,
      );
    }
    if (t.kind === 'queue') {
      const settings = await this.#d.queues.settings(t.queue).catch(() => null);
      if (settings === null) {
        throw scheduleInvalid(
          'target.queue',
          `no queue named "${t.queue}"; define it with defineQueue`,
          t.queue,
        );
      }
      const bytes = Buffer.byteLength(JSON.stringify(spec.payload));
      if (bytes > settings.maxBodyBytes) {
        throw scheduleInvalid(
          'payload',
          `is ${bytes} bytes; queue "${t.queue}" takes at most ${settings.maxBodyBytes}`,
        );
      }
    }
    if (t.kind === 'workflow' && !this.#d.workflows.has(t.workflow)) {
      const known = [...this.#d.workflows];
      throw scheduleInvalid(
        'target.workflow',
        `no workflow named "${t.workflow}"; ${known.length > 0 ? `defined: ${known.join(', ')}` : 'the app defines none'}`,
        t.workflow,
      );
    }
    if (t.kind === 'http' && !hostAllowed(new URL(t.url), this.#d.httpAllowList)) {
      throw notAllowed(new URL(t.url), 'target.url');
    }
  }

  async #row(name: string): Promise<ScheduleRow> {
    if (typeof name !== 'string' || name === '') throw notFound(String(name));
    const row = await this.#d.store.scheduler.getSchedule(name);
    if (!row) throw notFound(name);
    return row;
  }

  async #changed(): Promise<void> {
    await this.#d.store.notify(SCHEDULER_CHANNEL, 'changed').catch(() => {});
  }

  async #info(row: ScheduleRow): Promise<ScheduleInfo> {
    const spec = JSON.parse(row.spec) as ScheduleSpec;
    const input = specToInput(spec);
    let summary: string;
    try {
      summary = scheduleOf(spec).describe();
    } catch {
      summary = spec.expression;
    }
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      name: row.name,
      expression: spec.expression,
      timezone: spec.timezone,
      summary,
      start: iso(spec.startMs),
      end: iso(spec.endMs),
      enabled: row.enabled,
      target: input.target,
      payload: spec.payload,
      retry: spec.retry,
      flexibleWindowMs: spec.flexibleWindowMs,
      misfire: spec.misfire,
      misfireLimit: spec.misfireLimit,
      overlap: spec.overlap,
      description: spec.description,
      source: row.source,
      createdAt: new Date(row.createdAtMs).toISOString(),
      updatedAt: new Date(row.updatedAtMs).toISOString(),
      state: {
        nextTick: row.enabled ? iso(row.nextTickMs) : null,
        nextFireAt: row.enabled ? iso(row.dueAtMs) : null,
        lastTick: iso(row.lastTickMs),
        lastFiredAt: iso(row.lastFiredAtMs),
        lastRun: await this.#lastRun(row.lastInvocationId),
        ended: row.nextTickMs === null && row.enabled,
      },
    };
  }

  /** The latest attempt of an invocation. */
  async #lastRun(invocationId: string | null): Promise<{ id: string; status: RunStatus } | null> {
    if (invocationId === null) return null;
    let found: { id: string; status: RunStatus } | null = null;
    for (let attempt = 1; attempt <= 1000; attempt++) {
      const run = await this.#d.store.runs.get(attemptRunId(invocationId, attempt));
      if (run === null) break;
      found = { id: run.id, status: run.status };
    }
    return found;
  }
}

/**
 * New timing for a schedule after a change: the next tick after both now and the last
 * tick fired (so no tick fires twice), or none while disabled.
 */
function retimed(
  before: ScheduleSpec,
  after: ScheduleSpec,
  row: ScheduleRow,
  enabled: boolean,
  schedule: ReturnType<typeof scheduleOf>,
  now: number,
): { nextTickMs: number | null; dueAtMs: number | null } {
  if (!enabled) return { nextTickMs: null, dueAtMs: null };
  const sameTiming =
    row.enabled &&
    row.nextTickMs !== null &&
    before.expression === after.expression &&
    before.timezone === after.timezone &&
    before.startMs === after.startMs &&
    before.endMs === after.endMs &&
    before.flexibleWindowMs === after.flexibleWindowMs;
  if (sameTiming) return { nextTickMs: row.nextTickMs, dueAtMs: row.dueAtMs };
  const next = tickAfter(schedule, Math.max(now, row.lastTickMs ?? Number.NEGATIVE_INFINITY));
  return { nextTickMs: next, dueAtMs: dueAt(after, next, Math.random) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function notFound(name: string): MainspringError {
  return new MainspringError('E_SCHEDULE_NOT_FOUND', `no schedule named "${name}"`, {
    details: { field: 'name', value: name },
  });
}

function readOnly(name: string, action: string): MainspringError {
  return new MainspringError(
    'E_SCHEDULE_READ_ONLY',
    `schedule "${name}" is declared in the config; ${action} it there (enable and disable work here)`,
    { details: { field: 'name', value: name } },
  );
}
