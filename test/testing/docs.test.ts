// docs/testing.md shows its examples as they are in test/testing/: each ```ts block under a
// `<!-- path -->` line must be that file, byte for byte, so the page never shows code that
// does not run.

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url);

it('shows each example exactly as the suite runs it', () => {
  const page = readFileSync(new URL('docs/testing.md', ROOT), 'utf8');
  const shown = [...page.matchAll(/<!-- (test\/testing\/[\w.-]+) -->\n```ts\n([\s\S]*?)```\n/g)];
  expect(shown.map(([, path]) => path)).toEqual([
    'test/testing/seven-day-report.test.ts',
    'test/testing/dst-cron.test.ts',
    'test/testing/retrying-message.test.ts',
  ]);
  for (const [, path, code] of shown) expect(code, path).toBe(readFileSync(new URL(path!, ROOT), 'utf8'));
});
