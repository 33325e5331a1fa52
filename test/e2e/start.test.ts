// `mainspring start` as a real process: serves /healthz over loopback HTTP from
// SQLite and from PostgreSQL, stops cleanly on SIGTERM/SIGINT, and refuses every
// bad input with one clear message, a non-zero exit, and nothing written.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrate.ts';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrate.ts';
import { freshSchemaName, PG_SKIP_REASON, pgUrlWithSchema, tempDir } from '../helpers/backends.ts';
import { runCli, startServer } from '../helpers/cli.ts';

const itPg = PG_SKIP_REASON ? it.skip : it;

describe('mainspring start', () => {
  it('serves /healthz from the default SQLite file and exits 0 on SIGTERM', async () => {
    const cwd = tempDir();
    const server = await startServer([], { cwd });
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      store: {
        backend: 'sqlite',
        url: `sqlite:${join(cwd, '.mainspring/mainspring.db')}`,
        schemaVersion: SQLITE_MIGRATIONS.length,
      },
    });
    expect(existsSync(join(cwd, '.mainspring/mainspring.db'))).toBe(true);
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const msgs = server.lines.map((l) => l['msg']);
    expect(msgs).toContain('stopped');
    expect(server.lines.every((l) => typeof l['level'] === 'number' && typeof l['time'] === 'number')).toBe(
      true,
    );
  });

  it('exits 0 on SIGINT too', async () => {
    const server = await startServer(['--db', 'sqlite::memory:'], { cwd: tempDir() });
    server.child.kill('SIGINT');
    expect((await server.exited).code).toBe(0);
  });

  itPg('serves /healthz from PostgreSQL named by DATABASE_URL', async () => {
    const url = pgUrlWithSchema(freshSchemaName());
    const server = await startServer([], { cwd: tempDir(), env: { DATABASE_URL: url } });
    const body = (await (await fetch(`${server.url}/healthz`)).json()) as { store: { backend: string } };
    expect(body).toMatchObject({
      status: 'ok',
      store: { backend: 'postgres', schemaVersion: PG_MIGRATIONS.length },
    });
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });

  it('loads a TypeScript config and applies its settings', async () => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'mainspring.config.ts'),
      `interface Settings { db: string }\nconst s: Settings = { db: 'sqlite:data/app.db' };\nexport default { db: s.db, log: { level: 'info' as const } };\n`,
    );
    const server = await startServer([], { cwd });
    const body = (await (await fetch(`${server.url}/healthz`)).json()) as { store: { url: string } };
    expect(body.store.url).toBe(`sqlite:${join(cwd, 'data/app.db')}`);
    server.child.kill('SIGTERM');
    await server.exited;
  });

  it('requires the bearer token when MAINSPRING_API_TOKEN is set, except on /healthz', async () => {
    const server = await startServer(['--db', 'sqlite::memory:', '--host', '0.0.0.0'], {
      cwd: tempDir(),
      env: { MAINSPRING_API_TOKEN: 's3cret' },
    });
    const local = server.url.replace('0.0.0.0', '127.0.0.1');
    expect((await fetch(`${local}/healthz`)).status).toBe(200);
    expect((await fetch(`${local}/v1/locks`)).status).toBe(401);
    expect((await fetch(`${local}/v1/locks`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(
      200,
    );
    server.child.kill('SIGTERM');
    await server.exited;
  });

  it('--help and --version work on every command', async () => {
    for (const args of [['--help'], ['start', '--help'], ['migrate', '--help']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: mainspring/);
    }
    const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
    for (const args of [['--version'], ['start', '--version'], ['migrate', '--version']]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });
});

describe('mainspring start refuses bad input, writing nothing', () => {
  async function refuses(
    args: string[],
    pattern: RegExp,
    setup?: (cwd: string) => void,
    env?: Record<string, string>,
  ) {
    const cwd = tempDir();
    setup?.(cwd);
    const before = snapshot(cwd);
    const r = await runCli(['start', '--port', '0', ...args], { cwd, ...(env ? { env } : {}) });
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(snapshot(cwd)).toEqual(before);
    return r;
  }

  function snapshot(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else out[p.slice(dir.length)] = readFileSync(p, 'latin1');
      }
    };
    walk(dir);
    return out;
  }

  it('an unknown URL scheme', async () => {
    await refuses(
      ['--db', 'mysql://root@localhost/x'],
      /scheme "mysql:".*use sqlite:PATH.*postgres:\/\/.*E_STORE_URL_INVALID/,
    );
  });

  it('an unreachable PostgreSQL', async () => {
    const r = await refuses(
      ['--db', 'postgres://postgres@127.0.0.1:1/test'],
      /cannot connect to PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/test.*start PostgreSQL or fix the host and port/,
    );
    expect(r.code).toBe(1);
  });

  itPg('a PostgreSQL database that does not exist', async () => {
    await refuses(
      ['--db', 'postgres://postgres@127.0.0.1:5432/no_such_db_here'],
      /database does not exist; create it/,
    );
  });

  it('a SQLite path that is not a database', async () => {
    await refuses(
      ['--db', 'sqlite:notes.txt'],
      /notes\.txt holds other data, not an SQLite database/,
      (cwd) => writeFileSync(join(cwd, 'notes.txt'), 'shopping list: eggs, milk\n'.repeat(10)),
    );
  });

  it('a SQLite path that is a directory', async () => {
    await refuses(['--db', 'sqlite:.'], /is a directory, not an SQLite database/);
  });

  it('a SQLite path that cannot be written', async () => {
    await refuses(
      ['--db', 'sqlite:blocker/app.db'],
      /cannot create or write the SQLite database .*blocker\/app\.db/,
      (cwd) => writeFileSync(join(cwd, 'blocker'), 'a file where a folder should be'),
    );
    await refuses(
      ['--db', 'sqlite:/proc/mainspring-test.db'],
      /cannot create or write the SQLite database \/proc\/mainspring-test\.db/,
    );
  });

  it('a database migrated by a newer mainspring', async () => {
    const cwd = tempDir();
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(join(cwd, 'future.db'));
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)',
    );
    db.exec("INSERT INTO schema_migrations VALUES (1, 'init', 0), (99, 'from_the_future', 0)");
    db.close();
    const before = readFileSync(join(cwd, 'future.db'));
    const r = await runCli(['start', '--port', '0', '--db', 'sqlite:future.db'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /migrated by a newer mainspring \(schema version 99; this version knows up to \d+\); upgrade mainspring/,
    );
    expect(readFileSync(join(cwd, 'future.db')).equals(before)).toBe(true);
  });

  it('a config file that throws', async () => {
    const r = await refuses(
      [],
      /config file .*mainspring\.config\.ts failed to load: boom: missing SECRET; fix the error/,
      (cwd) =>
        writeFileSync(
          join(cwd, 'mainspring.config.ts'),
          `throw new Error('boom: missing SECRET');\nexport default {};\n`,
        ),
    );
    expect(r.code).toBe(2);
  });

  it('a config file that exports nothing usable', async () => {
    await refuses(
      [],
      /exports nothing usable: it has no default export; write `export default defineConfig/,
      (cwd) => writeFileSync(join(cwd, 'mainspring.config.ts'), 'export const port = 7400;\n'),
    );
    await refuses([], /exports a number, not a config/, (cwd) =>
      writeFileSync(join(cwd, 'mainspring.config.mjs'), 'export default 42;\n'),
    );
    await refuses([], /api\.prot is not a known setting/, (cwd) =>
      writeFileSync(join(cwd, 'mainspring.config.ts'), 'export default { api: { prot: 7400 } };\n'),
    );
    await refuses([], /enums, namespaces and parameter properties are not allowed/, (cwd) =>
      writeFileSync(
        join(cwd, 'mainspring.config.ts'),
        'enum Mode { A }\nexport default { db: String(Mode.A) };\n',
      ),
    );
  });

  it('a --config file that does not exist', async () => {
    await refuses(['--config', 'nope.ts'], /config file .*nope\.ts does not exist/);
  });

  it('a non-loopback address without an API token', async () => {
    await refuses(
      ['--host', '0.0.0.0'],
      /refusing to listen on 0\.0\.0\.0 without an API token; set MAINSPRING_API_TOKEN/,
    );
  });

  it('a port already in use, with one clear line', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = String((blocker.address() as { port: number }).port);
    const r = await runCli(['start', '--db', 'sqlite::memory:', '--port', port], { cwd: tempDir() });
    blocker.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`port ${port} is already in use; .*--port.*E_API_LISTEN`));
  });

  it('a malformed port or time scale', async () => {
    await refuses(['--port', 'eighty'], /--port is "eighty"; use a port number/);
    await refuses([], /MAINSPRING_TIME_SCALE is "fast"; it must be a positive number/, undefined, {
      MAINSPRING_TIME_SCALE: 'fast',
    });
  });
});
