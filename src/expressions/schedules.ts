// The three Schedule implementations — cron (AWS, Unix, CDK), rate and at — and the
// argument checks their next() shares. Each applies its syntax's DST policy.

import { formatOffset, formatWall, type WallParts, wallSecondsOf } from './calendar.ts';
import { cronInstants, type DstPolicy } from './cron-search.ts';
import type { CronSpec } from './cron-spec.ts';
import { describeCron } from './describe.ts';
import { ScheduleError } from './errors.ts';
import type { RateSpec } from './rate.ts';
import { rateInstants } from './rate.ts';
import type { TimeZone } from './timezone.ts';
import type { Schedule, ScheduleKind, ScheduleSyntax } from './types.ts';

export const MAX_COUNT = 1000;

/** Options after validation: the zone looked up, instants as epoch ms. */
export interface ResolvedScheduleOptions {
  readonly zone: TimeZone;
  readonly startMs: number | undefined;
  readonly endMs: number | undefined;
  readonly createdAtMs: number | undefined;
}

// EventBridge Scheduler: a skipped time is skipped, a repeated time fires at its first occurrence.
const AWS_POLICY: DstPolicy = { overlap: 'first', gap: 'skip' };
// Vixie cron / croner: interval jobs follow real time; fixed-time jobs fire once, a gap time at its end.
const UNIX_INTERVAL_POLICY: DstPolicy = { overlap: 'both', gap: 'skip' };
const UNIX_FIXED_POLICY: DstPolicy = { overlap: 'first', gap: 'end' };

/** The DST policy of a compiled cron expression. */
export function dstPolicyOf(spec: CronSpec): DstPolicy {
  if (spec.syntax === 'aws') return AWS_POLICY;
  return spec.fixedTime ? UNIX_FIXED_POLICY : UNIX_INTERVAL_POLICY;
}

function checkNextArgs(after: Date, count: number): number {
  if (!(after instanceof Date) || Number.isNaN(after.getTime())) {
    throw new ScheduleError('after', `next() needs a valid Date as "after"; got ${String(after)}`);
  }
  if (!Number.isInteger(count) || count < 0 || count > MAX_COUNT) {
    throw new ScheduleError(
      'count',
      `next() count must be a whole number from 0 to ${MAX_COUNT}; got ${String(count)}`,
    );
  }
  return after.getTime();
}

abstract class BaseSchedule implements Schedule {
  abstract readonly kind: ScheduleKind;
  readonly syntax: ScheduleSyntax;
  readonly expression: string;
  readonly timezone: string;
  readonly start: Date | undefined;
  readonly end: Date | undefined;
  protected readonly options: ResolvedScheduleOptions;

  constructor(syntax: ScheduleSyntax, expression: string, options: ResolvedScheduleOptions) {
    this.syntax = syntax;
    this.expression = expression;
    this.options = options;
    this.timezone = options.zone.name;
    this.start = options.startMs === undefined ? undefined : new Date(options.startMs);
    this.end = options.endMs === undefined ? undefined : new Date(options.endMs);
  }

  next(after: Date, count = 1): Date[] {
    const afterMs = checkNextArgs(after, count);
    if (count === 0) return [];
    return this.instantsAfter(afterMs, count, this.options.endMs ?? Number.POSITIVE_INFINITY).map(
      (t) => new Date(t),
    );
  }

  abstract describe(): string;
  protected abstract instantsAfter(afterMs: number, count: number, untilMs: number): number[];
}

export class CronSchedule extends BaseSchedule {
  readonly kind = 'cron';
  readonly #spec: CronSpec;
  readonly #policy: DstPolicy;

  constructor(syntax: ScheduleSyntax, expression: string, spec: CronSpec, options: ResolvedScheduleOptions) {
    super(syntax, expression, options);
    this.#spec = spec;
    this.#policy = dstPolicyOf(spec);
  }

  describe(): string {
    return describeCron(this.#spec, this.timezone);
  }

  protected instantsAfter(afterMs: number, count: number, untilMs: number): number[] {
    const { startMs } = this.options;
    const from = startMs !== undefined && startMs - 1 > afterMs ? startMs - 1 : afterMs;
    const out: number[] = [];
    const bounded = Number.isFinite(untilMs) ? untilMs : undefined;
    for (const t of cronInstants(this.#spec, this.options.zone, this.#policy, from, bounded)) {
      if (t > untilMs) break;
      out.push(t);
      if (out.length === count) break;
    }
    return out;
  }
}

export class RateSchedule extends BaseSchedule {
  readonly kind = 'rate';
  readonly #rate: RateSpec;

  constructor(expression: string, rate: RateSpec, options: ResolvedScheduleOptions) {
    super('rate', expression, options);
    this.#rate = rate;
  }

  describe(): string {
    const { value, unit } = this.#rate;
    const every = value === 1 ? `Every ${unit}` : `Every ${value} ${unit}s`;
    const { startMs, createdAtMs } = this.options;
    if (startMs !== undefined) return `${every}, starting ${new Date(startMs).toISOString()}`;
    if (createdAtMs !== undefined) return `${every}, counted from ${new Date(createdAtMs).toISOString()}`;
    return every;
  }

  protected instantsAfter(afterMs: number, count: number, untilMs: number): number[] {
    const { startMs, createdAtMs } = this.options;
    // Anchor: start (k ≥ 0), else creation (k ≥ 1), else the Unix epoch (any k): see docs/schedules.md.
    const [anchor, kMin] =
      startMs !== undefined
        ? [startMs, 0]
        : createdAtMs !== undefined
          ? [createdAtMs, 1]
          : [0, Number.NEGATIVE_INFINITY];
    return rateInstants(this.#rate.periodMs, anchor, kMin, afterMs, count, untilMs);
  }
}

export class AtSchedule extends BaseSchedule {
  readonly kind = 'at';
  readonly #wall: WallParts;
  readonly #instantMs: number;

  constructor(expression: string, wall: WallParts, instantSeconds: number, options: ResolvedScheduleOptions) {
    super('at', expression, options);
    this.#wall = wall;
    this.#instantMs = instantSeconds * 1000;
  }

  describe(): string {
    const zone = this.options.zone;
    const wall = wallSecondsOf(this.#wall);
    const instant = this.#instantMs / 1000;
    const shown = zone.wallAt(instant);
    const base = `Once, at ${formatWall(wall)} (${this.timezone})`;
    if (shown !== wall) {
      return `${base}; DST skips that time, so it fires when the gap ends, at ${formatWall(shown)} (${formatOffset(zone.offsetAt(instant))})`;
    }
    return base;
  }

  protected instantsAfter(afterMs: number, count: number, untilMs: number): number[] {
    const t = this.#instantMs;
    const { startMs } = this.options;
    if (count < 1 || t <= afterMs || t > untilMs || (startMs !== undefined && t < startMs)) return [];
    return [t];
  }
}
