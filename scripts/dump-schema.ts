// Writes src/store/<backend>/schema.sql from a freshly migrated store of each backend.
// Run after adding a migration: `npm run schema:dump` (needs PostgreSQL at MAINSPRING_TEST_PG_URL).
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { openStore } from '../src/store/open.ts';
import { dumpSchema } from '../test/helpers/schema-dump.ts';

const pgUrl = process.env['MAINSPRING_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `schema_dump_${process.pid}`;
const url = new URL(pgUrl);
url.searchParams.set('schema', schema);

for (const [backend, storeUrl] of [
  ['sqlite', 'sqlite::memory:'],
  ['postgres', url.href],
] as const) {
  const store = await openStore(storeUrl);
  writeFileSync(new URL(`../src/store/${backend}/schema.sql`, import.meta.url), await dumpSchema(store));
  await store.close();
}
const client = new pg.Client({ connectionString: pgUrl });
await client.connect();
await client.query(`DROP SCHEMA "${schema}" CASCADE`);
await client.end();
