// Schedules as AWS expressions: CDK's Schedule.cron/rate/expression and Duration as CDK
// renders them, and defineFunction's schedule strings and phrases as Amplify deploys them.

import type { Expression } from 'acorn';
import { type CronObject, parseSchedule, ScheduleError } from '../../expressions/index.ts';
import type { ImportedSchedule } from '../model.ts';
import { arg, calleeName, calleeOwner, describe } from './parse.ts';
import { type Context, Unknown } from './values.ts';

/** Why mainspring would reject `schedule` (its expression or zone), or undefined: skipped, not written. */
export function validate(schedule: ImportedSchedule): string | undefined {
  try {
    parseSchedule(schedule.expression, schedule.timezone ? { timezone: schedule.timezone } : {});
    return undefined;
  } catch (err) {
    if (err instanceof ScheduleError) return err.message;
    throw err;
  }
}

type ScheduleRead = { schedule: ImportedSchedule; note?: string } | { error: string };

/**
 * One entry of defineFunction's `schedule`, as Amplify deploys it (backend-function's
 * schedule parser): phrases and cron strings both become EventBridge Scheduler cron fields.
 */
export function amplifySchedule(value: unknown): ScheduleRead {
  let spec: unknown = value;
  let timezone: string | undefined;
  let description: string | undefined;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    spec = o['cron'] ?? o['rate'];
    if (typeof o['timezone'] === 'string') timezone = o['timezone'];
    if (typeof o['description'] === 'string') description = o['description'];
  }
  if (typeof spec !== 'string')
    return { error: `${JSON.stringify(value)} is not a string, { cron } or { rate }` };
  const fields = spec.startsWith('every') ? phraseFields(spec) : cronStringFields(spec);
  if ('error' in fields) return fields;
  let expression: string;
  try {
    expression = parseSchedule(fields).expression;
  } catch (err) {
    if (err instanceof ScheduleError) return { error: `"${spec}": ${err.message}` };
    throw err;
  }
  const schedule: ImportedSchedule = {
    expression,
    ...(timezone ? { timezone } : {}),
    ...(description ? { description } : {}),
  };
  return {
    schedule,
    note: spec.startsWith('every')
      ? `schedule "${spec}" became ${expression}, as Amplify deploys it`
      : `schedule "${spec}" (Amplify reads EventBridge cron fields: day-of-week 1-7 = SUN-SAT) became ${expression}`,
  };
}

/** Amplify's natural-language intervals, translated as Amplify translates them (cron, not rate). */
function phraseFields(phrase: string): CronObject | { error: string } {
  const every = /^every (\d+)(m|h)$/.exec(phrase.trim());
  if (every) {
    const n = Number(every[1]);
    if (!(n > 0)) return { error: `"${phrase}": the interval must be a positive whole number` };
    return every[2] === 'm' ? { minute: `*/${n}` } : { minute: '0', hour: `*/${n}` };
  }
  switch (phrase.trim()) {
    case 'every day':
      return { minute: '0', hour: '0', day: '*' };
    case 'every week':
      return { minute: '0', hour: '0', weekDay: '1' };
    case 'every month':
      return { minute: '0', hour: '0', day: '1', month: '*' };
    case 'every year':
      return { minute: '0', hour: '0', day: '1', month: '1', year: '*' };
    default:
      return {
        error: `"${phrase}" is not an Amplify interval (every Nm, every Nh, every day/week/month/year)`,
      };
  }
}

/**
 * An Amplify cron string: 5 or 6 EventBridge fields (minute hour day month weekDay [year]).
 * Amplify keeps day-of-week only when day-of-month is `?`, and rejects a string with
 * neither day field `?`; with day-of-week `*` the meaning is plain, so that one is accepted.
 */
function cronStringFields(cron: string): CronObject | { error: string } {
  const parts = cron.trim().split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    return { error: `"${cron}" has ${parts.length} fields; Amplify cron strings have 5 or 6` };
  }
  const [minute, hour, day, month, weekDay, year] = parts as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  const fields: CronObject = { minute, hour, month, year: year ?? '*' };
  if (day === '?') fields.weekDay = weekDay;
  else if (weekDay === '*' || weekDay === '?') fields.day = day;
  else {
    return {
      error:
        `"${cron}" restricts both day-of-month and day-of-week; Amplify rejects that (one must be "?"). ` +
        `Day-of-week here is EventBridge's (1-7 = SUN-SAT): write e.g. "${minute} ${hour} ? ${month} ${weekDay}"`,
    };
  }
  return fields;
}

/** A CDK `Schedule.cron/rate/expression(…)` as the expression string CDK would render. */
export function cdkSchedule(ctx: Context, node: Expression): string | { error: string } {
  const n = ctx.resolve(node);
  if (n.type !== 'CallExpression' || calleeOwner(n) !== 'Schedule') {
    return { error: `${describe(n)} is not Schedule.cron/rate/expression(…)` };
  }
  const method = calleeName(n);
  const a = arg(n, 0);
  if (!a) return { error: `Schedule.${method}() has no argument` };
  if (method === 'expression') {
    const v = ctx.literal(a);
    return typeof v === 'string' ? v : { error: `Schedule.expression is given ${describe(a)}, not a string` };
  }
  if (method === 'cron') {
    const v = ctx.literal(a);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      return { error: `Schedule.cron is given ${v instanceof Unknown ? v.why : 'no object'}` };
    }
    try {
      // mainspring's CDK cron reader applies the CDK's defaults ('*', '?' in the unused day field).
      return parseSchedule(v as CronObject).expression;
    } catch (err) {
      if (err instanceof ScheduleError) return { error: err.message };
      throw err;
    }
  }
  if (method === 'rate') {
    const seconds = durationSeconds(ctx, a);
    if (typeof seconds !== 'number') return seconds;
    return cdkRate(seconds);
  }
  return { error: `Schedule.${method} is not read by the importer` };
}

const DURATION_UNITS: Record<string, number> = { seconds: 1, minutes: 60, hours: 3600, days: 86400 };

/** `Duration.minutes(15)` → 900. */
export function durationSeconds(ctx: Context, node: Expression): number | { error: string } {
  const n = ctx.resolve(node);
  if (n.type === 'CallExpression' && calleeOwner(n) === 'Duration') {
    const unit = DURATION_UNITS[calleeName(n)];
    const v = ctx.literal(arg(n, 0) ?? n);
    if (unit !== undefined && typeof v === 'number') return v * unit;
  }
  return { error: `${describe(n)} is not Duration.seconds/minutes/hours/days of a number` };
}

/** As CDK's Schedule.rate renders it: whole days, else whole hours, else whole minutes. */
function cdkRate(seconds: number): string | { error: string } {
  const minutes = seconds / 60;
  if (!Number.isInteger(minutes) || minutes <= 0) {
    return { error: `a rate of ${seconds} seconds: EventBridge rates are whole minutes, at least 1` };
  }
  const [n, unit] =
    minutes % 1440 === 0
      ? [minutes / 1440, 'day']
      : minutes % 60 === 0
        ? [minutes / 60, 'hour']
        : [minutes, 'minute'];
  return `rate(${n} ${unit}${n === 1 ? '' : 's'})`;
}
