// How fast the dashboard's pages show with a lot stored: the showcase app (`npm start`'s
// config) on SQLite with 100,000 runs (200,000 log lines) and 10,000 workflow executions,
// served by a real `mainspring start`, each page opened by Chromium in a new browser
// context (cold: no cache) and timed from navigation until its data has loaded and
// rendered (`<html data-loading="0">` after the first load). Also reports the shipped
// JavaScript and CSS, gzipped. Run: `npm run bench:dashboard [-- --runs 7]`.
// Goal (issue 19): the first view of any page under 1 s.

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { createReportWorkflow } from '../examples/multi-day-report/workflow.ts';
import { createMainspring } from '../src/app.ts';
import { FakeClock } from '../src/core/clock.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'runs-stored': { type: 'string', default: '100000' },
    executions: { type: 'string', default: '10000' },
    /** Only pages whose name contains this. */
    only: { type: 'string' },
    /** Print each page's API requests with their durations (the slowest first). */
    detail: { type: 'boolean', default: false },
  },
});
const RUNS = Number(values.runs);
const N_RUNS = Number(values['runs-stored']);
const N_EXEC = Number(values.executions);

const dir = mkdtempSync(join(tmpdir(), 'mainspring-dashboard-bench-'));
const file = join(dir, 'bench.db');
const db = `sqlite:${file}`;
const NOW = Date.now();

// 1. One real execution of the seed 004 workflow, waiting for its day-2 timer: the template
//    the 10,000 stored executions are copied from, so they look as the engine writes them.
{
  const clock = new FakeClock(new Date(NOW - 3_600_000).toISOString());
  const report = createReportWorkflow({ clock });
  const ms = await createMainspring({ db, clock, workflows: [report] });
  await ms.startWorker();
  await ms.workflows.start(
    report,
    { config: { reportType: 'weekly', dataSource: 'bench' } },
    { id: 'TEMPLATE' },
  );
  for (let i = 0; i < 200; i++) {
    const e = await ms.workflows.get('TEMPLATE');
    if (e.status === 'waiting') break;
    await clock.advance(100);
    await new Promise((r) => setTimeout(r, 5));
  }
  await ms.close();
}

// 2. The rest straight into the file, in one transaction each.
const sql = new DatabaseSync(file);
const functions = [
  'cache-refresh',
  'daily-sync',
  'process-job',
  'send-reminder',
  'start-weekly-report',
  'ecs-daily-report',
];
const seed = performance.now();
sql.exec('BEGIN');
const insertRun =
  sql.prepare(`INSERT INTO runs (id, function_name, invocation_id, attempt, status, trigger_kind, trigger,
  input, scheduled_for_ms, created_at_ms, started_at_ms, finished_at_ms, result, error, owner, log_count)
  VALUES (?, ?, ?, 1, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, 'bench', 2)`);
const insertLog = sql.prepare(
  'INSERT INTO run_logs (run_id, function_name, seq, at_ms, level, msg, fields) VALUES (?, ?, ?, ?, ?, ?, NULL)',
);
const span = 7 * 86_400_000;
for (let i = 0; i < N_RUNS; i++) {
  const at = NOW - span + Math.floor((i / N_RUNS) * span);
  const inv = `${Math.floor(at).toString(36).padStart(9, '0')}${i.toString(36).padStart(12, '0')}`;
  const id = `${inv}-1`;
  const fn = functions[i % functions.length]!;
  const r = i % 100;
  const status = r < 90 ? 'succeeded' : r < 96 ? 'failed' : r < 98 ? 'timed_out' : 'cancelled';
  const kind = ['schedule', 'queue', 'manual', 'event', 'task'][i % 5]!;
  const customer = `c${i % 500}`;
  const error =
    status === 'failed'
      ? JSON.stringify({
          name: 'Error',
          message: `upstream answered 503 for ${customer}`,
          stack: `Error: upstream answered 503\n    at handler (jobs.ts:42:11)`,
        })
      : status === 'timed_out'
        ? JSON.stringify({
            name: 'TimeoutError',
            message: 'the run took longer than its timeout (30 s)',
            code: 'E_RUN_TIMEOUT',
          })
        : null;
  insertRun.run(
    id,
    fn,
    inv,
    status,
    kind,
    JSON.stringify({ kind }),
    JSON.stringify({ n: i, customer }),
    at,
    at + 5,
    at + 5 + (i % 900),
    status === 'succeeded' ? JSON.stringify({ ok: true }) : null,
    error,
  );
  insertLog.run(id, fn, 1, at + 6, 30, `started for ${customer}`);
  insertLog.run(
    id,
    fn,
    2,
    at + 7,
    status === 'succeeded' ? 30 : 50,
    status === 'succeeded' ? 'done' : `gave up on ${customer}`,
  );
}
sql.exec('COMMIT');
sql.exec('BEGIN');
const cols = (table: string) =>
  (sql.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[])
    .map((c) => c.name)
    .filter((c) => c !== 'seq');
const execCols = cols('workflow_executions');
const opCols = cols('workflow_operations');
const copyExec = sql.prepare(
  `INSERT INTO workflow_executions (${execCols.join(', ')}) SELECT ${execCols
    .map((c) =>
      c === 'id' ? '?' : c === 'status' ? '?' : c === 'due_at_ms' ? '?' : c === 'created_at_ms' ? '?' : c,
    )
    .join(', ')} FROM workflow_executions WHERE id = 'TEMPLATE'`,
);
const copyOps = sql.prepare(
  `INSERT INTO workflow_operations (${opCols.join(', ')}) SELECT ${opCols
    .map((c) => (c === 'execution_id' ? '?' : c))
    .join(', ')} FROM workflow_operations WHERE execution_id = 'TEMPLATE'`,
);
for (let i = 0; i < N_EXEC; i++) {
  const id = `REPORT-${String(i).padStart(5, '0')}`;
  const status = i % 10 === 0 ? 'failed' : i % 10 < 4 ? 'succeeded' : 'waiting';
  copyExec.run(id, status, status === 'waiting' ? NOW + 3_600_000 + i * 1000 : null, NOW - span + i * 1000);
  copyOps.run(id);
}
sql.exec('COMMIT');
sql.close();
const seededMs = performance.now() - seed;

// 3. The showcase app served by a real `mainspring start` on that file.
const child = spawn(
  process.execPath,
  ['--conditions=mainspring-source', 'src/cli/main.ts', 'start', '--db', db, '--port', '0'],
  {
    cwd: REPO,
    env: { ...process.env, MAINSPRING_LOG_FORMAT: 'json', MAINSPRING_API_TOKEN: '', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const url = await new Promise<string>((resolve, reject) => {
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.url && entry.msg?.startsWith('mainspring listening')) resolve(entry.url);
    } catch {}
  });
  child.once('exit', (code) => reject(new Error(`mainspring start exited with ${code}`)));
});
// A failed measurement must not leave the server running.
process.on('exit', () => child.kill('SIGTERM'));
const firstRun = (
  (await (await fetch(`${url}/v1/runs?status=failed&limit=1`)).json()) as { runs: { id: string }[] }
).runs[0]!.id;

const PAGES: [string, string][] = [
  ['overview', '#/'],
  ['runs', '#/runs'],
  ['runs: failed + timed out', '#/runs?status=failed,timed_out'],
  ['runs: one function', '#/runs?function=worker'],
  ['runs: search "c42"', '#/runs?q=c42'],
  ['a run', `#/runs/${firstRun}`],
  ['schedules', '#/schedules'],
  ['tasks', '#/tasks'],
  ['queues', '#/queues'],
  ['workflows', '#/workflows'],
  ['workflows: waiting', '#/workflows?status=waiting'],
  ['an execution', '#/executions/REPORT-00005'],
  ['events', '#/events'],
];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: string[] = [];
let worst = 0;
for (const [name, path] of PAGES.filter(([n]) => !values.only || n.includes(values.only))) {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${url}/${path}`);
    await page.waitForFunction(() => document.documentElement.dataset['loading'] === '0', undefined, {
      timeout: 30_000,
      polling: 'raf',
    });
    times.push(
      await page.evaluate(
        () => new Promise<number>((r) => requestAnimationFrame(() => r(performance.now()))),
      ),
    );
    if (errors.length > 0) throw new Error(`${name}: ${errors.join('; ')}`);
    if (values.detail && i === RUNS - 1) {
      const entries = await page.evaluate(() =>
        performance
          .getEntriesByType('resource')
          .map(
            (e) =>
              `${Math.round(e.startTime)}+${Math.round(e.duration)} ms ${e.name.replace(location.origin, '')}`,
          ),
      );
      console.log(`${name}:\n  ${entries.join('\n  ')}`);
    }
    await context.close();
  }
  worst = Math.max(worst, Math.max(...times));
  rows.push(`| ${name} | ${median(times).toFixed(0)} | ${Math.max(...times).toFixed(0)} |`);
}
await browser.close();
child.kill('SIGTERM');

/** Every .js and .css file under `folder`, summed: raw and gzipped KiB. */
function clientSize(folder: string): string {
  let raw = 0;
  let gz = 0;
  for (const f of readdirSync(folder, { recursive: true }) as string[]) {
    if (!/\.(js|css)$/.test(f)) continue;
    const bytes = readFileSync(join(folder, f));
    raw += bytes.length;
    gz += gzipSync(bytes, { level: 9 }).length;
  }
  return `${(raw / 1024).toFixed(1)} KiB (${(gz / 1024).toFixed(1)} KiB gzipped)`;
}

// Peers' dashboards as their packages ship them (every client script and stylesheet), fetched
// from the registry into the temp folder, so the comparison is of the same run's bytes.
const PEERS: [name: string, spec: string, client: string][] = [
  ['Bull Board (BullMQ)', '@bull-board/ui@9.10.2', 'package/dist/static'],
  ['pg-boss dashboard', '@pg-boss/dashboard@1.9.0', 'package/build/client'],
];
const sizes = [`mainspring: ${clientSize(join(REPO, 'dist/dashboard/assets'))}`];
for (const [name, spec, client] of PEERS) {
  try {
    const peer = join(dir, spec.replace(/[@/]/g, '_'));
    mkdirSync(peer, { recursive: true });
    const tgz = execFileSync('npm', ['pack', spec, '--silent'], { cwd: peer, encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop()!;
    execFileSync('tar', ['xzf', tgz], { cwd: peer });
    sizes.push(`${name} ${spec.split('@').pop()}: ${clientSize(join(peer, client))}`);
  } catch (err) {
    sizes.push(`${name}: not measured (${(err as Error).message.split('\n')[0]})`);
  }
}

console.log(
  `\nDashboard page speed — ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model.trim()}, load ${loadavg()[0]!.toFixed(2)}`,
);
console.log(
  `stored: ${N_RUNS.toLocaleString('en')} runs, ${(2 * N_RUNS).toLocaleString('en')} log lines, ${N_EXEC.toLocaleString('en')} executions (seeded in ${(seededMs / 1000).toFixed(1)} s); ${RUNS} cold loads per page\n`,
);
console.log('| page | median ms | max ms |\n|---|---:|---:|');
for (const r of rows) console.log(r);
console.log(`\nclient code shipped (every script and stylesheet): ${sizes.join('; ')}`);
console.log(
  `slowest first view: ${worst.toFixed(0)} ms (goal < 1000 ms): ${worst < 1000 ? 'met' : 'NOT met'}`,
);
rmSync(dir, { recursive: true, force: true });
