// Public types of the schedule module.

/**
 * What a schedule does over time: recur on a calendar, recur at a fixed period, or fire once.
 *
 * @example
 * ```ts
 * const kind: ScheduleKind = parseSchedule('rate(5 minutes)').kind; // 'rate'
 * ```
 */
export type ScheduleKind = 'cron' | 'rate' | 'at';

/**
 * Which syntax the expression was written in; each keeps its home system's DST rules.
 *
 * @example
 * ```ts
 * parseSchedule('0 9 * * 1-5').syntax;                  // 'unix-cron'
 * parseSchedule({ minute: '0', hour: '9' }).syntax;      // 'cdk-cron'
 * ```
 */
export type ScheduleSyntax = 'aws-cron' | 'unix-cron' | 'cdk-cron' | 'rate' | 'at';

/**
 * Options of {@link parseSchedule}. Every field is optional.
 *
 * @example
 * ```ts
 * const options: ScheduleOptions = {
 *   timezone: 'Europe/Berlin',
 *   start: new Date('2026-01-01T00:00:00Z'),
 *   end: new Date('2026-12-31T23:59:59Z'),
 * };
 * ```
 */
export interface ScheduleOptions {
  /** IANA time zone the expression's wall-clock times are read in. Default `UTC`. */
  timezone?: string;
  /** No fire time before this instant (inclusive). For rate(), fire times are start + k·period, k = 0, 1, 2, … */
  start?: Date;
  /** No fire time after this instant (inclusive). Must not be before `start`. */
  end?: Date;
  /**
   * When the schedule was created. A rate() without `start` fires at createdAt + k·period,
   * k = 1, 2, … (as EventBridge does). Without either, rate() is aligned to the Unix epoch.
   */
  createdAt?: Date;
}

/**
 * A parsed, validated schedule. Pure: `next()` reads no clock; pass the reference time in.
 *
 * @example
 * ```ts
 * const s = parseSchedule('cron(0 9 ? * MON-FRI *)', { timezone: 'Europe/Berlin' });
 * s.kind;                                      // 'cron'
 * s.describe();                                // 'At 09:00, Monday through Friday (Europe/Berlin)'
 * s.next(new Date('2026-03-27T12:00:00Z'), 2); // [2026-03-30T07:00:00Z, 2026-03-31T07:00:00Z]
 * ```
 */
export interface Schedule {
  readonly kind: ScheduleKind;
  readonly syntax: ScheduleSyntax;
  /** The expression, trimmed; a CDK object appears as the cron() expression it stands for. */
  readonly expression: string;
  /** The canonical IANA zone name, e.g. `America/New_York`. */
  readonly timezone: string;
  readonly start: Date | undefined;
  readonly end: Date | undefined;
  /**
   * Up to `count` fire times strictly after `after`, ascending; fewer, or none, when the
   * schedule ends (its end bound, an at() in the past, a cron year range that runs out).
   * `count` is a whole number from 0 to 1000; default 1.
   */
  next(after: Date, count?: number): Date[];
  /** A plain-English description, e.g. `At 09:00, Monday through Friday (Europe/Berlin)`. */
  describe(): string;
}
