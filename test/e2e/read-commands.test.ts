// Commands that only read never write (issue 16, defects 2 and 3): `runs list`, `queues stats`
// and `logs`, run from a folder whose config defines the same queue with other settings and a
// webhook whose secret is not set, leave every table of a populated store exactly as it was,
// on SQLite and PostgreSQL. A store that does not exist is an error, not a new empty store.

import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createMainspring } from '../../src/app.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction, fromQueue } from '../../src/runtime/function.ts';
import { BACKENDS, PG_URL, tempDir } from '../helpers/backends.ts';
import { REPO, runCli } from '../helpers/cli.ts';

/** Every row of every table, as text: the store's whole content. */
async function dump(url: string): Promise<string> {
  if (url.startsWith('sqlite:')) {
    const db = new DatabaseSync(url.slice('sqlite:'.length), { readOnly: true });
    try {
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .all() as { name: string }[];
      return tables
        .map(
          ({ name }) => `${name}\n${JSON.stringify(db.prepare(`SELECT * FROM "${name}" ORDER BY 1`).all())}`,
        )
        .join('\n');
    } finally {
      db.close();
    }
  }
  const schema = new URL(url).searchParams.get('schema')!;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ t: string }>(
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1",
      [schema],
    );
    const out: string[] = [];
    for (const { t } of tables) {
      const { rows } = await client.query(`SELECT * FROM "${schema}"."${t}" ORDER BY 1`);
      out.push(`${t}\n${JSON.stringify(rows)}`);
    }
    const seqs = await client.query(
      `SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = $1 ORDER BY 1`,
      [schema],
    );
    out.push(JSON.stringify(seqs.rows));
    return out.join('\n');
  } finally {
    await client.end();
  }
}

/** A store with a queue and its DLQ, a succeeded and a failed run with log lines, and waiting messages. */
async function populate(db: string): Promise<void> {
  const dlq = defineQueue({ name: 'orders-dlq' });
  const orders = defineQueue({
    name: 'orders',
    visibilityTimeout: '2m',
    maxReceiveCount: 1,
    deadLetterQueue: dlq,
  });
  const fulfil = defineFunction({
    name: 'fulfil',
    triggers: [fromQueue(orders)],
    handler: (order: { id: number }, ctx) => {
      ctx.log.info({ order: order.id }, 'fulfilling');
      if (order.id === 2) throw new Error('out of stock');
    },
  });
  const ms = await createMainspring({ db, queues: [orders, dlq], functions: [fulfil] });
  try {
    const worker = await ms.startWorker({ pollIntervalMs: 20 });
    await ms.queues.send(orders, { id: 1 });
    await ms.queues.send(orders, { id: 2 });
    await expect
      .poll(
        async () => (await ms.runs.list({ function: 'fulfil' })).runs.filter((r) => r.finishedAt).length,
        {
          timeout: 15_000,
        },
      )
      .toBe(2);
    await worker.stop();
    await ms.queues.send(orders, { id: 3 }, { delay: '1h' });
  } finally {
    await ms.close();
  }
}

/** A folder outside the repo whose config redefines `orders` and needs a secret nobody set. */
function conflictingFolder(): string {
  const dir = tempDir('mainspring-other-app-');
  const src = (f: string) => pathToFileURL(join(REPO, 'src', f)).href;
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(
    join(dir, 'mainspring.config.ts'),
    `import { defineConfig } from '${src('config.ts')}';
import { defineQueue } from '${src('queue/define.ts')}';
import { defineFunction, fromQueue } from '${src('runtime/function.ts')}';
const orders = defineQueue({ name: 'orders', visibilityTimeout: '5s' });
export default defineConfig({
  queues: [orders],
  functions: [defineFunction({ name: 'fulfil', triggers: [fromQueue(orders)], handler: () => {} })],
  webhooks: { github: { scheme: 'github', secret: process.env.GITHUB_WEBHOOK_SECRET } },
});
`,
  );
  return dir;
}

const env = { GITHUB_WEBHOOK_SECRET: undefined, MAINSPRING_URL: undefined };

describe.each(BACKENDS)('read commands on $name', (backend) => {
  it.skipIf(backend.skip)(
    'runs list, queues stats and logs from a conflicting folder change nothing stored',
    async () => {
      const db = backend.freshUrl();
      await populate(db);
      const cwd = conflictingFolder();
      const before = await dump(db);
      const files = db.startsWith('sqlite:') ? readdirSync(join(db.slice(7), '..')).sort() : [];

      const list = await runCli(['runs', 'list', '--db', db], { cwd, env });
      expect(list.stderr).toBe('');
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/fulfil\s+1\s+failed/);
      expect(list.stdout).toMatch(/fulfil\s+1\s+succeeded/);

      const stats = await runCli(['queues', 'stats', 'orders', '--db', db, '--json'], { cwd, env });
      expect(stats.stderr).toBe('');
      const info = JSON.parse(stats.stdout) as {
        settings: { visibilityTimeoutMs: number; deadLetterQueue: string | null };
        counts: { delayed: number };
      };
      expect(info.settings).toMatchObject({ visibilityTimeoutMs: 120_000, deadLetterQueue: 'orders-dlq' });
      expect(info.counts.delayed).toBe(1);

      const logs = await runCli(['logs', 'fulfil', '--db', db], { cwd, env });
      expect(logs.stderr).toBe('');
      expect(logs.stdout.match(/fulfilling/g)).toHaveLength(2);

      expect(await dump(db)).toBe(before);
      if (db.startsWith('sqlite:')) expect(readdirSync(join(db.slice(7), '..')).sort()).toEqual(files);
    },
  );

  it.skipIf(backend.skip)(
    'a store that does not exist is an error naming it, and is not created',
    async () => {
      const cwd = tempDir();
      const db =
        backend.name === 'sqlite' ? `sqlite:${join(cwd, 'no-such-dir', 'x.db')}` : backend.freshUrl();
      for (const args of [
        ['runs', 'list'],
        ['queues', 'stats', 'orders'],
        ['logs', 'fulfil'],
      ]) {
        const res = await runCli([...args, '--db', db], { cwd, env });
        expect(res.code).toBe(2);
        expect(res.stdout).toBe('');
        expect(res.stderr.trim().split('\n')).toHaveLength(1);
        expect(res.stderr).toMatch(/holds no mainspring store.*mainspring migrate.*\[E_STORE_NOT_FOUND\]/);
      }
      if (backend.name === 'sqlite') expect(existsSync(join(cwd, 'no-such-dir'))).toBe(false);
      else {
        const schema = new URL(db).searchParams.get('schema');
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
        await client.end();
        expect(found.rowCount).toBe(0);
      }
    },
  );
});

describe('serving commands still create a store', () => {
  it('migrate creates the SQLite file a read command refused', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'data'));
    const db = `sqlite:${join(dir, 'data', 'x.db')}`;
    expect((await runCli(['runs', 'list', '--db', db], { cwd: dir, env })).code).toBe(2);
    const migrated = await runCli(['migrate', '--db', db], { cwd: dir, env });
    expect(migrated.code).toBe(0);
    const list = await runCli(['runs', 'list', '--db', db], { cwd: dir, env });
    expect(list.stdout).toBe('no runs\n');
  });
});
