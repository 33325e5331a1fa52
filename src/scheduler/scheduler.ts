// The scheduler: fires due schedule ticks and tasks. Each pass is one store
// transaction that claims what is due (walking the due-time indexes only) and
// creates its runs and messages, so a tick fires exactly once however many
// schedulers share the store, and a scheduler that dies mid-pass changes nothing.
// Ticks are taken up to `lookaheadMs` early; their runs wait, leased ahead by a
// worker, and start at their time. `previewDue` reads what a pass would fire and
// writes nothing (run-due --dry-run).

import pino, { type Logger } from 'pino';
import { Backoff, isTransient } from '../core/backoff.ts';
import type { Clock } from '../core/clock.ts';
import type { Schedule } from '../expressions/index.ts';
import { attemptRunId } from '../functions/ids.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { FunctionDefinition, TriggerInfo } from '../runtime/function.ts';
import { newInvocation } from '../runtime/runs.ts';
import type { RunWrite } from '../store/run-row.ts';
import { type DueSchedule, type FirePlan, SCHEDULER_CHANNEL, type TaskRow } from '../store/schedule-row.ts';
import type { NewMessage, Store, Unlisten } from '../store/types.ts';
import { HTTP_FUNCTION, type HttpRequestInput } from './http-target.ts';
import { type ScheduleSpec, scheduleOf } from './spec.ts';
import { decideTicks, type FiredTick, type TickDecision } from './ticks.ts';
import { tickExecutionId, WORKFLOW_FUNCTION, type WorkflowStartInput } from './workflow-target.ts';

// Time: the misfire grace, the poll and the overlap re-check are real time (`clock.real`),
// so a scaled clock never misses a tick it was merely slow to take; the lookahead is
// clock time, like the ticks it is measured against (a real second early would be a
// day early for a daily schedule at a scale of 86400).

export interface SchedulerOptions {
  /** How early a tick is taken, so its run can start on time (default 1 s of clock time). */
  readonly lookaheadMs?: number;
  /**
   * A tick taken more than this late counts as missed, and its misfire policy applies
   * (default 60 s of real time, however the clock is scaled).
   */
  readonly misfireGraceMs?: number;
  /** Longest sleep between looks at the store when no wake-up arrives (default 1 s of real time). */
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

/** One thing a pass fires, or would fire. */
export interface Due {
  readonly kind: 'schedule' | 'task';
  /** The schedule's name or the task's id. */
  readonly name: string;
  /** The tick or the task's due time. */
  readonly tickAt: Date;
  /**
   * What it invokes: `function <name>` (a task's action too), `queue <name>`,
   * `workflow <name>` or `http <METHOD> <url>`.
   */
  readonly target: string;
  /** True for ticks fired by the misfire policy after downtime. */
  readonly catchUp: boolean;
}

/** One thing a pass fired. */
export interface Fired extends Due {
  /** The first attempt's run id (null for a queue target). */
  readonly runId: string | null;
}

export interface PassOptions {
  /** The clock's now: what the pass writes is stamped with it. */
  readonly nowMs: number;
  /**
   * Fire what is due at this instant instead (`run-due --now`): it decides what is due and
   * how late each tick is; the runs it creates start at once on the clock, or as much
   * after `nowMs` as they were due after this instant. Default: `nowMs`.
   */
  readonly asOfMs?: number;
  readonly lookaheadMs: number;
  /** Overrides the scheduler's misfire grace for this pass (real time, as `SchedulerOptions.misfireGraceMs`). */
  readonly misfireGraceMs?: number;
  /** Only these schedules and tasks. */
  readonly only?: { readonly schedules?: readonly string[]; readonly tasks?: readonly string[] };
  /** False: take no schedule tick, leaving every schedule as stored (default true). */
  readonly schedules?: boolean;
  /** False: take no task (default true). */
  readonly tasks?: boolean;
}

/** What one transaction's plan fired and passed over, for the metrics once it committed. */
interface Tally {
  /** Per schedule: ticks fired, missed (misfire policy) and skipped for overlap. */
  readonly schedules: Map<string, { fired: number; missed: number; overlapSkipped: number }>;
  /** The function of each task fired. */
  readonly tasks: string[];
}

/** How long after now a tick held by `overlap: 'queue'` is looked at again (past the lookahead; real time). */
const RECHECK_MS = 1000;
const SPEC_CACHE = 10_000;
/** A claim horizon before every due time: a kind left out of a pass claims nothing. */
const NOTHING_MS = Number.MIN_SAFE_INTEGER;
/** Rows per page when a preview reads schedules and tasks. */
const PREVIEW_PAGE = 500;
/** A preview follows a schedule's ticks for at most this many passes (as fireUntilDone does). */
const PREVIEW_PASSES = 10_000;
const SILENT = pino({ level: 'silent' });

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
  /** Waits after failed passes (a lost connection, a restarting server): grows, with jitter. */
  readonly #backoff = new Backoff();

  constructor(deps: SchedulerDeps, options: SchedulerOptions = {}) {
    this.#deps = deps;
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#lookaheadMs = options.lookaheadMs ?? 1000;
    // Margins, held as the clock durations that last this long in real time.
    this.#graceMs = deps.clock.real(options.misfireGraceMs ?? 60_000);
    this.#pollMs = deps.clock.real(options.pollIntervalMs ?? 1000);
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
    return (await this.#pass(options)).fired;
  }

  /**
   * Passes until one claims nothing, at most `maxPasses`: what run-due does. A schedule
   * owing several ticks fires one per pass, and a pass that only skips missed ticks
   * fires nothing yet leaves the tick after them due for the next.
   */
  async fireUntilDone(options: PassOptions, maxPasses = 10_000): Promise<Fired[]> {
    const all: Fired[] = [];
    for (let n = 0; n < maxPasses; n++) {
      const { fired, claimed } = await this.#pass(options);
      all.push(...fired);
      if (claimed === 0) break;
    }
    return all;
  }

  async #pass(options: PassOptions): Promise<{ fired: Fired[]; claimed: number }> {
    const all: Fired[] = [];
    let claimed = 0;
    const horizonMs = (options.asOfMs ?? options.nowMs) + options.lookaheadMs;
    for (;;) {
      const fired: Fired[] = [];
      const tally: Tally = { schedules: new Map(), tasks: [] };
      const outcome = await this.#deps.store.scheduler.fire(
        {
          nowMs: options.nowMs,
          scheduleHorizonMs: options.schedules === false ? NOTHING_MS : horizonMs,
          taskHorizonMs: options.tasks === false ? NOTHING_MS : horizonMs,
          limit: this.#batch,
          ...(options.only ? { only: options.only } : {}),
        },
        (schedules, tasks) => this.#plan(options, schedules, tasks, fired, this.#log, tally),
      );
      this.#record(tally);
      all.push(...fired);
      claimed += outcome.schedules + outcome.tasks;
      if (outcome.schedules < this.#batch && outcome.tasks < this.#batch) return { fired: all, claimed };
      // Between batches, let due timers run (a run starting at its tick): setTimeout, not
      // setImmediate, since the timers phase comes before the check phase.
      await new Promise((r) => setTimeout(r, 0));
    }
  }

  /**
   * What `fireUntilDone` with these options would fire, without writing anything: it
   * reads the due schedules and tasks, follows each schedule's ticks in memory and
   * returns them in due order. Run ids are left out: none is created. Flexible windows
   * draw their offsets afresh, so a schedule with one may come out differently from the
   * real pass. `only` is not supported here.
   */
  async previewDue(options: Omit<PassOptions, 'only'>): Promise<Due[]> {
    const store = this.#deps.store;
    const horizonMs = (options.asOfMs ?? options.nowMs) + options.lookaheadMs;
    const due: Due[] = [];
    if (options.tasks !== false) {
      let after: { dueMs: number; id: string } | undefined;
      for (;;) {
        const page = await store.scheduler.listTasks({
          status: 'pending',
          dueBeforeMs: horizonMs + 1,
          limit: PREVIEW_PAGE,
          ...(after ? { after } : {}),
        });
        const fired: Fired[] = [];
        this.#plan(options, [], page, fired, SILENT);
        due.push(...fired.map(withoutRun));
        if (page.length < PREVIEW_PAGE) break;
        const last = page[page.length - 1]!;
        after = { dueMs: last.dueMs, id: last.id };
      }
    }
    if (options.schedules !== false) {
      let afterName: string | undefined;
      for (;;) {
        const page = await store.scheduler.listSchedules({
          enabled: true,
          limit: PREVIEW_PAGE,
          ...(afterName !== undefined ? { afterName } : {}),
        });
        for (const row of page) {
          if (row.dueAtMs === null || row.dueAtMs > horizonMs) continue;
          due.push(...(await this.#previewSchedule(options, row, horizonMs)).map(withoutRun));
        }
        if (page.length < PREVIEW_PAGE) break;
        afterName = page[page.length - 1]!.name;
      }
    }
    return due.sort(
      (a, b) =>
        a.tickAt.getTime() - b.tickAt.getTime() ||
        a.kind.localeCompare(b.kind) ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
  }

  /** One due schedule's passes, in memory: each plans on the row the last one left. */
  async #previewSchedule(
    options: Omit<PassOptions, 'only'>,
    stored: DueSchedule['row'],
    horizonMs: number,
  ): Promise<Fired[]> {
    const fired: Fired[] = [];
    let due: DueSchedule = { row: stored, lastActive: await this.#active(stored.lastInvocationId) };
    for (let pass = 0; pass < PREVIEW_PASSES; pass++) {
      const plan = this.#plan(options, [due], [], fired, SILENT);
      const next = plan.schedules[0];
      if (!next || next.dueAtMs === null || next.dueAtMs > horizonMs) break;
      // A tick fired in an earlier pass has its run queued until run-due's worker starts.
      const lastActive =
        next.lastInvocationId === due.row.lastInvocationId
          ? due.lastActive
          : plan.runs.some((r) => r.invocationId === next.lastInvocationId && r.status === 'queued');
      due = { row: { ...due.row, ...next }, lastActive };
    }
    return fired;
  }

  /** Whether an attempt of the invocation is queued or running (the claim's `last_active`). */
  async #active(invocationId: string | null): Promise<boolean> {
    if (invocationId === null) return false;
    for (let attempt = 1; ; attempt++) {
      const run = await this.#deps.store.runs.get(attemptRunId(invocationId, attempt));
      if (run === null) return false;
      if (run.status === 'queued' || run.status === 'running') return true;
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
        this.#backoff.reset();
      } catch (err) {
        if (this.#stopping) break;
        // Nothing of a failed pass is stored (one transaction): the next pass fires it.
        const retryInMs = this.#backoff.next();
        sleepMs = clock.real(retryInMs);
        if (isTransient(err))
          this.#log.warn({ err, retryInMs }, 'scheduler lost its connection to the store; retrying');
        else this.#log.error({ err, retryInMs }, 'scheduler pass failed; retrying');
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

  /** Counts a committed transaction's ticks and tasks in the metrics. */
  #record(tally: Tally): void {
    const metrics = this.#deps.metrics;
    if (!metrics) return;
    for (const [schedule, ticks] of tally.schedules) metrics.scheduleTicks(schedule, ticks);
    for (const fn of tally.tasks) metrics.taskFired(fn);
  }

  /**
   * Runs inside the claiming transaction: must not await. Counts into `tally` what a real
   * pass records once committed (a preview passes none).
   */
  #plan(
    options: PassOptions,
    schedules: DueSchedule[],
    tasks: TaskRow[],
    fired: Fired[],
    log: Logger,
    tally?: Tally,
  ): FirePlan {
    const now = options.nowMs;
    const asOf = options.asOfMs ?? now;
    // Runs due by the made-up instant start on the clock that much later than its now.
    const onClock = (atMs: number) => atMs - asOf + now;
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
        log.error({ err, schedule: row.name }, 'schedule cannot be read; it stops until updated');
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
        nowMs: asOf,
        graceMs:
          options.misfireGraceMs === undefined
            ? this.#graceMs
            : this.#deps.clock.real(options.misfireGraceMs),
        recheckMs: options.lookaheadMs + this.#deps.clock.real(RECHECK_MS),
        random: this.#random,
      });
      let lastInvocationId = row.lastInvocationId;
      for (const tick of decision.fire) {
        const trigger: TriggerInfo = {
          kind: 'schedule',
          schedule: row.name,
          tickAt: new Date(tick.tickMs).toISOString(),
        };
        const run = this.#fireTarget(spec, trigger, tick, onClock(tick.atMs), now, plan, log);
        lastInvocationId = run?.invocationId ?? null;
        fired.push({
          kind: 'schedule',
          name: row.name,
          tickAt: new Date(tick.tickMs),
          target: targetOf(spec),
          runId: run?.id ?? null,
          catchUp: tick.catchUp,
        });
      }
      if (tally) tallyTicks(tally, row.name, decision);
      if (decision.skipped > 0) {
        log.info(
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
        onClock(Math.max(task.dueMs, asOf)),
        now,
        undefined,
        plan,
        log,
      );
      plan.tasks.push({ id: task.id, invocationId: inv.invocationId });
      tally?.tasks.push(task.action);
      fired.push({
        kind: 'task',
        name: task.id,
        tickAt: new Date(task.dueMs),
        target: `function ${task.action}`,
        runId: inv.id,
        catchUp: false,
      });
    }
    return plan;
  }

  /**
   * Adds a tick's run (or, for a queue target, its message) to the plan, to start at
   * `atMs` on the clock; returns the run.
   */
  #fireTarget(
    spec: ScheduleSpec,
    trigger: TriggerInfo & { kind: 'schedule' },
    tick: FiredTick,
    atMs: number,
    now: number,
    plan: { runs: RunWrite[]; messages: FirePlan['messages'][number][] },
    log: Logger,
  ): RunWrite | null {
    const t = spec.target;
    const { dueAtMs } = tick;
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
    return this.#invoke(fn, input, JSON.stringify(input), trigger, dueAtMs, atMs, now, spec.retry, plan, log);
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
    log: Logger,
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
      log.error({ function: fn, trigger }, 'fired for a function the app does not define');
      return row;
    }
    plan.runs.push(inv.row);
    plan.messages.push({ queue: inv.queue, message: message(JSON.stringify(inv.message), atMs) });
    return inv.row;
  }
}

/** A schedule's target as `schedules list` shows it. */
function targetOf(spec: ScheduleSpec): string {
  const t = spec.target;
  if (t.kind === 'function') return `function ${t.function}`;
  if (t.kind === 'queue') return `queue ${t.queue}`;
  if (t.kind === 'workflow') return `workflow ${t.workflow}`;
  return `http ${t.method} ${t.url}`;
}

function tallyTicks(tally: Tally, schedule: string, decision: TickDecision): void {
  const c = tally.schedules.get(schedule) ?? { fired: 0, missed: 0, overlapSkipped: 0 };
  c.fired += decision.fire.length;
  if (decision.missed) c.missed += decision.skipped;
  else c.overlapSkipped += decision.skipped;
  tally.schedules.set(schedule, c);
}

function withoutRun({ runId: _, ...due }: Fired): Due {
  return due;
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
