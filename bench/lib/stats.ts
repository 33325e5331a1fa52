// Small helpers shared by the benchmarks: percentiles, machine description, id accounting.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summary(values: readonly number[]): { p50: number; p95: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s.at(-1) ?? Number.NaN,
  };
}

export function machine(): string {
  const c = cpus();
  return `${c[0]?.model ?? 'unknown CPU'} × ${c.length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** Checks that every id 0..n-1 was seen exactly once. */
export function accountFor(seen: readonly number[], n: number): { missing: number; duplicated: number } {
  const counts = new Uint32Array(n);
  let duplicated = 0;
  for (const i of seen) if (counts[i]!++ > 0) duplicated++;
  let missing = 0;
  for (let i = 0; i < n; i++) if (counts[i] === 0) missing++;
  return { missing, duplicated };
}

export const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

/** CPU seconds used so far by every PostgreSQL server process (from /proc). */
export function postgresCpuS(): number {
  const tick = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
  const pids = execFileSync('pgrep', ['-x', 'postgres']).toString().trim().split('\n');
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime (fields 14 and 15 of stat; 12 and 13 after the name)
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // a backend that ended meanwhile
    }
  }
  return ticks / tick;
}

/** The value after `--name` on the command line, if given. */
export function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}
