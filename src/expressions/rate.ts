// AWS rate(value unit): a fixed period of real time — minutes, hours or days, the
// singular exactly when the value is 1 — unaffected by DST. Fire times are
// anchor + k·period; parse-schedule.ts chooses the anchor (start, creation or epoch).

import { ScheduleError } from './errors.ts';

export type RateUnit = 'minute' | 'hour' | 'day';

export interface RateSpec {
  readonly value: number;
  readonly unit: RateUnit;
  readonly periodMs: number;
}

const UNIT_MS: Readonly<Record<RateUnit, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
// Keeps a period far inside the range of Date (±8.64e15 ms).
const MAX_VALUE = 1_000_000;
const MAX_DATE_MS = 8.64e15;

/** Compiles the body of `rate(...)`, e.g. `5 minutes`. */
export function parseRate(body: string): RateSpec {
  const parts = body.trim().split(/\s+/).filter(Boolean);
  const example = 'e.g. "rate(5 minutes)", "rate(1 hour)" or "rate(7 days)"';
  if (parts.length !== 2) {
    throw new ScheduleError('rate', `rate() takes a value and a unit, ${example}; got "${body.trim()}"`, {
      token: body,
    });
  }
  const [valueText, unitText] = parts as [string, string];
  if (!/^\d+$/.test(valueText) || Number(valueText) < 1) {
    throw new ScheduleError(
      'rate',
      `rate() value "${valueText}" must be a whole number of at least 1, ${example}`,
      { token: valueText },
    );
  }
  const value = Number(valueText);
  if (value > MAX_VALUE) {
    throw new ScheduleError('rate', `rate() value ${valueText} is too large; the limit is ${MAX_VALUE}`, {
      token: valueText,
    });
  }
  const unitLower = unitText.toLowerCase();
  const singular = unitLower.endsWith('s') ? unitLower.slice(0, -1) : unitLower;
  if (singular !== 'minute' && singular !== 'hour' && singular !== 'day') {
    const hint =
      singular === 'second'
        ? '; for sub-minute schedules use a 6-field Unix cron line such as "*/30 * * * * *"'
        : singular === 'week' || singular === 'month'
          ? `; write weeks as days (rate(7 days)) or use cron() for calendar months`
          : '';
    throw new ScheduleError(
      'rate',
      `rate() unit "${unitText}" is not supported; use minute(s), hour(s) or day(s)${hint}`,
      { token: unitText },
    );
  }
  const plural = unitLower !== singular;
  if (value === 1 && plural) {
    throw new ScheduleError(
      'rate',
      `rate() unit "${unitText}" is plural but the value is 1; write "rate(1 ${singular})"`,
      { token: unitText },
    );
  }
  if (value !== 1 && !plural) {
    throw new ScheduleError(
      'rate',
      `rate() unit "${unitText}" is singular but the value is ${value}; write "rate(${value} ${singular}s)"`,
      { token: unitText },
    );
  }
  return { value, unit: singular, periodMs: value * UNIT_MS[singular] };
}

/**
 * Up to `count` instants anchor + k·period (k ≥ kMin) strictly after `afterMs` and not
 * after `untilMs`.
 */
export function rateInstants(
  periodMs: number,
  anchorMs: number,
  kMin: number,
  afterMs: number,
  count: number,
  untilMs: number,
): number[] {
  const out: number[] = [];
  let k = Math.max(kMin, Math.floor((afterMs - anchorMs) / periodMs) + 1);
  for (; out.length < count; k++) {
    const t = anchorMs + k * periodMs;
    if (t > untilMs || t > MAX_DATE_MS) break;
    if (t > afterMs) out.push(t);
  }
  return out;
}
