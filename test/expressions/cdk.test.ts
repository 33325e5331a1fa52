// CDK cron objects: the CDK's field names and defaults, AWS cron semantics.

import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../src/expressions/index.ts';
import { expectScheduleError, fires } from './helpers.ts';

describe('CDK cron objects', () => {
  it.each([
    [{}, 'cron(* * * * ? *)'],
    [{ weekDay: 'MON-FRI' }, 'cron(* * ? * MON-FRI *)'],
    [{ day: '1' }, 'cron(* * 1 * ? *)'],
    [{ minute: '0/10', weekDay: 'MON-FRI' }, 'cron(0/10 * ? * MON-FRI *)'],
    [{ minute: '0', hour: '8', day: '1' }, 'cron(0 8 1 * ? *)'],
    [{ minute: '0', hour: '9', month: 'JAN', year: '2027' }, 'cron(0 9 * JAN ? 2027)'],
  ])('%j stands for %s, as in aws-cdk-lib', (options, expression) => {
    const s = parseSchedule(options);
    expect([s.kind, s.syntax, s.expression]).toEqual(['cron', 'cdk-cron', expression]);
  });

  it('fires like the cron() expression it stands for, day-of-week 1 = Sunday', () => {
    const from = '2026-01-01T00:00:00Z';
    const options = { timezone: 'Europe/Berlin' };
    expect(fires({ minute: '0', hour: '9', weekDay: 'MON-FRI' }, from, 5, options)).toEqual(
      fires('cron(0 9 ? * MON-FRI *)', from, 5, options),
    );
    expect(fires({ minute: '0', hour: '0', weekDay: '1' }, from, 1)).toEqual(['2026-01-04T00:00:00.000Z']);
  });

  it('rejects day together with weekDay, as the CDK does', () => {
    expectScheduleError(
      () => parseSchedule({ day: '1', weekDay: 'MON' }),
      'day',
      'both "day"',
      'use at most one',
    );
  });

  it('names the CDK option in errors', () => {
    expectScheduleError(
      () => parseSchedule({ weekDay: '2#6' }),
      'weekDay',
      'cron option "weekDay" is "2#6"',
      '1-5',
    );
    expectScheduleError(
      () => parseSchedule({ hour: '24' }),
      'hour',
      'cron option "hour"',
      '24 is out of range',
    );
  });

  it('rejects unknown options and values that are not strings', () => {
    expectScheduleError(
      () => parseSchedule({ minutes: '0' } as never),
      'minutes',
      'unknown option "minutes"',
    );
    expectScheduleError(
      () => parseSchedule({ timeZone: 'Europe/Berlin' } as never),
      'timeZone',
      'pass the zone as the timezone option',
    );
    expectScheduleError(() => parseSchedule({ hour: 9 } as never), 'hour', 'non-empty string');
    expectScheduleError(() => parseSchedule({ hour: '' }), 'hour', 'non-empty string');
  });
});
