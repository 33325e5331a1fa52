// Parsing one cron field's list syntax — "*", "5", "1-5", "*/15", "0/15", "10-40/5",
// names such as MON or JAN, and comma lists of these — into a set of numbers, with
// errors that quote the field, the token and the fix. Shared by AWS and Unix cron.

import { ScheduleError } from './errors.ts';

export interface FieldDef {
  /** The field name reported in ScheduleError.field, e.g. `day-of-week`. */
  readonly field: string;
  /** How messages introduce the field, e.g. `cron() field 5 (day-of-week)`. */
  readonly label: string;
  /** Plural noun for messages, e.g. `minutes`, `days of the week`. */
  readonly noun: string;
  readonly min: number;
  readonly max: number;
  /** Names accepted instead of numbers, e.g. SUN…SAT; `names[i]` stands for `nameBase + i`. */
  readonly names?: readonly string[];
  readonly nameBase?: number;
  /** Whether `/` steps are allowed (AWS day-of-week has none). */
  readonly steps: boolean;
  /** Whether a step may start from a single value, "5/15" (AWS); Unix cron needs "*" or a range. */
  readonly stepFromValue: boolean;
  /** Unix day-of-week: a range ending in the name SUN ends at 7, so "FRI-SUN" is 5-7 (as croner reads it). */
  readonly sundayEndsRanges?: boolean;
  /** What the field accepts, for messages, e.g. `0-59` or `1-7 or SUN-SAT`. */
  readonly accepts: string;
}

export function fieldError(def: FieldDef, text: string, problem: string, token?: string): ScheduleError {
  return new ScheduleError(def.field, `${def.label} is "${text}": ${problem}`, { token: token ?? text });
}

/** Parses a single value (a number or a name) of a field. */
export function parseValue(def: FieldDef, text: string, token: string): number {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    if (n < def.min || n > def.max) {
      throw fieldError(def, text, `${token} is out of range; ${def.noun} go from ${def.accepts}`, token);
    }
    return n;
  }
  if (def.names && /^[A-Za-z]+$/.test(token)) {
    const index = def.names.indexOf(token.toUpperCase());
    if (index >= 0) return (def.nameBase ?? 0) + index;
    throw fieldError(def, text, `"${token}" is not a name this field knows; use ${def.accepts}`, token);
  }
  if (token === '') throw fieldError(def, text, 'a value is missing; write e.g. "1", "1-5" or "1,15"', token);
  throw fieldError(def, text, `"${token}" is not a valid value; use ${def.accepts}`, token);
}

/** Expands a comma list of values, ranges and steps into its (unsorted, raw) values. */
export function parseList(def: FieldDef, text: string): number[] {
  const values: number[] = [];
  for (const item of text.split(',')) {
    if (item === '') throw fieldError(def, text, 'the list has an empty item; remove the extra ","', item);
    const slash = item.split('/');
    if (slash.length > 2) throw fieldError(def, text, `"${item}" has more than one "/"`, item);
    const [base = '', stepText] = slash;
    let step = 1;
    if (stepText !== undefined) {
      if (!def.steps) {
        throw fieldError(
          def,
          text,
          `"${item}" uses "/", which ${def.noun} do not allow; list the values instead`,
          item,
        );
      }
      if (!/^\d+$/.test(stepText)) {
        throw fieldError(def, text, `the step in "${item}" must be a whole number, e.g. "*/5"`, item);
      }
      step = Number(stepText);
      if (step < 1)
        throw fieldError(
          def,
          text,
          `the step in "${item}" is 0; a step must be at least 1, e.g. "*/5"`,
          item,
        );
      if (step > def.max - def.min + 1) {
        throw fieldError(
          def,
          text,
          `the step in "${item}" is larger than the whole range ${def.min}-${def.max}`,
          item,
        );
      }
    }
    let from: number;
    let to: number;
    if (base === '*') {
      from = def.min;
      to = def.max;
    } else {
      const dash = base.split('-');
      if (dash.length > 2)
        throw fieldError(def, text, `"${base}" is not a range; write a range as "from-to"`, base);
      from = parseValue(def, text, dash[0]!);
      if (dash.length === 2) {
        to = parseValue(def, text, dash[1]!);
        if (def.sundayEndsRanges && to === 0 && from > 0 && /^sun$/i.test(dash[1]!)) to = 7;
        if (to < from) {
          throw fieldError(
            def,
            text,
            `the range "${base}" runs backwards; write it as ascending parts, e.g. "${from}-${def.max},${def.min}-${to}"`,
            base,
          );
        }
      } else if (stepText === undefined) {
        to = from;
      } else if (def.stepFromValue) {
        // "5/15" means from 5 to the end of the range, every 15.
        to = def.max;
      } else {
        throw fieldError(
          def,
          text,
          `"${item}" steps from a single value, which Unix cron does not allow; write "${base}-${def.max}/${stepText}"`,
          item,
        );
      }
    }
    for (let v = from; v <= to; v += step) values.push(v);
  }
  return values;
}

export const MONTH_NAMES = [
  'JAN',
  'FEB',
  'MAR',
  'APR',
  'MAY',
  'JUN',
  'JUL',
  'AUG',
  'SEP',
  'OCT',
  'NOV',
  'DEC',
];
export const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
