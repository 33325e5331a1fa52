// examples/daily-sync as seed 000's users run it: 32 days under the fake clock, one sync a
// day at 02:00 UTC, syncs older than 30 days marked inactive, and a day whose API keeps
// failing alerts the webhook after its retries.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DailySyncRecord } from '../../examples/daily-sync/handler.ts';
import type { MainspringConfig } from '../../src/config.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS, tempDir } from '../helpers/backends.ts';

const DAY = 86_400_000;
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  vi.unstubAllEnvs();
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const sqlite = BACKENDS[0]!;

describe('examples/daily-sync', () => {
  it('syncs once a day for 32 days, archives syncs past 30 days, and alerts on a failing day', async () => {
    let failing = false;
    let calls = 0;
    const api = await listen((_req, res) => {
      calls++;
      res.writeHead(failing ? 503 : 200, { 'content-type': 'application/json' });
      res.end(failing ? '{"message":"down"}' : JSON.stringify([{ id: calls }, { id: calls + 1000 }]));
    });
    const alerts: Record<string, unknown>[] = [];
    const hook = await listen((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d;
      });
      req.on('end', () => {
        alerts.push(JSON.parse(body) as Record<string, unknown>);
        res.end();
      });
    });
    const syncFile = join(tempDir(), 'daily-sync.json');
    vi.stubEnv('EXTERNAL_API_URL', `${api}/records`);
    vi.stubEnv('ALERT_WEBHOOK_URL', `${hook}/alerts`);
    vi.stubEnv('SYNC_FILE', syncFile);
    // Loaded after the environment is set, as the server loads it at start.
    const config = (await import('../../examples/daily-sync/mainspring.config.ts'))
      .default as MainspringConfig;
    const { readSyncs } = await import('../../examples/daily-sync/handler.ts');

    const { ms, clock } = await fakeApp(sqlite, {
      functions: config.functions ?? [],
      ...(config.alerts ? { alerts: config.alerts } : {}),
      start: '2026-03-01T01:59:00Z',
      // Run records are kept 30 days by default; keep all 32 days' to count them.
      runRetention: '90d',
    });
    // Polls at most hourly (the default 1 s would wake the worker 86,400 times a fake day);
    // the scheduler's wake-ups bring work at once anyway.
    await ms.startWorker({ pollIntervalMs: 3_600_000 });
    await ms.startScheduler({ pollIntervalMs: 3_600_000 });
    const finished = async () =>
      (await ms.runs.list({ function: 'daily-sync', limit: 500 })).runs.filter((r) => r.finishedAt !== null);

    // Finished runs are recorded in batches a few (fake) milliseconds apart: let them out.
    const settled = async (n: number) =>
      vi.waitFor(
        async () => {
          await clock.advance(10);
          const got = await finished();
          expect(got.length, got.map((r) => `${r.scheduledFor} ${r.status} ${r.attempt}`).join('\n')).toBe(n);
        },
        { timeout: 10_000, interval: 5 },
      );
    let done = 0;
    for (let day = 1; day <= 32; day++) {
      // Day 10's API is down through all three attempts of its sync.
      failing = day === 10;
      const dayStart = clock.now();
      await clock.advance(60_000); // 02:00: the tick
      await settled(++done);
      if (failing) {
        // Each retry is due minutes later; the hourly poll picks it up.
        await clock.advance(3_600_000);
        await settled(++done);
        await clock.advance(3_600_000);
        await settled(++done);
      }
      await clock.advance(dayStart + DAY - clock.now()); // 01:59 the next day
    }

    const runs = await finished();
    const succeeded = runs.filter((r) => r.status === 'succeeded');
    // One sync a day, each for its own 02:00 tick.
    expect(succeeded).toHaveLength(31);
    expect(new Set(succeeded.map((r) => r.scheduledFor)).size).toBe(31);
    for (const r of succeeded) expect(r.scheduledFor).toMatch(/T02:00:00\.000Z$/);
    expect(runs.filter((r) => r.status === 'failed')).toHaveLength(3);

    const syncs = readSyncs(syncFile) as DailySyncRecord[];
    expect(syncs).toHaveLength(31);
    // The last sync ran at 2026-04-01 02:00: only 2026-03-01's is more than 30 days older.
    expect(syncs.filter((s) => !s.isActive).map((s) => s.date)).toEqual(['2026-03-01']);
    expect(syncs.find((s) => s.date === '2026-03-02')?.isActive).toBe(true);
    expect(syncs.every((s) => s.recordCount === 2)).toBe(true);

    // The console.log lines of the seed's handler are kept with the run.
    const lines = await ms.runs.logs(succeeded[0]!.id);
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Daily sync started:/), 'daily sync completed']),
    );

    await vi.waitFor(() => expect(alerts).toHaveLength(1), { timeout: 10_000, interval: 10 });
    expect(JSON.stringify(alerts[0])).toMatch(/daily-sync/);
    expect(JSON.stringify(alerts[0])).toMatch(/API failed: 503/);
  });
});
