// Durations as users write them: a number of milliseconds, or a string such as
// '30s', '5m', '24h', '1d 6h', '500ms'. Parsed once at the edge into milliseconds.

import { MainspringError } from './errors.ts';

/** Milliseconds as a number, or a string of number+unit parts: `'90s'`, `'1h 30m'`, `'250ms'`, `'7d'`. */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)\s*([a-z]+)/gy;

/**
 * The longest duration accepted anywhere: 100 years (36,525 days). Added to any instant a
 * store holds, it stays far inside what a Date, a SQLite integer read as a JS number and
 * PostgreSQL can represent, so nothing accepted can later be unreadable.
 */
export const MAX_DURATION_MS = 36_525 * 86_400_000;

/**
 * Parses a Duration into milliseconds, naming `field` in the error when it is not one.
 *
 * @example
 * ```ts
 * parseDuration('1h 30m', 'ttl'); // 5_400_000
 * parseDuration(250, 'ttl');      // 250
 * ```
 */
export function parseDuration(value: Duration, field: string): number {
  const fail = (why: string): never => {
    throw new MainspringError(
      'E_VALIDATION',
      `${field} is ${JSON.stringify(value)}: ${why}; give milliseconds as a number or a string such as '30s', '5m', '24h'`,
      { details: { field, value } },
    );
  };
  const bounded = (ms: number): number =>
    ms > MAX_DURATION_MS ? fail('longer than 100 years (36525d), the longest duration accepted') : ms;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) fail('not a non-negative finite number');
    return bounded(Math.round(value));
  }
  if (typeof value !== 'string') return fail('not a number or string');
  const text = value.trim().toLowerCase();
  if (text === '') return fail('empty');
  if (/^\d+(\.\d+)?$/.test(text)) return bounded(Math.round(Number(text)));
  let total = 0;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (!m) return fail(`cannot read ${JSON.stringify(text.slice(pos))}`);
    const unit = UNIT_MS[m[2]!];
    if (unit === undefined) return fail(`unknown unit ${JSON.stringify(m[2])}`);
    total += Number(m[1]) * unit;
    pos = PART.lastIndex;
    while (text[pos] === ' ' || text[pos] === ',') pos++;
  }
  return bounded(Math.round(total));
}
