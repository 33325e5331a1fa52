// Unix (Vixie) cron: "minute hour day-of-month month day-of-week", optionally preceded
// by a seconds field; names (JAN, MON); day-of-week 0-7 with 0 and 7 = Sunday; the
// @yearly … @hourly macros. When both day fields are restricted a day matches if either
// does — unless one of them starts with "*" (e.g. "*/2"), when both must (Vixie's
// DOM_STAR/DOW_STAR rule). No L, W, # or ?: those belong to AWS cron().

import { type CronSpec, FieldSet } from './cron-spec.ts';
import { ScheduleError } from './errors.ts';
import { DAY_NAMES, type FieldDef, fieldError, MONTH_NAMES, parseList } from './fields.ts';

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function unixDefs(withSeconds: boolean): FieldDef[] {
  const label = (i: number, name: string) => `cron field ${i + (withSeconds ? 2 : 1)} (${name})`;
  const defs: FieldDef[] = [
    {
      field: 'minute',
      label: label(0, 'minute'),
      noun: 'minutes',
      min: 0,
      max: 59,
      steps: true,
      stepFromValue: false,
      accepts: '0-59',
    },
    {
      field: 'hour',
      label: label(1, 'hour'),
      noun: 'hours',
      min: 0,
      max: 23,
      steps: true,
      stepFromValue: false,
      accepts: '0-23',
    },
    {
      field: 'day-of-month',
      label: label(2, 'day-of-month'),
      noun: 'days of the month',
      min: 1,
      max: 31,
      steps: true,
      stepFromValue: false,
      accepts: '1-31',
    },
    {
      field: 'month',
      label: label(3, 'month'),
      noun: 'months',
      min: 1,
      max: 12,
      names: MONTH_NAMES,
      nameBase: 1,
      steps: true,
      stepFromValue: false,
      accepts: '1-12 or JAN-DEC',
    },
    {
      field: 'day-of-week',
      label: label(4, 'day-of-week'),
      noun: 'days of the week',
      min: 0,
      max: 7,
      names: DAY_NAMES,
      nameBase: 0,
      steps: true,
      stepFromValue: false,
      sundayEndsRanges: true,
      accepts: '0-7 (0 and 7 = SUN) or SUN-SAT',
    },
  ];
  if (!withSeconds) return defs;
  return [
    {
      field: 'second',
      label: 'cron field 1 (second)',
      noun: 'seconds',
      min: 0,
      max: 59,
      steps: true,
      stepFromValue: false,
      accepts: '0-59',
    },
    ...defs,
  ];
}

function rejectForeignSyntax(def: FieldDef, text: string): void {
  const upper = text.toUpperCase();
  if (upper.includes('?')) {
    throw fieldError(
      def,
      text,
      'Unix cron has no "?"; use "*" (or write an AWS "cron(...)" expression)',
      '?',
    );
  }
  if (upper.includes('#')) {
    throw fieldError(def, text, 'Unix cron has no "#"; use AWS syntax, e.g. "cron(0 9 ? * 3#2 *)"', '#');
  }
  for (const token of upper.split(/[,\-/]/)) {
    if (/^(\d*L|LW|\d*W)$/.test(token)) {
      throw fieldError(
        def,
        text,
        `Unix cron has no "${token}"; use AWS syntax for L and W, e.g. "cron(0 9 L * ? *)"`,
        token,
      );
    }
  }
}

/**
 * Compiles a Unix cron line (5 fields, or 6 with leading seconds) or an @macro.
 */
export function parseUnixCron(text: string): CronSpec {
  const trimmed = text.trim();
  let line = trimmed;
  if (trimmed.startsWith('@')) {
    const macro = MACROS[trimmed.toLowerCase()];
    if (macro === undefined) {
      throw new ScheduleError(
        'expression',
        `"${trimmed}" is not a supported macro; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly` +
          (trimmed.toLowerCase() === '@reboot' ? ' (@reboot is not a time schedule)' : ''),
        { token: trimmed },
      );
    }
    line = macro;
  }
  const fields = line.split(/\s+/).filter(Boolean);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new ScheduleError(
      'expression',
      `"${trimmed}" is not a schedule expression: a Unix cron line has 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds, but this has ${fields.length}; other forms are cron(...), rate(...) and at(...)`,
      { token: trimmed },
    );
  }
  const withSeconds = fields.length === 6;
  const defs = unixDefs(withSeconds);
  for (const [i, field] of fields.entries()) rejectForeignSyntax(defs[i]!, field);
  const values = fields.map((field, i) => parseList(defs[i]!, field));
  const at = (i: number) => values[i + (withSeconds ? 1 : 0)]!;
  const domText = fields[withSeconds ? 3 : 2]!;
  const dowText = fields[withSeconds ? 5 : 4]!;
  const domStar = domText.startsWith('*');
  const dowStar = dowText.startsWith('*');
  return {
    syntax: 'unix',
    hasSeconds: withSeconds,
    seconds: new FieldSet(withSeconds ? values[0]! : [0], 0, 59),
    minutes: new FieldSet(at(0), 0, 59),
    hours: new FieldSet(at(1), 0, 23),
    dom: { kind: 'days', days: new FieldSet(at(2), 1, 31) },
    months: new FieldSet(at(3), 1, 12),
    dow: {
      kind: 'weekdays',
      weekdays: new FieldSet(
        at(4).map((d) => d % 7),
        0,
        6,
      ),
    },
    years: undefined,
    // Vixie cron: if either day field starts with "*", a day must match both; otherwise either.
    combine: domStar || dowStar ? 'and' : 'or',
    fixedTime: fields.slice(0, withSeconds ? 3 : 2).every((field) => /^\d+$/.test(field)),
  };
}
