// One place that knows how tests reach each backend. Store tests call
// `describe.each(BACKENDS)` so every contract runs on SQLite and on PostgreSQL.
//
// PostgreSQL: MAINSPRING_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test).
// When it does not answer, its tests are skipped with the reason, unless
// REQUIRE_PG=1 (as in CI), where they run and fail.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach } from 'vitest';
import type { Clock } from '../../src/core/clock.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/types.ts';

export const PG_URL = process.env['MAINSPRING_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REQUIRE_PG = process.env['REQUIRE_PG'] === '1';

async function pgAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const PG_AVAILABLE = await pgAnswers();
export const PG_SKIP_REASON =
  PG_AVAILABLE || REQUIRE_PG
    ? undefined
    : `PostgreSQL does not answer at ${PG_URL} (set REQUIRE_PG=1 to fail instead)`;
if (PG_SKIP_REASON) console.warn(`[mainspring tests] skipping PostgreSQL tests: ${PG_SKIP_REASON}`);

export interface BackendFixture {
  readonly name: 'sqlite' | 'postgres';
  readonly skip: boolean;
  /** A URL for a fresh, empty store (a new SQLite file or a new Postgres schema), cleaned up after the file. */
  freshUrl(): string;
  /** Opens a fresh migrated store, closed and cleaned up after the test. */
  open(options?: { clock?: Clock; url?: string; poolSize?: number }): Promise<Store>;
}

const tempDirs: string[] = [];
const schemas: string[] = [];
const openStores = new Set<Store>();

export function tempDir(prefix = 'mainspring-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export function freshSchemaName(): string {
  const name = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  schemas.push(name);
  return name;
}

export function pgUrlWithSchema(schema: string): string {
  const url = new URL(PG_URL);
  url.searchParams.set('schema', schema);
  return url.href;
}

function fixture(name: 'sqlite' | 'postgres'): BackendFixture {
  const freshUrl = () =>
    name === 'sqlite' ? `sqlite:${join(tempDir(), 'test.db')}` : pgUrlWithSchema(freshSchemaName());
  return {
    name,
    skip: name === 'postgres' && PG_SKIP_REASON !== undefined,
    freshUrl,
    async open(options = {}) {
      const store = await openStore(options.url ?? freshUrl(), {
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.poolSize ? { poolSize: options.poolSize } : {}),
      });
      openStores.add(store);
      return store;
    },
  };
}

export const BACKENDS: readonly BackendFixture[] = [fixture('sqlite'), fixture('postgres')];

const ownClients: pg.Client[] = [];

/**
 * A plain client with the server's default search_path, as an application's own would be
 * (for transactions mainspring joins); ended after the test.
 */
export async function ownPgClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  ownClients.push(client);
  return client;
}

afterEach(async () => {
  for (const c of ownClients.splice(0)) await c.end().catch(() => {});
  for (const s of openStores) await s.close().catch(() => {});
  openStores.clear();
});

afterAll(async () => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  if (schemas.length === 0 || !PG_AVAILABLE) return;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    for (const s of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await client.end();
  }
});
