// rate(value unit): a fixed period of real time, anchored at start, creation or the epoch.

import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../src/expressions/index.ts';
import { fires } from './helpers.ts';

describe('rate()', () => {
  it('without start or createdAt is aligned to the Unix epoch', () => {
    expect(fires('rate(5 minutes)', '2026-01-01T00:02:30Z', 2)).toEqual([
      '2026-01-01T00:05:00.000Z',
      '2026-01-01T00:10:00.000Z',
    ]);
    expect(fires('rate(1 day)', '2026-01-01T13:00:00Z', 2)).toEqual([
      '2026-01-02T00:00:00.000Z',
      '2026-01-03T00:00:00.000Z',
    ]);
    expect(fires('rate(1 minute)', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-01T00:01:00.000Z']);
    expect(fires('rate(2 hours)', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-01T02:00:00.000Z']);
  });

  it('with start fires at start + k·period for k = 0, 1, 2, …', () => {
    const start = new Date('2026-01-01T00:30:00Z');
    expect(fires('rate(1 hour)', '2025-12-01T00:00:00Z', 3, { start })).toEqual([
      '2026-01-01T00:30:00.000Z',
      '2026-01-01T01:30:00.000Z',
      '2026-01-01T02:30:00.000Z',
    ]);
    expect(fires('rate(1 hour)', '2026-01-01T00:30:00Z', 1, { start })).toEqual(['2026-01-01T01:30:00.000Z']);
    expect(fires('rate(7 days)', '2026-01-20T00:00:00Z', 1, { start })).toEqual(['2026-01-22T00:30:00.000Z']);
  });

  it('with createdAt fires at creation + k·period for k = 1, 2, … (never at creation itself)', () => {
    const createdAt = new Date('2026-01-01T00:03:00Z');
    expect(fires('rate(10 minutes)', '2025-12-31T00:00:00Z', 2, { createdAt })).toEqual([
      '2026-01-01T00:13:00.000Z',
      '2026-01-01T00:23:00.000Z',
    ]);
    expect(fires('rate(10 minutes)', '2026-01-01T00:13:00Z', 1, { createdAt })).toEqual([
      '2026-01-01T00:23:00.000Z',
    ]);
  });

  it('prefers start over createdAt', () => {
    const options = { start: new Date('2026-01-01T00:00:00Z'), createdAt: new Date('2026-01-01T00:03:00Z') };
    expect(fires('rate(10 minutes)', '2025-12-31T00:00:00Z', 1, options)).toEqual([
      '2026-01-01T00:00:00.000Z',
    ]);
  });

  it('stops at end (inclusive)', () => {
    const options = { start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-01-01T02:00:00Z') };
    expect(fires('rate(1 hour)', '2025-12-31T00:00:00Z', 5, options)).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T01:00:00.000Z',
      '2026-01-01T02:00:00.000Z',
    ]);
  });

  it('accepts units in any case and reports kind and syntax', () => {
    const s = parseSchedule('rate(2 Hours)');
    expect([s.kind, s.syntax, s.expression, s.timezone]).toEqual(['rate', 'rate', 'rate(2 Hours)', 'UTC']);
  });
});
