// `mainspring run-due`: fire what is due once, run it, wait for it, report. The batch
// worker of the slow-scheduler pattern, and, with a made-up `now`, a way to try a
// worker on the tasks due by a date. A made-up instant away from the clock fires
// tasks only: ticking schedules as of it would move every schedule's next tick there.

import type { Clock } from '../core/clock.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { MainspringError } from '../core/errors.ts';
import type { Run, Runs } from '../runtime/runs.ts';
import type { Worker } from '../runtime/worker.ts';
import type { Due, Fired, PassOptions, Scheduler } from './scheduler.ts';

/** How far `now` may be from the clock and still count as now: schedules then tick by default. */
export const NEAR_CLOCK_MS = 60_000;

export interface RunDueOptions {
  /**
   * Fire what is due at this instant instead of the clock's now: tasks due by then, and
   * (see `schedules`) ticks. Their runs start at once; the store's records (fired at,
   * created at) keep the clock's time. Default: the clock's now.
   */
  readonly now?: Date;
  /**
   * Whether schedule ticks due by `now` fire too, advancing each schedule's next tick
   * past `now`. Default: true when `now` is within a minute of the clock's now (or not
   * given); false otherwise, so that trying a date months ahead leaves the live
   * schedules' next ticks where they are. Give `true` to tick them as of `now` anyway.
   */
  readonly schedules?: boolean;
  /**
   * Fire nothing and change nothing in the store (not even the config's schedules, which
   * a real run stores first): list what would fire in `wouldFire` (default false).
   */
  readonly dryRun?: boolean;
  /**
   * Ticks up to this late fire as on time; older ones follow their schedule's misfire
   * policy (default 1 hour: run-due is usually started every few minutes, not kept running).
   * Real time, like every safety margin (see Clock.real).
   */
  readonly misfireGrace?: Duration;
  /** Stop waiting for the runs after this long (default 1 hour). */
  readonly timeout?: Duration;
}

/** One tick or task that fired, with its run. */
export type FiredRun = Fired & {
  /**
   * Its last attempt as it ended, or as it was at the timeout (`queued`, `running`);
   * null for a queue target's message.
   */
  readonly run: Run | null;
};

export interface RunDueResult {
  /** The instant what was due was decided at: `options.now`, or the clock's now. */
  readonly now: Date;
  /** True when nothing was fired or changed (`options.dryRun`). */
  readonly dryRun: boolean;
  /** Whether schedule ticks were fired, or with `dryRun` would be (see `options.schedules`). */
  readonly schedules: boolean;
  /** What fired, in the order it fired, each with its run (empty for a dry run). */
  readonly fired: readonly FiredRun[];
  /** A dry run: what would fire, in due order (empty otherwise). */
  readonly wouldFire: readonly Due[];
  /**
   * When schedules were left alone: the ticks due by `now` that `schedules: true` would
   * also have fired, in due order. Those schedules' next ticks are as they were.
   */
  readonly leftAlone: readonly Due[];
  /** Runs that ended without succeeding. */
  readonly failed: number;
  /** Runs still going at the timeout (their messages are released for other workers). */
  readonly unfinished: number;
}

const DONE = ['succeeded', 'failed', 'timed_out', 'cancelled'];

/**
 * Fires what is due once and waits for its runs; `ms.runDue` calls it after storing the
 * config's schedules (unless dry).
 *
 * @example
 * ```ts
 * // Try the worker on the tasks due by 1 March next year; schedules stay as they are.
 * const result = await ms.runDue({ now: new Date('2027-03-01T00:00:00Z') });
 * for (const f of result.fired) console.log(f.kind, f.name, f.run?.status);
 * ```
 */
/** What runDue uses of the app (a Mainspring has it all). */
export interface RunDueApp {
  readonly clock: Clock;
  readonly runs: Pick<Runs, 'wait'>;
  startWorker(): Promise<Pick<Worker, 'stop'>>;
}

export async function runDue(
  ms: RunDueApp,
  scheduler: Scheduler,
  options: RunDueOptions,
): Promise<RunDueResult> {
  const graceMs = parseDuration(options.misfireGrace ?? '1h', 'misfireGrace');
  const timeoutMs = parseDuration(options.timeout ?? '1h', 'timeout');
  const clockMs = ms.clock.now();
  const nowMs = options.now === undefined ? clockMs : instant(options.now);
  const schedules = options.schedules ?? Math.abs(nowMs - clockMs) <= NEAR_CLOCK_MS;
  const pass: PassOptions = { nowMs: clockMs, asOfMs: nowMs, lookaheadMs: 0, misfireGraceMs: graceMs };
  const leftAlone = schedules ? [] : await scheduler.previewDue({ ...pass, tasks: false });
  const result = (rest: Pick<RunDueResult, 'fired' | 'wouldFire' | 'failed' | 'unfinished'>) => ({
    now: new Date(nowMs),
    dryRun: options.dryRun === true,
    schedules,
    fired: rest.fired,
    wouldFire: rest.wouldFire,
    leftAlone,
    failed: rest.failed,
    unfinished: rest.unfinished,
  });
  if (options.dryRun) {
    const wouldFire = await scheduler.previewDue({ ...pass, schedules });
    return result({ fired: [], wouldFire, failed: 0, unfinished: 0 });
  }
  const fired = await scheduler.fireUntilDone({ ...pass, schedules });
  if (fired.length === 0) return result({ fired: [], wouldFire: [], failed: 0, unfinished: 0 });
  // The worker also takes any other work waiting in the app's queues meanwhile.
  const worker = await ms.startWorker();
  const deadline = AbortSignal.timeout(timeoutMs);
  let unfinished = 0;
  try {
    const done = await Promise.all(
      fired.map(async (f) => ({
        ...f,
        run: f.runId === null ? null : await ms.runs.wait(f.runId, { signal: deadline }),
      })),
    );
    unfinished = done.filter((f) => f.run !== null && !DONE.includes(f.run.status)).length;
    const failed = done.filter(
      (f) => f.run !== null && DONE.includes(f.run.status) && f.run.status !== 'succeeded',
    ).length;
    return result({ fired: done, wouldFire: [], failed, unfinished });
  } finally {
    // Past the timeout, handlers still going are stopped and their messages released at once.
    await worker.stop({ graceMs: unfinished > 0 ? 0 : 30_000 });
  }
}

function instant(now: unknown): number {
  const ms = now instanceof Date ? now.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new MainspringError(
      'E_VALIDATION',
      `runDue: now is ${String(now)}, not a valid Date; give e.g. new Date('2027-03-01T00:00:00Z')`,
      { details: { field: 'now', value: String(now) } },
    );
  }
  return ms;
}
