// Time-zone arithmetic: offsets (whole, half- and quarter-hour), the three ways a wall
// reading resolves, and the calendar helpers underneath.

import { describe, expect, it } from 'vitest';
import { civilFromDays, daysFromCivil, formatOffset, weekdayOf } from '../../src/expressions/calendar.ts';
import { formatInTimeZone } from '../../src/expressions/index.ts';
import { getTimeZone } from '../../src/expressions/timezone.ts';

const sec = (iso: string) => Date.parse(iso) / 1000;
const wall = (text: string) => Date.parse(`${text}Z`) / 1000;

describe('TimeZone.offsetAt', () => {
  it.each([
    ['UTC', '2026-07-01T00:00:00Z', 0],
    ['Asia/Kolkata', '2026-01-01T00:00:00Z', 5.5 * 3600],
    ['Asia/Kolkata', '2026-07-01T00:00:00Z', 5.5 * 3600],
    ['Asia/Kathmandu', '2026-07-01T00:00:00Z', 5.75 * 3600],
    ['America/St_Johns', '2026-01-01T00:00:00Z', -3.5 * 3600],
    ['America/St_Johns', '2026-07-01T00:00:00Z', -2.5 * 3600],
    ['Australia/Lord_Howe', '2026-07-01T00:00:00Z', 10.5 * 3600],
    ['Australia/Lord_Howe', '2026-01-01T00:00:00Z', 11 * 3600],
    ['America/New_York', '2026-03-08T06:59:59Z', -5 * 3600],
    ['America/New_York', '2026-03-08T07:00:00Z', -4 * 3600],
  ])('%s at %s is %d s', (zone, instant, offset) => {
    expect(getTimeZone(zone).offsetAt(sec(instant))).toBe(offset);
  });
});

describe('TimeZone.resolve', () => {
  const ny = getTimeZone('America/New_York');

  it('maps an ordinary reading to one instant', () => {
    expect(ny.resolve(wall('2026-07-01T12:00:00'))).toEqual({
      kind: 'unique',
      instant: sec('2026-07-01T16:00:00Z'),
    });
  });

  it('maps a repeated reading to both instants, first pass first', () => {
    expect(ny.resolve(wall('2026-11-01T01:30:00'))).toEqual({
      kind: 'overlap',
      first: sec('2026-11-01T05:30:00Z'),
      second: sec('2026-11-01T06:30:00Z'),
      transition: { at: sec('2026-11-01T06:00:00Z'), before: -4 * 3600, after: -5 * 3600 },
    });
  });

  it('maps a skipped reading to the end of the gap', () => {
    expect(ny.resolve(wall('2026-03-08T02:30:00'))).toEqual({
      kind: 'gap',
      end: sec('2026-03-08T07:00:00Z'),
      wallAfter: wall('2026-03-08T03:00:00'),
    });
    expect(getTimeZone('Australia/Lord_Howe').resolve(wall('2026-10-04T02:10:00'))).toEqual({
      kind: 'gap',
      end: sec('2026-10-03T15:30:00Z'),
      wallAfter: wall('2026-10-04T02:30:00'),
    });
  });

  it('is exact at the edges of a gap and an overlap', () => {
    expect(ny.resolve(wall('2026-03-08T01:59:59'))).toEqual({
      kind: 'unique',
      instant: sec('2026-03-08T06:59:59Z'),
    });
    expect(ny.resolve(wall('2026-03-08T03:00:00'))).toEqual({
      kind: 'unique',
      instant: sec('2026-03-08T07:00:00Z'),
    });
    expect(ny.resolve(wall('2026-11-01T00:59:59')).kind).toBe('unique');
    expect(ny.resolve(wall('2026-11-01T01:00:00')).kind).toBe('overlap');
    expect(ny.resolve(wall('2026-11-01T01:59:59')).kind).toBe('overlap');
    expect(ny.resolve(wall('2026-11-01T02:00:00'))).toEqual({
      kind: 'unique',
      instant: sec('2026-11-01T07:00:00Z'),
    });
  });
});

describe('TimeZone.transitionNear', () => {
  it('finds the change of offset within a day, and nothing elsewhere', () => {
    const berlin = getTimeZone('Europe/Berlin');
    expect(berlin.transitionNear(sec('2026-10-24T12:00:00Z'))).toEqual({
      at: sec('2026-10-25T01:00:00Z'),
      before: 7200,
      after: 3600,
    });
    expect(berlin.transitionNear(sec('2026-07-01T00:00:00Z'))).toBeUndefined();
    expect(getTimeZone('UTC').transitionNear(sec('2026-10-25T01:00:00Z'))).toBeUndefined();
  });
});

describe('getTimeZone', () => {
  it('canonicalises the name and caches', () => {
    expect(getTimeZone('europe/berlin').name).toBe('Europe/Berlin');
    expect(getTimeZone('Europe/Berlin')).toBe(getTimeZone('Europe/Berlin'));
  });
});

describe('formatInTimeZone', () => {
  it('prints the wall time with its offset', () => {
    expect(formatInTimeZone(new Date('2026-03-08T07:00:00Z'), 'America/New_York')).toBe(
      '2026-03-08T03:00:00-04:00',
    );
    expect(formatInTimeZone(new Date('2026-01-01T00:00:00Z'), 'Asia/Kolkata')).toBe(
      '2026-01-01T05:30:00+05:30',
    );
    expect(formatInTimeZone(new Date('2026-01-01T00:00:00Z'), 'America/St_Johns')).toBe(
      '2025-12-31T20:30:00-03:30',
    );
    expect(formatInTimeZone(new Date('2026-01-01T00:00:00Z'), 'UTC')).toBe('2026-01-01T00:00:00+00:00');
  });
});

describe('calendar', () => {
  it('converts day numbers both ways across centuries and leap days', () => {
    for (const [y, m, d] of [
      [1970, 1, 1],
      [2000, 2, 29],
      [2100, 3, 1],
      [1600, 12, 31],
      [9999, 12, 31],
      [1, 1, 1],
    ] as const) {
      const days = daysFromCivil(y, m, d);
      const viaDate = new Date(0);
      viaDate.setUTCFullYear(y, m - 1, d);
      expect(days).toBe(viaDate.getTime() / 86_400_000);
      expect(civilFromDays(days)).toEqual({ year: y, month: m, day: d });
    }
    expect(daysFromCivil(2026, 3, 8)).toBe(Date.UTC(2026, 2, 8) / 86_400_000);
    expect(weekdayOf(2026, 1, 1)).toBe(4);
    expect(weekdayOf(2100, 2, 28)).toBe(new Date(Date.UTC(2100, 1, 28)).getUTCDay());
  });

  it('formats offsets', () => {
    expect([formatOffset(19_800), formatOffset(-12_600), formatOffset(0), formatOffset(-17_762)]).toEqual([
      '+05:30',
      '-03:30',
      '+00:00',
      '-04:56:02',
    ]);
  });
});
