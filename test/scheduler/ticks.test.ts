// The tick decisions on their own: misfire and overlap policies, flexible windows,
// end of schedule. Pure functions, no store and no clock.

import { describe, expect, it } from 'vitest';
import { resolveSpec, type ScheduleSettings } from '../../src/scheduler/spec.ts';
import { decideTicks, dueAt } from '../../src/scheduler/ticks.ts';

const T0 = Date.parse('2026-01-05T10:00:00Z');
const MIN = 60_000;

function setup(expression: string, settings: ScheduleSettings = {}) {
  return resolveSpec({ expression, target: { kind: 'function', function: 'f' }, ...settings }, T0);
}

function decide(
  expression: string,
  settings: ScheduleSettings,
  at: { tickMs: number; nowMs: number; lastActive?: boolean; dueAtMs?: number },
) {
  const { spec, schedule } = setup(expression, settings);
  return decideTicks({
    spec,
    schedule,
    tickMs: at.tickMs,
    dueAtMs: at.dueAtMs ?? at.tickMs,
    lastActive: at.lastActive ?? false,
    nowMs: at.nowMs,
    graceMs: MIN,
    recheckMs: 2000,
    random: () => 0.5,
  });
}

const EVERY_MINUTE = 'cron(* * * * ? *)';

describe('decideTicks', () => {
  it('fires a tick on time (or taken early) at its due time, and owes the next one', () => {
    const d = decide(EVERY_MINUTE, {}, { tickMs: T0 + MIN, nowMs: T0 + MIN - 800 });
    expect(d.fire).toEqual([{ tickMs: T0 + MIN, dueAtMs: T0 + MIN, atMs: T0 + MIN, catchUp: false }]);
    expect(d.nextTickMs).toBe(T0 + 2 * MIN);
    expect(d.dueAtMs).toBe(T0 + 2 * MIN);
  });

  it('fires a late tick within the grace at once, as on time', () => {
    const d = decide(EVERY_MINUTE, {}, { tickMs: T0, nowMs: T0 + 30_000 });
    expect(d.fire).toEqual([{ tickMs: T0, dueAtMs: T0, atMs: T0 + 30_000, catchUp: false }]);
    expect(d.nextTickMs).toBe(T0 + MIN);
  });

  it('after an hour of downtime: skip fires none, once fires one, all fires each missed tick up to the limit', () => {
    const at = { tickMs: T0, nowMs: T0 + 60 * MIN };
    const skip = decide(EVERY_MINUTE, { misfire: 'skip' }, at);
    expect(skip.fire).toEqual([]);
    expect(skip.skipped).toBe(60); // T0 … T0+59 min
    expect(skip.nextTickMs).toBe(T0 + 60 * MIN); // the tick within the grace: late, not missed
    const once = decide(EVERY_MINUTE, { misfire: 'once' }, at);
    expect(once.fire).toEqual([{ tickMs: T0, dueAtMs: T0, atMs: T0 + 60 * MIN, catchUp: true }]);
    expect(once.nextTickMs).toBe(T0 + 60 * MIN);
    const all = decide(EVERY_MINUTE, { misfire: 'all' }, at);
    expect(all.fire.map((f) => f.tickMs)).toEqual(Array.from({ length: 60 }, (_, i) => T0 + i * MIN));
    expect(all.nextTickMs).toBe(T0 + 60 * MIN);
    const capped = decide(EVERY_MINUTE, { misfire: 'all', misfireLimit: 10 }, at);
    expect(capped.fire).toHaveLength(10);
    expect(capped.skipped).toBe(50);
    expect(capped.nextTickMs).toBe(T0 + 60 * MIN);
  });

  it('overlap: skip passes the tick over while the last run is active; queue holds it; allow fires', () => {
    const at = { tickMs: T0 + MIN, nowMs: T0 + MIN, lastActive: true };
    expect(decide(EVERY_MINUTE, { overlap: 'allow' }, at).fire).toHaveLength(1);
    const skipped = decide(EVERY_MINUTE, { overlap: 'skip' }, at);
    expect(skipped).toMatchObject({ fire: [], skipped: 1, nextTickMs: T0 + 2 * MIN, held: false });
    const held = decide(EVERY_MINUTE, { overlap: 'queue' }, at);
    expect(held).toMatchObject({ fire: [], held: true, nextTickMs: T0 + MIN, dueAtMs: T0 + MIN + 2000 });
    // Once the run ends, the held tick fires however late it is.
    const freed = decide(EVERY_MINUTE, { overlap: 'queue' }, { tickMs: T0 + MIN, nowMs: T0 + 5 * MIN });
    expect(freed.fire).toEqual([{ tickMs: T0 + MIN, dueAtMs: T0 + MIN, atMs: T0 + 5 * MIN, catchUp: false }]);
  });

  it('a flexible window puts the due time inside [tick, tick + window)', () => {
    const { spec } = setup('rate(5 minutes)', { flexibleWindow: '2m' });
    for (const r of [0, 0.25, 0.999999]) {
      const due = dueAt(spec, T0, () => r)!;
      expect(due).toBeGreaterThanOrEqual(T0);
      expect(due).toBeLessThan(T0 + 2 * MIN);
    }
    expect(dueAt(setup('rate(5 minutes)').spec, T0, () => 0.9)).toBe(T0);
  });

  it('owes nothing after the last tick of an at() or past the end date', () => {
    const at = decide('at(2026-01-05T10:05:00)', {}, { tickMs: T0 + 5 * MIN, nowMs: T0 + 5 * MIN });
    expect(at.fire).toHaveLength(1);
    expect(at).toMatchObject({ nextTickMs: null, dueAtMs: null });
    const ended = decide(
      EVERY_MINUTE,
      { end: new Date(T0 + 2 * MIN) },
      { tickMs: T0 + 2 * MIN, nowMs: T0 + 2 * MIN },
    );
    expect(ended).toMatchObject({ nextTickMs: null, dueAtMs: null });
  });
});
