// EventBridge Scheduler at(yyyy-mm-ddThh:mm:ss): one wall-clock time in the schedule's
// zone. A time inside a spring-forward gap fires at the end of the gap; a time repeated
// by a fall-back fires at its first occurrence.

import { daysInMonth, type WallParts, wallSecondsOf } from './calendar.ts';
import { ScheduleError } from './errors.ts';
import type { TimeZone } from './timezone.ts';

const FORMAT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

/** Compiles the body of `at(...)` into its wall-clock parts. */
export function parseAt(body: string): WallParts {
  const text = body.trim();
  const example = 'e.g. "at(2026-03-08T09:30:00)"';
  const m = FORMAT.exec(text);
  if (!m) {
    const hint = /(Z|[+-]\d{2}:?\d{2})$/i.test(text)
      ? '; leave out "Z" or the offset: the time is read in the schedule\'s timezone option'
      : '';
    throw new ScheduleError(
      'at',
      `at() takes a local date and time yyyy-mm-ddThh:mm:ss, ${example}; got "${text}"${hint}`,
      {
        token: text,
      },
    );
  }
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const bad = (what: string) =>
    new ScheduleError('at', `at() ${what} in "${text}"; ${example}`, { token: text });
  if (year < 1) throw bad('has year 0000, which does not exist');
  if (month < 1 || month > 12) throw bad(`has month ${m[2]}, which is not 01-12`);
  if (day < 1 || day > daysInMonth(year, month)) {
    throw bad(`has day ${m[3]}, but ${m[1]}-${m[2]} has ${daysInMonth(year, month)} days`);
  }
  if (hour > 23) throw bad(`has hour ${m[4]}, which is not 00-23`);
  if (minute > 59) throw bad(`has minute ${m[5]}, which is not 00-59`);
  if (second > 59) throw bad(`has second ${m[6]}, which is not 00-59`);
  return { year, month, day, hour, minute, second };
}

/** The instant (epoch seconds) an at() time fires in `zone`: gap → its end, overlap → first occurrence. */
export function atInstant(parts: WallParts, zone: TimeZone): number {
  const r = zone.resolve(wallSecondsOf(parts));
  return r.kind === 'gap' ? r.end : r.kind === 'overlap' ? r.first : r.instant;
}
