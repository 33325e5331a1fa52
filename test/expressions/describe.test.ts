// describe(): plain-English descriptions, the same for AWS, Unix and CDK spellings.

import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../src/expressions/index.ts';

const text = (expression: string, timezone?: string) =>
  parseSchedule(expression, timezone ? { timezone } : {}).describe();

describe('describe()', () => {
  it("gives the issue's example, whichever way it is written", () => {
    const expected = 'At 09:00, Monday through Friday (Europe/Berlin)';
    expect(text('cron(0 9 ? * MON-FRI *)', 'Europe/Berlin')).toBe(expected);
    expect(text('0 9 * * 1-5', 'Europe/Berlin')).toBe(expected);
    expect(
      parseSchedule({ minute: '0', hour: '9', weekDay: 'MON-FRI' }, { timezone: 'Europe/Berlin' }).describe(),
    ).toBe(expected);
  });

  it.each([
    ['cron(0/15 * * * ? *)', 'Every 15 minutes (UTC)'],
    ['* * * * *', 'Every minute (UTC)'],
    ['0 * * * *', 'Every hour (UTC)'],
    ['30 * * * *', 'At minute 30 past every hour (UTC)'],
    ['*/10 * * * * *', 'Every 10 seconds (UTC)'],
    ['* * * * * *', 'Every second (UTC)'],
    ['30 0 9 * * *', 'At 09:00:30 (UTC)'],
    ['cron(0 8,12,18 * * ? *)', 'At 08:00, 12:00 and 18:00 (UTC)'],
    ['cron(*/5 9-17 ? * MON-FRI *)', 'Every 5 minutes, between 09:00 and 17:59, Monday through Friday (UTC)'],
    ['cron(5/15 * * * ? *)', 'Every 15 minutes from minute 5 (UTC)'],
    ['cron(0,30 * * * ? *)', 'Every 30 minutes (UTC)'],
    ['cron(0,20 * * * ? *)', 'At minutes 0 and 20 (UTC)'],
    ['cron(0 0,12 * * ? *)', 'At 00:00 and 12:00 (UTC)'],
    ['cron(0 0/2 * * ? *)', 'At minute 0, every 2 hours (UTC)'],
    ['cron(0 12 L * ? *)', 'At 12:00, on the last day of the month (UTC)'],
    ['cron(0 12 LW * ? *)', 'At 12:00, on the last weekday of the month (UTC)'],
    ['cron(0 12 15W * ? *)', 'At 12:00, on the weekday nearest day 15 of the month (UTC)'],
    ['cron(0 12 ? * 6L *)', 'At 12:00, on the last Friday of the month (UTC)'],
    ['cron(0 9 ? * 3#2 *)', 'At 09:00, on the second Tuesday of the month (UTC)'],
    ['cron(0 9 ? * 2 *)', 'At 09:00, only on Monday (UTC)'],
    ['cron(0 9 ? * MON,WED,FRI *)', 'At 09:00, on Monday, Wednesday and Friday (UTC)'],
    ['0 0 1,15 * MON', 'At 00:00, on days 1 and 15 of the month or on Monday (UTC)'],
    ['0 0 */2 * 1', 'At 00:00, every 2 days of the month, starting on day 1, if that day is a Monday (UTC)'],
    [
      'cron(0 0 1 JAN,JUL ? 2026-2030)',
      'At 00:00, on day 1 of the month, in January and July, 2026 through 2030 (UTC)',
    ],
    [
      'cron(0 0 1-7 3-5 ? 2027)',
      'At 00:00, on days 1 through 7 of the month, March through May, in 2027 (UTC)',
    ],
    ['@weekly', 'At 00:00, only on Sunday (UTC)'],
  ])('%s → %s', (expression, expected) => {
    expect(text(expression)).toBe(expected);
  });

  it('describes rate() with its anchor', () => {
    expect(text('rate(5 minutes)')).toBe('Every 5 minutes');
    expect(text('rate(1 day)')).toBe('Every day');
    expect(parseSchedule('rate(1 hour)', { start: new Date('2026-01-01T00:00:00Z') }).describe()).toBe(
      'Every hour, starting 2026-01-01T00:00:00.000Z',
    );
    expect(parseSchedule('rate(2 hours)', { createdAt: new Date('2026-01-01T00:00:00Z') }).describe()).toBe(
      'Every 2 hours, counted from 2026-01-01T00:00:00.000Z',
    );
  });

  it('describes at(), saying when a DST gap moves it', () => {
    expect(text('at(2026-06-01T09:00:00)', 'Europe/Berlin')).toBe(
      'Once, at 2026-06-01 09:00:00 (Europe/Berlin)',
    );
    expect(text('at(2026-03-08T02:30:00)', 'America/New_York')).toBe(
      'Once, at 2026-03-08 02:30:00 (America/New_York); DST skips that time, so it fires when the gap ends, at 2026-03-08 03:00:00 (-04:00)',
    );
  });
});
