// Unix (Vixie) cron: 5 and 6 fields, names, macros, day-of-week 0-7 and the
// day-of-month / day-of-week OR rule, in UTC (DST behaviour lives in dst.test.ts).

import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../src/expressions/index.ts';
import { fires } from './helpers.ts';

// 2026-01-01 is a Thursday.
const NEW_YEAR = '2026-01-01T00:00:00Z';

describe('Unix cron: fields', () => {
  it('fires every minute, at fixed times, and on steps', () => {
    expect(fires('* * * * *', NEW_YEAR, 2)).toEqual(['2026-01-01T00:01:00.000Z', '2026-01-01T00:02:00.000Z']);
    expect(fires('5 4 * * *', NEW_YEAR, 2)).toEqual(['2026-01-01T04:05:00.000Z', '2026-01-02T04:05:00.000Z']);
    expect(fires('*/15 * * * *', NEW_YEAR, 2)).toEqual([
      '2026-01-01T00:15:00.000Z',
      '2026-01-01T00:30:00.000Z',
    ]);
    expect(fires('5-59/20 * * * *', NEW_YEAR, 3)).toEqual([
      '2026-01-01T00:05:00.000Z',
      '2026-01-01T00:25:00.000Z',
      '2026-01-01T00:45:00.000Z',
    ]);
    expect(fires('0 9-17/4 * * *', NEW_YEAR, 4)).toEqual([
      '2026-01-01T09:00:00.000Z',
      '2026-01-01T13:00:00.000Z',
      '2026-01-01T17:00:00.000Z',
      '2026-01-02T09:00:00.000Z',
    ]);
    expect(fires('0 0 1 */3 *', NEW_YEAR, 3)).toEqual([
      '2026-04-01T00:00:00.000Z',
      '2026-07-01T00:00:00.000Z',
      '2026-10-01T00:00:00.000Z',
    ]);
  });

  it('takes month and day names in any case', () => {
    expect(fires('0 0 1 jan,JUL *', NEW_YEAR, 2)).toEqual([
      '2026-07-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
    ]);
    expect(fires('0 0 * * SUN', NEW_YEAR, 1)).toEqual(['2026-01-04T00:00:00.000Z']);
    expect(fires('0 9 * * mon-fri', NEW_YEAR, 3)).toEqual([
      '2026-01-01T09:00:00.000Z',
      '2026-01-02T09:00:00.000Z',
      '2026-01-05T09:00:00.000Z',
    ]);
  });

  it('counts day-of-week 0-7 with both 0 and 7 meaning Sunday', () => {
    expect(fires('0 0 * * 0', NEW_YEAR, 1)).toEqual(['2026-01-04T00:00:00.000Z']);
    expect(fires('0 0 * * 7', NEW_YEAR, 1)).toEqual(['2026-01-04T00:00:00.000Z']);
    expect(fires('0 0 * * 5-7', NEW_YEAR, 4)).toEqual([
      '2026-01-02T00:00:00.000Z',
      '2026-01-03T00:00:00.000Z',
      '2026-01-04T00:00:00.000Z',
      '2026-01-09T00:00:00.000Z',
    ]);
    expect(fires('0 0 * * FRI-SUN', NEW_YEAR, 3)).toEqual([
      '2026-01-02T00:00:00.000Z',
      '2026-01-03T00:00:00.000Z',
      '2026-01-04T00:00:00.000Z',
    ]);
    expect(fires('0 0 * * */7', NEW_YEAR, 2)).toEqual([
      '2026-01-04T00:00:00.000Z',
      '2026-01-11T00:00:00.000Z',
    ]);
  });
});

describe('Unix cron: day-of-month and day-of-week (Vixie)', () => {
  it('matches a day if either field matches when both are restricted', () => {
    // The 13th, or any Friday.
    expect(fires('0 0 13 * 5', NEW_YEAR, 6)).toEqual([
      '2026-01-02T00:00:00.000Z',
      '2026-01-09T00:00:00.000Z',
      '2026-01-13T00:00:00.000Z',
      '2026-01-16T00:00:00.000Z',
      '2026-01-23T00:00:00.000Z',
      '2026-01-30T00:00:00.000Z',
    ]);
  });

  it('requires both when one field starts with "*", as "*/2" does', () => {
    // Odd days that are Mondays.
    expect(fires('0 0 */2 * 1', NEW_YEAR, 5)).toEqual([
      '2026-01-05T00:00:00.000Z',
      '2026-01-19T00:00:00.000Z',
      '2026-02-09T00:00:00.000Z',
      '2026-02-23T00:00:00.000Z',
      '2026-03-09T00:00:00.000Z',
    ]);
  });

  it('uses only the restricted field when the other is "*"', () => {
    expect(fires('0 0 1 * *', NEW_YEAR, 2)).toEqual(['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']);
    expect(fires('0 0 * * 1', NEW_YEAR, 2)).toEqual(['2026-01-05T00:00:00.000Z', '2026-01-12T00:00:00.000Z']);
  });
});

describe('Unix cron: six fields with seconds', () => {
  it('reads the first field as seconds', () => {
    expect(fires('*/20 * * * * *', NEW_YEAR, 3)).toEqual([
      '2026-01-01T00:00:20.000Z',
      '2026-01-01T00:00:40.000Z',
      '2026-01-01T00:01:00.000Z',
    ]);
    expect(fires('30 0 9 * * *', NEW_YEAR, 1)).toEqual(['2026-01-01T09:00:30.000Z']);
    expect(fires('* * * * * *', '2026-01-01T00:00:00.500Z', 2)).toEqual([
      '2026-01-01T00:00:01.000Z',
      '2026-01-01T00:00:02.000Z',
    ]);
  });
});

describe('Unix cron: macros', () => {
  it.each([
    ['@yearly', '2027-01-01T00:00:00.000Z'],
    ['@annually', '2027-01-01T00:00:00.000Z'],
    ['@monthly', '2026-02-01T00:00:00.000Z'],
    ['@weekly', '2026-01-04T00:00:00.000Z'],
    ['@daily', '2026-01-02T00:00:00.000Z'],
    ['@midnight', '2026-01-02T00:00:00.000Z'],
    ['@hourly', '2026-01-01T01:00:00.000Z'],
    ['@DAILY', '2026-01-02T00:00:00.000Z'],
  ])('%s', (macro, first) => {
    expect(fires(macro, NEW_YEAR, 1)).toEqual([first]);
  });

  it('reports the syntax and keeps the expression', () => {
    const s = parseSchedule('@daily');
    expect([s.kind, s.syntax, s.expression]).toEqual(['cron', 'unix-cron', '@daily']);
  });
});
