// Copies what tsc does not emit (the SQL migrations) from src/ into dist/.
import { cpSync, readdirSync } from 'node:fs';

for (const backend of readdirSync(new URL('../src/store/', import.meta.url), { withFileTypes: true })) {
  if (!backend.isDirectory()) continue;
  const from = new URL(`../src/store/${backend.name}/migrations/`, import.meta.url);
  const to = new URL(`../dist/store/${backend.name}/migrations/`, import.meta.url);
  cpSync(from, to, { recursive: true });
}
