// A `mainspring worker` process drains a queue on a disposable PostgreSQL cluster while
// every connection is terminated again and again (pg_terminate_backend) and the server is
// restarted once. The process must ride through it all: log the cut, retry, carry on —
// no exit, and every message handled (a message whose ack was cut is redelivered). Its
// handler sends on with a dedup key, as idempotent fan-out does: a transaction, so the cuts
// also land on connections checked out of the pool.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMainspring } from '../../src/app.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { REQUIRE_PG, tempDir } from '../helpers/backends.ts';
import { NODE_ARGS, REPO } from '../helpers/cli.ts';
import { PG_CLUSTER_UNAVAILABLE, PgCluster } from '../helpers/pg-cluster.ts';

const skip = PG_CLUSTER_UNAVAILABLE !== undefined && !REQUIRE_PG;
const MESSAGES = 400;
const src = (p: string) => pathToFileURL(join(REPO, 'src', p)).href;

function writeConfig(dir: string): void {
  writeFileSync(
    join(dir, 'mainspring.config.ts'),
    `import { appendFileSync } from 'node:fs';
import { defineConfig } from '${src('config.ts')}';
import { defineQueue } from '${src('queue/define.ts')}';
import { defineFunction, fromQueue } from '${src('runtime/function.ts')}';

const jobs = defineQueue({ name: 'jobs', visibilityTimeout: '3s' });
const audit = defineQueue({ name: 'audit' });

export default defineConfig({
  queues: [jobs, audit],
  functions: [
    defineFunction({
      name: 'process',
      triggers: [fromQueue(jobs, { concurrency: 2 })],
      handler: async (body: { n: number }, ctx) => {
        // A deduplicated send is a transaction on a connection checked out of the pool.
        await ctx.queues.send(audit, body, { dedupKey: String(body.n) });
        await new Promise((r) => setTimeout(r, 10));
        // The evidence lives in a file, not in the database whose connections are being cut.
        appendFileSync(${JSON.stringify(join(dir, 'done.txt'))}, body.n + '\\n');
      },
    }),
  ],
  worker: { pollIntervalMs: 200 },
  log: { level: 'info' },
});
`,
  );
}

let cluster: PgCluster;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  if (!skip) cluster = await PgCluster.create();
  // initdb on a busy CI machine may take a while.
}, 60_000);
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});
afterAll(async () => {
  await cluster?.destroy();
});

describe.skipIf(skip)('a PostgreSQL worker whose connections are cut', () => {
  it('keeps running through terminated connections and a restart, and handles every message', async () => {
    const dir = tempDir();
    writeConfig(dir);
    const url = cluster.url('cut');
    const ms = await createMainspring({
      db: url,
      queues: [defineQueue({ name: 'jobs', visibilityTimeout: '3s' })],
    });
    const bodies = Array.from({ length: MESSAGES }, (_, n) => ({ body: { n } }));
    for (let i = 0; i < MESSAGES; i += 100) await ms.queues.sendBatch('jobs', bodies.slice(i, i + 100));
    await ms.close();

    const child = spawn(process.execPath, [...NODE_ARGS, 'worker', '--db', url], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DATABASE_URL: undefined, MAINSPRING_LOG_FORMAT: 'json' },
    });
    children.add(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
    });
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {}
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      child.on('close', (code, signal) => r({ code, signal })),
    );
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    void exited.then((e) => {
      exit = e;
    });

    const done = () => {
      const text = existsSync(join(dir, 'done.txt')) ? readFileSync(join(dir, 'done.txt'), 'utf8') : '';
      return new Set(text.split('\n').filter(Boolean).map(Number));
    };
    const alive = () => expect(exit, `worker exited; stderr:\n${stderr}`).toBeNull();
    // Cut once it is up: a start-up that cannot reach the store fails, for its supervisor to retry.
    await vi.waitFor(
      () => {
        alive();
        expect(lines.some((l) => l['msg'] === 'mainspring worker running')).toBe(true);
        expect(done().size).toBeGreaterThan(0);
      },
      { timeout: 20_000, interval: 20 },
    );

    // Cut every connection a few times while it drains, restart the server, cut some more.
    let cuts = 0;
    for (let i = 0; i < 6; i++) {
      cuts += await cluster.terminateAll();
      await new Promise((r) => setTimeout(r, 150));
      alive();
    }
    await cluster.restart({ downMs: 300 });
    for (let i = 0; i < 4; i++) {
      cuts += await cluster.terminateAll();
      await new Promise((r) => setTimeout(r, 150));
      alive();
    }
    expect(cuts).toBeGreaterThan(0);
    expect(done().size).toBeLessThan(MESSAGES);

    await vi.waitFor(
      () => {
        alive();
        expect(done().size).toBe(MESSAGES);
      },
      { timeout: 25_000, interval: 50 },
    );
    alive();
    const cutLogged = lines.some((l) => /connection/i.test(`${l['msg']} ${JSON.stringify(l['err'] ?? '')}`));
    expect(cutLogged, JSON.stringify(lines.slice(0, 5))).toBe(true);

    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
  });
});
