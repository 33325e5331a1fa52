// CDK cron objects, as aws-cdk-lib's Schedule.cron(options) takes them: string fields
// minute, hour, day, month, weekDay, year. Like the CDK, omitted fields default to "*",
// except that day defaults to "?" when weekDay is given and weekDay defaults to "?";
// giving both day and weekDay is an error. The result is an AWS cron() expression.

import { type AwsFieldNames, compileAwsCron } from './aws-cron.ts';
import type { CronSpec } from './cron-spec.ts';
import { ScheduleError } from './errors.ts';

/**
 * A cron schedule as an object, field names and defaults as in aws-cdk-lib's
 * `Schedule.cron()`. Values use AWS cron syntax (day-of-week 1-7 = SUN-SAT).
 *
 * @example
 * ```ts
 * const options: CronObject = { minute: '0', hour: '9', weekDay: 'MON-FRI' }; // cron(0 9 ? * MON-FRI *)
 * ```
 */
export interface CronObject {
  /** Default `*` (every minute). */
  minute?: string;
  /** Default `*` (every hour). */
  hour?: string;
  /** Day of the month; default `*`, or `?` when weekDay is given. */
  day?: string;
  /** Default `*`. */
  month?: string;
  /** Day of the week, 1-7 = SUN-SAT or names; default `?`. */
  weekDay?: string;
  /** Default `*`. */
  year?: string;
}

const KEYS = ['minute', 'hour', 'day', 'month', 'weekDay', 'year'] as const;

const CDK_FIELD_NAMES: AwsFieldNames = {
  fields: KEYS,
  long: KEYS.map((k) => `cron option "${k}"`),
  short: KEYS.map((k) => `option "${k}"`),
};

/** The six AWS cron fields a CDK cron object stands for, after the CDK's defaults. */
export function cdkCronFields(options: CronObject): string[] {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ScheduleError(
      'expression',
      'a cron object must be a plain object such as { minute: "0", hour: "9" }',
    );
  }
  for (const key of Object.keys(options)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      const hint = key === 'timeZone' ? '; pass the zone as the timezone option instead' : '';
      throw new ScheduleError(
        key,
        `cron object has an unknown option "${key}"; the options are minute, hour, day, month, weekDay and year${hint}`,
        { token: key },
      );
    }
  }
  const values: Partial<Record<(typeof KEYS)[number], string>> = {};
  for (const key of KEYS) {
    const value: unknown = options[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.trim() === '') {
      throw new ScheduleError(
        key,
        `cron option "${key}" is ${JSON.stringify(value)}; give a non-empty string such as "0", "*" or "MON-FRI"`,
        { token: String(value) },
      );
    }
    values[key] = value.trim();
  }
  if (values.day !== undefined && values.weekDay !== undefined) {
    throw new ScheduleError(
      'day',
      `cron object gives both "day" ("${values.day}") and "weekDay" ("${values.weekDay}"); use at most one, as in the CDK`,
      { token: values.day },
    );
  }
  return [
    values.minute ?? '*',
    values.hour ?? '*',
    values.day ?? (values.weekDay !== undefined ? '?' : '*'),
    values.month ?? '*',
    values.weekDay ?? '?',
    values.year ?? '*',
  ];
}

/** Compiles a CDK cron object; errors name the CDK option at fault. */
export function parseCdkCron(options: CronObject): { spec: CronSpec; expression: string } {
  const fields = cdkCronFields(options);
  return { spec: compileAwsCron(fields, CDK_FIELD_NAMES), expression: `cron(${fields.join(' ')})` };
}
