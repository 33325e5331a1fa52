// Load: the send route (POST /v1/queues/load/messages) at 10, 100 and 500 connections against
// a real `mainspring start` process, on SQLite and on PostgreSQL, with its default limits.
// Figures per step: throughput, p50/p99 latency, 503s (load shed), errors, the server's peak
// RSS, and /healthz probes. Invariants: every 2xx-accepted message is in the store afterwards;
// every 503 carries Retry-After and the one error shape; no other refusal; /healthz answers.
//
// node --conditions=mainspring-source chaos/load.ts [--quick]   (~10 s a step; --quick ~2 s)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../src/store/open.ts';
import { LOAD_QUEUE, rssBytes, startLoadServer } from './lib/load-server.ts';
import { runStep, type StepResult } from './lib/load-step.ts';
import { type Figure, finish, quick } from './lib/report.ts';

const STEPS = [10, 100, 500];
const DURATION_S = quick ? 2 : 10;
const PG_URL = process.env['MAINSPRING_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const REQUIRE_PG = process.env['REQUIRE_PG'] === '1';

const figures: Record<string, Figure> = { step_seconds: DURATION_S };
const failures: string[] = [];
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** Ids of the queue's stored messages, read from the store once the server has stopped. */
async function storedIds(db: string): Promise<Set<string>> {
  const store = await openStore(db);
  try {
    const ids = new Set<string>();
    let afterId: number | undefined;
    for (;;) {
      const page = await store.queues.listMessages(LOAD_QUEUE, {
        limit: 5000,
        ...(afterId === undefined ? {} : { afterId }),
      });
      for (const m of page) ids.add(String(m.id));
      if (page.length < 5000) return ids;
      afterId = page.at(-1)!.id;
    }
  } finally {
    await store.close();
  }
}

function record(backend: string, step: StepResult): void {
  const p = `${backend}_c${step.connections}`;
  figures[`${p}_rps`] = Math.round(step.rps);
  figures[`${p}_p50_ms`] = step.p50Ms;
  figures[`${p}_p99_ms`] = step.p99Ms;
  figures[`${p}_accepted`] = step.accepted;
  figures[`${p}_accepted_rps`] = Math.round(step.accepted / DURATION_S);
  figures[`${p}_shed_503`] = step.shed;
  figures[`${p}_shed_pct`] = step.requests === 0 ? 0 : +((100 * step.shed) / step.requests).toFixed(1);
  figures[`${p}_errors`] = step.errors;
  figures[`${p}_peak_rss_mb`] = mb(step.peakRssBytes);
  figures[`${p}_health_ok`] = `${step.healthOk}/${step.healthProbes}`;
  const others = Object.entries(step.otherStatuses);
  if (others.length > 0) {
    figures[`${p}_other_statuses`] = others.map(([s, n]) => `${s}:${n}`).join(',');
    failures.push(`${p}: answers other than 2xx and 503: ${others.map(([s, n]) => `${n}× ${s}`).join(', ')}`);
  }
  if (step.badShed > 0)
    failures.push(`${p}: ${step.badShed} 503s without Retry-After or the E_OVERLOADED error shape`);
  if (step.healthOk < step.healthProbes)
    failures.push(`${p}: /healthz answered ${step.healthOk} of ${step.healthProbes} probes under load`);
}

async function runBackend(backend: 'sqlite' | 'postgres', db: string): Promise<void> {
  const server = await startLoadServer(db);
  figures[`${backend}_rss_idle_mb`] = mb(rssBytes(server.pid));
  const acceptedIds = new Set<string>();
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    for (const connections of STEPS) {
      const step = await runStep({
        url: server.url,
        pid: server.pid,
        connections,
        durationS: DURATION_S,
        acceptedIds,
      });
      record(backend, step);
      console.log(
        `${backend} c=${connections}: ${Math.round(step.rps)} req/s p50 ${step.p50Ms} ms p99 ${step.p99Ms} ms, ${step.accepted} accepted (${Math.round(step.accepted / DURATION_S)}/s), ${step.shed} shed, ${step.errors} errors, peak RSS ${mb(step.peakRssBytes)} MB`,
      );
    }
  } finally {
    exit = await server.stop();
  }
  if (exit.code !== 0)
    failures.push(
      `${backend}: the server exited with ${exit.code ?? exit.signal} on SIGTERM: ${server.output()}`,
    );
  const stored = await storedIds(db);
  let lost = 0;
  for (const id of acceptedIds) if (!stored.has(id)) lost++;
  figures[`${backend}_accepted_total`] = acceptedIds.size;
  figures[`${backend}_stored_total`] = stored.size;
  figures[`${backend}_lost`] = lost;
  if (lost > 0) failures.push(`${backend}: ${lost} of ${acceptedIds.size} accepted messages are not stored`);
}

async function pgAdmin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => {});
  }
}

const dir = mkdtempSync(join(tmpdir(), 'mainspring-load-db-'));
try {
  await runBackend('sqlite', `sqlite:${join(dir, 'load.db')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const database = `mainspring_load_${process.pid}`;
let pgReady = false;
try {
  await pgAdmin((c) => c.query(`CREATE DATABASE ${database}`));
  pgReady = true;
} catch (err) {
  const why = `PostgreSQL at ${PG_URL} cannot create a database: ${(err as Error).message}`;
  if (REQUIRE_PG) failures.push(why);
  else figures['postgres_skipped'] = why;
}
if (pgReady) {
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  try {
    await runBackend('postgres', url.href);
  } finally {
    await pgAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${database}`));
  }
}

finish({ scenario: 'load', ok: failures.length === 0, figures, failures });
