// Instants as users write them: a Date, or an ISO-8601 date and time with a zone. Bounded to
// the years 0000–9999 (what a four-digit year writes, and far inside what a Date, a SQLite
// integer read into JavaScript and PostgreSQL's bigint hold), and checked against the
// calendar: Date.parse reads "2026-02-30" as March 2, which is not what anyone meant.

/** The latest instant accepted anywhere a user gives one. */
export const MAX_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** The earliest: 0000-01-01T00:00:00Z. */
export const MIN_INSTANT_MS = -62_167_219_200_000;

// A bare local time would depend on the server's zone, so a zone designator is required.
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/i;

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * Milliseconds of an instant, or why `value` is not one (to put after the field's name).
 *
 * @example
 * ```ts
 * readInstant('2027-03-01T09:00:00Z'); // 1803891600000
 * readInstant('2026-02-30T00:00:00Z'); // { why: '… not on the calendar: month 2 of 2026 has 28 days' }
 * ```
 */
export function readInstant(value: unknown): number | { readonly why: string } {
  const shown =
    value instanceof Date
      ? `Date(${value.getTime()})`
      : typeof value === 'string'
        ? JSON.stringify(value.slice(0, 80))
        : typeof value;
  let ms: number;
  if (value instanceof Date) {
    ms = value.getTime();
    if (!Number.isFinite(ms)) return { why: 'is an invalid Date; give a valid one' };
  } else {
    const m = typeof value === 'string' ? ISO_INSTANT.exec(value.trim()) : null;
    if (!m) {
      return {
        why: `${shown} is not an ISO-8601 instant; give one with a zone, e.g. 2026-12-31T23:00:00Z`,
      };
    }
    const [year, month, day, hour, minute, second, zh, zm] = m.slice(1).map((p) => Number(p ?? 0));
    if (month! < 1 || month! > 12)
      return { why: `${shown} is not on the calendar: there is no month ${month}` };
    if (day! < 1 || day! > daysIn(year!, month!)) {
      return {
        why: `${shown} is not on the calendar: month ${month} of ${year} has ${daysIn(year!, month!)} days`,
      };
    }
    if (hour! > 23 || minute! > 59 || second! > 59 || zh! > 23 || zm! > 59) {
      return { why: `${shown} has a time of day or zone offset out of range` };
    }
    ms = Date.parse(value as string);
  }
  if (ms > MAX_INSTANT_MS || ms < MIN_INSTANT_MS) {
    return {
      why: `${shown} is outside the years 0000–9999 (in UTC), the instants accepted; give one inside them`,
    };
  }
  return ms;
}
