// The entry point: validates options once, recognises which syntax an expression is
// written in, compiles it, and returns the matching Schedule.

import { atInstant, parseAt } from './at.ts';
import { parseAwsCron } from './aws-cron.ts';
import { type CronObject, parseCdkCron } from './cdk.ts';
import { ScheduleError } from './errors.ts';
import { parseRate } from './rate.ts';
import { AtSchedule, CronSchedule, RateSchedule, type ResolvedScheduleOptions } from './schedules.ts';
import { getTimeZone } from './timezone.ts';
import type { Schedule, ScheduleOptions } from './types.ts';
import { parseUnixCron } from './unix-cron.ts';

/**
 * The longest expression accepted: EventBridge's limit on ScheduleExpression, plenty for any Unix cron line.
 *
 * @example
 * ```ts
 * if (input.length > MAX_EXPRESSION_LENGTH) return 'too long';
 * ```
 */
export const MAX_EXPRESSION_LENGTH = 256;

const EXAMPLES =
  'e.g. "cron(0 9 ? * MON-FRI *)", "rate(5 minutes)", "at(2026-01-31T09:00:00)" or a Unix cron line such as "0 9 * * 1-5"';

function instantOption(name: string, value: Date | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ScheduleError(name, `${name} must be a valid Date; got ${String(value)}`);
  }
  return value.getTime();
}

/** Validates options and fills in defaults (time zone UTC). */
export function resolveScheduleOptions(options: ScheduleOptions = {}): ResolvedScheduleOptions {
  const zone = getTimeZone(options.timezone ?? 'UTC');
  const startMs = instantOption('start', options.start);
  const endMs = instantOption('end', options.end);
  const createdAtMs = instantOption('createdAt', options.createdAt);
  if (startMs !== undefined && endMs !== undefined && endMs < startMs) {
    throw new ScheduleError(
      'end',
      `end (${new Date(endMs).toISOString()}) is before start (${new Date(startMs).toISOString()}); end must be at or after start`,
    );
  }
  return { zone, startMs, endMs, createdAtMs };
}

const WRAPPED = /^(cron|rate|at)\s*\(([\s\S]*)\)$/i;

/**
 * Parses and validates a schedule expression: AWS `cron(...)`, `rate(...)`, EventBridge
 * Scheduler `at(...)`, a 5- or 6-field Unix cron line or `@daily`-style macro, or a CDK
 * cron object. Throws {@link ScheduleError} (code `E_SCHEDULE_INVALID`) naming the field,
 * the offending token and the fix.
 *
 * Each syntax keeps its home system's DST behaviour; see docs/schedules.md.
 *
 * @example
 * ```ts
 * const s = parseSchedule('cron(0 9 ? * MON-FRI *)', { timezone: 'Europe/Berlin' });
 * s.next(new Date('2026-03-27T12:00:00Z'), 2); // [2026-03-30T07:00:00Z, 2026-03-31T07:00:00Z]
 * s.describe();                                // 'At 09:00, Monday through Friday (Europe/Berlin)'
 *
 * parseSchedule('*\/15 * * * *').next(new Date('2026-01-01T00:07:00Z')); // [2026-01-01T00:15:00Z]
 * parseSchedule({ minute: '0', hour: '9', weekDay: 'MON-FRI' });       // same as cron(0 9 ? * MON-FRI *)
 * ```
 */
export function parseSchedule(expression: string | CronObject, options: ScheduleOptions = {}): Schedule {
  if (typeof expression === 'object' && expression !== null) {
    const resolved = resolveScheduleOptions(options);
    const { spec, expression: text } = parseCdkCron(expression);
    return new CronSchedule('cdk-cron', text, spec, resolved);
  }
  if (typeof expression !== 'string') {
    throw new ScheduleError(
      'expression',
      `a schedule expression must be a string or a cron object; got ${String(expression)}; ${EXAMPLES}`,
    );
  }
  const text = expression.trim();
  if (text === '') throw new ScheduleError('expression', `the schedule expression is empty; ${EXAMPLES}`);
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw new ScheduleError(
      'expression',
      `the schedule expression is ${expression.length} characters long; the limit is ${MAX_EXPRESSION_LENGTH}`,
      { token: `${expression.slice(0, 40)}…` },
    );
  }
  const resolved = resolveScheduleOptions(options);
  const wrapped = WRAPPED.exec(text);
  if (!wrapped) {
    const opened = /^(cron|rate|at)\s*\(/i.exec(text);
    if (opened) {
      throw new ScheduleError(
        'expression',
        `"${text}" opens ${opened[1]!.toLowerCase()}( but does not end with ")"`,
        { token: text },
      );
    }
    if (/^[a-z]+\s*\(/i.test(text)) {
      throw new ScheduleError(
        'expression',
        `"${text}" is not a schedule expression; the wrapped forms are cron(...), rate(...) and at(...)`,
        { token: text },
      );
    }
    return new CronSchedule('unix-cron', text, parseUnixCron(text), resolved);
  }
  const keyword = wrapped[1]!.toLowerCase();
  const body = wrapped[2]!;
  if (keyword === 'cron') return new CronSchedule('aws-cron', text, parseAwsCron(body), resolved);
  if (keyword === 'rate') return new RateSchedule(text, parseRate(body), resolved);
  const wall = parseAt(body);
  return new AtSchedule(text, wall, atInstant(wall, resolved.zone), resolved);
}
