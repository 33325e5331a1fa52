// Finding cron fire times. Two layers:
//  1. nextWall: the next wall-clock reading that matches the fields, jumping field by
//     field (year → month → day → hour → minute → second) instead of ticking, so a sparse
//     or impossible expression costs a few steps per year, never a walk through minutes.
//  2. cronInstants: maps readings to instants through the zone, applying the syntax's DST
//     policy to readings in a spring-forward gap or a fall-back overlap, and yields
//     instants in ascending order.
// Every search is bounded: AWS by its year field (≤ 2199), Unix by 400 years (one full
// Gregorian cycle, after which the calendar repeats) and by the year 9999.

import { civilFromDays, daysFromCivil, SECONDS_PER_DAY, wallPartsOf, wallSecondsOf } from './calendar.ts';
import { type CronSpec, dayMask } from './cron-spec.ts';
import type { TimeZone, Transition } from './timezone.ts';

/** What a syntax does with wall-clock readings that DST removes or repeats. */
export interface DstPolicy {
  /** A reading repeated by a fall-back: fire at its first occurrence only, or on both passes. */
  readonly overlap: 'first' | 'both';
  /** A reading skipped by a spring-forward: do not fire, or fire once at the end of the gap. */
  readonly gap: 'skip' | 'end';
}

export const EARLIEST_YEAR = 1000;
export const LATEST_YEAR = 9999;
/** A pattern that matches nothing in 400 years matches nothing ever (the Gregorian cycle). */
const UNIX_HORIZON_YEARS = 400;
const EARLIEST_SECONDS = daysFromCivil(EARLIEST_YEAR, 1, 3) * SECONDS_PER_DAY;
const LATEST_SECONDS = daysFromCivil(LATEST_YEAR + 1, 1, 1) * SECONDS_PER_DAY;

const ctz = (x: number): number => 31 - Math.clz32(x & -x);

/** The first wall reading ≥ `from` (wall seconds) matching the spec, up to the end of `lastYear`. */
export function nextWall(spec: CronSpec, from: number, lastYear: number): number | undefined {
  let { year, month, day, hour, minute, second } = wallPartsOf(from);
  let maskKey = -1;
  let mask = 0;
  // Each pass moves at least one field forward; a few passes per month suffice, so
  // this guard only turns a would-be bug into an exception rather than a spin.
  for (let guard = 0; guard < 200_000; guard++) {
    if (year > lastYear) return undefined;
    if (spec.years) {
      const y = spec.years.ceil(year);
      if (y < 0 || y > lastYear) return undefined;
      if (y !== year) {
        year = y;
        month = 1;
        day = 1;
        hour = minute = second = 0;
      }
    }
    const m = spec.months.ceil(month);
    if (m < 0) {
      year++;
      month = 1;
      day = 1;
      hour = minute = second = 0;
      continue;
    }
    if (m !== month) {
      month = m;
      day = 1;
      hour = minute = second = 0;
    }
    if (maskKey !== year * 16 + month) {
      maskKey = year * 16 + month;
      mask = dayMask(spec, year, month);
    }
    const rest = day > 31 ? 0 : mask >>> (day - 1);
    if (rest === 0) {
      month++;
      day = 1;
      hour = minute = second = 0;
      continue;
    }
    const d = day + ctz(rest);
    if (d !== day) {
      day = d;
      hour = minute = second = 0;
    }
    const h = spec.hours.ceil(hour);
    if (h < 0) {
      day++;
      hour = minute = second = 0;
      continue;
    }
    if (h !== hour) {
      hour = h;
      minute = second = 0;
    }
    const mi = spec.minutes.ceil(minute);
    if (mi < 0) {
      hour++;
      minute = second = 0;
      continue;
    }
    if (mi !== minute) {
      minute = mi;
      second = 0;
    }
    const s = spec.seconds.ceil(second);
    if (s < 0) {
      minute++;
      second = 0;
      continue;
    }
    return wallSecondsOf({ year, month, day, hour, minute, second: s });
  }
  throw new Error('cron search did not converge; this is a bug in mainspring');
}

/**
 * Fire instants (epoch ms) of a cron spec in a zone, strictly after `afterMs`, ascending,
 * ending at the search horizon or after `untilMs` (when given).
 *
 * Readings are walked in ascending wall-clock order, which is real-time order except in a
 * fall-back overlap: there every first pass precedes every second pass. So the main walk
 * emits first passes, and when a policy wants both passes, the overlap's second pass is a
 * separate walk over its (at most a few hours of) readings, emitted as soon as the main
 * walk reaches the transition.
 */
export function* cronInstants(
  spec: CronSpec,
  zone: TimeZone,
  policy: DstPolicy,
  afterMs: number,
  untilMs?: number,
): Generator<number, void, undefined> {
  const minInstant = Math.max(Math.floor(afterMs / 1000) + 1, EARLIEST_SECONDS);
  if (minInstant >= LATEST_SECONDS) return;
  let wall = minInstant + zone.offsetAt(minInstant);
  let lastYear = spec.years ? spec.years.max : Math.min(LATEST_YEAR, yearOf(wall) + UNIX_HORIZON_YEARS);
  if (untilMs !== undefined) lastYear = Math.min(lastYear, yearOf(Math.floor(untilMs / 1000)) + 1);
  // An overlap whose second pass is still to come (only when the policy fires both passes).
  let pending: { transition: Transition; from: number } | undefined;
  const near = zone.transitionNear(minInstant);
  if (near && near.after > near.before && near.at >= minInstant) {
    // A gap ends at or after minInstant: its readings (fired at its end) lie below `wall`.
    wall = minInstant + near.before;
  } else if (near && near.after < near.before) {
    const span = near.before - near.after;
    if (minInstant >= near.at && minInstant < near.at + span) {
      // Inside the second pass: its readings were all shown already by the first pass.
      wall = near.at + near.before;
      if (policy.overlap === 'both') pending = { transition: near, from: minInstant + near.after };
    } else if (minInstant < near.at && minInstant > near.at - span && policy.overlap === 'both') {
      // Inside the first pass: the second pass repeats readings below `wall` too.
      pending = { transition: near, from: near.at + near.after };
    }
  }
  let last = Number.NEGATIVE_INFINITY;
  const secondPass = function* (p: NonNullable<typeof pending>): Generator<number, void, undefined> {
    const { at, before, after } = p.transition;
    for (let w = p.from; ; ) {
      const reading = nextWall(spec, w, lastYear);
      if (reading === undefined || reading >= at + before) return;
      const instant = reading - after;
      if (instant >= minInstant && instant > last) {
        last = instant;
        yield instant * 1000;
      }
      w = reading + 1;
    }
  };
  for (;;) {
    const reading = nextWall(spec, wall, lastYear);
    if (reading === undefined) break;
    const r = zone.resolve(reading);
    let instant: number | undefined;
    if (r.kind === 'gap') {
      if (policy.gap === 'end') instant = r.end;
      wall = r.wallAfter; // skip the rest of the gap in one step
    } else {
      instant = r.kind === 'unique' ? r.instant : r.first;
      if (r.kind === 'overlap' && policy.overlap === 'both' && pending?.transition.at !== r.transition.at) {
        const { at, after } = r.transition;
        pending = { transition: r.transition, from: Math.max(at + after, minInstant + after) };
      }
      wall = reading + 1;
    }
    if (instant === undefined) continue;
    if (pending && instant >= pending.transition.at) {
      yield* secondPass(pending);
      pending = undefined;
    }
    if (instant >= minInstant && instant > last) {
      last = instant;
      yield instant * 1000;
    }
    if (untilMs !== undefined && instant * 1000 > untilMs) return;
  }
  if (pending) yield* secondPass(pending);
}

function yearOf(wallOrInstant: number): number {
  return civilFromDays(Math.floor(wallOrInstant / SECONDS_PER_DAY)).year;
}
