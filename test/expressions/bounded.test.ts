// No input may hang or spin: expressions that never fire again return [] (or their
// last few fire times) straight away, because every search jumps field by field and is
// bounded by the year field (AWS, ≤ 2199) or by 400 years and the year 9999 (Unix).
// No timing assertions here: bench/schedule.bench.ts measures the cost.

import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../src/expressions/index.ts';
import { fires } from './helpers.ts';

const NOW = '2026-01-01T00:00:00Z';

describe('expressions that never fire (again)', () => {
  it.each([
    ['cron(0 0 30 2 ? *)', 'UTC'],
    ['cron(0 0 31 4,6,9,11 ? *)', 'UTC'],
    ['cron(0 0 1 1 ? 1999)', 'UTC'],
    ['cron(0 0 1 1 ? 1970-2025)', 'Europe/Berlin'],
    ['0 0 30 2 *', 'UTC'],
    ['0 0 30,31 2 *', 'America/New_York'],
    // 02:xx on the second Sunday of March never exists in New York: skipped every year until 2199.
    ['cron(* 2 ? 3 1#2 *)', 'America/New_York'],
    ['cron(*/1 2 ? 3 1#2 2027-2199)', 'America/New_York'],
  ])('%s in %s returns []', (expression, timezone) => {
    expect(fires(expression, NOW, 5, { timezone })).toEqual([]);
  });

  it('copes with the first and last instants a Date can hold', () => {
    const last = new Date(8.64e15);
    const first = new Date(-8.64e15);
    for (const expression of [
      '* * * * *',
      'cron(* * * * ? *)',
      'rate(1 minute)',
      'at(2026-01-01T00:00:00)',
    ]) {
      expect(parseSchedule(expression, { timezone: 'Europe/Berlin' }).next(last, 3)).toEqual([]);
    }
    expect(parseSchedule('cron(0 0 1 1 ? *)').next(first)).toEqual([new Date('1970-01-01T00:00:00Z')]);
    expect(parseSchedule('rate(1 day)').next(first)[0]?.getTime()).toBe(-8.64e15 + 86_400_000);
    // Searches start in the year 1000; Kolkata then kept local mean time, +05:53:28.
    expect(parseSchedule('@yearly', { timezone: 'Asia/Kolkata' }).next(first)[0]?.toISOString()).toBe(
      '1000-12-31T18:06:32.000Z',
    );
  });

  it('returns [] at the end of the searchable range', () => {
    expect(fires('cron(* * * * ? *)', '2199-12-31T23:59:00Z', 5)).toEqual([]);
    expect(fires('* * * * *', '9999-12-31T23:59:00Z', 5)).toEqual([]);
    expect(
      fires('rate(1 day)', NOW, 5, {
        end: new Date('2025-06-01T00:00:00Z'),
        start: new Date('2025-01-01T00:00:00Z'),
      }),
    ).toEqual([]);
  });
});

describe('sparse expressions', () => {
  it('"6#5" in February: a fifth Friday needs a leap year starting on a Friday', () => {
    const times = parseSchedule('cron(0 0 ? 2 6#5 *)').next(new Date(NOW), 100);
    expect(times.length).toBeGreaterThan(0);
    for (const t of times) {
      expect([t.getUTCMonth(), t.getUTCDate(), t.getUTCDay()]).toEqual([1, 29, 5]);
    }
    expect(times[0]!.toISOString()).toBe('2036-02-29T00:00:00.000Z');
    expect(times.at(-1)!.getUTCFullYear()).toBeLessThanOrEqual(2199);
  });

  it('Unix with AND semantics: Feb 29 on a Monday', () => {
    // "*"-prefixed day-of-month makes Vixie AND the fields: days 1 and 29 (*/28), and Monday.
    const times = fires('0 0 */28 2 1', NOW, 20);
    expect(times.every((t) => new Date(t).getUTCDay() === 1 && ['01', '29'].includes(t.slice(8, 10)))).toBe(
      true,
    );
    expect(times.filter((t) => t.slice(5, 10) === '02-29').slice(0, 2)).toEqual([
      '2044-02-29T00:00:00.000Z',
      '2072-02-29T00:00:00.000Z',
    ]);
  });

  it('an every-second job yields 1000 consecutive seconds', () => {
    const times = parseSchedule('* * * * * *', { timezone: 'America/New_York' }).next(
      new Date('2026-11-01T05:59:30Z'),
      1000,
    );
    expect(times).toHaveLength(1000);
    for (let i = 1; i < times.length; i++) expect(times[i]!.getTime() - times[i - 1]!.getTime()).toBe(1000);
  });
});
