// Background schedules for the scheduler benchmarks: hourly and daily crons at random minutes
// (and hours), so some 870 of 100,000 fire at each minute boundary, as real crontabs cluster.

import { resolveSpec } from '../../src/scheduler/spec.ts';
import { dueAt, tickAfter } from '../../src/scheduler/ticks.ts';
import type { NewScheduleRow } from '../../src/store/schedule-row.ts';

/** Deterministic choices: runs are comparable. */
export function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

/** `n` schedules targeting function `fn`, stored as `Schedules.create` would store them. */
export function backgroundRows(
  n: number,
  nowMs: number,
  fn: string,
  random: () => number = seeded(6),
): NewScheduleRow[] {
  const specs = new Map<string, { json: string; next: number | null; due: number | null }>();
  const rows: NewScheduleRow[] = [];
  for (let i = 0; i < n; i++) {
    const minute = Math.floor(random() * 60);
    const expression = random() < 0.5 ? `${minute} * * * *` : `${minute} ${Math.floor(random() * 24)} * * *`;
    let s = specs.get(expression);
    if (!s) {
      const { spec, schedule } = resolveSpec(
        { expression, target: { kind: 'function', function: fn } },
        nowMs,
      );
      const next = tickAfter(schedule, nowMs);
      s = { json: JSON.stringify(spec), next, due: dueAt(spec, next, Math.random) };
      specs.set(expression, s);
    }
    rows.push({
      name: `bg-${String(i).padStart(6, '0')}`,
      spec: s.json,
      source: 'api',
      enabled: true,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
      nextTickMs: s.next,
      dueAtMs: s.due,
      lastTickMs: null,
      lastFiredAtMs: null,
      lastInvocationId: null,
    });
  }
  return rows;
}
