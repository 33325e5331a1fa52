// Plain-English descriptions of compiled schedules, e.g.
// "At 09:00, Monday through Friday (Europe/Berlin)". Works from the compiled field
// sets, so AWS, Unix and CDK spellings of the same schedule read the same.

import type { CronSpec, DomRule, DowRule, FieldSet } from './cron-spec.ts';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth'];

type Shape =
  | { kind: 'all' }
  | { kind: 'single'; value: number }
  | { kind: 'step'; from: number; step: number }
  | { kind: 'range'; from: number; to: number }
  | { kind: 'list'; values: readonly number[] };

function shapeOf(set: FieldSet): Shape {
  const v = set.values;
  if (set.isAll) return { kind: 'all' };
  if (v.length === 1) return { kind: 'single', value: v[0]! };
  const diff = v[1]! - v[0]!;
  const uniform = v.every((x, i) => i === 0 || x - v[i - 1]! === diff);
  if (uniform && v.length >= 3 && diff === 1) return { kind: 'range', from: v[0]!, to: v.at(-1)! };
  // "*/15" or "5/15": a step that runs from the start of the field to its end.
  if (uniform && diff > 1 && v[0]! < set.min + diff && v.at(-1)! + diff > set.max) {
    return { kind: 'step', from: v[0]!, step: diff };
  }
  return { kind: 'list', values: v };
}

export function listPhrase(items: readonly string[], conjunction = 'and'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items.at(-1)}`;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

function clock(hour: number, minute: number, second: number): string {
  return second === 0 ? `${pad2(hour)}:${pad2(minute)}` : `${pad2(hour)}:${pad2(minute)}:${pad2(second)}`;
}

function unitPhrase(set: FieldSet, unit: string): string {
  const s = shapeOf(set);
  switch (s.kind) {
    case 'all':
      return `every ${unit}`;
    case 'single':
      return `at ${unit} ${s.value}`;
    case 'step':
      return s.from === set.min
        ? `every ${s.step} ${unit}s`
        : `every ${s.step} ${unit}s from ${unit} ${s.from}`;
    case 'range':
      return `every ${unit} from ${s.from} through ${s.to}`;
    case 'list':
      return `at ${unit}s ${listPhrase(s.values.map(String))}`;
  }
}

function hourPhrase(hours: FieldSet): string {
  const s = shapeOf(hours);
  switch (s.kind) {
    case 'all':
      return '';
    case 'single':
      return `between ${clock(s.value, 0, 0)} and ${clock(s.value, 59, 0)}`;
    case 'range':
      return `between ${clock(s.from, 0, 0)} and ${clock(s.to, 59, 0)}`;
    case 'step':
      return s.from === 0 ? `every ${s.step} hours` : `every ${s.step} hours from ${clock(s.from, 0, 0)}`;
    case 'list':
      return `during hours ${listPhrase(s.values.map(String))}`;
  }
}

function timePhrase(spec: CronSpec): string {
  const { seconds: S, minutes: M, hours: H } = spec;
  const s0 = S.values[0]!;
  const m0 = M.values[0]!;
  if (S.isSingle && M.isSingle) {
    if (H.isSingle) return `At ${clock(H.values[0]!, m0, s0)}`;
    if (!H.isAll && H.values.length <= 6) return `At ${listPhrase(H.values.map((h) => clock(h, m0, s0)))}`;
    if (H.isAll && s0 === 0) return m0 === 0 ? 'Every hour' : `At minute ${m0} past every hour`;
  }
  if (S.isSingle && s0 === 0 && M.isAll && H.isAll) return 'Every minute';
  const parts: string[] = [];
  if (spec.hasSeconds && !(S.isSingle && s0 === 0)) parts.push(unitPhrase(S, 'second'));
  if (!(M.isAll && !S.isSingle)) parts.push(unitPhrase(M, 'minute'));
  const hour = hourPhrase(H);
  if (hour) parts.push(hour);
  const text = parts.join(', ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function domPhrase(rule: DomRule): string {
  switch (rule.kind) {
    case 'last':
      return 'on the last day of the month';
    case 'last-weekday':
      return 'on the last weekday of the month';
    case 'nearest-weekday':
      return `on the weekday nearest day ${rule.day} of the month`;
    case 'days': {
      const s = shapeOf(rule.days);
      switch (s.kind) {
        case 'all':
          return '';
        case 'single':
          return `on day ${s.value} of the month`;
        case 'range':
          return `on days ${s.from} through ${s.to} of the month`;
        case 'step':
          return `every ${s.step} days of the month, starting on day ${s.from}`;
        case 'list':
          return `on days ${listPhrase(s.values.map(String))} of the month`;
      }
    }
  }
}

function dowPhrase(rule: DowRule, alone: boolean): string {
  switch (rule.kind) {
    case 'last-of':
      return `on the last ${WEEKDAYS[rule.weekday]} of the month`;
    case 'nth':
      return `on the ${ORDINALS[rule.nth - 1]} ${WEEKDAYS[rule.weekday]} of the month`;
    case 'weekdays': {
      const s = shapeOf(rule.weekdays);
      const names = rule.weekdays.values.map((d) => WEEKDAYS[d]!);
      if (s.kind === 'all') return '';
      if (s.kind === 'single') return `${alone ? 'only ' : ''}on ${names[0]}`;
      if (s.kind === 'range') return `${WEEKDAYS[s.from]} through ${WEEKDAYS[s.to]}`;
      return `on ${listPhrase(names)}`;
    }
  }
}

const isAllDays = (rule: DomRule): boolean => rule.kind === 'days' && rule.days.isAll;
const isAllWeekdays = (rule: DowRule): boolean => rule.kind === 'weekdays' && rule.weekdays.isAll;

function dayPhrase(spec: CronSpec): string {
  const { dom, dow } = spec;
  switch (spec.combine) {
    case 'dom':
      return domPhrase(dom);
    case 'dow':
      return dowPhrase(dow, true);
    case 'and': {
      if (isAllWeekdays(dow)) return domPhrase(dom);
      if (isAllDays(dom)) return dowPhrase(dow, true);
      const names = dow.kind === 'weekdays' ? dow.weekdays.values.map((d) => WEEKDAYS[d]!) : [];
      return `${domPhrase(dom)}, if that day is a ${listPhrase(names, 'or')}`;
    }
    case 'or':
      if (isAllDays(dom) || isAllWeekdays(dow)) return '';
      return `${domPhrase(dom)} or ${dowPhrase(dow, false)}`;
  }
}

function monthPhrase(months: FieldSet): string {
  const s = shapeOf(months);
  if (s.kind === 'all') return '';
  if (s.kind === 'range') return `${MONTHS[s.from - 1]} through ${MONTHS[s.to - 1]}`;
  return `in ${listPhrase(months.values.map((m) => MONTHS[m - 1]!))}`;
}

function yearPhrase(years: FieldSet | undefined): string {
  if (!years || years.isAll) return '';
  const v = years.values;
  if (v.length === 1) return `in ${v[0]}`;
  const diff = v[1]! - v[0]!;
  const uniform = v.every((x, i) => i === 0 || x - v[i - 1]! === diff);
  if (uniform && v.length >= 3) {
    return diff === 1
      ? `${v[0]} through ${v.at(-1)}`
      : `every ${diff} years from ${v[0]} through ${v.at(-1)}`;
  }
  if (v.length > 8) return `in ${v.length} years from ${v[0]} through ${v.at(-1)}`;
  return `in ${listPhrase(v.map(String))}`;
}

/** "At 09:00, Monday through Friday (Europe/Berlin)" for a compiled cron spec. */
export function describeCron(spec: CronSpec, timezone: string): string {
  const parts = [timePhrase(spec), dayPhrase(spec), monthPhrase(spec.months), yearPhrase(spec.years)];
  return `${parts.filter(Boolean).join(', ')} (${timezone})`;
}
