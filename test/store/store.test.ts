// Store contract beyond leases: URL selection, migrations, notifications, closing.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { openStore } from '../../src/store/open.ts';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrate.ts';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrate.ts';
import { parseStoreUrl, resolveStoreUrl } from '../../src/store/url.ts';
import { BACKENDS, freshSchemaName, PG_SKIP_REASON, PG_URL, pgUrlWithSchema } from '../helpers/backends.ts';
import { runCli } from '../helpers/cli.ts';

describe('store URLs', () => {
  it('chooses the explicit URL, then DATABASE_URL, then the embedded file', () => {
    expect(resolveStoreUrl('sqlite::memory:', { DATABASE_URL: 'postgres://x/y' })).toBe('sqlite::memory:');
    expect(resolveStoreUrl(undefined, { DATABASE_URL: 'postgres://x/y' })).toBe('postgres://x/y');
    expect(resolveStoreUrl(undefined, {})).toBe('sqlite:.mainspring/mainspring.db');
  });

  it('parses every accepted form', () => {
    expect(parseStoreUrl('sqlite::memory:')).toMatchObject({ backend: 'sqlite', path: ':memory:' });
    expect(parseStoreUrl('sqlite:data/x.db', '/srv')).toMatchObject({ path: '/srv/data/x.db' });
    expect(parseStoreUrl('sqlite:///var/x.db')).toMatchObject({ path: '/var/x.db' });
    expect(parseStoreUrl('postgresql://u:pw@h:5433/db?schema=jobs')).toMatchObject({
      backend: 'postgres',
      schema: 'jobs',
      connectionString: 'postgresql://u:pw@h:5433/db',
      display: 'postgresql://u:***@h:5433/db?schema=jobs',
    });
    expect(parseStoreUrl('postgres://h/db')).toMatchObject({ schema: 'mainspring' });
  });

  it('rejects bad URLs with the fix', () => {
    expect(() => parseStoreUrl('mysql://h/db')).toThrow(
      /scheme "mysql:".*use sqlite:PATH, sqlite::memory: or postgres:/,
    );
    expect(() => parseStoreUrl('mainspring.db')).toThrow(/has no scheme/);
    expect(() => parseStoreUrl('sqlite:')).toThrow(/names no file/);
    expect(() => parseStoreUrl('postgres://h/db?schema=Drop;Table')).toThrow(
      /schema="Drop;Table" is not a valid schema name/,
    );
    expect(() => parseStoreUrl('postgres://[bad')).toThrow(/is not a valid URL/);
  });
});

describe.each(BACKENDS)('store on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;
  const known = backend.name === 'sqlite' ? SQLITE_MIGRATIONS.length : PG_MIGRATIONS.length;

  it_('applies every migration once and records it', async () => {
    const url = backend.freshUrl();
    const clock = new FakeClock('2026-05-01T00:00:00Z');
    const first = await backend.open({ url, clock });
    expect(await first.schemaVersion()).toBe(known);
    await first.close();
    const again = await backend.open({ url, clock });
    expect(await again.schemaVersion()).toBe(known);
    await again.ping();
  });

  it_('refuses a database migrated by a newer mainspring and changes nothing', async () => {
    const url = backend.freshUrl();
    const store = await backend.open({ url });
    await store.locks.acquire('keep-me', 'a', 60_000, 1000);
    await rawExec(
      store,
      "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (999, 'future', 0)",
    );
    await store.close();
    await expect(openStore(url)).rejects.toMatchObject({
      code: 'E_STORE_SCHEMA_TOO_NEW',
      message: expect.stringMatching(
        /schema version 999; this version knows up to \d+\); upgrade mainspring/,
      ),
    });
    const check = await openStore(url, { migrate: false }).catch((e: unknown) => e);
    expect(check).toMatchObject({ code: 'E_STORE_SCHEMA_TOO_NEW' });
    const versions = await rawQuery(url, 'SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.map((r) => Number(r['version']))).toEqual([
      ...Array.from({ length: known }, (_, i) => i + 1),
      999,
    ]);
    const locks = await rawQuery(url, 'SELECT name, token FROM locks');
    expect(locks.map((r) => [r['name'], Number(r['token'])])).toEqual([['keep-me', 1]]);
  });

  it_('delivers notifications to listeners of the channel only', async () => {
    const url = backend.freshUrl();
    const a = await backend.open({ url });
    const b = await backend.open({ url });
    const heard: string[] = [];
    const unlisten = await a.listen('wake', (p) => heard.push(`wake:${p}`));
    await a.listen('other', (p) => heard.push(`other:${p}`));
    await b.notify('wake', 'q1');
    await vi.waitFor(() => expect(heard).toEqual(['wake:q1']));
    await unlisten();
    await b.notify('wake', 'q2');
    await b.notify('other', 'x');
    await vi.waitFor(() => expect(heard).toEqual(['wake:q1', 'other:x']));
  });

  it_('fails clearly when used after close', async () => {
    const store = await backend.open();
    await store.close();
    await expect(store.ping()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' });
    await store.close();
  });
});

describe('SQLite migration 0008 (runs rebuilt with a cheaper status check)', () => {
  it('keeps every run of a version-7 file and still refuses an unknown status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mainspring-0008-'));
    const path = join(dir, 'old.db');
    const old = new DatabaseSync(path);
    for (const m of SQLITE_MIGRATIONS.slice(0, 7)) old.exec(m.sql);
    old.exec(
      `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL) STRICT`,
    );
    for (const m of SQLITE_MIGRATIONS.slice(0, 7)) {
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
    }
    const INSERT = `INSERT INTO runs (id, function_name, invocation_id, attempt, status, trigger_kind, trigger, created_at_ms, log_count, cancel_requested_at_ms)
       VALUES (?, 'f', ?, 1, ?, 'manual', '{"kind":"manual"}', ?, ?, ?)`;
    const insert = old.prepare(INSERT);
    insert.run('0000000001aaa-1', '0000000001aaa', 'succeeded', 1, 3, null);
    insert.run('0000000002bbb-1', '0000000002bbb', 'running', 2, 0, 5);
    const before = old.prepare('SELECT * FROM runs ORDER BY id').all();
    old.close();
    try {
      const store = await openStore(`sqlite:${path}`);
      expect(await store.schemaVersion()).toBe(SQLITE_MIGRATIONS.length);
      await store.close();
      const db = new DatabaseSync(path);
      expect(db.prepare('SELECT * FROM runs ORDER BY id').all()).toEqual(before);
      const indexes = db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND sql IS NOT NULL ORDER BY name",
        )
        .all();
      // 0008's two, and the dashboard's runs_active (0012) from the later migrations.
      expect(indexes.map((r) => r['name'])).toEqual(['runs_active', 'runs_failures', 'runs_function']);
      const bad = db.prepare(INSERT);
      expect(() => bad.run('0000000003ccc-1', '0000000003ccc', 'done', 3, 0, null)).toThrow(
        /CHECK constraint failed/,
      );
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(PG_SKIP_REASON !== undefined)('PostgreSQL migrations under concurrency', () => {
  it('six processes starting at once against one new schema all succeed, migrating once', async () => {
    const schema = freshSchemaName();
    const url = pgUrlWithSchema(schema);
    const results = await Promise.all(Array.from({ length: 6 }, () => runCli(['migrate', '--db', url])));
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`schema version ${PG_MIGRATIONS.length}`));
    }
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT version FROM "${schema}".schema_migrations ORDER BY version`,
      );
      expect(rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
    } finally {
      await client.end();
    }
  });

  it('reports a database that does not exist, and a refused port', async () => {
    const missing = new URL(PG_URL);
    missing.pathname = '/mainspring_no_such_db';
    await expect(openStore(missing.href)).rejects.toMatchObject({
      code: 'E_STORE_UNREACHABLE',
      message: expect.stringMatching(/database does not exist; create it/),
    });
    await expect(openStore('postgres://postgres@127.0.0.1:1/test')).rejects.toMatchObject({
      code: 'E_STORE_UNREACHABLE',
      message: expect.stringMatching(/127\.0\.0\.1:1.*start PostgreSQL or fix the host and port/),
    });
  });
});

/** Reads through the driver directly, bypassing every mainspring check. */
async function rawQuery(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const target = parseStoreUrl(url);
  if (target.backend === 'sqlite') {
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(target.path, { readOnly: true });
    try {
      return db.prepare(sql).all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({
    connectionString: target.connectionString,
    options: `-c search_path=${target.schema}`,
  });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

async function rawExec(store: Awaited<ReturnType<typeof openStore>>, sql: string): Promise<void> {
  if ('db' in store) (store as unknown as { db: { exec(s: string): void } }).db.exec(sql);
  else await (store as unknown as { pool: pg.Pool }).pool.query(sql);
}
