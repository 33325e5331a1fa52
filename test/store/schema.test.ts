// The committed schema snapshot must match what the migrations build, so a
// schema change is always a reviewed migration plus a reviewed snapshot.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.ts';
import { dumpSchema } from '../helpers/schema-dump.ts';

describe.each(BACKENDS)('schema snapshot on $name', (backend) => {
  (backend.skip ? it.skip : it)(
    'matches src/store/<backend>/schema.sql (run `npm run schema:dump` after a migration)',
    async () => {
      const store = await backend.open();
      const committed = readFileSync(
        new URL(`../../src/store/${backend.name}/schema.sql`, import.meta.url),
        'utf8',
      );
      expect(await dumpSchema(store)).toBe(committed);
    },
  );
});
