// The scheduler: fires due schedule ticks and tasks. Each pass is one store
// transaction that claims what is due (walking the due-time indexes only) and
// creates its runs and messages, so a tick fires exactly once however many
// schedulers share the store, and a scheduler that dies mid-pass changes nothing.
// Ticks are taken up to `lookaheadMs` early; their runs wait, leased ahead by a
// worker, and start at their time.

import pino, { type Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { FunctionDefinition, TriggerInfo } from '../runtime/function.ts';
import { newInvocation } from '../runtime/runs.ts';
import type { Schedule } from '../schedule/index.ts';
import type { RunWrite } from '../store/run-row.ts';
import { type DueSchedule, type FirePlan, SCHEDULER_CHANNEL, type TaskRow } from '../store/schedule-row.ts';
import type { NewMessage, Store, Unlisten } from '../store/types.ts';
import { HTTP_FUNCTION, type HttpRequestInput } from './http-target.ts';
import { type ScheduleSpec, scheduleOf } from './spec.ts';
import { decideTicks, type FiredTick } from './ticks.ts';
import { tickExecutionId, WORKFLOW_FUNCTION, type WorkflowStartInput } from './workflow-target.ts';

export interface SchedulerOptions {
  /** How early a tick is taken, so its run can start on time (default 1 s). */
  readonly lookaheadMs?: number;
  /** A tick taken more than this late counts as missed, and its misfire policy applies (default 60 s). */
  readonly misfireGraceMs?: number;
  /** Longest sleep between looks at the store when no wake-up arrives (default 1 s). */
  readonly pollIntervalMs?: number;
  /**
   * Schedules, and tasks, claimed per transaction (default 500; 50 on an embedded store,
   * whose passes run on the event loop: small ones let runs due meanwhile start on time).
   */
  readonly batchSize?: number;
  readonly logger?: Logger;
  /** Uniform in [0, 1), for flexible windows (tests pass their own). */
  readonly random?: () => number;
}

export interface SchedulerDeps {
  readonly store: Store;
  readonly clock: Clock;
  /** The app's functions: what schedules and tasks may invoke. */
  readonly functions: ReadonlyMap<string, FunctionDefinition>;
  readonly metrics?: Metrics;
}

/** One thing a pass fired. */
export interface Fired {
  readonly kind: 'schedule' | 'task';
  /** The schedule's name or the task's id. */
  readonly name: string;
  /** The tick or the task's due time. */
  readonly tickAt: Date;
  /** The first attempt's run id (null for a queue target). */
  readonly runId: string | null;
  readonly catchUp: boolean;
}

export interface PassOptions {
  readonly nowMs: number;
  readonly lookaheadMs: number;
  /** Overrides the scheduler's misfire grace for this pass. */
  readonly misfireGraceMs?: number;
  /** Only these schedules and tasks. */
  readonly only?: { readonly schedules?: readonly string[]; readonly tasks?: readonly string[] };
}

/** How long after now a tick held by `overlap: 'queue'` is looked at again (past the lookahead). */
const RECHECK_MS = 1000;
const SPEC_CACHE = 10_000;

/**
 * Runs in every process that fires schedules (`mainspring start`, or `ms.startScheduler()`);
 * any number may share a store.
 *
 * @example
 * ```ts
 * const scheduler = await ms.startScheduler();
 * // …
 * await scheduler.stop();
 * ```
 */
export class Scheduler {
  readonly #deps: SchedulerDeps;
  readonly #log: Logger;
  readonly #lookaheadMs: number;
  readonly #graceMs: number;
  readonly #pollMs: number;
  readonly #batch: number;
  readonly #random: () => number;
  /** Parsed specs by their JSON text: a schedule's expression is parsed once, not per tick. */
  readonly #specs = new Map<string, { spec: ScheduleSpec; schedule: Schedule }>();
  #wake: AbortController | null = null;
  #stopping = false;
  #loop: Promise<void> | null = null;
  #unlisten: Unlisten | null = null;

  constructor(deps: SchedulerDeps, options: SchedulerOptions = {}) {
    this.#deps = deps;
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#lookaheadMs = options.lookaheadMs ?? 1000;
    this.#graceMs = options.misfireGraceMs ?? 60_000;
    this.#pollMs = options.pollIntervalMs ?? 1000;
    this.#batch = options.batchSize ?? (deps.store.capabilities.remote ? 500 : 50);
    this.#random = options.random ?? Math.random;
  }

  async start(): Promise<void> {
    if (this.#loop) throw new Error('a scheduler starts once; create another');
    this.#unlisten = await this.#deps.store.listen(SCHEDULER_CHANNEL, () => this.wake());
    this.#loop = this.#run();
  }

  /** Looks at the store now instead of at the next due time (something changed). */
  wake(): void {
    this.#wake?.abort();
  }

  async stop(): Promise<void> {
    if (!this.#loop || this.#stopping) return;
    this.#stopping = true;
    this.wake();
    await this.#loop;
    await this.#unlisten?.();
  }

  /**
   * One pass: fires what is due at `nowMs` (ticks up to `lookaheadMs` ahead), in
   * transactions of up to `batchSize`, until nothing due is left. Returns what fired.
   */
  async fireDue(options: PassOptions): Promise<Fired[]> {
    const all: Fired[] = [];
    for (;;) {
      const fired: Fired[] = [];
      const outcome = await this.#deps.store.scheduler.fire(
        {
          nowMs: options.nowMs,
          scheduleHorizonMs: options.nowMs + options.lookaheadMs,
          taskHorizonMs: options.nowMs + options.lookaheadMs,
          limit: this.#batch,
          ...(options.only ? { only: options.only } : {}),
        },
        (schedules, tasks) => this.#plan(options, schedules, tasks, fired),
      );
      all.push(...fired);
      if (outcome.schedules < this.#batch && outcome.tasks < this.#batch) return all;
      // Between batches, let due timers run (a run starting at its tick): setTimeout, not
      // setImmediate, since the timers phase comes before the check phase.
      await new Promise((r) => setTimeout(r, 0));
    }
  }

  async #run(): Promise<void> {
    const { clock, store } = this.#deps;
    while (!this.#stopping) {
      this.#wake = new AbortController();
      let sleepMs = this.#pollMs;
      try {
        const fired = await this.fireDue({ nowMs: clock.now(), lookaheadMs: this.#lookaheadMs });
        if (fired.length > 0) this.#log.debug({ fired: fired.length }, 'fired');
        const next = await store.scheduler.nextDueAt();
        if (next !== null) sleepMs = Math.min(sleepMs, Math.max(0, next - this.#lookaheadMs - clock.now()));
      } catch (err) {
        if (this.#stopping) break;
        this.#log.error({ err }, 'scheduler pass failed; retrying');
      }
      if (this.#stopping) break;
      await clock.sleep(sleepMs, this.#wake.signal).catch(() => {});
    }
  }

  #parsed(spec: string): { spec: ScheduleSpec; schedule: Schedule } {
    let entry = this.#specs.get(spec);
    if (!entry) {
      const parsed = JSON.parse(spec) as ScheduleSpec;
      entry = { spec: parsed, schedule: scheduleOf(parsed) };
      if (this.#specs.size >= SPEC_CACHE) this.#specs.delete(this.#specs.keys().next().value as string);
      this.#specs.set(spec, entry);
    }
    return entry;
  }

  /** Runs inside the claiming transaction: must not await. */
  #plan(options: PassOptions, schedules: DueSchedule[], tasks: TaskRow[], fired: Fired[]): FirePlan {
    const now = options.nowMs;
    const plan: {
      schedules: FirePlan['schedules'][number][];
      tasks: FirePlan['tasks'][number][];
      runs: RunWrite[];
      messages: FirePlan['messages'][number][];
    } = { schedules: [], tasks: [], runs: [], messages: [] };
    for (const due of schedules) {
      const row = due.row;
      let parsed: { spec: ScheduleSpec; schedule: Schedule };
      try {
        parsed = this.#parsed(row.spec);
      } catch (err) {
        // A spec no longer valid (e.g. a zone the runtime dropped): stop it, visibly.
        this.#log.error({ err, schedule: row.name }, 'schedule cannot be read; it stops until updated');
        plan.schedules.push({ ...keep(row), nextTickMs: null, dueAtMs: null });
        continue;
      }
      const { spec, schedule } = parsed;
      if (row.nextTickMs === null || row.dueAtMs === null) {
        plan.schedules.push({ ...keep(row), dueAtMs: null });
        continue;
      }
      const decision = decideTicks({
        spec,
        schedule,
        tickMs: row.nextTickMs,
        dueAtMs: row.dueAtMs,
        lastActive: due.lastActive,
        nowMs: now,
        graceMs: options.misfireGraceMs ?? this.#graceMs,
        recheckMs: options.lookaheadMs + RECHECK_MS,
        random: this.#random,
      });
      let lastInvocationId = row.lastInvocationId;
      for (const tick of decision.fire) {
        const trigger: TriggerInfo = {
          kind: 'schedule',
          schedule: row.name,
          tickAt: new Date(tick.tickMs).toISOString(),
        };
        const run = this.#fireTarget(spec, trigger, tick, now, plan);
        lastInvocationId = run?.invocationId ?? null;
        fired.push({
          kind: 'schedule',
          name: row.name,
          tickAt: new Date(tick.tickMs),
          runId: run?.id ?? null,
          catchUp: tick.catchUp,
        });
      }
      if (decision.skipped > 0) {
        this.#log.info(
          { schedule: row.name, skipped: decision.skipped, tick: new Date(row.nextTickMs) },
          'ticks skipped',
        );
      }
      const last = decision.fire[decision.fire.length - 1];
      plan.schedules.push({
        name: row.name,
        nextTickMs: decision.nextTickMs,
        dueAtMs: decision.dueAtMs,
        lastTickMs: last ? last.tickMs : row.lastTickMs,
        lastFiredAtMs: last ? now : row.lastFiredAtMs,
        lastInvocationId,
      });
    }
    for (const task of tasks) {
      const trigger: TriggerInfo = { kind: 'task', task: task.id };
      const payload = task.payload === null ? null : (JSON.parse(task.payload) as unknown);
      const inv = this.#invoke(
        task.action,
        payload,
        task.payload,
        trigger,
        task.dueMs,
        Math.max(task.dueMs, now),
        now,
        undefined,
        plan,
      );
      plan.tasks.push({ id: task.id, invocationId: inv.invocationId });
      fired.push({
        kind: 'task',
        name: task.id,
        tickAt: new Date(task.dueMs),
        runId: inv.id,
        catchUp: false,
      });
    }
    return plan;
  }

  /** Adds a tick's run (or, for a queue target, its message) to the plan; returns the run. */
  #fireTarget(
    spec: ScheduleSpec,
    trigger: TriggerInfo & { kind: 'schedule' },
    tick: FiredTick,
    now: number,
    plan: { runs: RunWrite[]; messages: FirePlan['messages'][number][] },
  ): RunWrite | null {
    const t = spec.target;
    const { dueAtMs, atMs } = tick;
    if (t.kind === 'queue') {
      plan.messages.push({ queue: t.queue, message: message(JSON.stringify(spec.payload), atMs) });
      return null;
    }
    // HTTP and workflow targets are runs of built-in functions, with the target as input.
    let fn: string;
    let input: unknown;
    if (t.kind === 'http') {
      fn = HTTP_FUNCTION;
      input = {
        url: t.url,
        method: t.method,
        headers: t.headers,
        body: t.body !== undefined ? t.body : spec.payload,
        timeoutMs: t.timeoutMs,
      } satisfies HttpRequestInput;
    } else if (t.kind === 'workflow') {
      fn = WORKFLOW_FUNCTION;
      input = {
        workflow: t.workflow,
        input: spec.payload,
        id: tickExecutionId(trigger.schedule, trigger.tickAt),
      } satisfies WorkflowStartInput;
    } else {
      fn = t.function;
      input = spec.payload;
    }
    return this.#invoke(fn, input, JSON.stringify(input), trigger, dueAtMs, atMs, now, spec.retry, plan);
  }

  /** A queued run plus its message; a function this app does not define gets a failed run instead. */
  #invoke(
    fn: string,
    input: unknown,
    inputJson: string | null,
    trigger: TriggerInfo,
    scheduledForMs: number,
    atMs: number,
    now: number,
    retry: ScheduleSpec['retry'] | undefined,
    plan: { runs: RunWrite[]; messages: FirePlan['messages'][number][] },
  ): RunWrite {
    const inv = newInvocation(fn, input, inputJson, trigger, scheduledForMs, now, retry);
    if (!this.#deps.functions.has(fn)) {
      const row: RunWrite = {
        ...inv.row,
        status: 'failed',
        finishedAtMs: now,
        error: JSON.stringify({
          name: 'MainspringError',
          code: 'E_FUNCTION_NOT_FOUND',
          message: `no function named "${fn}" in the app that fired this; define it, or change the ${trigger.kind}'s target`,
        }),
      };
      plan.runs.push(row);
      this.#log.error({ function: fn, trigger }, 'fired for a function the app does not define');
      return row;
    }
    plan.runs.push(inv.row);
    plan.messages.push({ queue: inv.queue, message: message(JSON.stringify(inv.message), atMs) });
    return inv.row;
  }
}

function message(body: string, visibleAtMs: number): NewMessage {
  return { body, priority: 0, visibleAtMs, groupId: null, dedupKey: null };
}

function keep(row: DueSchedule['row']): FirePlan['schedules'][number] {
  return {
    name: row.name,
    nextTickMs: row.nextTickMs,
    dueAtMs: row.dueAtMs,
    lastTickMs: row.lastTickMs,
    lastFiredAtMs: row.lastFiredAtMs,
    lastInvocationId: row.lastInvocationId,
  };
}
