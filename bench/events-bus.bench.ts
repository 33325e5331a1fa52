// Events per second through the whole bus: validate, store, match against 10 rules
// and fan out (each event matches 3 rules, each sending one message to a queue), on
// SQLite and, when it answers, PostgreSQL. Run: `node bench/events-bus.bench.ts`.
// Reports wall-clock events/s and events per CPU-second of this process (on
// PostgreSQL the server's CPU is not counted).

import { mkdtempSync, rmSync } from 'node:fs';
import { arch, cpus, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createMainspring } from '../src/app.ts';
import { defineRule } from '../src/events/rules-define.ts';
import { defineQueue } from '../src/queue/define.ts';

const EVENTS = 10_000;
const BATCH = 100;
const PG_URL = process.env['MAINSPRING_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

async function pgAnswers(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

async function run(db: string): Promise<{ wall: number; cpu: number }> {
  const sink = defineQueue({ name: 'sink' });
  const rules = [
    defineRule({ name: 'by-source', pattern: { source: ['shop'] }, targets: [sink] }),
    defineRule({ name: 'by-type', pattern: { 'detail-type': ['Order Placed'] }, targets: [sink] }),
    defineRule({ name: 'big', pattern: { detail: { total: [{ numeric: ['>=', 0] }] } }, targets: [sink] }),
    ...Array.from({ length: 7 }, (_, i) =>
      defineRule({ name: `other-${i}`, pattern: { source: [`svc-${i}`] }, targets: [sink] }),
    ),
  ];
  const ms = await createMainspring({ db, queues: [sink], rules });
  try {
    const entries = (b: number) =>
      Array.from({ length: BATCH }, (_, i) => ({
        source: 'shop',
        detailType: 'Order Placed',
        detail: {
          id: `o-${b}-${i}`,
          total: ((b + 1) * BATCH + i) % 500,
          items: [{ sku: 'A-1', qty: 2 }],
          note: 'x'.repeat(200),
        },
      }));
    await ms.events.put(entries(-1)); // warm-up
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let b = 0; b < EVENTS / BATCH; b++) {
      const r = await ms.events.put(entries(b));
      if (r.failedEntryCount > 0) throw new Error('put failed');
    }
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(cpu0);
    const sent = (await ms.queues.stats('sink')).counts.visible;
    if (sent !== (EVENTS + BATCH) * 3)
      throw new Error(`expected ${(EVENTS + BATCH) * 3} deliveries, got ${sent}`);
    return { wall: EVENTS / seconds, cpu: EVENTS / ((c.user + c.system) / 1e6) };
  } finally {
    await ms.close();
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`mainspring event bus benchmark — ${new Date().toISOString()}`);
console.log(
  `machine: ${cpus()[0]?.model}, ${cpus().length} cores, node ${process.version}, ${platform()} ${arch()}`,
);
console.log(
  `workload: ${fmt(EVENTS)} events put in batches of ${BATCH}, 10 rules, each event matching 3 (3 queue messages per event)`,
);
console.log('backend       events/s (wall)   events/CPU-second (this process)');
const dir = mkdtempSync(join(tmpdir(), 'ms-bus-bench-'));
try {
  const s = await run(`sqlite:${join(dir, 'bench.db')}`);
  console.log(`sqlite        ${fmt(s.wall).padStart(15)}   ${fmt(s.cpu).padStart(10)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (await pgAnswers()) {
  const schema = `bench_bus_${process.pid}`;
  const url = new URL(PG_URL);
  url.searchParams.set('schema', schema);
  try {
    const p = await run(url.href);
    console.log(`postgres      ${fmt(p.wall).padStart(15)}   ${fmt(p.cpu).padStart(10)}`);
  } finally {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  }
} else {
  console.log(`postgres      skipped: no server at ${PG_URL}`);
}
