// Screenshots of every dashboard page, light and dark, into docs/dashboard/ (linked from
// the README). Runs the showcase app (`npm start`'s config) on a fresh SQLite file at 600×
// time for half a minute, with a few jobs that fail into the dead-letter queue and a few
// slow-scheduler tasks, so each page has something to show. Run: `npm run screenshots`.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const OUT = join(REPO, 'docs/dashboard');
const dir = mkdtempSync(join(tmpdir(), 'mainspring-screenshots-'));
mkdirSync(OUT, { recursive: true });

const child = spawn(
  process.execPath,
  [
    '--conditions=mainspring-source',
    'src/cli/main.ts',
    'start',
    '--db',
    `sqlite:${join(dir, 'app.db')}`,
    '--port',
    '0',
  ],
  {
    cwd: REPO,
    env: {
      ...process.env,
      MAINSPRING_TIME_SCALE: '600',
      MAINSPRING_LOG_FORMAT: 'json',
      MAINSPRING_API_TOKEN: '',
      DATABASE_URL: '',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
process.on('exit', () => child.kill('SIGTERM'));
const url = await new Promise<string>((resolve, reject) => {
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.url && entry.msg?.startsWith('mainspring listening')) resolve(entry.url);
    } catch {}
  });
  child.once('exit', (code) => reject(new Error(`mainspring start exited with ${code}`)));
});

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

for (let i = 1; i <= 12; i++) {
  const body =
    i % 4 === 0 ? { type: 'resize-image', orderId: i } : { type: 'process-order', orderId: 1000 + i };
  await call('POST', '/v1/queues/job-queue/messages', { body });
}
const day = 86_400_000;
for (const [id, days, action] of [
  ['sale-acme-spring', 30, 'APPLY_SALE'],
  ['publish-globex-catalogue', 12, 'PUBLISH_ITEM'],
  ['withdraw-initech-2027', 45, 'WITHDRAW_ITEM'],
] as const) {
  await call('POST', '/v1/tasks', {
    id,
    due: new Date(Date.now() + days * day).toISOString(),
    action,
    payload: { customer: id.split('-').pop() },
  }).catch((e: unknown) => console.warn(String(e)));
}
await call('POST', '/v1/workflows/multi-day-report/executions', {
  id: 'REPORT-demo',
  input: { config: { reportType: 'weekly', dataSource: 'showcase' } },
});
// Half a minute at 600× is five hours of the showcase: crons fire, reports wait, jobs fail.
await new Promise((r) => setTimeout(r, 30_000));

const runs = await call<{ runs: { id: string; status: string }[] }>('GET', '/v1/runs?limit=200');
const run = runs.runs.find((r) => r.status === 'failed') ?? runs.runs[0];
const executions = await call<{ executions: { id: string }[] }>('GET', '/v1/executions?limit=1');

const PAGES: [string, string][] = [
  ['overview', '#/'],
  ['runs', '#/runs'],
  ...(run ? ([['run', `#/runs/${run.id}`]] as [string, string][]) : []),
  ['schedules', '#/schedules'],
  ['tasks', '#/tasks'],
  ['queues', '#/queues'],
  ['queue-dead-letters', '#/queues/dead-letter-queue'],
  ['workflows', '#/workflows'],
  ...(executions.executions[0]
    ? ([['execution', `#/executions/${executions.executions[0].id}`]] as [string, string][])
    : []),
  ['events', '#/events'],
];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
for (const scheme of ['light', 'dark'] as const) {
  for (const [name, path] of PAGES) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: scheme });
    const page = await context.newPage();
    await page.goto(`${url}/${path}`);
    await page.waitForFunction(() => document.documentElement.dataset['loading'] === '0', undefined, {
      timeout: 15_000,
    });
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(OUT, `${name}-${scheme}.png`), fullPage: false });
    await context.close();
  }
}
const phone = await browser.newContext({
  viewport: { width: 390, height: 844 },
  colorScheme: 'light',
  deviceScaleFactor: 2,
});
const page = await phone.newPage();
await page.goto(`${url}/#/`);
await page.waitForFunction(() => document.documentElement.dataset['loading'] === '0', undefined, {
  timeout: 15_000,
});
await page.screenshot({ path: join(OUT, 'overview-phone.png') });
await browser.close();
child.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });
console.log(`screenshots of ${PAGES.length} pages, light and dark, written to docs/dashboard/`);
