// npm run chaos [-- --quick] [-- <scenario> ...]
// Runs each fault scenario as its own process (they kill processes and restart servers, so
// none shares state with another) and exits non-zero if any invariant broke.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const SCENARIOS = [
  'sqlite-kill',
  'pg-workers',
  'pg-restart',
  'pg-terminate',
  'schedulers',
  'workflows',
  'hostile',
  'load',
] as const;

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const named = args.filter((a) => !a.startsWith('--'));
for (const n of named)
  if (!(SCENARIOS as readonly string[]).includes(n)) {
    console.error(`unknown scenario "${n}"; choose from: ${SCENARIOS.join(', ')}`);
    process.exit(2);
  }

const failed: string[] = [];
for (const scenario of named.length > 0 ? named : SCENARIOS) {
  const file = join(import.meta.dirname, `${scenario}.ts`);
  if (!existsSync(file)) {
    console.error(`chaos/${scenario}.ts is missing`);
    failed.push(scenario);
    continue;
  }
  const started = Date.now();
  console.log(`── ${scenario}${quick ? ' (quick)' : ''}`);
  const r = spawnSync(
    process.execPath,
    ['--conditions=mainspring-source', file, ...(quick ? ['--quick'] : [])],
    {
      stdio: 'inherit',
    },
  );
  console.log(`   ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (r.status !== 0) failed.push(scenario);
}
if (failed.length > 0) {
  console.error(`chaos: ${failed.length} scenario(s) failed: ${failed.join(', ')}`);
  process.exit(1);
}
console.log('chaos: every invariant held');
