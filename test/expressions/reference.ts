// An independent reference for the property tests: cron expressions generated as
// structures (rendered to text for parseSchedule, evaluated directly here), and a
// brute-force matcher that walks real time minute by minute (or second by second),
// reads the wall clock through Intl.formatToParts, and applies each syntax's DST rule
// as the issue states it. Shares no code with src/expressions.

import fc from 'fast-check';

export type Item =
  | { kind: 'star' }
  | { kind: 'value'; v: number }
  | { kind: 'range'; a: number; b: number }
  | { kind: 'step'; base: 'star' | number | readonly [number, number]; step: number };

export interface Field {
  items: readonly Item[];
  /** Render numbers as names (months, weekdays) where a name exists. */
  names: boolean;
}

export function itemMatches(item: Item, v: number, min: number, max: number): boolean {
  switch (item.kind) {
    case 'star':
      return v >= min && v <= max;
    case 'value':
      return v === item.v;
    case 'range':
      return v >= item.a && v <= item.b;
    case 'step': {
      const [lo, hi] =
        item.base === 'star' ? [min, max] : typeof item.base === 'number' ? [item.base, max] : item.base;
      return v >= lo && v <= hi && (v - lo) % item.step === 0;
    }
  }
}

export function fieldMatches(field: Field, v: number, min: number, max: number): boolean {
  return field.items.some((item) => itemMatches(item, v, min, max));
}

function renderItem(item: Item, num: (v: number) => string): string {
  switch (item.kind) {
    case 'star':
      return '*';
    case 'value':
      return num(item.v);
    case 'range':
      return `${num(item.a)}-${num(item.b)}`;
    case 'step': {
      const base =
        item.base === 'star'
          ? '*'
          : typeof item.base === 'number'
            ? num(item.base)
            : `${num(item.base[0])}-${num(item.base[1])}`;
      return `${base}/${item.step}`;
    }
  }
}

export function renderField(field: Field, nameOf?: (v: number) => string | undefined): string {
  const num = (v: number) => (field.names && nameOf?.(v)) || String(v);
  return field.items.map((item) => renderItem(item, num)).join(',');
}

export function fieldArb(
  min: number,
  max: number,
  opts: { steps: boolean; names?: boolean; stepFromValue?: boolean },
): fc.Arbitrary<Field> {
  const value = fc.integer({ min, max });
  const pair = fc.tuple(value, value).map(([a, b]) => (a <= b ? ([a, b] as const) : ([b, a] as const)));
  const arbs: fc.Arbitrary<Item>[] = [
    value.map((v) => ({ kind: 'value' as const, v })),
    pair.map(([a, b]) => ({ kind: 'range' as const, a, b })),
  ];
  if (opts.steps) {
    arbs.push(
      fc.record({
        kind: fc.constant('step' as const),
        base:
          opts.stepFromValue === false
            ? fc.oneof(fc.constant('star' as const), pair)
            : fc.oneof(fc.constant('star' as const), value, pair),
        step: fc.integer({ min: 1, max: Math.min(max - min + 1, 25) }),
      }),
    );
  }
  const item = fc.oneof(...arbs);
  const items = fc.oneof(
    { weight: 3, arbitrary: fc.constant<Item[]>([{ kind: 'star' }]) },
    { weight: 4, arbitrary: item.map((i) => [i]) },
    { weight: 2, arbitrary: fc.array(item, { minLength: 2, maxLength: 4 }) },
  );
  return fc.record({ items, names: opts.names ? fc.boolean() : fc.constant(false) });
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Wall-clock fields of a wall reading given as a UTC-like millisecond count. */
export interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
  lastDay: number;
}

export function wallOf(wallMs: number): Wall {
  const d = new Date(wallMs);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  return {
    year,
    month,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
    lastDay: new Date(Date.UTC(year, month, 0)).getUTCDate(),
  };
}

const weekdayOn = (w: Wall, day: number) => new Date(Date.UTC(w.year, w.month - 1, day)).getUTCDay();
const isWorkday = (w: Wall, day: number) => weekdayOn(w, day) !== 0 && weekdayOn(w, day) !== 6;

// ---------------------------------------------------------------- AWS cron()

export type AwsDom =
  | { kind: 'any' }
  | { kind: 'field'; field: Field }
  | { kind: 'L' }
  | { kind: 'LW' }
  | { kind: 'W'; day: number };
export type AwsDow =
  | { kind: 'any' }
  | { kind: 'field'; field: Field }
  | { kind: 'L' }
  | { kind: 'nL'; weekday: number }
  | { kind: 'hash'; weekday: number; nth: number };

export interface AwsExpr {
  minute: Field;
  hour: Field;
  dom: AwsDom;
  month: Field;
  dow: AwsDow;
  year: Field;
}

const domModeArb: fc.Arbitrary<{ dom: AwsDom; dow: AwsDow }> = fc.record({
  dom: fc.oneof(
    {
      weight: 5,
      arbitrary: fieldArb(1, 31, { steps: true }).map((field): AwsDom => ({ kind: 'field', field })),
    },
    { weight: 1, arbitrary: fc.constant<AwsDom>({ kind: 'L' }) },
    { weight: 1, arbitrary: fc.constant<AwsDom>({ kind: 'LW' }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 31 }).map((day): AwsDom => ({ kind: 'W', day })) },
  ),
  dow: fc.constant<AwsDow>({ kind: 'any' }),
});

const dowModeArb: fc.Arbitrary<{ dom: AwsDom; dow: AwsDow }> = fc.record({
  dom: fc.constant<AwsDom>({ kind: 'any' }),
  dow: fc.oneof(
    {
      weight: 5,
      arbitrary: fieldArb(1, 7, { steps: false, names: true }).map(
        (field): AwsDow => ({ kind: 'field', field }),
      ),
    },
    { weight: 1, arbitrary: fc.constant<AwsDow>({ kind: 'L' }) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 1, max: 7 }).map((weekday): AwsDow => ({ kind: 'nL', weekday })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 5 }))
        .map(([weekday, nth]): AwsDow => ({ kind: 'hash', weekday, nth })),
    },
  ),
});

export const awsArb: fc.Arbitrary<AwsExpr> = fc
  .record({
    minute: fieldArb(0, 59, { steps: true }),
    hour: fieldArb(0, 23, { steps: true }),
    month: fieldArb(1, 12, { steps: true, names: true }),
    year: fc.constantFrom<Field>(
      { items: [{ kind: 'star' }], names: false },
      { items: [{ kind: 'range', a: 2024, b: 2031 }], names: false },
      { items: [{ kind: 'step', base: 2025, step: 2 }], names: false },
      {
        items: [
          { kind: 'value', v: 2026 },
          { kind: 'value', v: 2027 },
        ],
        names: false,
      },
    ),
    days: fc.oneof(domModeArb, dowModeArb),
  })
  .map(({ days, ...rest }) => ({ ...rest, ...days }));

export function renderAws(e: AwsExpr): string {
  const dom =
    e.dom.kind === 'any'
      ? '?'
      : e.dom.kind === 'field'
        ? renderField(e.dom.field)
        : e.dom.kind === 'W'
          ? `${e.dom.day}W`
          : e.dom.kind;
  const dow =
    e.dow.kind === 'any'
      ? '?'
      : e.dow.kind === 'field'
        ? renderField(e.dow.field, (v) => DAY_NAMES[v - 1])
        : e.dow.kind === 'L'
          ? 'L'
          : e.dow.kind === 'nL'
            ? `${e.dow.weekday}L`
            : `${e.dow.weekday}#${e.dow.nth}`;
  return `cron(${renderField(e.minute)} ${renderField(e.hour)} ${dom} ${renderField(e.month, (v) => MONTH_NAMES[v - 1])} ${dow} ${renderField(e.year)})`;
}

function awsDomMatches(dom: AwsDom, w: Wall): boolean {
  switch (dom.kind) {
    case 'any':
      return true;
    case 'field':
      return fieldMatches(dom.field, w.day, 1, 31);
    case 'L':
      return w.day === w.lastDay;
    case 'LW': {
      let d = w.lastDay;
      while (!isWorkday(w, d)) d--;
      return w.day === d;
    }
    case 'W': {
      // The workday of the month closest to the target day; a day the month lacks selects nothing.
      if (dom.day > w.lastDay) return false;
      let best = -1;
      for (let d = 1; d <= w.lastDay; d++) {
        if (isWorkday(w, d) && (best < 0 || Math.abs(d - dom.day) < Math.abs(best - dom.day))) best = d;
      }
      return w.day === best;
    }
  }
}

function awsDowMatches(dow: AwsDow, w: Wall): boolean {
  switch (dow.kind) {
    case 'any':
      return true;
    case 'field':
      return fieldMatches(dow.field, w.weekday + 1, 1, 7);
    case 'L':
      return w.weekday === 6;
    case 'nL':
      return w.weekday === dow.weekday - 1 && w.day + 7 > w.lastDay;
    case 'hash':
      return w.weekday === dow.weekday - 1 && Math.floor((w.day - 1) / 7) + 1 === dow.nth;
  }
}

export function awsDayMatches(e: AwsExpr, w: Wall): boolean {
  return (
    fieldMatches(e.month, w.month, 1, 12) &&
    fieldMatches(e.year, w.year, 1970, 2199) &&
    awsDomMatches(e.dom, w) &&
    awsDowMatches(e.dow, w)
  );
}

export function awsTimeMatches(e: AwsExpr, w: Wall): boolean {
  return w.second === 0 && fieldMatches(e.minute, w.minute, 0, 59) && fieldMatches(e.hour, w.hour, 0, 23);
}

export function awsMatches(e: AwsExpr, w: Wall): boolean {
  return awsTimeMatches(e, w) && awsDayMatches(e, w);
}

// ---------------------------------------------------------------- Unix cron

export interface UnixExpr {
  second: Field | undefined;
  minute: Field;
  hour: Field;
  dom: Field;
  month: Field;
  dow: Field;
}

export function unixArb(withSeconds: boolean): fc.Arbitrary<UnixExpr> {
  const unix = { steps: true, stepFromValue: false };
  return fc.record({
    second: withSeconds ? fieldArb(0, 59, unix) : fc.constant(undefined),
    minute: fieldArb(0, 59, unix),
    hour: fieldArb(0, 23, unix),
    dom: fieldArb(1, 31, unix),
    month: fieldArb(1, 12, { ...unix, names: true }),
    dow: fieldArb(0, 7, { ...unix, names: true }),
  });
}

export function renderUnix(e: UnixExpr): string {
  const parts = [
    renderField(e.minute),
    renderField(e.hour),
    renderField(e.dom),
    renderField(e.month, (v) => MONTH_NAMES[v - 1]),
    renderField(e.dow, (v) => DAY_NAMES[v]),
  ];
  return (e.second ? [renderField(e.second), ...parts] : parts).join(' ');
}

export function unixTimeMatches(e: UnixExpr, w: Wall): boolean {
  if (!(e.second ? fieldMatches(e.second, w.second, 0, 59) : w.second === 0)) return false;
  return fieldMatches(e.minute, w.minute, 0, 59) && fieldMatches(e.hour, w.hour, 0, 23);
}

export function unixMatches(e: UnixExpr, w: Wall): boolean {
  return unixTimeMatches(e, w) && unixDayMatches(e, w);
}

export function unixDayMatches(e: UnixExpr, w: Wall): boolean {
  if (!fieldMatches(e.month, w.month, 1, 12)) return false;
  const dom = fieldMatches(e.dom, w.day, 1, 31);
  const dow = fieldMatches(e.dow, w.weekday, 0, 7) || (w.weekday === 0 && fieldMatches(e.dow, 7, 0, 7));
  // Vixie: a day field whose text starts with "*" makes the two combine with AND.
  const star = renderField(e.dom).startsWith('*') || renderField(e.dow).startsWith('*');
  return star ? dom && dow : dom || dow;
}

/** Fixed-time Unix jobs: the second, minute and hour fields are each one plain value. */
export function unixIsFixed(e: UnixExpr): boolean {
  const plain = (f: Field | undefined) => !f || (f.items.length === 1 && f.items[0]!.kind === 'value');
  return plain(e.second) && plain(e.minute) && plain(e.hour);
}

// ---------------------------------------------------------------- real-time walk

export interface Policy {
  overlap: 'first' | 'both';
  gap: 'skip' | 'end';
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Offset (ms) of `zone` at the start of the minute containing `t`, via formatToParts. */
export function offsetMsAt(zone: string, t: number, memo: Map<number, number>): number {
  const minute = Math.floor(t / 60_000);
  const known = memo.get(minute);
  if (known !== undefined) return known;
  let fmt = formatters.get(zone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(zone, fmt);
  }
  const parts = Object.fromEntries(fmt.formatToParts(minute * 60_000).map((p) => [p.type, p.value]));
  const wall = Date.UTC(
    Number(parts['year']),
    Number(parts['month']) - 1,
    Number(parts['day']),
    Number(parts['hour']),
    Number(parts['minute']),
  );
  const offset = wall - minute * 60_000;
  memo.set(minute, offset);
  return offset;
}

/**
 * Every fire instant in (afterMs, endMs], found by stepping through real time one
 * `stepMs` at a time and looking at the wall clock.
 */
export function referenceFires(
  matches: (w: Wall) => boolean,
  zone: string,
  policy: Policy,
  afterMs: number,
  endMs: number,
  stepMs = 60_000,
): number[] {
  const memo = new Map<number, number>();
  const wallAt = (t: number) => t + offsetMsAt(zone, t, memo);
  const out: number[] = [];
  for (let t = Math.floor(afterMs / stepMs) * stepMs + stepMs; t <= endMs; t += stepMs) {
    const w = wallAt(t);
    let fire = false;
    if (matches(wallOf(w))) {
      // A second pass shows a reading already shown 30, 60 or 120 minutes earlier.
      const repeated = [30, 60, 120].some((m) => wallAt(t - m * 60_000) === w);
      fire = policy.overlap === 'both' || !repeated;
    }
    const prev = wallAt(t - stepMs);
    if (!fire && policy.gap === 'end' && w - prev > stepMs) {
      for (let s = prev + stepMs; s < w; s += stepMs) {
        if (matches(wallOf(s))) {
          fire = true;
          break;
        }
      }
    }
    if (fire) out.push(t);
  }
  return out;
}

/** DST transitions (instants where the offset changes) of a zone between two instants. */
export function transitions(zone: string, fromMs: number, toMs: number): number[] {
  const memo = new Map<number, number>();
  const out: number[] = [];
  const step = 6 * 3_600_000;
  for (let t = fromMs; t < toMs; t += step) {
    if (offsetMsAt(zone, t, memo) === offsetMsAt(zone, t + step, memo)) continue;
    let lo = t;
    let hi = t + step;
    while (hi - lo > 60_000) {
      const mid = Math.floor((lo + hi) / 120_000) * 60_000;
      if (offsetMsAt(zone, mid, memo) === offsetMsAt(zone, lo, memo)) lo = mid;
      else hi = mid;
    }
    out.push(hi);
  }
  return out;
}
