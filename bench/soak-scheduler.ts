// npm run soak:scheduler — exactly-once firing over a long run: one worker and three
// `mainspring scheduler` processes on a fresh schema of the local PostgreSQL, a
// 1-second schedule, one scheduler SIGKILLed and replaced every 15 s (see
// bench/harness/exactly-once.ts). Prints a table and the JSON result; exits 1 on any
// missing or duplicated tick.
// Options: --seconds N (default 600)   --kill-every-ms N (default 15000)
//          --schedulers N (default 3)  --keep (keep the schema for inspection)
// MAINSPRING_BENCH_PG_URL overrides postgres://postgres@127.0.0.1:5432/test.

import pg from 'pg';
import { runExactlyOnce } from './harness/exactly-once.ts';
import { fmt, machine, option } from './lib/stats.ts';

const PG = process.env['MAINSPRING_BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const args = process.argv.slice(2);
const num = (name: string, fallback: number) => {
  const v = option(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} ${v}: use a positive number`);
    process.exit(2);
  }
  return n;
};
const seconds = num('seconds', 600);
const killEveryMs = num('kill-every-ms', 15_000);
const schedulers = num('schedulers', 3);
const keep = args.includes('--keep');

const schema = `soak_scheduler_${Date.now().toString(36)}`;
const url = new URL(PG);
url.searchParams.set('schema', schema);

async function dropSchema(): Promise<void> {
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

console.log(`# scheduler soak — ${new Date().toISOString()} — ${machine()}`);
console.log(
  `${seconds} s, ${schedulers} schedulers (one SIGKILLed and replaced every ${killEveryMs} ms), 1 worker, schema ${schema}\n`,
);
const now = () => new Date().toISOString().slice(11, 23);
let result: Awaited<ReturnType<typeof runExactlyOnce>>;
try {
  result = await runExactlyOnce({
    url: url.href,
    seconds,
    schedulers,
    killEveryMs,
    log: (line) => console.error(`[${now()}] ${line}`),
  });
} catch (err) {
  console.error(err);
  console.error(`schema ${schema} kept for inspection`);
  process.exit(1);
}

// A run too short to leave a steady window (5 s at each end) checks nothing: not a pass.
const ok = result.ticks > 0 && result.missing.length === 0 && result.duplicated.length === 0;
const rows: [string, string][] = [
  ['window', `${result.firstTick} … ${result.lastTick}`],
  ['ticks checked', String(result.ticks)],
  ['missing', String(result.missing.length)],
  ['duplicated', String(result.duplicated.length)],
  ['kills', String(result.kills)],
  ['runs per tick', JSON.stringify(result.runsPerTick)],
  ['beats per tick', JSON.stringify(result.beatsPerTick)],
  [
    'handler start − tick (ms)',
    `p50 ${fmt(result.lateness.p50)}, p99 ${fmt(result.lateness.p99)}, max ${fmt(result.lateness.max)} (n ${result.lateness.n})`,
  ],
  ['unexpected exits', String(result.unexpectedExits.length)],
  ['verdict', ok ? 'exactly once' : 'FAILED'],
];
console.log('| | |\n|---|---|');
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
if (!ok) {
  for (const m of result.missing) console.log(`missing: ${m}`);
  for (const d of result.duplicated) console.log(`duplicated: ${d}`);
}
for (const e of result.unexpectedExits) console.log(`unexpected exit: ${e}`);
console.log(`\n\`\`\`json\n${JSON.stringify(result)}\n\`\`\``);

if (ok && !keep) await dropSchema();
else console.error(`schema ${schema} kept for inspection`);
process.exit(ok ? 0 : 1);
