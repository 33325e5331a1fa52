// Seed 001's order service end to end: a server whose config declares the rules, and
// producers in other processes with no config (`mainspring events put --db …` from an
// empty folder, and a script calling createMainspring({ db })). Their events reach the
// server's function and queue targets exactly once, on SQLite and on PostgreSQL.

import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { freshSchemaName, PG_SKIP_REASON, pgUrlWithSchema, tempDir } from '../helpers/backends.ts';
import { REPO, runCli, startServer } from '../helpers/cli.ts';

const src = (p: string) => pathToFileURL(join(REPO, 'src', p)).href;

function serverConfig(dir: string): void {
  writeFileSync(
    join(dir, 'mainspring.config.ts'),
    `import { appendFileSync } from 'node:fs';
import { defineConfig, defineFunction, defineQueue, defineRule } from '${src('index.ts')}';
const audit = defineQueue({ name: 'audit' });
const record = defineFunction({
  name: 'record',
  handler: (e: { orderId: string }) => { appendFileSync('seen.log', e.orderId + '\\n'); },
});
export default defineConfig({
  functions: [record],
  queues: [audit],
  rules: [
    defineRule({ name: 'orders-to-record', pattern: { source: ['shop'] }, targets: [record], input: { orderId: '<$.id>' } }),
    defineRule({ name: 'orders-to-audit', pattern: { source: ['shop'] }, targets: [audit] }),
  ],
  worker: { pollIntervalMs: 50 },
});
`,
  );
}

const PRODUCER = `import { createMainspring } from '${src('index.ts')}';
const ms = await createMainspring({ db: process.argv[2] });
const { entries } = await ms.events.put([{ id: process.argv[3], source: 'shop', detailType: 'Order Placed', detail: {} }]);
await ms.close();
console.log(JSON.stringify(entries));
`;

const seen = (dir: string) => {
  try {
    return readFileSync(join(dir, 'seen.log'), 'utf8').trim().split('\n').sort();
  } catch {
    return [];
  }
};

const backends = [
  { name: 'sqlite', skip: undefined, url: (dir: string) => `sqlite:${join(dir, 'app.db')}` },
  { name: 'postgres', skip: PG_SKIP_REASON, url: () => pgUrlWithSchema(freshSchemaName()) },
] as const;

describe.each(backends)('a producer process without the rules, on $name', (backend) => {
  (backend.skip ? it.skip : it)("reaches the server's targets exactly once", async () => {
    const serverDir = tempDir();
    const producerDir = tempDir();
    serverConfig(serverDir);
    const db = backend.url(serverDir);
    const cli = async (args: string[]) => {
      const r = await runCli([...args, '--db', db], { cwd: producerDir });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return r.stdout.trim();
    };
    let server = await startServer(['--db', db], { cwd: serverDir });
    try {
      expect(
        await cli(['events', 'put', '--source', 'shop', '--detail-type', 'Order Placed', '--id', 'cli-1']),
      ).toBe('cli-1');
      writeFileSync(join(producerDir, 'producer.mts'), PRODUCER);
      const script = await promisify(execFile)(
        process.execPath,
        ['--conditions=mainspring-source', 'producer.mts', db, 'script-1'],
        { cwd: producerDir },
      );
      expect(JSON.parse(script.stdout)).toEqual([{ eventId: 'script-1' }]);
      // Routed by the producers themselves, before any sweep of the server's.
      for (const id of ['cli-1', 'script-1']) {
        expect(JSON.parse(await cli(['events', 'get', id])).routedAt).not.toBeNull();
      }
      await vi.waitFor(() => expect(seen(serverDir)).toEqual(['cli-1', 'script-1']), {
        timeout: 15_000,
        interval: 100,
      });
      // A restarted server sweeps unrouted events at start: there are none to send again.
      server.child.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
      server = await startServer(['--db', db], { cwd: serverDir });
      await cli(['events', 'put', '--source', 'shop', '--detail-type', 'Order Placed', '--id', 'cli-2']);
      await vi.waitFor(() => expect(seen(serverDir)).toEqual(['cli-1', 'cli-2', 'script-1']), {
        timeout: 15_000,
        interval: 100,
      });
      const audit = JSON.parse(await cli(['queues', 'stats', 'audit', '--json'])) as {
        counts: { visible: number };
      };
      expect(audit.counts.visible).toBe(3);
    } finally {
      server.child.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
    }
    expect(seen(serverDir)).toEqual(['cli-1', 'cli-2', 'script-1']);
  });
});
