// AWS EventBridge cron(): six fields "Minutes Hours Day-of-month Month Day-of-week Year",
// exactly one of the day fields "?", day-of-week 1-7 = SUN-SAT, the L / W / LW / # forms
// and years 1970-2199 (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html).
// "L-3" (Quartz's offset from the last day) is not in the AWS docs, so it is rejected.

import { type CronSpec, type DomRule, type DowRule, FieldSet } from './cron-spec.ts';
import { ScheduleError } from './errors.ts';
import { DAY_NAMES, type FieldDef, fieldError, MONTH_NAMES, parseList, parseValue } from './fields.ts';

/** How messages name the six fields: AWS positions by default, CDK option names for CDK objects. */
export interface AwsFieldNames {
  /** ScheduleError.field per position. */
  readonly fields: readonly string[];
  /** Full label per position, e.g. `cron() field 3 (day-of-month)`. */
  readonly long: readonly string[];
  /** Label for a second mention in the same sentence, e.g. `field 3 (day-of-month)`. */
  readonly short: readonly string[];
}

const AWS_FIELDS = ['minutes', 'hours', 'day-of-month', 'month', 'day-of-week', 'year'];

export const AWS_FIELD_NAMES: AwsFieldNames = {
  fields: AWS_FIELDS,
  long: AWS_FIELDS.map((name, i) => `cron() field ${i + 1} (${name})`),
  short: AWS_FIELDS.map((name, i) => `field ${i + 1} (${name})`),
};

export const AWS_YEAR_MIN = 1970;
export const AWS_YEAR_MAX = 2199;

function defs(names: AwsFieldNames): FieldDef[] {
  const at = (i: number) => ({ field: names.fields[i]!, label: names.long[i]! });
  return [
    { ...at(0), noun: 'minutes', min: 0, max: 59, steps: true, stepFromValue: true, accepts: '0-59' },
    { ...at(1), noun: 'hours', min: 0, max: 23, steps: true, stepFromValue: true, accepts: '0-23' },
    {
      ...at(2),
      noun: 'days of the month',
      min: 1,
      max: 31,
      steps: true,
      stepFromValue: true,
      accepts: '1-31',
    },
    {
      ...at(3),
      noun: 'months',
      min: 1,
      max: 12,
      names: MONTH_NAMES,
      nameBase: 1,
      steps: true,
      stepFromValue: true,
      accepts: '1-12 or JAN-DEC',
    },
    {
      ...at(4),
      noun: 'days of the week',
      min: 1,
      max: 7,
      names: DAY_NAMES,
      nameBase: 1,
      steps: false,
      stepFromValue: false,
      accepts: '1-7 (1 = SUN) or SUN-SAT',
    },
    {
      ...at(5),
      noun: 'years',
      min: AWS_YEAR_MIN,
      max: AWS_YEAR_MAX,
      steps: true,
      stepFromValue: true,
      accepts: '1970-2199',
    },
  ];
}

// Which special characters a position takes: only day-of-month (L, W) and day-of-week (L, #).
const SPECIALS_ALLOWED = ['', '', 'LW', '', 'L#', ''];

function rejectMisplacedSpecials(def: FieldDef, text: string, upper: string, index: number): void {
  for (const token of upper.split(/[,\-/]/)) {
    let special: string | undefined;
    if (token.includes('#')) special = '#';
    else if (/^(\d*L|LW)$/.test(token)) special = 'L';
    else if (/^\d*W$/.test(token)) special = 'W';
    if (special === undefined || SPECIALS_ALLOWED[index]!.includes(special)) continue;
    const where =
      special === '#' ? 'day-of-week' : special === 'W' ? 'day-of-month' : 'day-of-month and day-of-week';
    throw fieldError(def, text, `"${special}" is allowed only in ${where}`, token);
  }
}

function parseDom(def: FieldDef, text: string): DomRule {
  const upper = text.toUpperCase();
  if (upper === 'L') return { kind: 'last' };
  if (upper === 'LW') return { kind: 'last-weekday' };
  const nearest = /^(\d+)W$/.exec(upper);
  if (nearest) return { kind: 'nearest-weekday', day: parseValue(def, text, nearest[1]!) };
  if (/^L-\d+$/.test(upper)) {
    throw fieldError(
      def,
      text,
      '"L-n" (days before the end of the month) is not part of EventBridge cron syntax; use "L" (last day), "LW" (last weekday) or explicit days',
    );
  }
  if (/[LW]/.test(upper)) {
    throw fieldError(
      def,
      text,
      '"L" and "W" must stand alone in day-of-month ("L", "LW" or one day like "15W"), not in a list, range or step',
    );
  }
  return { kind: 'days', days: new FieldSet(parseList(def, text), 1, 31) };
}

function parseDow(def: FieldDef, text: string): DowRule {
  const upper = text.toUpperCase();
  if (upper === 'L') return { kind: 'weekdays', weekdays: new FieldSet([6], 0, 6) }; // "L" alone = 7 = SAT
  const last = /^([0-9A-Z]+)L$/.exec(upper);
  if (last) return { kind: 'last-of', weekday: parseValue(def, text, last[1]!) - 1 };
  const nth = /^([0-9A-Z]+)#(\d+)$/.exec(upper);
  if (nth) {
    const weekday = parseValue(def, text, nth[1]!) - 1;
    const n = Number(nth[2]);
    if (n < 1 || n > 5) {
      throw fieldError(
        def,
        text,
        `the number after "#" is the week of the month and must be 1-5 (e.g. "3#2" = second Tuesday), not ${nth[2]}`,
      );
    }
    return { kind: 'nth', weekday, nth: n };
  }
  if (text.includes('#')) {
    throw fieldError(
      def,
      text,
      '"#" must stand alone as one "weekday#n" (e.g. "6#3"); EventBridge rejects lists such as "3#1,6#3"',
    );
  }
  if (/\dL|(^|[,-])L($|[,-])/.test(upper)) {
    throw fieldError(
      def,
      text,
      '"L" must stand alone in day-of-week ("L" or one weekday like "6L"), not in a list or range',
    );
  }
  return {
    kind: 'weekdays',
    weekdays: new FieldSet(
      parseList(def, text).map((v) => v - 1),
      0,
      6,
    ),
  };
}

/**
 * Compiles the six fields of an AWS cron expression (already split, any case).
 * `names` chooses how errors name the fields (AWS positions or CDK option names).
 */
export function compileAwsCron(
  rawFields: readonly string[],
  names: AwsFieldNames = AWS_FIELD_NAMES,
): CronSpec {
  const fieldDefs = defs(names);
  const f = rawFields.map((s) => s.toUpperCase());
  for (const [i, text] of f.entries()) {
    if (text.includes('?') && text !== '?') {
      throw fieldError(fieldDefs[i]!, rawFields[i]!, '"?" must stand alone, not in a list or range');
    }
    if (text === '?' && i !== 2 && i !== 4) {
      throw fieldError(fieldDefs[i]!, rawFields[i]!, '"?" is allowed only in day-of-month and day-of-week');
    }
  }
  const [dom, dow] = [f[2]!, f[4]!];
  if (dom === '?' && dow === '?') {
    throw new ScheduleError(
      names.fields[4]!,
      `${names.long[2]} and ${names.short[4]} are both "?"; exactly one of them must be "?", the other selects the days (e.g. "*")`,
      { token: '?' },
    );
  }
  if (dom !== '?' && dow !== '?') {
    throw new ScheduleError(
      names.fields[4]!,
      `${names.long[4]} is "${rawFields[4]}" but ${names.short[2]} is "${rawFields[2]}"; one of them must be "?"`,
      { token: rawFields[4]! },
    );
  }
  for (const [i, text] of f.entries()) rejectMisplacedSpecials(fieldDefs[i]!, rawFields[i]!, text, i);
  const [minutes, hours, domDef, month, dowDef, year] = fieldDefs as [
    FieldDef,
    FieldDef,
    FieldDef,
    FieldDef,
    FieldDef,
    FieldDef,
  ];
  const allDays: DomRule = { kind: 'days', days: new FieldSet(range(1, 31), 1, 31) };
  const allWeekdays: DowRule = { kind: 'weekdays', weekdays: new FieldSet(range(0, 6), 0, 6) };
  return {
    syntax: 'aws',
    hasSeconds: false,
    seconds: new FieldSet([0], 0, 59),
    minutes: new FieldSet(parseList(minutes, rawFields[0]!), 0, 59),
    hours: new FieldSet(parseList(hours, rawFields[1]!), 0, 23),
    dom: dom === '?' ? allDays : parseDom(domDef, rawFields[2]!),
    months: new FieldSet(parseList(month, rawFields[3]!), 1, 12),
    dow: dow === '?' ? allWeekdays : parseDow(dowDef, rawFields[4]!),
    years: new FieldSet(parseList(year, rawFields[5]!), AWS_YEAR_MIN, AWS_YEAR_MAX),
    combine: dom === '?' ? 'dow' : 'dom',
    fixedTime: false,
  };
}

/** Compiles the body of `cron(...)`: exactly six whitespace-separated fields. */
export function parseAwsCron(body: string): CronSpec {
  const fields = body.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 6) {
    const hint =
      fields.length === 5
        ? '; add the year field (e.g. "*") and put "?" in day-of-month or day-of-week, or write a Unix cron line without "cron(...)"'
        : fields.length === 7
          ? '; cron() has no seconds field, so drop the first one'
          : '';
    throw new ScheduleError(
      'expression',
      `cron() takes 6 fields (minutes hours day-of-month month day-of-week year) but "${body.trim()}" has ${fields.length}${hint}`,
      { token: body },
    );
  }
  return compileAwsCron(fields);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
