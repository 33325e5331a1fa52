// Small helpers for the schedule unit tests.

import { expect } from 'vitest';
import {
  type CronObject,
  parseSchedule,
  ScheduleError,
  type ScheduleOptions,
} from '../../src/expressions/index.ts';

/** The next `count` fire times as ISO strings. */
export function fires(
  expression: string | CronObject,
  from: string,
  count = 5,
  options: ScheduleOptions = {},
): string[] {
  return parseSchedule(expression, options)
    .next(new Date(from), count)
    .map((d) => d.toISOString());
}

/** A local time with its offset, e.g. "2026-03-08 03:00 -04:00", as a UTC ISO string. */
export function local(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}(?::\d{2})?) ([+-]\d{2}:\d{2})$/.exec(text);
  if (!m) throw new Error(`bad local time ${text}`);
  const time = m[2]!.length === 5 ? `${m[2]}:00` : m[2];
  return new Date(`${m[1]}T${time}${m[3]}`).toISOString();
}

/** Asserts that `fn` throws a ScheduleError for `field` whose message contains every fragment. */
export function expectScheduleError(fn: () => unknown, field: string, ...fragments: string[]): ScheduleError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ScheduleError);
  const err = caught as ScheduleError;
  expect(err.code).toBe('E_SCHEDULE_INVALID');
  expect(err.status).toBe(400);
  expect(err.field).toBe(field);
  for (const fragment of fragments) expect(err.message).toContain(fragment);
  return err;
}
