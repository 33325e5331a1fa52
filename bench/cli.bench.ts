// How long the `mainspring` command takes to answer --help, and to run a read command
// against a store, as a new process each time (what an operator waits for). Measures the
// built CLI (dist/, what `npx mainspring` runs) and the sources (what `npm run mainspring`
// runs), against `node -e 0` (the floor) and graphile-worker's CLI --help (a peer) in the
// same run. Run: `npm run bench:cli` (builds first) or `node bench/cli.bench.ts --runs 21`.
// Goal (issue 16): --help on any command under 150 ms.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { arch, cpus, loadavg, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const RUNS = Number(values.runs);

const DIST = join(REPO, 'dist/cli/main.js');
const SRC = ['--conditions=mainspring-source', join(REPO, 'src/cli/main.ts')];
const GRAPHILE = join(REPO, 'node_modules/graphile-worker/dist/cli.js');

if (!existsSync(DIST)) {
  console.error('dist/ is missing: run `npm run build` first (npm run bench:cli does)');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'mainspring-cli-bench-'));
const db = `sqlite:${join(dir, 'bench.db')}`;
execFileSync(process.execPath, [DIST, 'migrate', '--db', db], { cwd: dir });

/** Wall time of one process from spawn to exit, in ms. */
function once(args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function stats(samples: number[]): { median: number; p90: number; min: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), p90: at(0.9), min: s[0]! };
}

const cases: [string, readonly string[]][] = [
  ['node -e 0 (floor)', ['-e', '0']],
  ['graphile-worker --help (peer)', [GRAPHILE, '--help']],
  ['dist: mainspring --help', [DIST, '--help']],
  ['dist: mainspring runs list --help', [DIST, 'runs', 'list', '--help']],
  ['dist: mainspring workflows start --help', [DIST, 'workflows', 'start', '--help']],
  ['dist: mainspring start --help', [DIST, 'start', '--help']],
  ['dist: mainspring --version', [DIST, '--version']],
  ['dist: mainspring runs list (SQLite)', [DIST, 'runs', 'list', '--db', db]],
  ['src: mainspring runs list --help', [...SRC, 'runs', 'list', '--help']],
  ['src: mainspring queues stats --help', [...SRC, 'queues', 'stats', '--help']],
  ['src: mainspring runs list (SQLite)', [...SRC, 'runs', 'list', '--db', db]],
];

console.log(
  `CLI start-up: ${RUNS} runs each, interleaved; ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${platform()} ${arch()}, Node ${process.version}, load ${loadavg()[0]!.toFixed(2)}`,
);
const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (const [, args] of cases) once(args); // warm the file cache
for (let i = 0; i < RUNS; i++) for (const [name, args] of cases) samples.get(name)!.push(once(args));

console.log('| command | median ms | p90 ms | min ms |');
console.log('|---|---|---|---|');
for (const [name] of cases) {
  const s = stats(samples.get(name)!);
  console.log(`| ${name} | ${s.median.toFixed(0)} | ${s.p90.toFixed(0)} | ${s.min.toFixed(0)} |`);
}
rmSync(dir, { recursive: true, force: true });
