// The compiled form shared by AWS cron(), Unix cron and CDK cron objects: the allowed
// values of each field, the day-of-month / day-of-week rules and how they combine.
// Parsers produce it; the search (cron-search.ts) and describe.ts consume it.

import { daysInMonth, weekdayOf } from './calendar.ts';

/** A sorted set of allowed values in [min, max], with an O(1) "next allowed value ≥ v". */
export class FieldSet {
  readonly values: readonly number[];
  readonly min: number;
  readonly max: number;
  readonly #ceil: Int16Array;

  constructor(values: Iterable<number>, min: number, max: number) {
    this.values = [...new Set(values)].sort((a, b) => a - b);
    this.min = min;
    this.max = max;
    this.#ceil = new Int16Array(max - min + 1).fill(-1);
    let next = -1;
    const present = new Set(this.values);
    for (let v = max; v >= min; v--) {
      if (present.has(v)) next = v;
      this.#ceil[v - min] = next;
    }
  }

  /** The smallest allowed value ≥ v, or -1 when there is none. */
  ceil(v: number): number {
    if (v > this.max) return -1;
    return this.#ceil[Math.max(v, this.min) - this.min]!;
  }

  has(v: number): boolean {
    return v >= this.min && v <= this.max && this.#ceil[v - this.min] === v;
  }

  /** True when every value from min to max is allowed. */
  get isAll(): boolean {
    return this.values.length === this.max - this.min + 1;
  }

  /** True when exactly one value is allowed. */
  get isSingle(): boolean {
    return this.values.length === 1;
  }
}

/** What the day-of-month field selects. */
export type DomRule =
  | { kind: 'days'; days: FieldSet }
  | { kind: 'last' }
  | { kind: 'last-weekday' }
  | { kind: 'nearest-weekday'; day: number };

/** What the day-of-week field selects; weekdays are 0 = Sunday … 6 = Saturday. */
export type DowRule =
  | { kind: 'weekdays'; weekdays: FieldSet }
  | { kind: 'last-of'; weekday: number }
  | { kind: 'nth'; weekday: number; nth: number };

/**
 * How the two day fields combine: only one applies (`dom`, `dow`; AWS, where the other
 * is "?"), both must match (`and`), or either may (`or`; Vixie cron when both are restricted).
 */
export type DayCombine = 'dom' | 'dow' | 'and' | 'or';

export interface CronSpec {
  readonly syntax: 'aws' | 'unix';
  /** Whether the expression has a seconds field (6-field Unix cron). */
  readonly hasSeconds: boolean;
  readonly seconds: FieldSet;
  readonly minutes: FieldSet;
  readonly hours: FieldSet;
  readonly months: FieldSet;
  /** Allowed years (AWS); undefined = every year. */
  readonly years: FieldSet | undefined;
  readonly dom: DomRule;
  readonly dow: DowRule;
  readonly combine: DayCombine;
  /**
   * Unix cron: the second, minute and hour fields are each one plain number, so the job
   * runs at one fixed time of day; any wildcard, range, list or step makes it an interval
   * job (issue 3's definition). Always false for AWS, whose DST rule does not depend on it.
   */
  readonly fixedTime: boolean;
}

// Day masks use bit (d - 1) for day d, so day 31 is bit 30 and masks stay positive int32s.
const bit = (day: number): number => 1 << (day - 1);
const upTo = (last: number): number => (1 << last) - 1;

const daysBits = new WeakMap<FieldSet, number>();
const weekBits = new WeakMap<FieldSet, number>();

/** Days 1-31 of a day-of-month set as a mask, computed once per set. */
function daysMask(days: FieldSet): number {
  let mask = daysBits.get(days);
  if (mask === undefined) {
    mask = 0;
    for (const d of days.values) mask |= bit(d);
    daysBits.set(days, mask);
  }
  return mask;
}

/** Days 1-31 of a month starting on weekday `first` whose weekday is in the set (pattern repeats weekly). */
function weekdaysMask(weekdays: FieldSet, first: number): number {
  let week = weekBits.get(weekdays);
  if (week === undefined) {
    week = 0;
    for (const w of weekdays.values) week |= 1 << w;
    weekBits.set(weekdays, week);
  }
  let mask = 0;
  for (let i = 0; i < 7; i++) {
    if (week & (1 << ((first + i) % 7))) mask |= 0x10204081 << i; // days 1+i, 8+i, 15+i, 22+i, 29+i
  }
  return mask;
}

function domMask(rule: DomRule, year: number, month: number): number {
  const last = daysInMonth(year, month);
  switch (rule.kind) {
    case 'days':
      return daysMask(rule.days) & upTo(last);
    case 'last':
      return bit(last);
    case 'last-weekday': {
      const w = weekdayOf(year, month, last);
      return bit(w === 0 ? last - 2 : w === 6 ? last - 1 : last);
    }
    case 'nearest-weekday': {
      // The weekday nearest the given day without leaving the month (Quartz "W").
      // A day the month does not have selects nothing.
      const d = rule.day;
      if (d > last) return 0;
      const w = weekdayOf(year, month, d);
      if (w === 6) return bit(d === 1 ? 3 : d - 1);
      if (w === 0) return bit(d === last ? d - 2 : d + 1);
      return bit(d);
    }
  }
}

function dowMask(rule: DowRule, year: number, month: number): number {
  const last = daysInMonth(year, month);
  const first = weekdayOf(year, month, 1);
  switch (rule.kind) {
    case 'weekdays':
      return weekdaysMask(rule.weekdays, first) & upTo(last);
    case 'last-of': {
      const lastWeekday = (first + last - 1) % 7;
      return bit(last - ((lastWeekday - rule.weekday + 7) % 7));
    }
    case 'nth': {
      const d = 1 + ((rule.weekday - first + 7) % 7) + 7 * (rule.nth - 1);
      return d <= last ? bit(d) : 0;
    }
  }
}

/** The days of `month` in `year` the expression selects, as a bit mask (bit d-1 = day d). */
export function dayMask(spec: CronSpec, year: number, month: number): number {
  switch (spec.combine) {
    case 'dom':
      return domMask(spec.dom, year, month);
    case 'dow':
      return dowMask(spec.dow, year, month);
    case 'and':
      return domMask(spec.dom, year, month) & dowMask(spec.dow, year, month);
    case 'or':
      return domMask(spec.dom, year, month) | dowMask(spec.dow, year, month);
  }
}
