// Public surface of the schedule module: parse an expression once, then ask for
// fire times and a description. Pure: no I/O, no clock.

export type { CronObject } from './cdk.ts';
export { ScheduleError, type ScheduleErrorDetails } from './errors.ts';
export { MAX_EXPRESSION_LENGTH, parseSchedule } from './parse-schedule.ts';
export { formatInTimeZone } from './timezone.ts';
export type { Schedule, ScheduleKind, ScheduleOptions, ScheduleSyntax } from './types.ts';
