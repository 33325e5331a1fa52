// `mainspring run-due`: fire what is due at now once, run it, wait for it, report.
// The batch worker of the slow-scheduler pattern, and a way to test schedules with
// a made-up now.

import type { Mainspring } from '../app.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import type { Run } from '../runtime/runs.ts';
import type { Fired, Scheduler } from './scheduler.ts';

export interface RunDueOptions {
  /**
   * Ticks up to this late fire as on time; older ones follow their schedule's misfire
   * policy (default 1 hour: run-due is usually started every few minutes, not kept running).
   */
  readonly misfireGrace?: Duration;
  /** Stop waiting for the runs after this long (default 1 hour). */
  readonly timeout?: Duration;
}

export interface RunDueResult {
  /**
   * What fired, each with its run: its last attempt as it ended, or as it was at the
   * timeout (`queued`, `running`); null for a queue target's message.
   */
  readonly fired: readonly (Fired & { readonly run: Run | null })[];
  /** Runs that ended without succeeding. */
  readonly failed: number;
  /** Runs still going at the timeout (their messages are released for other workers). */
  readonly unfinished: number;
}

const DONE = ['succeeded', 'failed', 'timed_out', 'cancelled'];

export async function runDue(
  ms: Mainspring,
  scheduler: Scheduler,
  options: RunDueOptions,
): Promise<RunDueResult> {
  const graceMs = parseDuration(options.misfireGrace ?? '1h', 'misfireGrace');
  const timeoutMs = parseDuration(options.timeout ?? '1h', 'timeout');
  const nowMs = ms.clock.now();
  const fired: Fired[] = [];
  // A schedule owing several ticks fires one per pass; keep going until nothing is due.
  for (let pass = 0; pass < 10_000; pass++) {
    const more = await scheduler.fireDue({ nowMs, lookaheadMs: 0, misfireGraceMs: graceMs });
    if (more.length === 0) break;
    fired.push(...more);
  }
  if (fired.length === 0) return { fired: [], failed: 0, unfinished: 0 };
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
    return { fired: done, failed, unfinished };
  } finally {
    // Past the timeout, handlers still going are stopped and their messages released at once.
    await worker.stop({ graceMs: unfinished > 0 ? 0 : 30_000 });
  }
}
