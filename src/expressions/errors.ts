// ScheduleError: the one error the schedule module throws on purpose. Its message
// names the field, the offending token and the fix; `field` lets callers point at it.

import { MainspringError } from '../core/errors.ts';

/**
 * Details carried by a {@link ScheduleError} (also serialised by `toJSON()`).
 *
 * @example
 * ```ts
 * const details: ScheduleErrorDetails = { field: 'day-of-week', token: 'MON' };
 * ```
 */
export interface ScheduleErrorDetails {
  /** The field at fault, e.g. `day-of-week`, `rate`, `timezone`, `end`. */
  field: string;
  /** The offending text, when there is one. */
  token?: string;
}

/**
 * An invalid schedule expression, time zone, start/end bound or `next()` argument.
 * Code `E_SCHEDULE_INVALID` (HTTP 400, CLI exit code 2).
 *
 * @example
 * ```ts
 * try {
 *   parseSchedule('cron(0 9 * * MON *)');
 * } catch (err) {
 *   if (err instanceof ScheduleError) console.error(err.field, err.message);
 *   // day-of-week cron() field 5 (day-of-week) is "MON" but field 3 (day-of-month) is "*"; one of them must be "?"
 * }
 * ```
 */
export class ScheduleError extends MainspringError {
  /** The field at fault, e.g. `day-of-week`, `rate`, `timezone`, `end`. */
  readonly field: string;

  constructor(field: string, message: string, options: { token?: string; cause?: unknown } = {}) {
    const details: ScheduleErrorDetails =
      options.token === undefined ? { field } : { field, token: options.token };
    super('E_SCHEDULE_INVALID', message, { details, cause: options.cause });
    this.name = 'ScheduleError';
    this.field = field;
  }
}
