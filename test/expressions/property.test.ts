// Property tests: for generated expressions and instants, next() returns instants that
// are strictly ascending, strictly after `after`, each a fire time of the expression,
// and misses none — checked against the brute-force reference in reference.ts.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../src/expressions/index.ts';
import {
  type AwsExpr,
  awsArb,
  awsDayMatches,
  awsMatches,
  awsTimeMatches,
  type Policy,
  referenceFires,
  renderAws,
  renderUnix,
  transitions,
  type UnixExpr,
  unixArb,
  unixDayMatches,
  unixIsFixed,
  unixMatches,
  unixTimeMatches,
  type Wall,
  wallOf,
} from './reference.ts';

const DST_ZONES = [
  'America/New_York',
  'Europe/Berlin',
  'Australia/Sydney',
  'America/St_Johns',
  'Australia/Lord_Howe',
];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// Every transition of 2026 and 2027 in each zone: the property tests start near these.
const TRANSITIONS = DST_ZONES.flatMap((zone) =>
  transitions(zone, Date.UTC(2026, 0, 1), Date.UTC(2028, 0, 1)).map((t) => ({ zone, t })),
);

const nearTransition = fc.record({
  at: fc.constantFrom(...TRANSITIONS),
  // From 36 h before to 12 h after the transition, at any millisecond.
  shift: fc.integer({ min: -36 * HOUR, max: 12 * HOUR }),
});

function checkShape(result: number[], after: number): void {
  for (const [i, t] of result.entries()) {
    expect(t).toBeGreaterThan(i === 0 ? after : result[i - 1]!);
  }
}

/** Compares next() with the reference over a window starting at `after`. */
function compare(
  expression: string,
  zone: string,
  matches: (w: Wall) => boolean,
  policy: Policy,
  after: number,
  windowMs: number,
  stepMs = 60_000,
): void {
  const count = 1000;
  const result = parseSchedule(expression, { timezone: zone })
    .next(new Date(after), count)
    .map((d) => d.getTime());
  checkShape(result, after);
  const end = result.length === count ? Math.min(after + windowMs, result.at(-1)!) : after + windowMs;
  const expected = referenceFires(matches, zone, policy, after, end, stepMs);
  const got = result.filter((t) => t <= end);
  if (got.length !== expected.length || got.some((t, i) => t !== expected[i])) {
    const iso = (ts: number[]) => ts.slice(0, 12).map((t) => new Date(t).toISOString());
    expect({ expression, zone, after: new Date(after).toISOString(), got: iso(got) }).toEqual({
      expression,
      zone,
      after: new Date(after).toISOString(),
      got: iso(expected),
    });
  }
}

const AWS_POLICY: Policy = { overlap: 'first', gap: 'skip' };
const unixPolicy = (e: UnixExpr): Policy =>
  unixIsFixed(e) ? { overlap: 'first', gap: 'end' } : { overlap: 'both', gap: 'skip' };

describe('property: next() agrees with a brute-force walk through real time', () => {
  it('AWS cron() in DST zones, around transitions', () => {
    fc.assert(
      fc.property(awsArb, nearTransition, (expr: AwsExpr, { at, shift }) => {
        compare(renderAws(expr), at.zone, (w) => awsMatches(expr, w), AWS_POLICY, at.t + shift, 2 * DAY);
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('Unix cron (5 fields) in DST zones, around transitions', () => {
    fc.assert(
      fc.property(unixArb(false), nearTransition, (expr: UnixExpr, { at, shift }) => {
        compare(
          renderUnix(expr),
          at.zone,
          (w) => unixMatches(expr, w),
          unixPolicy(expr),
          at.t + shift,
          2 * DAY,
        );
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('Unix cron with seconds (6 fields), second by second around transitions', () => {
    const near = fc.record({
      at: fc.constantFrom(...TRANSITIONS),
      shift: fc.integer({ min: -2 * HOUR, max: HOUR }),
    });
    fc.assert(
      fc.property(unixArb(true), near, (expr: UnixExpr, { at, shift }) => {
        compare(
          renderUnix(expr),
          at.zone,
          (w) => unixMatches(expr, w),
          unixPolicy(expr),
          at.t + shift,
          3 * HOUR,
          1000,
        );
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});

/**
 * In zones without DST, a day-by-day reference covers years: for each matching day,
 * every matching hour and minute of it.
 */
function dayByDayFires(
  dayMatches: (w: Wall) => boolean,
  timeMatches: (w: Wall) => boolean,
  offsetMs: number,
  after: number,
  end: number,
): number[] {
  const out: number[] = [];
  const firstDay = Math.floor((after + offsetMs) / DAY) * DAY;
  for (let day = firstDay; day - offsetMs <= end; day += DAY) {
    const w = wallOf(day);
    if (!dayMatches(w)) continue;
    for (let hour = 0; hour < 24; hour++) {
      for (let minute = 0; minute < 60; minute++) {
        const t = day + (hour * 60 + minute) * 60_000 - offsetMs;
        if (t > after && t <= end && timeMatches({ ...w, hour, minute })) out.push(t);
      }
    }
  }
  return out;
}

describe('property: long windows in fixed-offset zones, day by day', () => {
  const zones = fc.constantFrom(
    { zone: 'UTC', offsetMs: 0 },
    { zone: 'Asia/Kolkata', offsetMs: 5.5 * HOUR },
    { zone: 'Asia/Kathmandu', offsetMs: 5.75 * HOUR },
  );
  const after = fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 0, 1) });

  /** Up to 300 fire times from `from` equal what the day-by-day reference walker finds in the same span. */
  function matchesWalker(
    expression: string,
    zone: string,
    offsetMs: number,
    from: number,
    dayMatches: Parameters<typeof dayByDayFires>[0],
    timeMatches: Parameters<typeof dayByDayFires>[1],
  ): void {
    const result = parseSchedule(expression, { timezone: zone })
      .next(new Date(from), 300)
      .map((d) => d.getTime());
    checkShape(result, from);
    const end = result.length === 300 ? result.at(-1)! : from + 3 * 366 * DAY;
    expect(result.filter((t) => t <= end)).toEqual(
      dayByDayFires(dayMatches, timeMatches, offsetMs, from, end),
    );
  }

  it('AWS cron()', () => {
    fc.assert(
      fc.property(awsArb, zones, after, (expr, { zone, offsetMs }, from) =>
        matchesWalker(
          renderAws(expr),
          zone,
          offsetMs,
          from,
          (w) => awsDayMatches(expr, w),
          (w) => awsTimeMatches(expr, w),
        ),
      ),
      { numRuns: 120 },
    );
  }, 120_000);

  it('Unix cron', () => {
    fc.assert(
      fc.property(unixArb(false), zones, after, (expr, { zone, offsetMs }, from) =>
        matchesWalker(
          renderUnix(expr),
          zone,
          offsetMs,
          from,
          (w) => unixDayMatches(expr, w),
          (w) => unixTimeMatches(expr, w),
        ),
      ),
      { numRuns: 120 },
    );
  }, 120_000);
});

describe('property: rate()', () => {
  it('fires at anchor + k·period, strictly after `after`, missing none', () => {
    const unit = fc.constantFrom(['minute', 60_000] as const, ['hour', HOUR] as const, ['day', DAY] as const);
    const anchor = fc.constantFrom('start', 'createdAt', 'none');
    const instant = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        unit,
        anchor,
        instant,
        instant,
        fc.constantFrom(...DST_ZONES),
        (value, [name, ms], anchorKind, anchorAt, after, zone) => {
          const expression = `rate(${value} ${name}${value === 1 ? '' : 's'})`;
          const period = value * ms;
          const options =
            anchorKind === 'start'
              ? { start: new Date(anchorAt) }
              : anchorKind === 'createdAt'
                ? { createdAt: new Date(anchorAt) }
                : {};
          const result = parseSchedule(expression, { ...options, timezone: zone })
            .next(new Date(after), 20)
            .map((d) => d.getTime());
          expect(result).toHaveLength(20);
          checkShape(result, after);
          const base = anchorKind === 'none' ? 0 : anchorAt;
          const kMin = anchorKind === 'start' ? 0 : anchorKind === 'createdAt' ? 1 : Number.NEGATIVE_INFINITY;
          for (const [i, t] of result.entries()) {
            expect((t - base) % period).toBe(0);
            expect((t - base) / period).toBeGreaterThanOrEqual(kMin);
            if (i > 0) expect(t - result[i - 1]!).toBe(period);
          }
          // No earlier valid fire time was skipped.
          const previous = result[0]! - period;
          expect(previous <= after || (previous - base) / period < kMin).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
