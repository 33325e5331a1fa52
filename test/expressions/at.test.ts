// at(yyyy-mm-ddThh:mm:ss): once, at a wall-clock time in the schedule's zone.

import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../src/expressions/index.ts';
import { fires } from './helpers.ts';

describe('at()', () => {
  it('fires once, at the wall-clock time in the zone', () => {
    expect(fires('at(2026-06-01T09:00:00)', '2026-01-01T00:00:00Z', 5)).toEqual(['2026-06-01T09:00:00.000Z']);
    expect(
      fires('at(2026-06-01T09:00:00)', '2026-01-01T00:00:00Z', 5, { timezone: 'Europe/Berlin' }),
    ).toEqual(['2026-06-01T07:00:00.000Z']);
    expect(fires('at(2026-03-08T02:30:00)', '2026-01-01T00:00:00Z', 1, { timezone: 'Asia/Kolkata' })).toEqual(
      ['2026-03-07T21:00:00.000Z'],
    );
  });

  it('returns nothing once the time has passed, or outside start/end', () => {
    const s = parseSchedule('at(2026-06-01T09:00:00)');
    expect(s.next(new Date('2026-06-01T09:00:00Z'))).toEqual([]);
    expect(s.next(new Date('2027-01-01T00:00:00Z'))).toEqual([]);
    const late = { start: new Date('2026-06-02T00:00:00Z') };
    expect(fires('at(2026-06-01T09:00:00)', '2026-01-01T00:00:00Z', 1, late)).toEqual([]);
    const early = { end: new Date('2026-06-01T08:59:59Z') };
    expect(fires('at(2026-06-01T09:00:00)', '2026-01-01T00:00:00Z', 1, early)).toEqual([]);
    const inside = { start: new Date('2026-06-01T09:00:00Z'), end: new Date('2026-06-01T09:00:00Z') };
    expect(fires('at(2026-06-01T09:00:00)', '2026-01-01T00:00:00Z', 1, inside)).toEqual([
      '2026-06-01T09:00:00.000Z',
    ]);
  });

  it('accepts Feb 29 in a leap year', () => {
    expect(fires('at(2028-02-29T12:00:00)', '2026-01-01T00:00:00Z')).toEqual(['2028-02-29T12:00:00.000Z']);
  });

  it('reports kind and syntax', () => {
    const s = parseSchedule('at(2026-06-01T09:00:00)');
    expect([s.kind, s.syntax]).toEqual(['at', 'at']);
  });
});
