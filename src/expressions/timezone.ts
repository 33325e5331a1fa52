// Time-zone arithmetic through Intl: the UTC offset of an instant, and the reverse,
// which instants a wall-clock reading denotes (one, two in a fall-back overlap, none
// in a spring-forward gap, and then where the gap ends). All times are whole seconds.
//
// Like Temporal's reference implementation we assume a zone changes its offset at
// most once within any two days; every IANA zone satisfies this for the years a
// schedule can name.

import { daysFromCivil, formatOffset, formatWall, SECONDS_PER_DAY, SECONDS_PER_HOUR } from './calendar.ts';
import { ScheduleError } from './errors.ts';

/** A change of a zone's offset: at instant `at` (epoch seconds) from `before` to `after` (seconds). */
export interface Transition {
  readonly at: number;
  readonly before: number;
  readonly after: number;
}

/** How a wall-clock reading maps onto real time in one zone. */
export type WallResolution =
  /** The reading occurs once, at `instant`. */
  | { kind: 'unique'; instant: number }
  /** The reading occurs twice (fall-back overlap): first in the earlier, then in the later offset. */
  | { kind: 'overlap'; first: number; second: number; transition: Transition }
  /** The reading never occurs (spring-forward gap); the clock jumps at `end`, to the reading `wallAfter`. */
  | { kind: 'gap'; end: number; wallAfter: number };

// Enough fields to rebuild the wall reading; h23 avoids the "24:00" midnight of h24 locales.
const FORMAT_OPTIONS: Intl.DateTimeFormatOptions = {
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
};
// en-US prints "11/1/2026, 01:30:00"; any run of non-digits separates the six numbers.
const FORMAT_PATTERN = /^(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)$/;
const MEMO_LIMIT = 8192;
const TRANSITION_LIMIT = 1024;

/**
 * One IANA time zone, with a small memo of offsets it has already computed.
 * Obtain instances through {@link getTimeZone}.
 */
export class TimeZone {
  /** The canonical zone name as Intl resolves it, e.g. `America/New_York`. */
  readonly name: string;
  readonly #format: Intl.DateTimeFormat;
  readonly #isUtc: boolean;
  readonly #memo = new Map<number, number>();
  /** Transitions found so far, by the day number (UTC) they fall on. */
  readonly #transitions = new Map<number, Transition>();

  constructor(name: string, format: Intl.DateTimeFormat) {
    this.name = name;
    this.#format = format;
    this.#isUtc = name === 'UTC' || name === 'Etc/UTC';
  }

  /** Offset from UTC in seconds (wall = instant + offset) at an instant given in epoch seconds. */
  offsetAt(instant: number): number {
    if (this.#isUtc) return 0;
    const known = this.#memo.get(instant);
    if (known !== undefined) return known;
    const text = this.#format.format(instant * 1000);
    const m = FORMAT_PATTERN.exec(text);
    if (!m) throw new Error(`Intl produced an unexpected date format: ${JSON.stringify(text)}`);
    const wall =
      daysFromCivil(Number(m[3]), Number(m[1]), Number(m[2])) * SECONDS_PER_DAY +
      Number(m[4]) * 3600 +
      Number(m[5]) * 60 +
      Number(m[6]);
    const offset = wall - instant;
    if (this.#memo.size >= MEMO_LIMIT) this.#memo.clear();
    this.#memo.set(instant, offset);
    return offset;
  }

  /** The wall-clock reading (wall seconds) at an instant (epoch seconds). */
  wallAt(instant: number): number {
    return instant + this.offsetAt(instant);
  }

  /** Which instants show the wall-clock reading `wall` (wall seconds) in this zone. */
  resolve(wall: number): WallResolution {
    if (this.#isUtc) return { kind: 'unique', instant: wall };
    // Probe a day either side, at hour boundaries so that consecutive readings share the memo.
    const hour = Math.floor(wall / SECONDS_PER_HOUR) * SECONDS_PER_HOUR;
    const lo = hour - SECONDS_PER_DAY;
    const hi = hour + SECONDS_PER_DAY + SECONDS_PER_HOUR;
    const before = this.offsetAt(lo);
    const after = this.offsetAt(hi);
    if (before === after) return { kind: 'unique', instant: wall - before };
    const transition = this.#transitionBetween(lo, hi, before, after, wall);
    const { at } = transition;
    const [low, high] = before < after ? [before, after] : [after, before];
    if (wall < at + low) return { kind: 'unique', instant: wall - before };
    if (wall >= at + high) return { kind: 'unique', instant: wall - after };
    return before < after
      ? { kind: 'gap', end: at, wallAfter: at + after }
      : { kind: 'overlap', first: wall - before, second: wall - after, transition };
  }

  /** The offset change within about a day of `instant` (epoch seconds), if there is one. */
  transitionNear(instant: number): Transition | undefined {
    if (this.#isUtc) return undefined;
    const hour = Math.floor(instant / SECONDS_PER_HOUR) * SECONDS_PER_HOUR;
    const lo = hour - SECONDS_PER_DAY;
    const hi = hour + SECONDS_PER_DAY + SECONDS_PER_HOUR;
    const before = this.offsetAt(lo);
    const after = this.offsetAt(hi);
    return before === after ? undefined : this.#transitionBetween(lo, hi, before, after, instant + before);
  }

  /** The change in (lo, hi] from offset `before` to `after`, found once per zone and cached. */
  #transitionBetween(lo: number, hi: number, before: number, after: number, wall: number): Transition {
    // (lo, hi] spans three UTC days at most; a zone changes offset at most once in them.
    for (let day = Math.floor(lo / SECONDS_PER_DAY); day <= Math.floor(hi / SECONDS_PER_DAY); day++) {
      const known = this.#transitions.get(day);
      if (known && known.at > lo && known.at <= hi && known.before === before && known.after === after)
        return known;
    }
    // The readings a change of offset affects lie within one offset difference of `wall`:
    // look there first, which brackets the change to within an hour or so.
    const early = wall - Math.max(before, after);
    const late = wall - Math.min(before, after);
    let at: number;
    if (this.offsetAt(early) !== before) at = this.#search(lo, early, before);
    else if (this.offsetAt(late) === before) at = this.#search(late, hi, before);
    else at = this.#search(early, late, before);
    if (this.#transitions.size >= TRANSITION_LIMIT) this.#transitions.clear();
    const transition = { at, before, after };
    this.#transitions.set(Math.floor(at / SECONDS_PER_DAY), transition);
    return transition;
  }

  /** The first instant in (lo, hi] whose offset is not `from`, given offsetAt(lo) = from ≠ offsetAt(hi). */
  #search(lo: number, hi: number, from: number): number {
    let low = lo;
    let high = hi;
    while (high - low > SECONDS_PER_HOUR) {
      const mid = low + Math.floor((high - low) / 2);
      if (this.offsetAt(mid) === from) low = mid;
      else high = mid;
    }
    // Zones switch at a round reading of the old offset (02:00, 01:00 UTC, …): try the
    // whole, half and quarter hours and the minutes first, then bisect to the second.
    for (const step of [3600, 1800, 900, 60]) {
      const guess = Math.ceil((low + 1 + from) / step) * step - from;
      if (guess <= high && this.offsetAt(guess) !== from && this.offsetAt(guess - 1) === from) return guess;
    }
    while (high - low > 1) {
      const mid = low + Math.floor((high - low) / 2);
      if (this.offsetAt(mid) === from) low = mid;
      else high = mid;
    }
    return high;
  }
}

// Instances by the name as given (bounded: names differing only in case all resolve) and
// by canonical name (so every spelling shares one memo).
const byName = new Map<string, TimeZone>();
const byCanonical = new Map<string, TimeZone>();
const NAME_LIMIT = 1024;

/**
 * Looks up an IANA time zone (case-insensitive, e.g. `europe/berlin`), or throws a
 * {@link ScheduleError} naming it. Instances are cached.
 *
 * @example
 * ```ts
 * const zone = getTimeZone('Asia/Kolkata');
 * zone.offsetAt(Date.UTC(2026, 0, 1) / 1000); // 19800 (+05:30)
 * ```
 */
export function getTimeZone(name: string, field = 'timezone'): TimeZone {
  const cached = byName.get(name);
  if (cached) return cached;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new ScheduleError(
      field,
      `${field} is ${JSON.stringify(name)}; give an IANA zone name such as "Europe/Berlin", "America/New_York" or "UTC"`,
    );
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', { ...FORMAT_OPTIONS, timeZone: name });
  } catch (cause) {
    throw new ScheduleError(
      field,
      `${field} "${name}" is not a known IANA time zone; use a name such as "Europe/Berlin", "America/New_York" or "UTC"`,
      { token: name, cause },
    );
  }
  const canonical = format.resolvedOptions().timeZone;
  let zone = byCanonical.get(canonical);
  if (!zone) {
    zone = new TimeZone(canonical, format);
    byCanonical.set(canonical, zone);
  }
  if (byName.size >= NAME_LIMIT) byName.clear();
  byName.set(name, zone);
  return zone;
}

/**
 * Formats an instant as the wall-clock time in a zone, RFC 3339 style with the offset.
 *
 * @example
 * ```ts
 * formatInTimeZone(new Date('2026-03-08T07:00:00Z'), 'America/New_York'); // "2026-03-08T03:00:00-04:00"
 * ```
 */
export function formatInTimeZone(instant: Date, timezone: string): string {
  const zone = getTimeZone(timezone);
  const seconds = Math.floor(instant.getTime() / 1000);
  const offset = zone.offsetAt(seconds);
  return `${formatWall(seconds + offset).replace(' ', 'T')}${formatOffset(offset)}`;
}
