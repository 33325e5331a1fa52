// AWS cron(): every syntax element, in UTC (DST behaviour lives in dst.test.ts).

import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../src/expressions/index.ts';
import { fires } from './helpers.ts';

// 2026-01-01 is a Thursday.
const NEW_YEAR = '2026-01-01T00:00:00Z';

describe('AWS cron(): times', () => {
  it('fires daily at a fixed time', () => {
    expect(fires('cron(0 10 * * ? *)', NEW_YEAR, 2)).toEqual([
      '2026-01-01T10:00:00.000Z',
      '2026-01-02T10:00:00.000Z',
    ]);
    expect(fires('cron(15 12 * * ? *)', NEW_YEAR, 1)).toEqual(['2026-01-01T12:15:00.000Z']);
  });

  it('takes lists, ranges and steps in minutes and hours', () => {
    expect(fires('cron(0,20,40 * * * ? *)', NEW_YEAR, 3)).toEqual([
      '2026-01-01T00:20:00.000Z',
      '2026-01-01T00:40:00.000Z',
      '2026-01-01T01:00:00.000Z',
    ]);
    expect(fires('cron(10-12 0 * * ? *)', NEW_YEAR, 4)).toEqual([
      '2026-01-01T00:10:00.000Z',
      '2026-01-01T00:11:00.000Z',
      '2026-01-01T00:12:00.000Z',
      '2026-01-02T00:10:00.000Z',
    ]);
    expect(fires('cron(0/15 * * * ? *)', NEW_YEAR, 4)).toEqual([
      '2026-01-01T00:15:00.000Z',
      '2026-01-01T00:30:00.000Z',
      '2026-01-01T00:45:00.000Z',
      '2026-01-01T01:00:00.000Z',
    ]);
    expect(fires('cron(*/20 * * * ? *)', NEW_YEAR, 3)).toEqual([
      '2026-01-01T00:20:00.000Z',
      '2026-01-01T00:40:00.000Z',
      '2026-01-01T01:00:00.000Z',
    ]);
    // The AWS docs' example: 1/10 = minutes 1, 11, 21, …
    expect(fires('cron(1/10 * * * ? *)', NEW_YEAR, 3)).toEqual([
      '2026-01-01T00:01:00.000Z',
      '2026-01-01T00:11:00.000Z',
      '2026-01-01T00:21:00.000Z',
    ]);
    expect(fires('cron(10-40/15 * * * ? *)', NEW_YEAR, 4)).toEqual([
      '2026-01-01T00:10:00.000Z',
      '2026-01-01T00:25:00.000Z',
      '2026-01-01T00:40:00.000Z',
      '2026-01-01T01:10:00.000Z',
    ]);
    expect(fires('cron(0 0/6 * * ? *)', NEW_YEAR, 4)).toEqual([
      '2026-01-01T06:00:00.000Z',
      '2026-01-01T12:00:00.000Z',
      '2026-01-01T18:00:00.000Z',
      '2026-01-02T00:00:00.000Z',
    ]);
  });

  it('fires strictly after `after`, also mid-second', () => {
    expect(fires('cron(0 10 * * ? *)', '2026-01-01T10:00:00Z', 1)).toEqual(['2026-01-02T10:00:00.000Z']);
    expect(fires('cron(0 10 * * ? *)', '2026-01-01T09:59:59.999Z', 1)).toEqual(['2026-01-01T10:00:00.000Z']);
    expect(fires('cron(* * * * ? *)', '2026-01-01T00:00:00.500Z', 1)).toEqual(['2026-01-01T00:01:00.000Z']);
  });
});

describe('AWS cron(): day of week', () => {
  it('numbers days 1-7 from Sunday', () => {
    expect(fires('cron(0 9 ? * 1 *)', NEW_YEAR, 1)).toEqual(['2026-01-04T09:00:00.000Z']); // Sunday
    expect(fires('cron(0 9 ? * 7 *)', NEW_YEAR, 1)).toEqual(['2026-01-03T09:00:00.000Z']); // Saturday
    expect(fires('cron(0 9 ? * 5 *)', NEW_YEAR, 1)).toEqual(['2026-01-01T09:00:00.000Z']); // Thursday
  });

  it('takes names, ranges of names and lists, in any case', () => {
    const weekdays = ['2026-01-01T09:00:00.000Z', '2026-01-02T09:00:00.000Z', '2026-01-05T09:00:00.000Z'];
    expect(fires('cron(0 9 ? * MON-FRI *)', NEW_YEAR, 3)).toEqual(weekdays);
    expect(fires('cron(0 9 ? * 2-6 *)', NEW_YEAR, 3)).toEqual(weekdays);
    expect(fires('cron(0 9 ? * mon-fri *)', NEW_YEAR, 3)).toEqual(weekdays);
    expect(fires('cron(0 9 ? * SUN,SAT *)', NEW_YEAR, 3)).toEqual([
      '2026-01-03T09:00:00.000Z',
      '2026-01-04T09:00:00.000Z',
      '2026-01-10T09:00:00.000Z',
    ]);
  });

  it('"L" alone is the last day of the week, Saturday', () => {
    expect(fires('cron(0 9 ? * L *)', NEW_YEAR, 2)).toEqual([
      '2026-01-03T09:00:00.000Z',
      '2026-01-10T09:00:00.000Z',
    ]);
  });

  it('"6L" is the last Friday of the month, "5L" the last Thursday (5 = THU)', () => {
    expect(fires('cron(0 12 ? * 6L *)', NEW_YEAR, 3)).toEqual([
      '2026-01-30T12:00:00.000Z',
      '2026-02-27T12:00:00.000Z',
      '2026-03-27T12:00:00.000Z',
    ]);
    expect(fires('cron(0 12 ? * FRIL *)', NEW_YEAR, 1)).toEqual(['2026-01-30T12:00:00.000Z']);
    expect(fires('cron(0 12 ? * 5L *)', NEW_YEAR, 3)).toEqual([
      '2026-01-29T12:00:00.000Z',
      '2026-02-26T12:00:00.000Z',
      '2026-03-26T12:00:00.000Z',
    ]);
  });

  it('"3#2" is the second Tuesday; "6#5" the fifth Friday, skipping months without one', () => {
    expect(fires('cron(0 9 ? * 3#2 *)', NEW_YEAR, 3)).toEqual([
      '2026-01-13T09:00:00.000Z',
      '2026-02-10T09:00:00.000Z',
      '2026-03-10T09:00:00.000Z',
    ]);
    expect(fires('cron(0 9 ? * MON#1 *)', NEW_YEAR, 1)).toEqual(['2026-01-05T09:00:00.000Z']);
    expect(fires('cron(0 9 ? * 6#5 *)', NEW_YEAR, 2)).toEqual([
      '2026-01-30T09:00:00.000Z',
      '2026-05-29T09:00:00.000Z',
    ]);
  });
});

describe('AWS cron(): day of month', () => {
  it('takes single days, lists and steps', () => {
    expect(fires('cron(0 0 1,15 * ? *)', NEW_YEAR, 3)).toEqual([
      '2026-01-15T00:00:00.000Z',
      '2026-02-01T00:00:00.000Z',
      '2026-02-15T00:00:00.000Z',
    ]);
    expect(fires('cron(0 0 1/10 * ? *)', NEW_YEAR, 4)).toEqual([
      '2026-01-11T00:00:00.000Z',
      '2026-01-21T00:00:00.000Z',
      '2026-01-31T00:00:00.000Z',
      '2026-02-01T00:00:00.000Z',
    ]);
  });

  it('"L" is the last day of the month', () => {
    expect(fires('cron(0 12 L * ? *)', NEW_YEAR, 4)).toEqual([
      '2026-01-31T12:00:00.000Z',
      '2026-02-28T12:00:00.000Z',
      '2026-03-31T12:00:00.000Z',
      '2026-04-30T12:00:00.000Z',
    ]);
    expect(fires('cron(0 12 L 2 ? *)', '2027-03-01T00:00:00Z', 1)).toEqual(['2028-02-29T12:00:00.000Z']);
  });

  it('"LW" is the last weekday of the month', () => {
    // Jan 31 2026 is a Saturday, Feb 28 a Saturday, May 31 a Sunday.
    expect(fires('cron(0 12 LW * ? *)', NEW_YEAR, 5)).toEqual([
      '2026-01-30T12:00:00.000Z',
      '2026-02-27T12:00:00.000Z',
      '2026-03-31T12:00:00.000Z',
      '2026-04-30T12:00:00.000Z',
      '2026-05-29T12:00:00.000Z',
    ]);
  });

  it('"15W" is the weekday nearest the 15th, never leaving the month', () => {
    // Jan 15 2026 Thursday; Feb 15 Sunday → Monday 16; Aug 15 Saturday → Friday 14.
    expect(fires('cron(0 12 15W * ? *)', NEW_YEAR, 2)).toEqual([
      '2026-01-15T12:00:00.000Z',
      '2026-02-16T12:00:00.000Z',
    ]);
    expect(fires('cron(0 12 15W 8 ? *)', NEW_YEAR, 1)).toEqual(['2026-08-14T12:00:00.000Z']);
    // Aug 1 2026 is a Saturday: the nearest weekday inside August is Monday the 3rd.
    expect(fires('cron(0 12 1W 8 ? *)', NEW_YEAR, 1)).toEqual(['2026-08-03T12:00:00.000Z']);
    // May 31 2026 is a Sunday: Friday the 29th, not Monday June 1.
    expect(fires('cron(0 12 31W 5 ? *)', NEW_YEAR, 1)).toEqual(['2026-05-29T12:00:00.000Z']);
    // A day the month does not have selects nothing that month.
    expect(fires('cron(0 12 30W 2,3 ? *)', NEW_YEAR, 1)).toEqual(['2026-03-30T12:00:00.000Z']);
  });
});

describe('AWS cron(): months and years', () => {
  it('takes month names and steps', () => {
    expect(fires('cron(0 0 1 JAN,JUL ? *)', NEW_YEAR, 2)).toEqual([
      '2026-07-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
    ]);
    expect(fires('cron(0 0 1 */4 ? *)', NEW_YEAR, 3)).toEqual([
      '2026-05-01T00:00:00.000Z',
      '2026-09-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
    ]);
  });

  it('stops when the year field runs out', () => {
    expect(fires('cron(0 0 1 1 ? 2027-2028)', NEW_YEAR, 5)).toEqual([
      '2027-01-01T00:00:00.000Z',
      '2028-01-01T00:00:00.000Z',
    ]);
    expect(fires('cron(0 0 1 1 ? 2030/5)', NEW_YEAR, 2)).toEqual([
      '2030-01-01T00:00:00.000Z',
      '2035-01-01T00:00:00.000Z',
    ]);
    expect(fires('cron(0 0 1 1 ? 1999)', NEW_YEAR, 5)).toEqual([]);
    expect(fires('cron(0 0 1 1 ? *)', '2199-01-01T00:00:00Z', 5)).toEqual([]);
    expect(fires('cron(0 0 1 1 ? *)', '2198-06-01T00:00:00Z', 5)).toEqual(['2199-01-01T00:00:00.000Z']);
  });
});

describe('AWS cron(): the Schedule object', () => {
  it('reports kind, syntax, the trimmed expression and the zone', () => {
    const s = parseSchedule('  cron( 0  9 * * ? * )  ', { timezone: 'europe/berlin' });
    expect(s.kind).toBe('cron');
    expect(s.syntax).toBe('aws-cron');
    expect(s.expression).toBe('cron( 0  9 * * ? * )');
    expect(s.timezone).toBe('Europe/Berlin');
    expect(s.start).toBeUndefined();
    expect(s.end).toBeUndefined();
  });

  it('accepts the keyword in any case', () => {
    expect(fires('CRON(0 10 * * ? *)', NEW_YEAR, 1)).toEqual(['2026-01-01T10:00:00.000Z']);
  });

  it('honours start and end, both inclusive', () => {
    const options = { start: new Date('2026-01-03T10:00:00Z'), end: new Date('2026-01-05T10:00:00Z') };
    expect(fires('cron(0 10 * * ? *)', NEW_YEAR, 10, options)).toEqual([
      '2026-01-03T10:00:00.000Z',
      '2026-01-04T10:00:00.000Z',
      '2026-01-05T10:00:00.000Z',
    ]);
    const s = parseSchedule('cron(0 10 * * ? *)', options);
    expect(s.start?.toISOString()).toBe('2026-01-03T10:00:00.000Z');
    expect(s.next(new Date('2026-01-05T10:00:00Z'), 3)).toEqual([]);
  });

  it('returns nothing for count 0 and at most count results', () => {
    const s = parseSchedule('cron(* * * * ? *)');
    expect(s.next(new Date(NEW_YEAR), 0)).toEqual([]);
    expect(s.next(new Date(NEW_YEAR))).toHaveLength(1);
    expect(s.next(new Date(NEW_YEAR), 1000)).toHaveLength(1000);
  });
});
