// Which ticks of a due schedule fire now, and what it owes next: the misfire and
// overlap policies and the flexible window. Pure: the clock reading and the random
// source come in as arguments, so every policy is tested without waiting.

import type { Schedule } from '../expressions/index.ts';
import type { ScheduleSpec } from './spec.ts';

export interface TickInput {
  readonly spec: ScheduleSpec;
  readonly schedule: Schedule;
  /** The tick owed (the row's nextTickMs). */
  readonly tickMs: number;
  /** When it was due to fire (the tick plus its flexible offset). */
  readonly dueAtMs: number;
  /** Whether the previous tick's invocation is still queued or running. */
  readonly lastActive: boolean;
  readonly nowMs: number;
  /** A tick fired within this long after it was due is late, not missed. */
  readonly graceMs: number;
  /** How long after now a held tick is looked at again. */
  readonly recheckMs: number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

export interface FiredTick {
  /** The tick's own time (trigger.tickAt). */
  readonly tickMs: number;
  /** When it was due: the tick plus its flexible offset (its run's scheduledFor). */
  readonly dueAtMs: number;
  /** When its run may start: its due time, or now when that has passed. */
  readonly atMs: number;
  /** True for ticks fired by the misfire policy after downtime. */
  readonly catchUp: boolean;
}

export interface TickDecision {
  readonly fire: readonly FiredTick[];
  /** Ticks passed over (missed and skipped, or skipped for overlap); at most what was counted. */
  readonly skipped: number;
  /**
   * The tick was taken past the misfire grace: `skipped` counts the ticks the misfire policy
   * skipped or coalesced into one. Otherwise `skipped` is the tick skipped for overlap, if any.
   */
  readonly missed: boolean;
  readonly nextTickMs: number | null;
  readonly dueAtMs: number | null;
  /** The tick was held back by `overlap: 'queue'`: nothing advanced. */
  readonly held: boolean;
}

/** The schedule's first tick strictly after `afterMs`, or null when it has ended. */
export function tickAfter(schedule: Schedule, afterMs: number): number | null {
  return schedule.next(new Date(afterMs), 1)[0]?.getTime() ?? null;
}

/** When a tick is due: the tick itself, or a uniform instant within the flexible window after it. */
export function dueAt(spec: ScheduleSpec, tickMs: number | null, random: () => number): number | null {
  if (tickMs === null) return null;
  if (spec.flexibleWindowMs === 0) return tickMs;
  return tickMs + Math.floor(random() * spec.flexibleWindowMs);
}

export function decideTicks(input: TickInput): TickDecision {
  const { spec, schedule, tickMs, nowMs, graceMs, random } = input;
  const hold = input.lastActive && spec.overlap === 'queue';
  if (hold) {
    return {
      fire: [],
      skipped: 0,
      missed: false,
      nextTickMs: tickMs,
      dueAtMs: nowMs + input.recheckMs,
      held: true,
    };
  }
  const skipForOverlap = input.lastActive && spec.overlap === 'skip';
  const next = (after: number) => {
    const t = tickAfter(schedule, after);
    return { nextTickMs: t, dueAtMs: dueAt(spec, t, random) };
  };
  // A tick held by `queue` fires however late it is: it was owed, not missed.
  if (nowMs - input.dueAtMs <= graceMs || spec.overlap === 'queue') {
    return {
      fire: skipForOverlap
        ? []
        : [{ tickMs, dueAtMs: input.dueAtMs, atMs: Math.max(input.dueAtMs, nowMs), catchUp: false }],
      skipped: skipForOverlap ? 1 : 0,
      missed: false,
      held: false,
      ...next(tickMs),
    };
  }
  // Missed: no scheduler took the tick within the grace period. Ticks from here on
  // within the grace are merely late and fire on the next passes.
  const missedUntil = nowMs - graceMs;
  const resume = next(missedUntil);
  if (skipForOverlap || spec.misfire === 'skip') {
    return {
      fire: [],
      skipped: 1 + countBetween(schedule, tickMs, missedUntil, 1000),
      missed: true,
      held: false,
      ...resume,
    };
  }
  if (spec.misfire === 'once') {
    return {
      fire: [{ tickMs, dueAtMs: input.dueAtMs, atMs: nowMs, catchUp: true }],
      skipped: countBetween(schedule, tickMs, missedUntil, 1000),
      missed: true,
      held: false,
      ...resume,
    };
  }
  // 'all': the missed ticks oldest first, up to the limit; any beyond it are skipped.
  const ticks = [
    tickMs,
    ...schedule.next(new Date(tickMs), spec.misfireLimit).map((d) => d.getTime()),
  ].filter((t) => t <= missedUntil);
  const fired = ticks.slice(0, spec.misfireLimit);
  const last = fired[fired.length - 1]!;
  const more = ticks.length > spec.misfireLimit;
  return {
    fire: fired.map((t) => ({
      tickMs: t,
      dueAtMs: t === tickMs ? input.dueAtMs : t,
      atMs: nowMs,
      catchUp: true,
    })),
    skipped: more ? countBetween(schedule, last, missedUntil, 1000) : 0,
    missed: true,
    held: false,
    ...(more ? resume : next(last)),
  };
}

/** Ticks in (fromMs, toMs], counted up to `cap`. */
function countBetween(schedule: Schedule, fromMs: number, toMs: number, cap: number): number {
  if (toMs <= fromMs) return 0;
  return schedule.next(new Date(fromMs), cap).filter((d) => d.getTime() <= toMs).length;
}
