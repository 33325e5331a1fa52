// Month ends, Feb 29 and year boundaries, in UTC and in zones far from it.

import { describe, expect, it } from 'vitest';
import { fires } from './helpers.ts';

describe('month ends', () => {
  it('"31" fires only in months that have a 31st', () => {
    expect(fires('0 0 31 * *', '2026-01-01T00:00:00Z', 7)).toEqual([
      '2026-01-31T00:00:00.000Z',
      '2026-03-31T00:00:00.000Z',
      '2026-05-31T00:00:00.000Z',
      '2026-07-31T00:00:00.000Z',
      '2026-08-31T00:00:00.000Z',
      '2026-10-31T00:00:00.000Z',
      '2026-12-31T00:00:00.000Z',
    ]);
  });

  it('every minute rolls over from Feb 29 to Mar 1 in a leap year', () => {
    expect(fires('cron(* * * * ? *)', '2028-02-29T23:58:00Z', 2)).toEqual([
      '2028-02-29T23:59:00.000Z',
      '2028-03-01T00:00:00.000Z',
    ]);
  });

  it('"L" follows the month length in a zone ahead of UTC', () => {
    expect(fires('cron(0 0 L * ? *)', '2026-01-01T00:00:00Z', 2, { timezone: 'Australia/Sydney' })).toEqual([
      '2026-01-30T13:00:00.000Z',
      '2026-02-27T13:00:00.000Z',
    ]);
  });
});

describe('Feb 29', () => {
  it('fires only in leap years, skipping 2100', () => {
    expect(fires('0 0 29 2 *', '2026-01-01T00:00:00Z', 2)).toEqual([
      '2028-02-29T00:00:00.000Z',
      '2032-02-29T00:00:00.000Z',
    ]);
    expect(fires('0 0 29 2 *', '2096-03-01T00:00:00Z', 1)).toEqual(['2104-02-29T00:00:00.000Z']);
    expect(fires('cron(0 0 29 2 ? *)', '2096-03-01T00:00:00Z', 1)).toEqual(['2104-02-29T00:00:00.000Z']);
  });

  it('AWS stops at 2199: after Feb 29 2196 there is none', () => {
    expect(fires('cron(0 0 29 2 ? *)', '2196-03-01T00:00:00Z', 3)).toEqual([]);
  });

  it('the last day of February is the 29th in leap years', () => {
    expect(fires('cron(0 12 L 2 ? *)', '2027-03-01T00:00:00Z', 2)).toEqual([
      '2028-02-29T12:00:00.000Z',
      '2029-02-28T12:00:00.000Z',
    ]);
  });
});

describe('year boundaries', () => {
  it('crosses from one year into the next', () => {
    expect(fires('59 23 31 12 *', '2026-12-31T23:58:00Z', 2)).toEqual([
      '2026-12-31T23:59:00.000Z',
      '2027-12-31T23:59:00.000Z',
    ]);
    expect(fires('*/15 * * * *', '2026-12-31T23:40:00Z', 3)).toEqual([
      '2026-12-31T23:45:00.000Z',
      '2027-01-01T00:00:00.000Z',
      '2027-01-01T00:15:00.000Z',
    ]);
  });

  it('puts local midnight on New Year in the right UTC instant', () => {
    const from = '2026-12-30T00:00:00Z';
    expect(fires('0 0 1 1 *', from, 1, { timezone: 'Australia/Sydney' })).toEqual([
      '2026-12-31T13:00:00.000Z',
    ]);
    expect(fires('@yearly', from, 1, { timezone: 'Asia/Kolkata' })).toEqual(['2026-12-31T18:30:00.000Z']);
    expect(fires('cron(0 0 1 1 ? *)', from, 1, { timezone: 'America/New_York' })).toEqual([
      '2027-01-01T05:00:00.000Z',
    ]);
    expect(fires('cron(0 0 1 1 ? *)', from, 1, { timezone: 'America/St_Johns' })).toEqual([
      '2027-01-01T03:30:00.000Z',
    ]);
  });

  it('a weekly job crosses the year on the right weekday', () => {
    // 2026-12-28 is a Monday, 2027-01-04 too.
    expect(fires('cron(0 9 ? * MON *)', '2026-12-28T10:00:00Z', 1)).toEqual(['2027-01-04T09:00:00.000Z']);
  });
});
