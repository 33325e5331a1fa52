// Every bad input the issue lists is rejected with a ScheduleError (E_SCHEDULE_INVALID)
// whose message names the field, the offending token and the fix.

import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../src/expressions/index.ts';
import { expectScheduleError } from './helpers.ts';

const parse = (expression: string) => () => parseSchedule(expression);

describe('AWS cron(): day-of-month and day-of-week', () => {
  it('rejects both set, naming the fields and the fix', () => {
    const err = expectScheduleError(parse('cron(0 9 * * MON *)'), 'day-of-week');
    expect(err.message).toBe(
      'cron() field 5 (day-of-week) is "MON" but field 3 (day-of-month) is "*"; one of them must be "?"',
    );
    expect(err.toJSON()).toEqual({
      code: 'E_SCHEDULE_INVALID',
      message: err.message,
      details: { field: 'day-of-week', token: 'MON' },
    });
  });

  it('rejects both "?"', () => {
    expectScheduleError(
      parse('cron(0 9 ? * ? *)'),
      'day-of-week',
      'field 3 (day-of-month) and field 5 (day-of-week) are both "?"',
      'exactly one of them must be "?"',
    );
  });

  it('rejects "?" in other fields and inside lists', () => {
    expectScheduleError(
      parse('cron(? 9 * * ? *)'),
      'minutes',
      'field 1 (minutes) is "?"',
      'only in day-of-month and day-of-week',
    );
    expectScheduleError(parse('cron(0 9 1,? * ? *)'), 'day-of-month', '"?" must stand alone');
  });
});

describe('AWS cron(): shape', () => {
  it('rejects a 5-field body, suggesting the year field and "?"', () => {
    expectScheduleError(
      parse('cron(0 9 * * 1)'),
      'expression',
      'cron() takes 6 fields',
      'has 5',
      'add the year field',
      '"?"',
    );
  });

  it('rejects 7 fields (Quartz seconds) and other counts', () => {
    expectScheduleError(parse('cron(0 0 9 * * ? *)'), 'expression', 'has 7', 'no seconds field');
    expectScheduleError(parse('cron(0 9)'), 'expression', 'has 2');
    expectScheduleError(parse('cron()'), 'expression', 'has 0');
  });

  it('rejects a missing closing parenthesis and unknown wrappers', () => {
    expectScheduleError(parse('cron(0 9 * * ? *'), 'expression', 'does not end with ")"');
    expectScheduleError(parse('every(5 minutes)'), 'expression', 'cron(...), rate(...) and at(...)');
  });
});

describe('AWS cron(): values', () => {
  it.each([
    ['cron(60 9 * * ? *)', 'minutes', 'field 1 (minutes) is "60": 60 is out of range; minutes go from 0-59'],
    ['cron(0 24 * * ? *)', 'hours', 'field 2 (hours) is "24": 24 is out of range'],
    ['cron(0 9 32 * ? *)', 'day-of-month', '32 is out of range'],
    ['cron(0 9 0 * ? *)', 'day-of-month', '0 is out of range'],
    ['cron(0 9 * 13 ? *)', 'month', '13 is out of range'],
    [
      'cron(0 9 ? * 8 *)',
      'day-of-week',
      '8 is out of range; days of the week go from 1-7 (1 = SUN) or SUN-SAT',
    ],
    ['cron(0 9 ? * 0 *)', 'day-of-week', '0 is out of range'],
    ['cron(0 9 * * ? 1969)', 'year', '1969 is out of range; years go from 1970-2199'],
    ['cron(0 9 * * ? 2200)', 'year', '2200 is out of range'],
    ['cron(0 9 * * ? 2020-2300)', 'year', '2300 is out of range'],
  ])('%s', (expression, field, fragment) => {
    expectScheduleError(parse(expression), field, fragment);
  });

  it('rejects a step of 0 and steps wider than the field', () => {
    expectScheduleError(parse('cron(*/0 * * * ? *)'), 'minutes', '"*/0" is 0; a step must be at least 1');
    expectScheduleError(parse('cron(0/0 * * * ? *)'), 'minutes', 'at least 1');
    expectScheduleError(parse('cron(*/61 * * * ? *)'), 'minutes', 'larger than the whole range 0-59');
  });

  it('rejects "/" in day-of-week, which AWS does not allow', () => {
    expectScheduleError(parse('cron(0 9 ? * 1/2 *)'), 'day-of-week', 'uses "/"');
  });

  it('rejects unknown names, naming the accepted ones', () => {
    expectScheduleError(parse('cron(0 9 ? * MOM *)'), 'day-of-week', '"MOM" is not a name', 'SUN-SAT');
    expectScheduleError(parse('cron(0 9 1 JANUARY ? *)'), 'month', '"JANUARY"', 'JAN-DEC');
    expectScheduleError(parse('cron(0 nine * * ? *)'), 'hours', '"nine" is not a valid value; use 0-23');
  });

  it('rejects malformed lists and ranges', () => {
    expectScheduleError(parse('cron(0 1,,2 * * ? *)'), 'hours', 'empty item');
    expectScheduleError(parse('cron(0 22-2 * * ? *)'), 'hours', 'runs backwards', '"22-23,0-2"');
    expectScheduleError(parse('cron(0 1-2-3 * * ? *)'), 'hours', 'not a range');
    expectScheduleError(parse('cron(0 -1 * * ? *)'), 'hours', 'a value is missing');
    expectScheduleError(parse('cron(0 1/2/3 * * ? *)'), 'hours', 'more than one "/"');
    expectScheduleError(parse('cron(0 1.5 * * ? *)'), 'hours', '"1.5" is not a valid value');
  });
});

describe('AWS cron(): L, W and #', () => {
  it('rejects them in fields that do not take them', () => {
    expectScheduleError(
      parse('cron(L 9 * * ? *)'),
      'minutes',
      '"L" is allowed only in day-of-month and day-of-week',
    );
    expectScheduleError(parse('cron(0 9 * L ? *)'), 'month', '"L" is allowed only');
    expectScheduleError(parse('cron(0 9 * * ? 2026L)'), 'year', '"L" is allowed only');
    expectScheduleError(parse('cron(0 5W * * ? *)'), 'hours', '"W" is allowed only in day-of-month');
    expectScheduleError(parse('cron(0 9 ? * 2W *)'), 'day-of-week', '"W" is allowed only in day-of-month');
    expectScheduleError(parse('cron(0 9 3#2 * ? *)'), 'day-of-month', '"#" is allowed only in day-of-week');
    expectScheduleError(parse('cron(3#2 9 * * ? *)'), 'minutes', '"#" is allowed only in day-of-week');
  });

  it('rejects "#6" and "#0": a month has at most five of a weekday', () => {
    expectScheduleError(parse('cron(0 9 ? * 3#6 *)'), 'day-of-week', 'must be 1-5', 'not 6');
    expectScheduleError(parse('cron(0 9 ? * 3#0 *)'), 'day-of-week', 'must be 1-5');
    expectScheduleError(parse('cron(0 9 ? * 9#2 *)'), 'day-of-week', '9 is out of range');
  });

  it('rejects lists around L, W and # and the undocumented "L-3"', () => {
    expectScheduleError(parse('cron(0 9 ? * 3#1,6#3 *)'), 'day-of-week', '"#" must stand alone');
    expectScheduleError(parse('cron(0 9 ? * 6L,2 *)'), 'day-of-week', '"L" must stand alone');
    expectScheduleError(parse('cron(0 9 1,L * ? *)'), 'day-of-month', 'must stand alone');
    expectScheduleError(parse('cron(0 9 15W,20 * ? *)'), 'day-of-month', 'must stand alone');
    expectScheduleError(
      parse('cron(0 9 L-3 * ? *)'),
      'day-of-month',
      '"L-n"',
      'not part of EventBridge cron syntax',
    );
    expectScheduleError(parse('cron(0 9 0W * ? *)'), 'day-of-month', '0 is out of range');
    expectScheduleError(parse('cron(0 9 32W * ? *)'), 'day-of-month', '32 is out of range');
  });
});

describe('Unix cron', () => {
  it('rejects wrong field counts', () => {
    expectScheduleError(parse('0 9 * *'), 'expression', 'has 4', 'a Unix cron line has 5 fields');
    expectScheduleError(parse('0 0 9 * * ? *'), 'expression', 'has 7');
    expectScheduleError(parse('every day'), 'expression', '"every day" is not a schedule expression');
  });

  it('rejects out-of-range values and step 0', () => {
    expectScheduleError(parse('60 * * * *'), 'minute', 'cron field 1 (minute) is "60"', 'out of range');
    expectScheduleError(parse('0 24 * * *'), 'hour', '24 is out of range');
    expectScheduleError(parse('0 0 * * 8'), 'day-of-week', '8 is out of range; days of the week go from 0-7');
    expectScheduleError(parse('60 0 0 * * *'), 'second', 'cron field 1 (second) is "60"');
    expectScheduleError(parse('0 60 0 * * *'), 'minute', 'cron field 2 (minute)');
    expectScheduleError(parse('*/0 * * * *'), 'minute', 'at least 1');
  });

  it('rejects a step from a single value ("5/20"), which Vixie cron and croner reject too', () => {
    expectScheduleError(
      parse('5/20 * * * *'),
      'minute',
      '"5/20" steps from a single value',
      'write "5-59/20"',
    );
  });

  it('rejects unknown names', () => {
    expectScheduleError(parse('0 9 * * FUNDAY'), 'day-of-week', '"FUNDAY" is not a name');
    expectScheduleError(parse('0 9 * SEPT *'), 'month', '"SEPT"');
  });

  it('rejects L, W, # and ?, which are AWS syntax', () => {
    expectScheduleError(parse('0 9 L * *'), 'day-of-month', 'Unix cron has no "L"', 'cron(');
    expectScheduleError(parse('0 9 15W * *'), 'day-of-month', 'Unix cron has no "15W"');
    expectScheduleError(parse('0 9 * * 5#2'), 'day-of-week', 'Unix cron has no "#"');
    expectScheduleError(parse('0 9 * * 5L'), 'day-of-week', 'Unix cron has no "5L"');
    expectScheduleError(parse('0 9 ? * *'), 'day-of-month', 'Unix cron has no "?"; use "*"');
  });

  it('rejects unknown macros and @reboot', () => {
    expectScheduleError(parse('@reboot'), 'expression', '@reboot is not a time schedule');
    expectScheduleError(parse('@every 5m'), 'expression', 'not a supported macro', '@hourly');
  });
});

describe('rate()', () => {
  it.each([
    ['rate(1 minutes)', 'unit "minutes" is plural but the value is 1; write "rate(1 minute)"'],
    ['rate(5 minute)', 'unit "minute" is singular but the value is 5; write "rate(5 minutes)"'],
    ['rate(1 hours)', 'write "rate(1 hour)"'],
    ['rate(2 day)', 'write "rate(2 days)"'],
    ['rate(0 minutes)', 'value "0" must be a whole number of at least 1'],
    ['rate(-5 minutes)', 'value "-5"'],
    ['rate(1.5 hours)', 'value "1.5"'],
    ['rate(five minutes)', 'value "five"'],
    ['rate(30 seconds)', 'unit "seconds" is not supported', '6-field Unix cron'],
    ['rate(2 weeks)', 'unit "weeks" is not supported', 'rate(7 days)'],
    ['rate(5)', 'takes a value and a unit'],
    ['rate(5 minutes please)', 'takes a value and a unit'],
    ['rate()', 'takes a value and a unit'],
    ['rate(9999999 minutes)', 'too large'],
  ])('%s', (expression, ...fragments) => {
    expectScheduleError(parse(expression), 'rate', ...fragments);
  });
});

describe('at()', () => {
  it.each([
    ['at(2026-03-08 02:30:00)', 'yyyy-mm-ddThh:mm:ss'],
    ['at(2026-03-08T02:30)', 'yyyy-mm-ddThh:mm:ss'],
    ['at(2026-3-8T02:30:00)', 'yyyy-mm-ddThh:mm:ss'],
    ['at(tomorrow)', 'got "tomorrow"'],
    ['at()', 'yyyy-mm-ddThh:mm:ss'],
    ['at(2026-03-08T02:30:00Z)', 'leave out "Z" or the offset'],
    ['at(2026-03-08T02:30:00+01:00)', 'leave out "Z" or the offset'],
    ['at(2026-02-29T00:00:00)', 'day 29, but 2026-02 has 28 days'],
    ['at(2026-04-31T00:00:00)', 'day 31'],
    ['at(2026-13-01T00:00:00)', 'month 13'],
    ['at(2026-00-01T00:00:00)', 'month 00'],
    ['at(2026-01-01T24:00:00)', 'hour 24'],
    ['at(2026-01-01T00:60:00)', 'minute 60'],
    ['at(2026-01-01T00:00:60)', 'second 60'],
    ['at(0000-01-01T00:00:00)', 'year 0000'],
  ])('%s', (expression, fragment) => {
    expectScheduleError(parse(expression), 'at', fragment);
  });
});

describe('the expression itself', () => {
  it('rejects empty and blank input', () => {
    expectScheduleError(parse(''), 'expression', 'is empty', 'rate(5 minutes)');
    expectScheduleError(parse('   '), 'expression', 'is empty');
  });

  it('rejects very long input', () => {
    expectScheduleError(parse('x'.repeat(300)), 'expression', '300 characters long; the limit is 256');
    expectScheduleError(parse(`cron(${'0,'.repeat(200)}0 * * * ? *)`), 'expression', 'the limit is 256');
  });

  it('rejects values that are neither strings nor objects', () => {
    expectScheduleError(() => parseSchedule(42 as never), 'expression', 'must be a string or a cron object');
    expectScheduleError(
      () => parseSchedule(undefined as never),
      'expression',
      'must be a string or a cron object',
    );
    expectScheduleError(() => parseSchedule(['0 * * * *'] as never), 'expression', 'plain object');
  });
});

describe('options', () => {
  it('rejects an unknown time zone', () => {
    expectScheduleError(
      () => parseSchedule('cron(0 9 * * ? *)', { timezone: 'Mars/Olympus' }),
      'timezone',
      '"Mars/Olympus" is not a known IANA time zone',
      'Europe/Berlin',
    );
    expectScheduleError(() => parseSchedule('rate(1 hour)', { timezone: '' }), 'timezone', 'IANA zone name');
  });

  it('rejects an end before the start', () => {
    expectScheduleError(
      () =>
        parseSchedule('rate(1 hour)', {
          start: new Date('2026-02-01T00:00:00Z'),
          end: new Date('2026-01-01T00:00:00Z'),
        }),
      'end',
      'end (2026-01-01T00:00:00.000Z) is before start (2026-02-01T00:00:00.000Z)',
    );
  });

  it('rejects invalid dates', () => {
    expectScheduleError(
      () => parseSchedule('rate(1 hour)', { start: new Date('nope') }),
      'start',
      'valid Date',
    );
    expectScheduleError(() => parseSchedule('rate(1 hour)', { end: '2026' as never }), 'end', 'valid Date');
    expectScheduleError(
      () => parseSchedule('rate(1 hour)', { createdAt: new Date(Number.NaN) }),
      'createdAt',
    );
  });
});

describe('next() arguments', () => {
  const s = parseSchedule('cron(0 9 * * ? *)');

  it('rejects an invalid `after`', () => {
    expectScheduleError(() => s.next(new Date('nope')), 'after', 'valid Date');
    expectScheduleError(() => s.next('2026-01-01' as never), 'after', 'valid Date');
  });

  it('rejects a count that is not a whole number from 0 to 1000', () => {
    for (const count of [-1, 1.5, 1001, Number.NaN]) {
      expectScheduleError(() => s.next(new Date(), count), 'count', 'from 0 to 1000');
    }
  });
});
