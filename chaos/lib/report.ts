// What every chaos scenario leaves behind: one JSON file under chaos/results/, read by
// chaos/run.ts for its summary and by whoever updates RELIABILITY.md.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine } from '../../bench/lib/stats.ts';

export type Figure = number | string | boolean;

export interface ChaosReport {
  readonly scenario: string;
  /** True when every invariant the scenario checks held. */
  readonly ok: boolean;
  /** Named figures, e.g. `{ kills: 30, acknowledged: 4213, lost: 0 }`. */
  readonly figures: Readonly<Record<string, Figure>>;
  /** Each broken invariant, in words. Empty when ok. */
  readonly failures: readonly string[];
}

export const RESULTS_DIR = join(import.meta.dirname, '..', 'results');

/** True when the scenario was asked for its short form (`--quick`), as CI runs it. */
export const quick = process.argv.includes('--quick');

/** Writes the report, prints it, and sets the exit code: 1 when an invariant broke. */
export function finish(report: ChaosReport): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const full = {
    ...report,
    quick,
    command: `node chaos/${report.scenario}.ts${quick ? ' --quick' : ''}`,
    date: new Date().toISOString(),
    machine: machine(),
  };
  writeFileSync(join(RESULTS_DIR, `${report.scenario}.json`), `${JSON.stringify(full, null, 2)}\n`);
  const figures = Object.entries(report.figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  console.log(`${report.ok ? 'ok  ' : 'FAIL'} ${report.scenario}: ${figures}`);
  for (const f of report.failures) console.log(`     ${f}`);
  process.exitCode = report.ok ? 0 : 1;
}
